// Bridges between our plain value shape (src/amqp/types.ts) and rhea's typed values, and random values of every type,
// for the differential tests: rhea (the AMQP library the Azure SDKs build on) is the reference codec.
import { createRequire } from 'node:module';
import * as T from '../../src/amqp/types';
import type { Value } from '../../src/amqp/types';
import type { Rng } from '../helpers/rng';

const require = createRequire(import.meta.url);
export const rtypes = require('rhea/lib/types.js');
export const rframes = require('rhea/lib/frames.js');

/** A comparable form of a value: bytes as "bin:<hex>", everything else as it is. */
export function norm(v: any): any {
  if (v instanceof Uint8Array) return 'bin:' + Buffer.from(v.buffer, v.byteOffset, v.length).toString('hex');
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v == 'object') {
    const o: any = {};
    for (const k of Object.keys(v)) o[k] = norm(v[k]);
    return o;
  }
  return v;
}

const CODE: Record<number, string> = {
  [T.UBYTE]: 'Ubyte', [T.USHORT]: 'Ushort', [T.BYTE]: 'Byte', [T.SHORT]: 'Short', [T.FLOAT]: 'Float', [T.DOUBLE]: 'Double',
  [T.CHAR]: 'CharUTF32', [T.TIMESTAMP]: 'Timestamp',
};

/** Our value as a rhea typed value. */
export function toRhea(v: Value): any {
  const k = T.kindOf(v), x: any = v;
  if (v == null) return rtypes.Null();
  if (typeof v == 'boolean') return v ? rtypes.True() : rtypes.False();
  if (typeof v == 'string') return rtypes.wrap_string(v);
  if (v instanceof Uint8Array) return rtypes.wrap_binary(Buffer.from(v));
  if (Array.isArray(v)) return v.length ? rtypes.List32(v.map(toRhea)) : rtypes.List0();
  if (CODE[k]) return rtypes[CODE[k]](x.v);
  switch (k) {
    case T.UINT: return rtypes.wrap_uint(x.v);
    case T.ULONG: return rtypes.wrap_ulong(x.v);
    case T.INT: return rtypes.wrap_int(x.v);
    case T.LONG: return rtypes.wrap_long(x.v);
    case T.UUID: return rtypes.Uuid(Buffer.from(x.v));
    case T.DECIMAL32: return rtypes.Decimal32(Buffer.from(x.v));
    case T.DECIMAL64: return rtypes.Decimal64(Buffer.from(x.v));
    case T.DECIMAL128: return rtypes.Decimal128(Buffer.from(x.v));
    case T.SYMBOL: return rtypes.wrap_symbol(x.v);
    case T.MAP: return rtypes.Map32(x.v.map(toRhea));
    case T.ARRAY: {
      const e = x.e, items = x.v.map((i: any) => rawOf(i, e));
      const code = e == T.SYMBOL || e == T.STRING || e == T.BINARY ? e + 0x10 : e;
      return rtypes.Array32(items, code);
    }
    case T.DESCRIBED: return rtypes.described(toRhea(x.d), toRhea(x.v));
  }
  throw new Error('toRhea: kind ' + k);
}

/** An array element as rhea writes it (its write_value takes raw values). */
function rawOf(i: any, e: number): any {
  if (e == T.STRING) return i;
  const x = e == T.BINARY ? i : i.v;
  return x instanceof Uint8Array ? Buffer.from(x) : x;
}

/** A rhea typed value in our shape. */
export function fromRhea(t: any): Value {
  if (t.descriptor) {
    const inner = Object.assign(Object.create(Object.getPrototypeOf(t)), t);
    delete inner.descriptor;
    return { t: T.DESCRIBED, d: fromRhea(t.descriptor), v: fromRhea(inner) };
  }
  const c: number = t.type.typecode, v = t.value;
  switch (c) {
    case 0x40: return null;
    case 0x41: case 0x42: case 0x56: return !!v;
    case 0x43: case 0x52: case 0x70: return { t: T.UINT, v };
    case 0x44: case 0x53: case 0x80: return { t: T.ULONG, v };
    case 0x54: case 0x71: return { t: T.INT, v };
    case 0x55: case 0x81: return { t: T.LONG, v };
    case 0x83: return { t: T.TIMESTAMP, v: v.getTime() };
    case 0x74: case 0x84: case 0x94: case 0x98: return { t: c, v: new Uint8Array(v) };
    case 0xa0: case 0xb0: return new Uint8Array(v);
    case 0xa1: case 0xb1: return v;
    case 0xa3: case 0xb3: return { t: T.SYMBOL, v };
    case 0x45: case 0xc0: case 0xd0: return v.map(fromRhea);
    case 0xc1: case 0xd1: return { t: T.MAP, v: v.map(fromRhea) };
    case 0xe0: case 0xf0: {
      const ac = t.array_constructor, code = ac.typecode;
      const e = code >= 0xa0 ? code & 0xef : code == 0x41 || code == 0x42 ? 0x56 : code == 0x43 || code == 0x52 ? T.UINT : code == 0x44 || code == 0x53 ? T.ULONG : code == 0x54 ? T.INT : code == 0x55 ? T.LONG : code == 0x45 ? T.LIST : code;
      const items = v.map(fromRhea);
      return ac.descriptor ? { t: T.ARRAY, v: items.map((i: Value) => ({ t: 0, d: fromRhea(ac.descriptor), v: i })), e: 0 } : { t: T.ARRAY, v: items, e };
    }
  }
  if (c in { 0x50: 1, 0x60: 1, 0x51: 1, 0x61: 1, 0x72: 1, 0x82: 1, 0x73: 1 }) return { t: c, v };
  throw new Error('fromRhea: code ' + c.toString(16));
}

