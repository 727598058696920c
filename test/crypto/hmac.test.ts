import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { hmacSha256 } from '../../src/crypto/hmac';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');
const bin = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const rep = (byte: number, n: number) => new Uint8Array(n).fill(byte);

// seeded xorshift32, so a failing input can be reproduced
let seed = 0x1f83d9ab;
function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; b[i] = seed; }
  return b;
}

// RFC 4231 §4.2-§4.8
const CASES: [string, Uint8Array, Uint8Array, string][] = [
  ['1: 20-byte key', rep(0x0b, 20), ascii('Hi There'),
    'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
  ['2: key shorter than the output', ascii('Jefe'), ascii('what do ya want for nothing?'),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
  ['3: 50 bytes of 0xdd', rep(0xaa, 20), rep(0xdd, 50),
    '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe'],
  ['4: 25-byte key', bin('0102030405060708090a0b0c0d0e0f10111213141516171819'), rep(0xcd, 50),
    '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
  ['6: 131-byte key, hashed first', rep(0xaa, 131), ascii('Test Using Larger Than Block-Size Key - Hash Key First'),
    '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
  ['7: 131-byte key and 152-byte data', rep(0xaa, 131),
    ascii('This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.'),
    '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2'],
];

for (const [name, key, data, mac] of CASES) {
  test('RFC 4231 case ' + name, () => {
    assert.is(hex(hmacSha256(key, data)), mac);
  });
}

test('RFC 4231 case 5: truncated to 128 bits', () => {
  assert.is(hex(hmacSha256(rep(0x0c, 20), ascii('Test With Truncation')).subarray(0, 16)), 'a3b6167473100ee06e0c796c2955552b');
});

test('key and message untouched; views read from their offsets', () => {
  const buf = ascii('..Jefe..what do ya want for nothing?..');
  const mac = hmacSha256(buf.subarray(2, 6), buf.subarray(8, 36));
  assert.is(hex(mac), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.is(Buffer.from(buf).toString('latin1'), '..Jefe..what do ya want for nothing?..');
});

test('keys of 63, 64 and 65 bytes: only over 64 is hashed (RFC 2104 §2)', () => {
  for (const n of [0, 1, 32, 63, 64, 65, 128]) {
    const key = bytes(n), msg = bytes(40);
    assert.is(hex(hmacSha256(key, msg)), createHmac('sha256', key).update(msg).digest('hex'), 'key length ' + n);
  }
});

test('matches node:crypto on 400 random keys (0..150 bytes) and messages (0..300 bytes)', () => {
  for (let i = 0; i < 400; i++) {
    const key = bytes(i % 151), msg = bytes(i <= 300 ? i : bytes(1)[0] + 45);
    assert.is(hex(hmacSha256(key, msg)), createHmac('sha256', key).update(msg).digest('hex'), 'case ' + i);
  }
});

test.run();
