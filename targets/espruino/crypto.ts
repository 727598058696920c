// Native SHA-256 where the board has it: Espruino's crypto module (mbedTLS; in the ESP32 builds, which
// carry TLS) hashes in C. HMAC is not native: the library's RFC 2104 code runs around the native hash. Without
// the module (require throws, or no SHA256), nothing: the library's own HMAC-SHA256 (src/crypto) is used.

import type { Hmac } from "../../src/iothub/sas";
import { hmacSha256 } from "../../src/crypto/hmac";

/** HMAC-SHA256 over `require("crypto").SHA256`, or undefined when the board has no native SHA-256. */
export function nativeHmac(): Hmac | undefined {
  var c: EspruinoCrypto | undefined;
  try {
    c = require("crypto");
  } catch (e) {}
  if (!c || !c.SHA256) return;
  function h(d: Uint8Array): Uint8Array {
    return new Uint8Array(c!.SHA256!(d));
  }
  return function (key: Uint8Array, msg: Uint8Array): Uint8Array {
    return hmacSha256(key, msg, h);
  };
}
