import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as T from '../../src/amqp/types';
import type { Value } from '../../src/amqp/types';
import * as E from '../../src/errors';
import { u8, hex, canaryBuffer, trampled, untouched, guarded, AT } from '../helpers/bytes';
import { createRng, withSeed } from '../helpers/rng';
import { norm, rheaRead, rheaWrite, randomValue } from './rhea';

// The AMQP 1.0 type system (Part 1 §1.2, §1.6). Every vector is checked four ways: our encoder writes exactly these
// bytes (at an offset, canaries around, E_BUFFER and nothing written one byte short); our decoder reads them back
// (from a guarded copy that throws on a read outside the value); rhea's reader reads them as the same value; cut one
// byte short, our decoder answers E_MALFORMED. Then random values both ways against rhea, and bad input.

const N = +(process.env.DIFF_N || 3000);
const sym = (v: string) => ({ t: T.SYMBOL, v });
const ulong = (v: number) => ({ t: T.ULONG, v });
const be = (n: number, w: number) => Array.from({ length: w }, (_, i) => Math.floor(n / 2 ** (8 * (w - 1 - i))) & 255);

/** Encodes `v` with our encoder, checking size, offset, canaries and a one-byte-short buffer. */
function ours(v: Value): Uint8Array {
  const n = T.sizeValue(v);
  assert.ok(n > 0, `sizeValue ${n}`);
  const b = canaryBuffer(n);
  assert.is(T.writeValue(b, AT, v), AT + n, 'returns the offset after the value');
  assert.equal(trampled(b, AT, AT + n), [], 'canaries intact');
  const short = canaryBuffer(n - 1, 0);
  assert.is(T.writeValue(short, AT, v), E.E_BUFFER, 'one byte short: E_BUFFER');
  assert.ok(untouched(short), 'one byte short: nothing written');
  return b.subarray(AT, AT + n);
}

/** Decodes bytes with our decoder from a guarded copy: the value, and where it ended. */
function decode(bytes: ArrayLike<number>): [any, number] {
  const g = guarded(bytes);
  const v = T.decodeValue(g, AT, AT + bytes.length);
  return [typeof v == 'number' ? v : norm(v), T.decodeEnd() - AT];
}

