// The primitives an engine may have natively, or do differently: text as UTF-8, JSON text, SHA-1, HMAC-SHA256 and
// base64. This is the portable version, in JavaScript; a target whose engine has its own links
// targets/<name>/platform.ts in its place (tools/build-plugins.js, `platformOf`), with the same exports, and the
// JavaScript versions it does not use stay out of its bundles.
export { utf8Length, utf8Write, utf8Read } from "./bytes";
export { sha1 } from "./crypto/sha1";
export { hmacSha256 } from "./crypto/hmac";
export { base64Encode, base64Decode } from "./crypto/base64";

/** True when `s` holds bytes, one per character, rather than text (Espruino's binary strings); never here. */
export function byteString(s: string): boolean {
  return false;
}

/** JSON text of `v`, its strings as UTF-8 text. */
export function jsonText(v: unknown): string {
  return JSON.stringify(v);
}

/** Decodes %XX escapes (either case) as UTF-8; null for a truncated or non-hex escape or ill-formed UTF-8. "+" stays "+". */
export function urlDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return null;
  }
}
