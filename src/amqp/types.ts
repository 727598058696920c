// AMQP 1.0 type system (OASIS AMQP 1.0 Part 1: Types, §1.2 encodings, §1.6 primitive types), by hand:
// size first, then encode into a caller's buffer at an offset (one function does both: with no buffer it
// only counts); decoding reads one value at an offset, bounded by an end, into a small plain shape.
//
// The shape of a value (what decodeValue returns and what sizeValue / writeValue take):
//   null                 null
//   true / false         boolean
//   "text"               string (str8-utf8 / str32-utf8)
//   Uint8Array           binary (vbin8 / vbin32); decoded: a view into the buffer, valid while it is
//   [a, b, ...]          list (list0 / list8 / list32)
//   {t, v}               every other type, t its kind (the code below), v its value:
//                          UBYTE USHORT UINT ULONG BYTE SHORT INT LONG CHAR TIMESTAMP FLOAT DOUBLE: v a number
//                          (64-bit integers exact up to 2^53, rounded past it), SYMBOL: v a string (ASCII),
//                          UUID DECIMAL32/64/128: v the raw bytes, MAP: v [key1, value1, key2, value2, ...] in
//                          wire order, ARRAY: v the elements (each a value of kind e, the element kind)
//   {t: 0, d, v}         described: descriptor d, value v (§1.5)
//   a bare number        (encode only) INT if a 32-bit integer, LONG if a safe integer, else DOUBLE
// The encoder picks the smallest form (uint0, smalluint, smallint, list0, str8, ...); an array's elements
// take one constructor: the full width of fixed types, the 8-bit form of variable ones when all fit.
import { utf8Write, utf8Read } from "../platform";
import { E_BUFFER, E_MALFORMED, E_UTF8, E_ARGUMENT, E_AMQP_CODE, E_AMQP_VALUE, E_AMQP_DEPTH } from "../errors";
import { AMQP_ALL_TYPES } from "../features";

/** Kinds: the format code of each type's canonical form (§1.6). */
export var NULL = 0x40, BOOLEAN = 0x56, UBYTE = 0x50, USHORT = 0x60, UINT = 0x70, ULONG = 0x80, BYTE = 0x51, SHORT = 0x61,
  INT = 0x71, LONG = 0x81, FLOAT = 0x72, DOUBLE = 0x82, DECIMAL32 = 0x74, DECIMAL64 = 0x84, DECIMAL128 = 0x94, CHAR = 0x73,
  TIMESTAMP = 0x83, UUID = 0x98, BINARY = 0xa0, STRING = 0xa1, SYMBOL = 0xa3, LIST = 0xc0, MAP = 0xc1, ARRAY = 0xe0, DESCRIBED = 0;
/** Internal kinds: a map from a plain object, its keys as symbols (fields, annotations) or as strings (application-properties). */
export var OBJ_SYM = 1, OBJ_STR = 2;
/** Nesting limit of lists, maps, arrays and described values, against stack exhaustion on small devices. */
export var MAX_DEPTH = 32;

export type Value = null | boolean | string | number | Uint8Array | Value[] | Typed;
export interface Typed { t: number; v?: any; d?: Value; e?: number }

// fixed widths by the high nibble of a format code, 0x4 to 0x9 (§1.2)
var WIDTH = [0, 1, 2, 4, 8, 16];
var TWO32 = 4294967296;
// smallest and largest values of each integer kind [kind, min, max] (the device builds: the kinds the performatives'
// fields and a number take; byte, short and char are the Node build's, src/features.ts AMQP_ALL_TYPES)
var RANGES = [
  UBYTE, 0, 255, USHORT, 0, 65535, UINT, 0, TWO32 - 1, ULONG, 0, TWO32 * TWO32 - 1,
  INT, -2147483648, 2147483647, LONG, -TWO32 * 2147483648, TWO32 * 2147483648 - 1, TIMESTAMP, -TWO32 * 2147483648, TWO32 * 2147483648 - 1,
];
if (AMQP_ALL_TYPES) RANGES.push(BYTE, -128, 127, SHORT, -32768, 32767, CHAR, 0, 0x10ffff);

