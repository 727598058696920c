import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { base64Encode, base64Decode } from '../../src/crypto/base64';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (u: Uint8Array | null) => u && Buffer.from(u).toString('latin1');

// seeded xorshift32, so a failing input can be reproduced
let seed = 0x7f4a7c15;
function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; b[i] = seed; }
  return b;
}

// RFC 4648 §10
const VECTORS = [['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='], ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy']];

test('encode: RFC 4648 §10 vectors', () => {
  for (const [plain, coded] of VECTORS) assert.is(base64Encode(ascii(plain)), coded, plain);
});

test('decode: RFC 4648 §10 vectors', () => {
  for (const [plain, coded] of VECTORS) assert.is(text(base64Decode(coded)), plain, coded);
});

test('decode: missing padding is accepted', () => {
  assert.is(text(base64Decode('Zg')), 'f');
  assert.is(text(base64Decode('Zm8')), 'fo');
  assert.is(text(base64Decode('Zm9vYmE')), 'fooba');
});

test('decode: the whole alphabet, + and / included', () => {
  assert.equal(Array.from(base64Decode('+/+/')!), [0xfb, 0xff, 0xbf]);
  assert.is(base64Encode(new Uint8Array([0xfb, 0xff, 0xbf])), '+/+/');
  assert.equal(Array.from(base64Decode('AAAA')!), [0, 0, 0]);
});

test('decode: null for a character outside the alphabet', () => {
  for (const s of ['Zm9v!A==', ' Zg==', 'Zg==\n', 'Zm9-', 'Zm9_', 'Zm9\u00e9', 'Zm\u0000v'])
    assert.is(base64Decode(s), null, JSON.stringify(s));
});

test('decode: null for a bad length or padding', () => {
  for (const s of ['Z', 'Zm9vY', '=', '==', '====', 'Z===', 'Zg=', 'Zg==Zg==', 'Zm=v', 'Zm9v=', 'Zm9v===='])
    assert.is(base64Decode(s), null, s);
});

test('decode: nonzero bits after the last byte are ignored, as Buffer does (RFC 4648 §3.5 MAY reject)', () => {
  assert.is(text(base64Decode('Zh==')), 'f');
  assert.is(text(base64Decode('Zm9=')), 'fo');
});

test('encode reads a view from its offset and leaves it untouched', () => {
  const buf = ascii('xxfooxx');
  assert.is(base64Encode(buf.subarray(2, 5)), 'Zm9v');
  assert.is(text(buf), 'xxfooxx');
});

test('matches Buffer on every length 0..300, padded and unpadded', () => {
  for (let n = 0; n <= 300; n++) {
    const b = bytes(n), coded = Buffer.from(b).toString('base64');
    assert.is(base64Encode(b), coded, 'length ' + n);
    assert.equal(base64Decode(coded), b, 'length ' + n);
    assert.equal(base64Decode(coded.replace(/=+$/, '')), b, 'unpadded length ' + n);
  }
});

test('decode agrees with Buffer on 2000 random strings; accepts every canonical one', () => {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/==-_ ';
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    const r = bytes(1 + (i % 12));
    let s = '';
    for (let j = 0; j < r.length; j++) s += chars[r[j] % (i & 1 ? 64 : chars.length)];
    const ours = base64Decode(s), theirs = new Uint8Array(Buffer.from(s, 'base64'));
    if (ours) accepted++, assert.equal(ours, theirs, s);
    if (Buffer.from(theirs).toString('base64') == s) assert.ok(ours, 'canonical ' + s);
  }
  assert.ok(accepted > 500, 'accepted ' + accepted);
});

test.run();
