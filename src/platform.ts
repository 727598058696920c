// The primitives an engine may do differently: text as UTF-8, and JSON text. This is the portable version, linked
// into the Node and QEMU builds; a target whose engine differs links targets/<name>/platform.ts in its place
// (tools/build-plugins.js, `platformOf`), with the same exports.
export { utf8Length, utf8Write, utf8Read } from "./bytes";

/** True when `s` holds bytes, one per character, rather than text (Espruino's binary strings); never here. */
export function byteString(s: string): boolean {
  return false;
}

/** JSON text of `v`, its strings as UTF-8 text. */
export function jsonText(v: unknown): string {
  return JSON.stringify(v);
}
