import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { sha256 } from '../../src/crypto/sha256';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

// seeded xorshift32, so a failing input can be reproduced
let seed = 0x2545f491;
function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; b[i] = seed; }
  return b;
}

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf")
test('"abc" (one block)', () => {
  assert.is(hex(sha256(ascii('abc'))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('"" (padding only)', () => {
  assert.is(hex(sha256(new Uint8Array(0))), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('448-bit message (two blocks: the length no longer fits)', () => {
  assert.is(hex(sha256(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))),
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
});

test('896-bit message', () => {
  assert.is(hex(sha256(ascii('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'))),
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1');
});

test('one million "a"', () => {
  assert.is(hex(sha256(new Uint8Array(1000000).fill(0x61))), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
});

test('returns 32 fresh bytes; input untouched; a view is hashed from its offset', () => {
  const buf = ascii('--abc--');
  const d = sha256(buf.subarray(2, 5));
  assert.is(d.length, 32);
  assert.is(hex(d), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.is(Buffer.from(buf).toString('latin1'), '--abc--');
  assert.is.not(sha256(buf), sha256(buf));
});

test('matches node:crypto on every length 0..300 and 200 random lengths', () => {
  for (let n = 0; n <= 500; n++) {
    const b = bytes(n <= 300 ? n : bytes(2)[0] * 4 + (bytes(1)[0] & 3));
    assert.is(hex(sha256(b)), createHash('sha256').update(b).digest('hex'), 'length ' + b.length);
  }
});

test.run();
