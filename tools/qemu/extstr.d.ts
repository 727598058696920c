// Types for extstr.js (imported by test/qemu).
export function bundleNames(src: string): Set<string>;
export function builtinNames(): string[];
export function extstrTable(names: Iterable<string>): string;
