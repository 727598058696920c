// What Moddable's XS has natively, linked in place of src/platform.ts for the Moddable build (tools/build-plugins.js):
// SHA-1 and SHA-256 from the crypt module's Digest (C; every app with TLS has it, and IoT Hub needs TLS), HMAC
// (RFC 2104, a few lines of JavaScript) around the native SHA-256, base64 from XS's Uint8Array toBase64/fromBase64.
// Text and JSON are the standard's here: the portable versions.
import { Digest } from "crypt";
import { hmac } from "../../src/crypto/hmac";

export { utf8Length, utf8Write, utf8Read, byteString, jsonText, urlDecode } from "../../src/platform";

function digest(type: string, d: Uint8Array): Uint8Array {
  return new Uint8Array(new Digest(type).process(d));
}

/** SHA-1 (the WebSocket handshake) by the crypt module. */
export function sha1(d: Uint8Array): Uint8Array {
  return digest("SHA1", d);
}

/** HMAC-SHA256 around the crypt module's SHA-256. */
export function hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array {
  return hmac(function (d: Uint8Array) {
    return digest("SHA256", d);
  }, key, msg);
}

/** Base64 by XS (Uint8Array.prototype.toBase64, padded). */
export function base64Encode(b: Uint8Array): string {
  return b.toBase64();
}

/** Bytes of base64 `s` by XS; null for a character outside the alphabet or a bad length or padding. */
export function base64Decode(s: string): Uint8Array | null {
  try {
    return Uint8Array.fromBase64(s);
  } catch (e) {
    return null;
  }
}
