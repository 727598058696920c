// The Merkle–Damgård frame SHA-1 and SHA-256 share: padding, big-endian words, digest bytes.

/** Rotates a 32-bit word right by n bits (FIPS 180-4 §3.2: ROTR). */
export function ror(x: number, n: number): number {
  return x >>> n | x << 32 - n;
}

/** Pads `d` (FIPS 180-4 §5.1.1), feeds each 512-bit block as 16 words to `block`, returns `h` as big-endian bytes. */
export function mdHash(d: Uint8Array, h: Uint32Array, w: Uint32Array, block: (h: Uint32Array, w: Uint32Array) => void): Uint8Array {
  var n = d.length, L = (n + 72) & -64, p = new Uint8Array(L), i = 0, j: number, x: number;
  p.set(d);
  p[n] = 0x80;
  // message length in bits, big-endian in the last 8 bytes (exact below 2^53 bits)
  for (x = n * 8, j = L; x > 0; x = Math.floor(x / 256)) p[--j] = x & 255;
  for (; i < L; i += 64) {
    // four shifts push a word's previous bytes out of its 32 bits
    for (j = 0; j < 64; j++) w[j >> 2] = w[j >> 2] << 8 | p[i + j];
    block(h, w);
  }
  for (p = new Uint8Array(h.length * 4), i = 0; i < p.length; i++) p[i] = h[i >> 2] >>> 24 - 8 * (i & 3);
  return p;
}
