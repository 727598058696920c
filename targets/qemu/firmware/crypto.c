/*
 * SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104 §2) and base64 (RFC 4648 §4): the QEMU board's platform
 * primitives (targets/qemu/platform.ts), in C so that their code takes flash, not the JS heap. They give the
 * bytes of the portable src/crypto (test/qemu/platform.test.ts).
 */
#include <string.h>
#include "crypto.h"

typedef struct {
  uint32_t h[8];
  uint8_t block[64];
  uint32_t fill; /* bytes in block */
  uint64_t total; /* bytes hashed */
} sha256_t;

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

/* FIPS 180-4 §6.2.2: one 64-byte block */
static void compress(sha256_t *s) {
  uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
  int i;
  for (i = 0; i < 16; i++)
    w[i] = (uint32_t) s->block[4 * i] << 24 | (uint32_t) s->block[4 * i + 1] << 16 | (uint32_t) s->block[4 * i + 2] << 8 | s->block[4 * i + 3];
  for (; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
  for (i = 0; i < 64; i++) {
    t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  s->h[0] += a, s->h[1] += b, s->h[2] += c, s->h[3] += d, s->h[4] += e, s->h[5] += f, s->h[6] += g, s->h[7] += h;
}

static void sha256_init(sha256_t *s) {
  static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, H0, sizeof H0);
  s->fill = 0;
  s->total = 0;
}

static void sha256_update(sha256_t *s, const uint8_t *p, size_t n) {
  s->total += n;
  while (n--) {
    s->block[s->fill++] = *p++;
    if (s->fill == 64) {
      compress(s);
      s->fill = 0;
    }
  }
}

/* FIPS 180-4 §5.1.1: 0x80, zeros, the length in bits (64-bit big-endian) */
static void sha256_final(sha256_t *s, uint8_t out[32]) {
  uint64_t bits = s->total * 8;
  uint8_t len[8];
  int i;
  for (i = 0; i < 8; i++) len[i] = (uint8_t) (bits >> (56 - 8 * i));
  sha256_update(s, (const uint8_t *) "\x80", 1);
  while (s->fill != 56) sha256_update(s, (const uint8_t *) "", 1);
  sha256_update(s, len, 8);
  for (i = 0; i < 32; i++) out[i] = (uint8_t) (s->h[i >> 2] >> (24 - 8 * (i & 3)));
}

void hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len, uint8_t out[32]) {
  uint8_t k[64], pad[64];
  sha256_t s;
  int i;
  memset(k, 0, sizeof k);
  if (key_len > 64) {
    sha256_init(&s);
    sha256_update(&s, key, key_len);
    sha256_final(&s, k);
  } else memcpy(k, key, key_len);
  /* H(K ^ opad, H(K ^ ipad, msg)) */
  for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
  sha256_init(&s);
  sha256_update(&s, pad, 64);
  sha256_update(&s, msg, msg_len);
  sha256_final(&s, out);
  for (i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
  sha256_init(&s);
  sha256_update(&s, pad, 64);
  sha256_update(&s, out, 32);
  sha256_final(&s, out);
}

static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const uint8_t *in, size_t n, char *out) {
  size_t i;
  for (i = 0; i < n; i += 3) {
    uint32_t x = (uint32_t) in[i] << 16 | (i + 1 < n ? (uint32_t) in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
    *out++ = A[x >> 18];
    *out++ = A[x >> 12 & 63];
    *out++ = i + 1 < n ? A[x >> 6 & 63] : '=';
    *out++ = i + 2 < n ? A[x & 63] : '=';
  }
}

/* characters of `s` before its padding: at most two '=' completing a 4-character group */
static size_t unpadded(const char *s, size_t n) {
  if (!(n & 3) && n && s[n - 1] == '=') n -= n > 1 && s[n - 2] == '=' ? 2 : 1;
  return n;
}

long base64_decoded_size(const char *s, size_t n) {
  n = unpadded(s, n);
  return (n & 3) == 1 ? -1 : (long) (n * 3 >> 2);
}

int base64_decode(const char *s, size_t n, uint8_t *out) {
  uint32_t x = 0;
  size_t i;
  n = unpadded(s, n);
  for (i = 0; i < n; i++) {
    const char *c = s[i] ? strchr(A, s[i]) : NULL;
    if (!c) return -1;
    x = x << 6 | (uint32_t) (c - A);
    /* the 2nd, 3rd and 4th character of a group each complete one byte */
    if (i & 3) *out++ = (uint8_t) (x >> (6 - 2 * (i & 3)));
  }
  return 0;
}
