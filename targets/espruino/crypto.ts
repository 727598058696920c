// Native SHA-256 where the board has it: Espruino's crypto module (mbedTLS; in the ESP32 builds, which
// carry TLS) hashes in C. HMAC is not native, so RFC 2104 is done here around the native hash. Without
// the module (require throws, or no SHA256), nothing: the library's own HMAC-SHA256 (src/crypto) is used.

import type { Hmac } from "../../src/iothub/sas";

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
    // RFC 2104 §2, B = 64: the key (hashed first when longer) XOR ipad, then XOR opad, zero-filled
    var i = 64, a = new Uint8Array(64 + msg.length), b = new Uint8Array(96);
    if (key.length > 64) key = h(key);
    a.set(msg, 64);
    // past the key's end key[i] is undefined, i.e. 0
    while (i--) {
      a[i] = key[i] ^ 0x36;
      b[i] = key[i] ^ 0x5c;
    }
    b.set(h(a), 64);
    return h(b);
  };
}
