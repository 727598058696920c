import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { sha1 } from '../../src/crypto/sha1';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

// seeded xorshift32, so a failing input can be reproduced
let seed = 0x6b43a9b5;
function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; b[i] = seed; }
  return b;
}

// FIPS 180-4 examples (NIST CSRC "SHA1.pdf")
test('"abc" (one block)', () => {
  assert.is(hex(sha1(ascii('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d');
});

test('"" (padding only)', () => {
  assert.is(hex(sha1(new Uint8Array(0))), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
});

test('448-bit message (two blocks)', () => {
  assert.is(hex(sha1(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))),
    '84983e441c3bd26ebaae4aa1f95129e5e54670f1');
});

test('one million "a"', () => {
  assert.is(hex(sha1(new Uint8Array(1000000).fill(0x61))), '34aa973cd4c4daa4f61eeb2bdbad27316534016f');
});

test('RFC 6455 §1.3 handshake example: SHA-1 of key + GUID', () => {
  const d = sha1(ascii('dGhlIHNhbXBsZSBub25jZQ==' + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'));
  assert.is(d.length, 20);
  assert.is(Buffer.from(d).toString('base64'), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('input untouched; a view is hashed from its offset', () => {
  const buf = ascii('--abc--');
  assert.is(hex(sha1(buf.subarray(2, 5))), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.is(Buffer.from(buf).toString('latin1'), '--abc--');
});

test('matches node:crypto on every length 0..300 and 200 random lengths', () => {
  for (let n = 0; n <= 500; n++) {
    const b = bytes(n <= 300 ? n : bytes(2)[0] * 4 + (bytes(1)[0] & 3));
    assert.is(hex(sha1(b)), createHash('sha1').update(b).digest('hex'), 'length ' + b.length);
  }
});

test.run();
