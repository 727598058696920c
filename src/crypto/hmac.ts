import { sha256 } from './sha256';

// key XOR pad, followed by m: the B = 64-byte block of RFC 2104 §2 (short keys zero-filled)
function keyed(key: Uint8Array, pad: number, m: Uint8Array): Uint8Array {
  var a = new Uint8Array(64 + m.length), i = 0;
  a.set(m, 64);
  for (; i < 64; i++) a[i] = key[i] ^ pad; // past the key's end key[i] is undefined, i.e. 0
  return a;
}

/** HMAC of `msg` under `key` with `hash`, a 64-byte-block hash (RFC 2104 §2; keys over 64 bytes are hashed first). */
export function hmac(hash: (d: Uint8Array) => Uint8Array, key: Uint8Array, msg: Uint8Array): Uint8Array {
  if (key.length > 64) key = hash(key);
  return hash(keyed(key, 0x5c, hash(keyed(key, 0x36, msg))));
}

/** HMAC-SHA256 of `msg` under `key`, 32 bytes, with the portable SHA-256. */
export function hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array {
  return hmac(sha256, key, msg);
}
