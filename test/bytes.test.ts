import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { utf8Length, utf8Write, utf8Read, readU16, writeU16, varintLength, writeVarint, moveBytes } from '../src/bytes';
import { hex, u8, canaryBuffer, trampled, AT } from './helpers/bytes';

// --- UTF-8 [MQTT-1.5.3]: strings are UTF-8 as RFC 3629 defines it ---

const WELL_FORMED: [string, string, number[]][] = [
  ['empty', '', []],
  ['ASCII', 'a/b', [0x61, 0x2f, 0x62]],
  ['1 byte, U+007F', '\u007f', [0x7f]],
  ['2 bytes, U+0080', '\u0080', [0xc2, 0x80]],
  ['2 bytes, U+00E9 é', 'é', [0xc3, 0xa9]],
  ['2 bytes, U+07FF', '\u07ff', [0xdf, 0xbf]],
  ['3 bytes, U+0800', '\u0800', [0xe0, 0xa0, 0x80]],
  ['3 bytes, U+20AC €', '€', [0xe2, 0x82, 0xac]],
  ['3 bytes, U+D7FF (below the surrogates)', '\ud7ff', [0xed, 0x9f, 0xbf]],
  ['3 bytes, U+E000 (above the surrogates)', '\ue000', [0xee, 0x80, 0x80]],
  ['3 bytes, U+FEFF (BOM, kept) [MQTT-1.5.3-3]', '\ufeff', [0xef, 0xbb, 0xbf]],
  ['3 bytes, U+FFFF', '\uffff', [0xef, 0xbf, 0xbf]],
  ['4 bytes, U+10000 (surrogate pair D800 DC00)', '\ud800\udc00', [0xf0, 0x90, 0x80, 0x80]],
  ['4 bytes, U+1F600 😀', '😀', [0xf0, 0x9f, 0x98, 0x80]],
  ['4 bytes, U+10FFFF (DBFF DFFF)', '\udbff\udfff', [0xf4, 0x8f, 0xbf, 0xbf]],
  ['mixed', 'a€😀é', [0x61, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xc3, 0xa9]],
];

for (const [name, s, bytes] of WELL_FORMED) {
  test(`utf8: ${name} — length, write, read`, () => {
    assert.is(utf8Length(s), bytes.length);
    const b = canaryBuffer(bytes.length);
    assert.is(utf8Write(b, AT, s), AT + bytes.length);
    assert.is(hex(b.subarray(AT, AT + bytes.length)), hex(bytes));
    assert.equal(trampled(b, AT, AT + bytes.length), []);
    assert.is(utf8Read(b, AT, bytes.length), s);
    assert.is(hex(bytes), hex(Buffer.from(s, 'utf8')), 'agrees with Buffer');
  });
}

test('utf8Length: a lone surrogate is not encodable (-1) [MQTT-1.5.3-1]', () => {
  for (const s of ['\ud800', '\udc00', 'a\ud800', '\ud800a', '\udc00\ud800', '\ud83d\ud83d', 'x\udfff', '😀\ud800'])
    assert.is(utf8Length(s), -1, JSON.stringify(s));
});

test('utf8Read: U+0000 is allowed unless noNull [MQTT-1.5.3-2]', () => {
  const b = u8('a', 0, 'b');
  assert.is(utf8Read(b, 0, 3), 'a\u0000b');
  assert.is(utf8Read(b, 0, 3, true), null);
  assert.is(utf8Read(b, 2, 1, true), 'b', 'only the bytes asked for are read');
});

const ILL_FORMED: [string, number[]][] = [
  ['overlong U+0000 (C0 80)', [0xc0, 0x80]],
  ['overlong "/" (C1 AF)', [0xc1, 0xaf]],
  ['overlong 3-byte (E0 80 AF)', [0xe0, 0x80, 0xaf]],
  ['overlong 3-byte U+07FF (E0 9F BF)', [0xe0, 0x9f, 0xbf]],
  ['overlong 4-byte (F0 80 80 AF)', [0xf0, 0x80, 0x80, 0xaf]],
  ['overlong 4-byte U+FFFF (F0 8F BF BF)', [0xf0, 0x8f, 0xbf, 0xbf]],
  ['surrogate U+D800 (ED A0 80)', [0xed, 0xa0, 0x80]],
  ['surrogate U+DFFF (ED BF BF)', [0xed, 0xbf, 0xbf]],
  ['surrogate pair as CESU-8 (ED A0 BD ED B8 80)', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]],
  ['beyond U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
  ['lead F5', [0xf5, 0x80, 0x80, 0x80]],
  ['lead FF', [0xff]],
  ['lone continuation 80', [0x80]],
  ['lone continuation BF after ASCII', [0x61, 0xbf]],
  ['truncated 2-byte (C3)', [0xc3]],
  ['truncated 3-byte (E2 82)', [0xe2, 0x82]],
  ['truncated 4-byte (F0 9F 98)', [0xf0, 0x9f, 0x98]],
  ['bad continuation (C3 41)', [0xc3, 0x41]],
  ['bad continuation (E2 C2 AC)', [0xe2, 0xc2, 0xac]],
  ['bad continuation (F0 9F 28 80)', [0xf0, 0x9f, 0x28, 0x80]],
];

