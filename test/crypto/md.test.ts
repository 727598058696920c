import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mdHash, ror } from '../../src/crypto/md';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');

// runs mdHash with a block function that only records the 16 message words of each block
function blocks(d: Uint8Array): number[][] {
  const seen: number[][] = [];
  mdHash(d, new Uint32Array(1), new Uint32Array(16), (_h, w) => { seen.push(Array.from(w)); });
  return seen;
}

test('ror rotates right within 32 bits (FIPS 180-4 §3.2)', () => {
  assert.is(ror(0x00000001, 1) >>> 0, 0x80000000);
  assert.is(ror(0x12345678, 8) >>> 0, 0x78123456);
  assert.is(ror(0x80000000, 31) >>> 0, 0x00000001);
});

test('"abc" pads to one block: 61626380, zeros, bit length 0x18 (FIPS 180-4 §5.1.1)', () => {
  assert.equal(blocks(ascii('abc')), [[0x61626380, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x18]]);
});

test('empty message pads to one block: 80000000 and zero length', () => {
  assert.equal(blocks(new Uint8Array(0)), [[0x80000000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]);
});

test('55 bytes fit in one block, 56 and 64 need a second (the 0x80 and 8 length bytes)', () => {
  assert.is(blocks(new Uint8Array(55)).length, 1);
  assert.is(blocks(new Uint8Array(56)).length, 2);
  assert.is(blocks(new Uint8Array(63)).length, 2);
  assert.is(blocks(new Uint8Array(64)).length, 2);
  assert.is(blocks(new Uint8Array(119)).length, 2);
  assert.is(blocks(new Uint8Array(120)).length, 3);
  const b = blocks(new Uint8Array(56).fill(0xff));
  assert.is(b[0][14], 0x80000000);            // 0x80 right after the 56 data bytes
  assert.equal(b[1].slice(0, 15), new Array(15).fill(0));
  assert.is(b[1][15], 56 * 8);                 // length in bits, last word
});

test('state words come out big-endian', () => {
  const h = new Uint32Array([0x01020304, 0xa0b0c0d0]);
  assert.is(hex(mdHash(new Uint8Array(0), h, new Uint32Array(16), () => {})), '01020304a0b0c0d0');
});

test('input is not modified and views at an offset are read from their start', () => {
  const buf = ascii('xxabcxx');
  const seen: number[][] = [];
  mdHash(buf.subarray(2, 5), new Uint32Array(1), new Uint32Array(16), (_h, w) => { seen.push(Array.from(w)); });
  assert.is(seen[0][0], 0x61626380);
  assert.is(Buffer.from(buf).toString('latin1'), 'xxabcxx');
});

test.run();
