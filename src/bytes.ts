// UTF-8, 16-bit integers and the MQTT variable-length integer, by hand and in place.
// Espruino strings are 8-bit, so UTF-8 is never left to the engine: lengths are in bytes.

/** Bytes `s` takes as UTF-8, or -1 for a lone surrogate (not encodable). */
export function utf8Length(s: string): number {
  return utf8Write(null, 0, s);
}

/** Writes `s` as UTF-8 at `off` (only counts when `b` is null); returns the new offset, or -1 for a lone surrogate. */
export function utf8Write(b: Uint8Array | null, off: number, s: string): number {
  for (var i = 0, c: number, n: number, k: number; i < s.length; i++) {
    c = s.charCodeAt(i);
    if (c < 0x80) {
      // ASCII: one byte
      if (b) b[off] = c;
      off++;
      continue;
    }
    if (c >= 0xd800 && c < 0xe000) {
      // a surrogate pair makes one code point above U+FFFF
      if (c > 0xdbff || (s.charCodeAt(i + 1) & 0xfc00) != 0xdc00) return -1;
      c = 0x10000 + ((c & 0x3ff) << 10) + (s.charCodeAt(++i) & 0x3ff);
    }
    // n continuation bytes of 6 bits each, after a lead byte with n + 1 high bits set
    n = c < 0x800 ? 1 : c < 0x10000 ? 2 : 3;
    if (b) {
      b[off] = (256 - (128 >> n)) | (c >> (6 * n));
      for (k = n; k--; ) b[off + n - k] = 0x80 | ((c >> (6 * k)) & 63);
    }
    off += n + 1;
  }
  return off;
}

// the smallest code point a sequence of 1 + n bytes may encode (below it: an overlong form)
/**
 * Decodes `len` bytes of UTF-8 at `off`. Returns null for ill-formed UTF-8 (overlong forms,
 * surrogates, beyond U+10FFFF, truncated sequences) and, when `noNull`, for U+0000 [MQTT-1.5.3-2].
 * `last`, an ASCII string read before, is returned itself when the bytes are its characters (nothing decoded).
 */
export function utf8Read(b: Uint8Array, off: number, len: number, noNull?: boolean, last?: string): string | null {
  var i = 0;
  if (last != null && last.length == len) {
    while (i < len && last.charCodeAt(i) == b[off + i]) i++;
    if (i == len) return last;
  }
  return utf8Scan(b, off, len, noNull, false);
}

/**
 * utf8Read's loop over bytes, or over a string holding one byte per character (an Espruino binary string);
 * with `check`, only validates: "" for well-formed UTF-8, null otherwise.
 */
export function utf8Scan(b: Uint8Array | string, off: number, len: number, noNull?: boolean, check?: boolean): string | null {
  var s = "", end = off + len, c: number, n: number, k: number, d: number, t = typeof b == "string", a = b as any;
  while (off < end) {
    c = t ? a.charCodeAt(off++) : a[off++];
    // continuation bytes after this one: 80-BF never lead, C0 and C1 only start overlong forms, F5-FF go past U+10FFFF
    n = c < 0x80 ? 0 : c < 0xc2 || c > 0xf4 ? -1 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
    if (n < 0 || off + n > end || (!c && noNull)) return null;
    if (n) {
      c &= 63 >> n;
      for (k = n; k--; ) {
        d = t ? a.charCodeAt(off++) : a[off++];
        if ((d & 0xc0) != 0x80) return null;
        c = (c << 6) | (d & 63);
      }
      // the least code point of a sequence of n + 1 bytes (overlong forms below it); no table, which Espruino would keep in variables
      if (c < (n < 2 ? 0x80 : n < 3 ? 0x800 : 0x10000) || c > 0x10ffff || (c >= 0xd800 && c < 0xe000)) return null;
      if (c > 0xffff && !check) {
        c -= 0x10000;
        s += String.fromCharCode(0xd800 + (c >> 10));
        c = 0xdc00 + (c & 0x3ff);
      }
    }
    if (!check) s += String.fromCharCode(c);
  }
  return s;
}

/** Reads a big-endian 16-bit integer. */
export function readU16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

/** Writes a big-endian 16-bit integer; returns the new offset. */
export function writeU16(b: Uint8Array, off: number, v: number): number {
  b[off] = v >> 8;
  b[off + 1] = v & 255;
  return off + 2;
}

/** Bytes needed for `v` as an MQTT variable byte integer [MQTT-2.2.3]: 1 to 4, or 5 when too large. */
export function varintLength(v: number): number {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : v < 268435456 ? 4 : 5;
}

/** Writes `v` as an MQTT variable byte integer; returns the new offset. */
export function writeVarint(b: Uint8Array, off: number, v: number): number {
  do {
    b[off++] = (v & 127) | (v > 127 ? 128 : 0);
    v = v >>> 7;
  } while (v);
  return off;
}

/**
 * Moves `len` bytes inside one array towards its start (`to` <= `from`), overlapping allowed. One `set`:
 * the spec copies an overlapping source first, Duktape uses memmove (test/build/duktape.test.ts), and an
 * engine that copies element by element from the front (Espruino) is right in this direction too.
 */
export function moveBytes(b: Uint8Array, to: number, from: number, len: number): void {
  b.set(b.subarray(from, from + len), to);
}