/** The kind of a value of the plain shape. */
export function kindOf(v: Value): number {
  var n: number;
  if (v == null) return NULL;
  if (typeof v == "boolean") return BOOLEAN;
  if (typeof v == "string") return STRING;
  if (typeof v == "number") return (n = v) % 1 || n != n ? DOUBLE : n == (n | 0) ? INT : n >= -9007199254740991 && n <= 9007199254740991 ? LONG : DOUBLE;
  if (v instanceof Uint8Array) return BINARY;
  if (Array.isArray(v)) return LIST;
  return (v as Typed).t;
}

/** What encode() takes for a value of the plain shape: v of a {t, v}, the value itself for the rest (arrays and described values whole). */
export function payload(v: Value): any {
  var t = kindOf(v);
  return v != null && typeof v == "object" && !(v instanceof Uint8Array) && !Array.isArray(v) && t != ARRAY && t != DESCRIBED ? (v as Typed).v : v;
}

/** The kind of a format code: its canonical form (uint0 and smalluint are UINT, str32 is STRING, ...). */
function canon(c: number): number {
  return c >= 0xa0 ? c & 0xef : c == 0x41 || c == 0x42 ? BOOLEAN : c == 0x43 || c == 0x52 ? UINT : c == 0x44 || c == 0x53 ? ULONG : c == 0x54 ? INT : c == 0x55 ? LONG : c == 0x45 ? LIST : c;
}

function put(b: Uint8Array | null, off: number, c: number): number {
  if (b) b[off] = c;
  return off + 1;
}

/** Writes integer `v` big-endian in `w` bytes (1, 2, 4 or 8; negative ones in two's complement); with `b` null, only counts. */
export function putN(b: Uint8Array | null, off: number, v: number, w: number): number {
  var hi: number, i: number;
  if (w == 8) {
    hi = Math.floor(v / TWO32);
    return putN(b, putN(b, off, hi, 4), v - hi * TWO32, 4);
  }
  if (b) for (i = w; i--; v >>= 8) b[off + i] = v & 255;
  return off + w;
}

/** Reads a big-endian integer of `w` bytes (1 to 8), signed when `signed`. */
export function readN(b: Uint8Array, off: number, w: number, signed?: boolean): number {
  var n = 0, i: number;
  if (w == 8) return readN(b, off, 4, signed) * TWO32 + readN(b, off + 4, 4);
  for (i = 0; i < w; i++) n = n * 256 + b[off + i];
  return signed && b[off] & 128 ? n - Math.pow(2, 8 * w) : n;
}

