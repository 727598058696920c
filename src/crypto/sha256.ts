import { mdHash, ror } from './md';

// Constants (FIPS 180-4 §4.2.2, §5.3.3): the first 32 fraction bits of the cube roots (K) and
// square roots (H) of the first primes, computed once on first use (every fraction lies at
// least 2^-5 from a rounding edge, far beyond the error of Math.pow).
var K: Uint32Array, H: Uint32Array;

function block(h: Uint32Array, w: Uint32Array): void {
  var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7], j = 16, t: number, u: number;
  for (; j < 64; j++) {
    t = w[j - 15];
    u = w[j - 2];
    w[j] = w[j - 16] + (ror(t, 7) ^ ror(t, 18) ^ t >>> 3) + w[j - 7] + (ror(u, 17) ^ ror(u, 19) ^ u >>> 10);
  }
  for (j = 0; j < 64; j++) {
    t = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + (e & f ^ ~e & g) + K[j] + w[j];
    u = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + (a & b ^ a & c ^ b & c);
    k = g; g = f; f = e; e = d + t | 0;
    d = c; c = b; b = a; a = t + u | 0;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d;
  h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

/** SHA-256 digest of `data`, 32 bytes (FIPS 180-4 §6.2). */
export function sha256(data: Uint8Array): Uint8Array {
  var h = new Uint32Array(8), n = 2, i = 0, d: number;
  if (!K) {
    K = new Uint32Array(64);
    H = new Uint32Array(8);
    for (; i < 64; n++) {
      for (d = 2; n % d; d++);
      if (d == n) {
        if (i < 8) H[i] = Math.sqrt(n) % 1 * 4294967296;
        K[i++] = Math.pow(n, 1 / 3) % 1 * 4294967296;
      }
    }
  }
  h.set(H);
  return mdHash(data, h, new Uint32Array(64), block);
}
