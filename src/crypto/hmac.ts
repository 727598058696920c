import { sha256 } from './sha256';

// key XOR pad, followed by m: the B = 64-byte block of RFC 2104 §2 (short keys zero-filled)
function keyed(key: Uint8Array, pad: number, m: Uint8Array): Uint8Array {
  var a = new Uint8Array(64 + m.length), i = 0;
  a.set(m, 64);
  for (; i < 64; i++) a[i] = key[i] ^ pad; // past the key's end key[i] is undefined, i.e. 0
  return a;
}

/**
 * HMAC-SHA256 of `msg` under `key`, 32 bytes (RFC 2104 §2; keys over 64 bytes are hashed first);
 * `hash` replaces the built-in SHA-256 (a target's native one).
 */
export function hmacSha256(key: Uint8Array, msg: Uint8Array, hash?: (d: Uint8Array) => Uint8Array): Uint8Array {
  var h = hash || sha256;
  if (key.length > 64) key = h(key);
  return h(keyed(key, 0x5c, h(keyed(key, 0x36, msg))));
}