/** Counts (b null) or writes one encoded value of kind `k` and payload `x`; `ac` is the element constructor inside an array (no constructor written), 0 alone. */
export function encode(b: Uint8Array | null, off: number, k: number, x: any, depth: number, ac: number): number {
  // (only an array's elements have one: none in the device builds, which encode no arrays)
  var el = AMQP_ALL_TYPES ? ac : 0, n = 0, i: number, c = 0, w: number, s = 0, m = 0, key: string, r: number;
  if (depth > MAX_DEPTH) return E_AMQP_DEPTH;
  if (k == NULL || k == BOOLEAN) {
    if (k == BOOLEAN && typeof x != "boolean") return E_ARGUMENT;
    if (el == BOOLEAN) return put(b, off, x ? 1 : 0);
    return el ? off : put(b, off, k == NULL ? NULL : x ? 0x41 : 0x42);
  }
  if (k >= 0x50 && k < 0xa0) {
    // fixed width (§1.2): integers in their range, floats any number, uuid and decimals their raw bytes
    w = WIDTH[(k >> 4) - 4];
    for (i = 0; i < RANGES.length; i += 3) if (RANGES[i] == k) c = 1, m = i;
    if (c) {
      if (typeof x != "number" || x % 1 || !(x >= RANGES[m + 1] && x <= RANGES[m + 2])) return E_ARGUMENT;
    } else if ((AMQP_ALL_TYPES && k == FLOAT) || k == DOUBLE) {
      if (typeof x != "number") return E_ARGUMENT;
    } else if (k != UUID && (!AMQP_ALL_TYPES || k != DECIMAL32 && k != DECIMAL64 && k != DECIMAL128) || !(x instanceof Uint8Array) || x.length != w) return E_ARGUMENT;
    c = k;
    if (!el) {
      // uint0 0x43, smalluint 0x52, ulong0 0x44, smallulong 0x53 (§1.6.5, §1.6.6); smallint 0x54, smalllong 0x55 (§1.6.9, §1.6.10):
      // the 64-bit kinds' one more
      i = k >> 7;
      if (k == UINT || k == ULONG) c = (x as number) == 0 ? 0x43 + i : (x as number) < 256 ? 0x52 + i : k;
      if ((k == INT || k == LONG) && (x as number) >= -128 && (x as number) < 128) c = 0x54 + i;
      off = put(b, off, c);
      w = WIDTH[(c >> 4) - 4];
    }
    if (!b) return off + w;
    if ((AMQP_ALL_TYPES && k == FLOAT) || k == DOUBLE) {
      var dv = new DataView(b.buffer, b.byteOffset + off, w);
      if (AMQP_ALL_TYPES && w == 4) dv.setFloat32(0, (x as number));
      else dv.setFloat64(0, (x as number));
      return off + w;
    }
    if (x instanceof Uint8Array) return b.set(x, off), off + w;
    return w ? putN(b, off, x, w) : off;
  }
  if (k == BINARY || k == STRING || k == SYMBOL) {
    // variable width: a size then the bytes (§1.2); binary also takes a string, sent as its UTF-8 bytes
    // (a symbol: ASCII only, §1.6.21)
    if (typeof x == "string") n = k != SYMBOL ? utf8Write(null, 0, x) : /[^\x00-\x7f]/.test(x) ? E_ARGUMENT : x.length;
    else if (k == BINARY && x instanceof Uint8Array) n = x.length;
    else return E_ARGUMENT;
    if (n < 0) return n == -1 ? E_UTF8 : n;
    c = el || (n < 256 ? k : k + 0x10);
    if (!el) off = put(b, off, c);
    off = putN(b, off, n, c & 0x10 ? 4 : 1);
    if (!b) return off + n;
    if (typeof x != "string") return b.set(x, off), off + n;
    // (a symbol's ASCII: the same bytes)
    return utf8Write(b, off, x);
  }
  if ((AMQP_ALL_TYPES && (k == LIST || k == MAP)) || k == OBJ_SYM || k == OBJ_STR) {
    // compound: size, count, then each item with its constructor (§1.6.22, §1.6.23); a map counts keys and values
    // (the device builds: maps from plain objects only)
    var list = AMQP_ALL_TYPES && k == LIST, obj = !AMQP_ALL_TYPES || k < LIST;
    if (obj) {
      if (x == null || typeof x != "object") return E_ARGUMENT;
      for (key in x) {
        if (!Object.prototype.hasOwnProperty.call(x, key)) continue;
        r = kindOf(x[key]);
        // §3.2.5: simple values only (the device builds encode no compound values at all)
        if (AMQP_ALL_TYPES && k == OBJ_STR && (r == LIST || r == MAP || r == ARRAY || r == DESCRIBED)) return E_ARGUMENT;
        if ((r = encode(null, 0, k == OBJ_SYM ? SYMBOL : STRING, key, depth + 1, 0)) < 0) return r;
        s += r;
        if ((r = encode(null, 0, kindOf(x[key]), payload(x[key]), depth + 1, 0)) < 0) return r;
        s += r;
        n += 2;
      }
    } else if (AMQP_ALL_TYPES) {
      if (!Array.isArray(x) || (k == MAP && x.length & 1)) return E_ARGUMENT;
      for (n = x.length, i = 0; i < n; i++) {
        if ((r = encode(null, 0, kindOf(x[i]), payload(x[i]), depth + 1, 0)) < 0) return r;
        s += r;
      }
    }
    if (!n && list && !el) return put(b, off, 0x45); // list0
    c = el || (n < 256 && s < 255 ? (list ? LIST : MAP) : list ? 0xd0 : 0xd1);
    w = c & 0x10 ? 4 : 1;
    if (!el) off = put(b, off, c);
    off = putN(b, putN(b, off, s + w, w), n, w);
    if (!b) return off + s;
    if (obj) {
      for (key in x)
        if (Object.prototype.hasOwnProperty.call(x, key))
          off = encode(b, encode(b, off, k == OBJ_SYM ? SYMBOL : STRING, key, depth + 1, 0), kindOf(x[key]), payload(x[key]), depth + 1, 0);
    } else if (AMQP_ALL_TYPES) for (i = 0; i < n; i++) off = encode(b, off, kindOf(x[i]), payload(x[i]), depth + 1, 0);
    return off;
  }
  if (AMQP_ALL_TYPES && k == ARRAY) {
    // array: size, count, one constructor, then the elements without theirs (§1.6.24)
    var items = x && x.v, e = x && x.e, it: Value;
    if (!Array.isArray(items)) return E_ARGUMENT;
    n = items.length;
    if (e == null) e = n ? kindOf(items[0]) : NULL;
    if (e == DESCRIBED || e == OBJ_SYM || e == OBJ_STR) return E_ARGUMENT; // described elements: not encoded by this codec
    // the element constructor: 32-bit forms of variable and compound kinds first, 8-bit ones if every element fits
    c = e == BINARY || e == STRING || e == SYMBOL || e == LIST || e == MAP || e == ARRAY ? e + 0x10 : e;
    for (i = 0; i < n; i++) {
      it = items[i];
      if (kindOf(it) != e && (typeof it == "object" && it != null && !Array.isArray(it) && !(it instanceof Uint8Array) || e != SYMBOL)) return E_ARGUMENT;
      if ((r = encode(null, 0, e, payload(it), depth + 1, c)) < 0) return r;
      s += r;
      if (r > m) m = r;
    }
    if (c != e && c < 0xc0 && m < 260) c = e, s -= 3 * n; // all fit vbin8 / str8 / sym8
    s += 1; // the constructor
    r = el || (n < 256 && s < 255 ? ARRAY : 0xf0);
    w = r & 0x10 ? 4 : 1;
    if (!el) off = put(b, off, r);
    off = put(b, putN(b, putN(b, off, s + w, w), n, w), c);
    if (!b) return off + s - 1;
    for (i = 0; i < n; i++) off = encode(b, off, e, payload(items[i]), depth + 1, c);
    return off;
  }
  if (AMQP_ALL_TYPES && k == DESCRIBED && !ac && x && typeof x == "object") {
    // 0x00, the descriptor, the value (§1.5, §1.2)
    if ((r = encode(b, put(b, off, 0), kindOf(x.d), payload(x.d), depth + 1, 0)) < 0) return r;
    return encode(b, r, kindOf(x.v), payload(x.v), depth + 1, 0);
  }
  return E_ARGUMENT;
}