/** Reads one value with rhea's reader; throws unless it used every byte. */
export function rheaRead(b: Uint8Array): Value {
  const r = new rtypes.Reader(Buffer.from(b));
  const v = fromRhea(r.read());
  if (r.remaining()) throw new Error(`rhea left ${r.remaining()} bytes`);
  return v;
}

/** Writes one value with rhea's writer. */
export function rheaWrite(v: Value): Uint8Array {
  const w = new rtypes.Writer();
  w.write(toRhea(v));
  return new Uint8Array(w.toBuffer());
}

/** A random string: empty, ASCII, or any code point (no lone surrogates), sometimes over 255 bytes. */
export function randomText(rng: Rng, ascii = false): string {
  let s = '';
  const n = rng.chance(0.1) ? 0 : rng.chance(0.05) ? rng.range(200, 400) : rng.range(1, 20);
  for (let i = 0; i < n; i++) {
    const c = ascii || rng.chance(0.7) ? rng.range(0x20, 0x7e) : rng.pick([rng.range(0, 0x7ff), rng.range(0x800, 0xd7ff), rng.range(0xe000, 0xffff), rng.range(0x10000, 0x10ffff)]);
    s += String.fromCodePoint(c);
  }
  return s;
}

const INTS: [number, number, number][] = [
  [T.UBYTE, 0, 255], [T.USHORT, 0, 65535], [T.UINT, 0, 2 ** 32 - 1], [T.ULONG, 0, 2 ** 53 - 1], [T.BYTE, -128, 127], [T.SHORT, -32768, 32767],
  [T.INT, -(2 ** 31), 2 ** 31 - 1], [T.LONG, -(2 ** 53) + 1, 2 ** 53 - 1], [T.TIMESTAMP, -8.64e15, 8.64e15], [T.CHAR, 0, 0x10ffff],
];

/** A random integer of a kind: often an edge (0, the small forms' limits, the extremes). */
function randomInt(rng: Rng, k: number): number {
  const [, lo, hi] = INTS.find((r) => r[0] == k)!;
  const edges = [lo, hi, 0, 1, -1, 127, 128, -128, -129, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31)].filter((x) => x >= lo && x <= hi);
  if (rng.chance(0.3)) return rng.pick(edges);
  const m = 2 ** rng.range(0, 53), x = Math.floor(rng.next() * m) * (lo < 0 && rng.chance(0.5) ? -1 : 1);
  return Math.max(lo, Math.min(hi, x));
}

/** A random scalar of kind `k` in our shape. */
export function randomScalar(rng: Rng, k: number): Value {
  if (INTS.some((r) => r[0] == k)) return { t: k, v: randomInt(rng, k) };
  switch (k) {
    case T.NULL: return null;
    case T.BOOLEAN: return rng.chance(0.5);
    case T.FLOAT: return { t: k, v: Math.fround((rng.next() - 0.5) * 10 ** rng.range(-5, 30)) };
    case T.DOUBLE: return { t: k, v: (rng.next() - 0.5) * 10 ** rng.range(-300, 300) };
    case T.UUID: return { t: k, v: rng.bytes(16) };
    case T.DECIMAL32: return { t: k, v: rng.bytes(4) };
    case T.DECIMAL64: return { t: k, v: rng.bytes(8) };
    case T.DECIMAL128: return { t: k, v: rng.bytes(16) };
    case T.BINARY: return rng.bytes(rng.chance(0.05) ? rng.range(250, 300) : rng.int(20));
    case T.STRING: return randomText(rng);
    case T.SYMBOL: return { t: k, v: randomText(rng, true) };
  }
  throw new Error('randomScalar ' + k);
}

export const SCALARS = [T.NULL, T.BOOLEAN, T.UBYTE, T.USHORT, T.UINT, T.ULONG, T.BYTE, T.SHORT, T.INT, T.LONG, T.FLOAT, T.DOUBLE,
  T.DECIMAL32, T.DECIMAL64, T.DECIMAL128, T.CHAR, T.TIMESTAMP, T.UUID, T.BINARY, T.STRING, T.SYMBOL];
/** Kinds an array holds in these tests (rhea writes array elements raw; booleans and nulls it cannot). */
const ARRAY_KINDS = SCALARS.filter((k) => k != T.NULL && k != T.BOOLEAN);

/** A random value of any type, compounds nested up to `depth` more levels (no described value directly inside another: rhea keeps one descriptor). */
export function randomValue(rng: Rng, depth = 3, described = true): Value {
  const r = rng.int(described ? 10 : 9);
  if (depth <= 0 || r < 6) return randomScalar(rng, rng.pick(SCALARS));
  const n = rng.chance(0.01) ? rng.range(256, 300) : rng.int(6);
  if (r == 6) return Array.from({ length: n }, () => randomValue(rng, depth - 1));
  if (r == 7) return { t: T.MAP, v: Array.from({ length: n * 2 }, () => randomValue(rng, depth - 1)) };
  if (r == 8) {
    const e = rng.pick(ARRAY_KINDS);
    return { t: T.ARRAY, v: Array.from({ length: n }, () => randomScalar(rng, e)), e };
  }
  return { t: T.DESCRIBED, d: rng.chance(0.5) ? { t: T.ULONG, v: rng.int(0x100) } : { t: T.SYMBOL, v: 'x:' + randomText(rng, true) }, v: randomValue(rng, depth - 1, false) };
}
