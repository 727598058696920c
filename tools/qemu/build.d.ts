// Types for build.js (imported by test/qemu).
export const ROOT: string;
export const CACHE: string;
export const DEFAULT_POOL: number;
export interface Image { flash: number; text: number; data: number; bss: number; stack: number; bundle: number }
export interface Firmware { elf: string; dir: string; poolSize: number; image: Image; cached: boolean }
export function missingTools(): string[];
export function buildFirmware(options?: { poolSize?: number; script?: string; entry?: string; log?: (line: string) => void }): Promise<Firmware>;
export function buildPoolStress(options?: { poolSize?: number; log?: (line: string) => void }): Promise<string>;