/** Bytes `v` takes encoded, or a negative code (E_ARGUMENT for a value outside its type, E_UTF8 for a lone surrogate). */
export function sizeValue(v: Value): number {
  return encode(null, 0, kindOf(v), payload(v), 0, 0);
}

/** Encodes `v` at `off`; returns the new offset, or E_BUFFER (nothing written) or the code sizeValue gives. */
export function writeValue(b: Uint8Array, off: number, v: Value): number {
  var n = sizeValue(v);
  return n < 0 ? n : off + n > b.length ? E_BUFFER : encode(b, off, kindOf(v), payload(v), 0, 0);
}

// The decoder's registers: after decode(), P is where the value ended (or a negative code), K its kind.
var P = 0, K = 0;

/** Where the last decodeValue (or readRaw) stopped, or its negative code. */
export function decodeEnd(): number {
  return P;
}

/** The kind of the last value readRaw read. */
export function rawKind(): number {
  return K;
}

/** Sets P to `code` and returns null: the decoder's way out. */
function fail(code: number): null {
  P = code;
  return null;
}

/**
 * Reads one value at `off` (not past `end`) without wrapping it: numbers and symbols come back bare, K tells
 * the kind, P where it ended; on a bad value, null with P negative. `ac`: the element constructor in an array.
 */
