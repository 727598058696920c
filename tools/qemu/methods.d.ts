// Types for methods.js (imported by test/qemu).
export interface Shaped {
  code: string;
  converted: { properties: number; expressions: number; declarations: number };
  skipped: number;
  refused?: string;
}
export function toMethods(src: string): Shaped;
