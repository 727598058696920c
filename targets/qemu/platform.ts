// The QEMU board's primitives, linked in place of src/platform.ts for its builds (tools/qemu/build.js, platformOf):
// HMAC-SHA256 and base64 by the firmware (natives.d.ts; firmware/crypto.c), because on this board compiled JS
// code is RAM (Duktape keeps a bundle's bytecode in the JS heap) and C code is flash. Same bytes as the portable
// versions (test/qemu/platform.test.ts). Text, JSON, URL decoding and SHA-1 (the WebSocket handshake, not on a UART) are the
// portable ones.

/// <reference path="./natives.d.ts" />
export { utf8Length, utf8Write, utf8Read, byteString, jsonText, urlDecode, sha1 } from "../../src/platform";

/** HMAC-SHA256 (RFC 2104) of `msg` under `key`, 32 bytes, by the firmware. */
export function hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array {
  return __hmacSha256(key, msg);
}

/** Base64 of `b` (RFC 4648 §4, padded) by the firmware. */
export function base64Encode(b: Uint8Array): string {
  return __base64Encode(b);
}

/** Bytes of base64 `s`, padded or not, by the firmware; null for a character outside the alphabet or a bad length or padding. */
export function base64Decode(s: string): Uint8Array | null {
  return __base64Decode(s);
}