export function readRaw(b: Uint8Array, off: number, end: number, depth: number, ac: number): any {
  var c: number, h: number, w: number, n: number, e: number, i: number, x: any, d: any, out: any[], dv: DataView;
  if (depth > MAX_DEPTH) return fail(E_AMQP_DEPTH);
  if (!ac) {
    if (off >= end) return fail(E_MALFORMED);
    c = b[off++];
    if (!c) {
      // described (§1.2): a descriptor, then the value with its own constructor
      d = readValue(b, off, end, depth + 1, 0);
      if (P < 0) return null;
      x = readValue(b, P, end, depth + 1, 0);
      K = DESCRIBED;
      return P < 0 ? null : { t: DESCRIBED, d: d, v: x };
    }
  } else c = ac;
  h = c >> 4;
  K = canon(c);
  if (h >= 4 && h <= 9) {
    w = WIDTH[h - 4];
    if (off + w > end) return fail(E_MALFORMED);
    P = off + w;
    switch (c) {
      case 0x40: return null;
      case 0x41: case 0x42: return c == 0x41;
      case 0x56: return b[off] > 1 ? fail(E_AMQP_VALUE) : b[off] == 1; // §1.6.2
      case 0x45: return [];
      // unsigned (uint0 and ulong0 of no bytes), then signed
      case 0x43: case 0x44: case 0x50: case 0x52: case 0x53: case 0x60: case 0x70: case 0x80: return readN(b, off, w);
      case 0x51: case 0x54: case 0x55: case 0x61: case 0x71: case 0x81: case 0x83: return readN(b, off, w, true);
      case 0x73: return (x = readN(b, off, 4)) > 0x10ffff ? fail(E_AMQP_VALUE) : x; // a UTF-32 code point (§1.6.16)
      case 0x72: case 0x82:
        dv = new DataView(b.buffer, b.byteOffset + off, w);
        return w == 4 ? dv.getFloat32(0) : dv.getFloat64(0);
      case 0x74: case 0x84: case 0x94: case 0x98: return b.subarray(off, off + w);
    }
    return fail(E_AMQP_CODE);
  }
  if (h < 0xa || (K != BINARY && K != STRING && K != SYMBOL && K != LIST && K != MAP && K != ARRAY)) return fail(E_AMQP_CODE);
  // variable, compound and array: a size of 1 byte (0xa, 0xc, 0xe) or 4 (0xb, 0xd, 0xf), bounding what follows (§1.2)
  w = h & 1 ? 4 : 1;
  if (off + w > end || (n = readN(b, off, w)) > end - off - w) return fail(E_MALFORMED);
  off += w;
  e = P = off + n;
  if (h < 0xc) {
    if (K == BINARY) return b.subarray(off, e);
    if (K == SYMBOL) for (i = off; i < e; i++) if (b[i] > 127) return fail(E_AMQP_VALUE); // §1.6.21: ASCII
    return (x = utf8Read(b, off, n)) == null ? fail(E_UTF8) : x;
  }
  // a count, then the items: each at least one byte, except an array's zero-width elements (capped the same way here)
  if (n < w || (i = readN(b, off, w)) > n - w) return fail(E_MALFORMED);
  off += w;
  out = [];
  if (K == LIST || K == MAP) {
    if (K == MAP && i & 1) return fail(E_AMQP_VALUE); // §1.6.23: keys and values
    while (i--) {
      out.push(readValue(b, off, e, depth + 1, 0));
      if ((off = P) < 0) return null;
    }
  } else {
    if (off >= e) return fail(E_MALFORMED);
    c = b[off++];
    if (!c) {
      // described elements: one descriptor for all
      d = readValue(b, off, e, depth + 1, 0);
      if ((off = P) < 0) return null;
      if (off >= e) return fail(E_MALFORMED);
      if (!(c = b[off++])) return fail(E_AMQP_CODE);
    }
    while (i--) {
      x = readValue(b, off, e, depth + 1, c);
      if ((off = P) < 0) return null;
      out.push(d === undefined ? x : { t: DESCRIBED, d: d, v: x });
    }
    K = ARRAY;
    return off != e ? fail(E_MALFORMED) : { t: ARRAY, v: out, e: d === undefined ? canon(c) : DESCRIBED };
  }
  K = canon(c);
  P = off;
  return off != e ? fail(E_MALFORMED) : K == LIST ? out : { t: MAP, v: out };
}

/** readRaw, the result in the plain shape (numbers and symbols wrapped as {t, v}). */
export function readValue(b: Uint8Array, off: number, end: number, depth: number, ac: number): Value {
  var x = readRaw(b, off, end, depth, ac);
  if (P < 0) return null;
  return typeof x == "number" || (K == SYMBOL && typeof x == "string") || (x instanceof Uint8Array && K != BINARY) ? { t: K, v: x } : x;
}

/** Decodes the value at `off`, not reading past `end`: the value, or a negative code (decodeEnd() then tells where it ended). */
export function decodeValue(b: Uint8Array, off: number, end: number): Value {
  var v = readValue(b, off, end, 0, 0);
  return P < 0 ? P : v;
}