for (const [name, bytes] of ILL_FORMED) {
  test(`utf8Read: ill-formed ${name} -> null [MQTT-1.5.3-1]`, () => {
    assert.is(utf8Read(Uint8Array.from(bytes), 0, bytes.length), null);
    // also when followed by valid bytes, and when the bad part is in the middle
    assert.is(utf8Read(u8('ab', bytes, 'cd'), 0, bytes.length + 4), null);
  });
}

test('utf8Read: a sequence cut by `len` is truncated even when the buffer continues', () => {
  const b = u8(0xe2, 0x82, 0xac);
  assert.is(utf8Read(b, 0, 2), null);
  assert.is(utf8Read(b, 0, 3), '€');
});

test('utf8: every code point round-trips and agrees with Buffer (step 7, plus the edges)', () => {
  const b = new Uint8Array(8);
  const check = (cp: number) => {
    if (cp >= 0xd800 && cp < 0xe000) return;
    const s = String.fromCodePoint(cp), n = utf8Length(s);
    assert.is(utf8Write(b, 0, s), n);
    assert.is(hex(b.subarray(0, n)), hex(Buffer.from(s, 'utf8')), cp.toString(16));
    assert.is(utf8Read(b, 0, n), s, cp.toString(16));
  };
  for (let cp = 0; cp <= 0x10ffff; cp += 7) check(cp);
  for (const cp of [0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xffff, 0x10000, 0x10ffff]) check(cp);
});

// --- 16-bit integers [MQTT-1.5.2]: big-endian ---

test('u16: big-endian, at an offset, canaries intact', () => {
  for (const [v, bytes] of [[0, [0, 0]], [1, [0, 1]], [0x1234, [0x12, 0x34]], [65535, [0xff, 0xff]]] as [number, number[]][]) {
    const b = canaryBuffer(2);
    assert.is(writeU16(b, AT, v), AT + 2);
    assert.is(hex(b.subarray(AT, AT + 2)), hex(bytes));
    assert.equal(trampled(b, AT, AT + 2), []);
    assert.is(readU16(b, AT), v);
  }
});

// --- variable byte integer [MQTT-2.2.3]: 7 bits a byte, low first, 1 to 4 bytes ---

const VARINTS: [number, number[]][] = [
  [0, [0x00]],
  [127, [0x7f]],
  [128, [0x80, 0x01]],
  [16383, [0xff, 0x7f]],
  [16384, [0x80, 0x80, 0x01]],
  [2097151, [0xff, 0xff, 0x7f]],
  [2097152, [0x80, 0x80, 0x80, 0x01]],
  [268435455, [0xff, 0xff, 0xff, 0x7f]],
];

for (const [v, bytes] of VARINTS) {
  test(`varint ${v} is ${hex(bytes)}`, () => {
    assert.is(varintLength(v), bytes.length);
    const b = canaryBuffer(bytes.length);
    assert.is(writeVarint(b, AT, v), AT + bytes.length);
    assert.is(hex(b.subarray(AT, AT + bytes.length)), hex(bytes));
    assert.equal(trampled(b, AT, AT + bytes.length), []);
  });
}

test('varint 268,435,456 needs 5 bytes: invalid in MQTT (varintLength says 5)', () => {
  assert.is(varintLength(268435456), 5);
  assert.is(varintLength(2 ** 31), 5);
});

// --- moveBytes: copyWithin towards the start, for engines without copyWithin ---

test('moveBytes: down, overlapping', () => {
  const b = u8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  moveBytes(b, 1, 3, 6);
  assert.is(hex(b), hex([0, 3, 4, 5, 6, 7, 8, 7, 8, 9]));
});

/** A Uint8Array whose set() copies element by element from the front, without copying an overlapping source first (Espruino). */
class FrontCopy extends Uint8Array {
  set(src: ArrayLike<number>, off = 0) {
    for (let i = 0; i < src.length; i++) this[off + i] = src[i];
  }
}

test('moveBytes: agrees with copyWithin for every move towards the start in a 12-byte array, also where set() copies from the front', () => {
  for (let to = 0; to < 12; to++)
    for (let from = to; from < 12; from++)
      for (let len = 0; len <= 12 - from; len++) {
        const a = u8([...Array(12).keys()]), b = a.slice(), c = new FrontCopy(a);
        moveBytes(a, to, from, len);
        moveBytes(c, to, from, len);
        b.copyWithin(to, from, from + len);
        assert.is(hex(a), hex(b), `to ${to} from ${from} len ${len}`);
        assert.is(hex(c), hex(b), `front copy: to ${to} from ${from} len ${len}`);
      }
});

test('moveBytes: zero length and to == from change nothing', () => {
  const b = u8(1, 2, 3);
  moveBytes(b, 0, 2, 0);
  moveBytes(b, 1, 1, 2);
  assert.is(hex(b), '01 02 03');
});

test.run();