const VECTORS: [string, Value, number[] | Uint8Array, Value?][] = [
  // [what, value, its bytes, the value decoded when it differs (bare numbers)]
  ['null (§1.6.1)', null, [0x40]],
  ['true, false (§1.6.2)', [true, false], [0xc0, 0x03, 0x02, 0x41, 0x42]],
  ['ubyte 255', { t: T.UBYTE, v: 255 }, [0x50, 0xff]],
  ['ushort 0x1234', { t: T.USHORT, v: 0x1234 }, [0x60, 0x12, 0x34]],
  ['uint 0: uint0 (§1.6.5)', { t: T.UINT, v: 0 }, [0x43]],
  ['uint 255: smalluint', { t: T.UINT, v: 255 }, [0x52, 0xff]],
  ['uint 256: 4 bytes', { t: T.UINT, v: 256 }, [0x70, 0, 0, 1, 0]],
  ['uint 2^32-1', { t: T.UINT, v: 2 ** 32 - 1 }, [0x70, 0xff, 0xff, 0xff, 0xff]],
  ['ulong 0: ulong0 (§1.6.6)', ulong(0), [0x44]],
  ['ulong 0x10: smallulong', ulong(0x10), [0x53, 0x10]],
  ['ulong 2^53-1', ulong(2 ** 53 - 1), [0x80, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
  ['byte -1', { t: T.BYTE, v: -1 }, [0x51, 0xff]],
  ['short -2', { t: T.SHORT, v: -2 }, [0x61, 0xff, 0xfe]],
  ['int -128: smallint (§1.6.9)', { t: T.INT, v: -128 }, [0x54, 0x80]],
  ['int 128: 4 bytes', { t: T.INT, v: 128 }, [0x71, 0, 0, 0, 0x80]],
  ['int -2^31', { t: T.INT, v: -(2 ** 31) }, [0x71, 0x80, 0, 0, 0]],
  ['long 127: smalllong (§1.6.10)', { t: T.LONG, v: 127 }, [0x55, 0x7f]],
  ['long -2^40', { t: T.LONG, v: -(2 ** 40) }, [0x81, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0]],
  ['a bare number 5: int', 5, [0x54, 0x05], { t: T.INT, v: 5 }],
  ['a bare number 2^40: long', 2 ** 40, [0x81, 0, 0, 1, 0, 0, 0, 0, 0], { t: T.LONG, v: 2 ** 40 }],
  ['a bare number 1.5: double', 1.5, [0x82, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], { t: T.DOUBLE, v: 1.5 }],
  ['float 1.5 (§1.6.11)', { t: T.FLOAT, v: 1.5 }, [0x72, 0x3f, 0xc0, 0, 0]],
  ['char U+1F600 as UTF-32 (§1.6.16)', { t: T.CHAR, v: 0x1f600 }, [0x73, 0, 1, 0xf6, 0]],
  ['timestamp 2026-01-01T00:00:00Z in ms (§1.6.17)', { t: T.TIMESTAMP, v: Date.UTC(2026, 0, 1) }, [0x83, ...be(Date.UTC(2026, 0, 1), 8)]],
  ['timestamp before 1970', { t: T.TIMESTAMP, v: -1 }, [0x83, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
  ['uuid (§1.6.18)', { t: T.UUID, v: u8([...Array(16).keys()]) }, [0x98, ...Array(16).keys()]],
  ['vbin8 (§1.6.19)', u8([1, 2, 3]), [0xa0, 3, 1, 2, 3]],
  ['vbin32: 256 bytes', new Uint8Array(256), [0xb0, 0, 0, 1, 0, ...new Uint8Array(256)]],
  ['str8-utf8 "h\u00e9" (§1.6.20)', 'h\u00e9', [0xa1, 3, 0x68, 0xc3, 0xa9]],
  ['str8: U+0000 is allowed in AMQP', '\0', [0xa1, 1, 0]],
  ['str32-utf8: 300 bytes', 'x'.repeat(300), [0xb1, 0, 0, 1, 0x2c, ...u8('x'.repeat(300))]],
  ['sym8 (§1.6.21)', sym('amqp:accepted:list'), [0xa3, 18, ...u8('amqp:accepted:list')]],
  ['sym32: 256 bytes', sym('s'.repeat(256)), [0xb3, 0, 0, 1, 0, ...u8('s'.repeat(256))]],
  ['list0 (§1.6.22)', [], [0x45]],
  ['list8: size counts the count byte', ['a', { t: T.UINT, v: 1 }], [0xc0, 0x06, 0x02, 0xa1, 0x01, 0x61, 0x52, 0x01]],
  ['list32: 256 items', Array(256).fill(null), [0xd0, 0, 0, 1, 4, 0, 0, 1, 0, ...Array(256).fill(0x40)]],
  ['map8: count is keys + values (§1.6.23)', { t: T.MAP, v: [sym('k'), 'v'] }, [0xc1, 0x07, 0x02, 0xa3, 0x01, 0x6b, 0xa1, 0x01, 0x76]],
  ['map32: 128 pairs', { t: T.MAP, v: Array(256).fill(true) }, [0xd1, 0, 0, 1, 4, 0, 0, 1, 0, ...Array(256).fill(0x41)]],
  ['array8 of symbols: one constructor (§1.6.24)', { t: T.ARRAY, v: [sym('a'), sym('bc')], e: T.SYMBOL }, [0xe0, 0x07, 0x02, 0xa3, 0x01, 0x61, 0x02, 0x62, 0x63]],
  ['array8 of uint: full width', { t: T.ARRAY, v: [{ t: T.UINT, v: 1 }], e: T.UINT }, [0xe0, 0x06, 0x01, 0x70, 0, 0, 0, 1]],
  ['empty array8 of ubyte', { t: T.ARRAY, v: [], e: T.UBYTE }, [0xe0, 0x02, 0x00, 0x50]],
  ['array32: 300 ubytes', { t: T.ARRAY, v: Array(300).fill({ t: T.UBYTE, v: 7 }), e: T.UBYTE }, [0xf0, 0, 0, 0x01, 0x31, 0, 0, 0x01, 0x2c, 0x50, ...Array(300).fill(7)]],
  ['array of lists: list32 elements', { t: T.ARRAY, v: [[null]], e: T.LIST }, [0xe0, 0x0b, 0x01, 0xd0, 0, 0, 0, 5, 0, 0, 0, 1, 0x40]],
  ['described: an accepted outcome, descriptor 0x24 (§1.5; messaging §3.4.2)', { t: 0, d: ulong(0x24), v: [] }, [0x00, 0x53, 0x24, 0x45]],
  ['described by a symbol', { t: 0, d: sym('a:b'), v: 'x' }, [0x00, 0xa3, 0x03, 0x61, 0x3a, 0x62, 0xa1, 0x01, 0x78]],
];

for (const [what, v, bytes, decoded] of VECTORS) {
  test(`vector: ${what}`, () => {
    const want = bytes instanceof Uint8Array ? bytes : u8(bytes);
    assert.is(hex(ours(v)), hex(want), 'our encoder');
    assert.equal(decode(want), [norm(decoded === undefined ? v : decoded), want.length], 'our decoder');
    assert.equal(norm(rheaRead(want)), norm(decoded === undefined ? v : decoded), "rhea's reader");
    assert.is(decode(want.subarray(0, want.length - 1))[0], E.E_MALFORMED, 'one byte short');
  });
}

test('decoder: the other forms a peer may send', () => {
  assert.equal(decode([0x56, 0x01]), [true, 2], 'boolean 0x56 0x01');
  assert.equal(decode([0x56, 0x00]), [false, 2]);
  assert.equal(decode([0x70, 0, 0, 0, 0]), [{ t: T.UINT, v: 0 }, 5], 'uint 0 in 4 bytes');
  assert.equal(decode([0x80, 0, 0, 0, 0, 0, 0, 0, 0x10]), [ulong(0x10), 9], 'ulong 0x10 in 8 bytes');
  assert.equal(decode([0xd0, 0, 0, 0, 4, 0, 0, 0, 0]), [[], 9], 'empty list32');
  assert.equal(decode([0xb1, 0, 0, 0, 1, 0x61]), ['a', 6], 'str32 of one byte');
  assert.equal(decode([0xc1, 1, 0]), [{ t: T.MAP, v: [] }, 3], 'empty map8');
  assert.equal(decode([0xe0, 5, 2, 0x00, 0x53, 0x24, 0x45]), [{ t: T.ARRAY, v: [{ t: 0, d: ulong(0x24), v: [] }, { t: 0, d: ulong(0x24), v: [] }], e: 0 }, 7], 'array of described values');
  assert.equal(decode([0x40, 0x41]), [null, 1], 'reads one value, not what follows');
  assert.equal(decode([0x74, 1, 2, 3, 4]), [{ t: T.DECIMAL32, v: 'bin:01020304' }, 5], 'decimal32 kept as its bytes');
});

test('bad input: named errors, never a throw', () => {
  const cases: [string, number[], number][] = [
    ['empty', [], E.E_MALFORMED],
    ['format code 0x01', [0x01], E.E_AMQP_CODE],
    ['reserved fixed code 0x57', [0x57, 0], E.E_AMQP_CODE],
    ['extension code 0x9f', [0x9f, ...Array(16).fill(0)], E.E_AMQP_CODE],
    ['reserved variable code 0xa2', [0xa2, 0], E.E_AMQP_CODE],
    ['boolean byte 2 (§1.6.2)', [0x56, 0x02], E.E_AMQP_VALUE],
    ['char past U+10FFFF', [0x73, 0, 0x11, 0, 0], E.E_AMQP_VALUE],
    ['symbol with a byte over 0x7f', [0xa3, 1, 0xe9], E.E_AMQP_VALUE],
    ['str8 with ill-formed UTF-8', [0xa1, 2, 0xc3, 0x28], E.E_UTF8],
    ['str8 with an overlong form', [0xa1, 2, 0xc0, 0x80], E.E_UTF8],
    ['vbin8 longer than the input', [0xa0, 5, 1, 2], E.E_MALFORMED],
    ['vbin32 size 2^32-1', [0xb0, 0xff, 0xff, 0xff, 0xff], E.E_MALFORMED],
    ['list8 count over its size', [0xc0, 1, 5], E.E_MALFORMED],
    ['list8 size under its count byte', [0xc0, 0, 0], E.E_MALFORMED],
    ['list8 items past its size', [0xc0, 2, 1, 0xa1, 1, 0x61], E.E_MALFORMED],
    ['list8 items short of its size', [0xc0, 3, 1, 0x40, 0x40], E.E_MALFORMED],
    ['map8 with an odd count (§1.6.23)', [0xc1, 2, 1, 0x40], E.E_AMQP_VALUE],
    ['array8 with no constructor', [0xe0, 1, 0], E.E_MALFORMED],
    ['array8 of nulls counting more than its size', [0xe0, 2, 200, 0x40], E.E_MALFORMED],
    ['array8 of described with no element code', [0xe0, 4, 1, 0x00, 0x53, 0x24], E.E_MALFORMED],
    ['array8 of described with element code 0', [0xe0, 5, 1, 0x00, 0x53, 0x24, 0x00], E.E_AMQP_CODE],
    ['array8 element code 0xff', [0xe0, 3, 1, 0xff, 0], E.E_AMQP_CODE],
    ['described with no value', [0x00, 0x53, 0x24], E.E_MALFORMED],
  ];
  for (const [what, bytes, code] of cases) assert.is(decode(bytes)[0], code, what);
  // nesting: 32 levels decode, 33 give E_AMQP_DEPTH (sizes made right so only the depth is wrong)
  const nest = (d: number): number[] => {
    const inner = d ? nest(d - 1) : [];
    return d ? [0xc0, 1 + inner.length, 1, ...inner] : [0x45];
  };
  assert.is(typeof decode(nest(32))[0], 'object', '32 nested lists decode');
  assert.is(decode(nest(33))[0], E.E_AMQP_DEPTH, '33 nested lists: E_AMQP_DEPTH');
  let deep: Value = [];
  for (let i = 0; i < 33; i++) deep = [deep];
  assert.is(T.sizeValue(deep), E.E_AMQP_DEPTH, 'encoding 34 levels: E_AMQP_DEPTH');
});

test('encoder: values outside their type are refused with a named error, nothing written', () => {
  const cases: [string, any, number][] = [
    ['uint -1', { t: T.UINT, v: -1 }, E.E_ARGUMENT],
    ['uint 2^32', { t: T.UINT, v: 2 ** 32 }, E.E_ARGUMENT],
    ['uint 1.5', { t: T.UINT, v: 1.5 }, E.E_ARGUMENT],
    ['ubyte 256', { t: T.UBYTE, v: 256 }, E.E_ARGUMENT],
    ['byte 128', { t: T.BYTE, v: 128 }, E.E_ARGUMENT],
    ['int NaN', { t: T.INT, v: NaN }, E.E_ARGUMENT],
    ['ulong "1"', { t: T.ULONG, v: '1' }, E.E_ARGUMENT],
    ['char past U+10FFFF', { t: T.CHAR, v: 0x110000 }, E.E_ARGUMENT],
    ['uuid of 15 bytes', { t: T.UUID, v: new Uint8Array(15) }, E.E_ARGUMENT],
    ['symbol with U+00E9', sym('\u00e9'), E.E_ARGUMENT],
    ['string with a lone surrogate', '\ud800', E.E_UTF8],
    ['map with an odd count', { t: T.MAP, v: [null] }, E.E_ARGUMENT],
    ['array of mixed kinds', { t: T.ARRAY, v: [sym('a'), { t: T.UINT, v: 1 }], e: T.SYMBOL }, E.E_ARGUMENT],
    ['array of described values', { t: T.ARRAY, v: [{ t: 0, d: ulong(1), v: null }] }, E.E_ARGUMENT],
    ['unknown kind 0x57', { t: 0x57, v: 1 }, E.E_ARGUMENT],
    ['uint0 as a kind (not canonical)', { t: 0x43, v: 0 }, E.E_ARGUMENT],
    ['a list holding a bad value', [{ t: T.UINT, v: -1 }], E.E_ARGUMENT],
  ];
  for (const [what, v, code] of cases) {
    assert.is(T.sizeValue(v), code, `size: ${what}`);
    const b = canaryBuffer(64);
    assert.is(T.writeValue(b, AT, v), code, `write: ${what}`);
    assert.ok(untouched(b), `nothing written: ${what}`);
  }
});

test(`differential: ${N} random values encoded by us, read by rhea`, () => {
  const rng = createRng();
  withSeed(rng, () => {
    let bytes = 0;
    for (let i = 0; i < N; i++) {
      const v = randomValue(rng);
      const n = T.sizeValue(v), b = new Uint8Array(n + 3);
      assert.is(T.writeValue(b, 3, v), 3 + n, `#${i}`);
      assert.equal(norm(rheaRead(b.subarray(3))), norm(v), `#${i}: rhea reads what we wrote`);
      bytes += n;
    }
    console.log(`  differential (ours -> rhea): ${N} values, ${bytes} bytes, seed ${rng.seed}`);
  });
});

test(`differential: ${N} random values written by rhea, decoded by us`, () => {
  const rng = createRng();
  withSeed(rng, () => {
    let smaller = 0;
    for (let i = 0; i < N; i++) {
      const v = randomValue(rng), b = rheaWrite(v);
      assert.equal(decode(b), [norm(v), b.length], `#${i}: we read what rhea wrote`);
      if (T.sizeValue(v) < b.length) smaller++;
    }
    console.log(`  differential (rhea -> ours): ${N} values; ours smaller for ${smaller} (rhea writes list32/map32/array32 always), seed ${rng.seed}`);
  });
});

test.run();
