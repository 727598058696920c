import { mdHash, ror } from './md';

function block(h: Uint32Array, w: Uint32Array): void {
  var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], j = 16, t: number;
  for (; j < 80; j++) t = w[j - 3] ^ w[j - 8] ^ w[j - 14] ^ w[j - 16], w[j] = ror(t, 31);
  for (j = 0; j < 80; j++) {
    // FIPS 180-4 §4.1.1 f(t) and §4.2.1 K(t), one pair per 20 rounds
    t = ror(a, 27) + e + w[j] + (j < 20 ? (b & c | ~b & d) + 0x5a827999
      : j < 40 ? (b ^ c ^ d) + 0x6ed9eba1
      : j < 60 ? (b & c | b & d | c & d) + 0x8f1bbcdc
      : (b ^ c ^ d) + 0xca62c1d6);
    e = d; d = c; c = ror(b, 2); b = a; a = t | 0;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

/** SHA-1 digest of `data`, 20 bytes (FIPS 180-4 §6.1); only for the RFC 6455 §4.2.2 handshake. */
export function sha1(data: Uint8Array): Uint8Array {
  var h = new Uint32Array(5);
  h[0] = 0x67452301; h[1] = 0xefcdab89; h[2] = 0x98badcfe; h[3] = 0x10325476; h[4] = 0xc3d2e1f0;
  return mdHash(data, h, new Uint32Array(80), block);
}
