/* SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and base64 (RFC 4648 §4) for the natives of main.c. */
#ifndef CRYPTO_H
#define CRYPTO_H
#include <stddef.h>
#include <stdint.h>

/* HMAC-SHA256 of `msg` under `key` into `out` (32 bytes); keys over 64 bytes are hashed first */
void hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t msg_len, uint8_t out[32]);

/* base64 of `n` bytes into `out` (4 * ((n + 2) / 3) characters, padded with '='; no terminating 0) */
void base64_encode(const uint8_t *in, size_t n, char *out);

/* bytes `s` decodes to (padded or not; as src/crypto/base64.ts), or -1 for a bad length or padding */
long base64_decoded_size(const char *s, size_t n);

/* decodes `s` into `out` (base64_decoded_size bytes): 0, or -1 for a character outside the alphabet */
int base64_decode(const char *s, size_t n, uint8_t *out);
#endif
