// UTF-8, 16-bit integers and the MQTT variable-length integer, by hand and in place.
// Espruino strings are 8-bit, so UTF-8 is never left to the engine: lengths are in bytes.

/** Bytes `s` takes as UTF-8, or -1 for a lone surrogate (not encodable). */
export function utf8Length(s: string): number {
  var n = 0, i = 0, c: number;
  for (; i < s.length; i++) {
    c = s.charCodeAt(i);
    if (c < 0x80) n++;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xe000) {
      // a surrogate pair makes one 4-byte sequence
      if (c > 0xdbff || (s.charCodeAt(i + 1) & 0xfc00) != 0xdc00) return -1;
      i++;
      n += 4;
    } else n += 3;
  }
  return n;
}

/** Writes `s` as UTF-8 at `off` (length checked by the caller with utf8Length); returns the new offset. */
export function utf8Write(b: Uint8Array, off: number, s: string): number {
  for (var i = 0, c: number; i < s.length; i++) {
    c = s.charCodeAt(i);
    if (c < 0x80) b[off++] = c;
    else {
      if (c < 0x800) b[off++] = 0xc0 | (c >> 6);
      else {
        if (c >= 0xd800 && c < 0xdc00) {
          c = 0x10000 + ((c & 0x3ff) << 10) + (s.charCodeAt(++i) & 0x3ff);
          b[off++] = 0xf0 | (c >> 18);
          b[off++] = 0x80 | ((c >> 12) & 63);
        } else b[off++] = 0xe0 | (c >> 12);
        b[off++] = 0x80 | ((c >> 6) & 63);
      }
      b[off++] = 0x80 | (c & 63);
    }
  }
  return off;
}

/**
 * Decodes `len` bytes of UTF-8 at `off`. Returns null for ill-formed UTF-8 (overlong forms,
 * surrogates, beyond U+10FFFF, truncated sequences) and, when `noNull`, for U+0000 [MQTT-1.5.3-2].
 */
export function utf8Read(b: Uint8Array, off: number, len: number, noNull?: boolean): string | null {
  var s = "", end = off + len, c: number, n: number, min: number;
  while (off < end) {
    c = b[off++];
    if (c < 0x80) {
      if (c == 0 && noNull) return null;
    } else {
      // lead byte: number of continuation bytes and the smallest legal value
      if (c >= 0xc2 && c < 0xe0) { n = 1; c &= 31; min = 0x80; }
      else if (c >= 0xe0 && c < 0xf0) { n = 2; c &= 15; min = 0x800; }
      else if (c >= 0xf0 && c < 0xf5) { n = 3; c &= 7; min = 0x10000; }
      else return null;
      if (off + n > end) return null;
      while (n--) {
        if ((b[off] & 0xc0) != 0x80) return null;
        c = (c << 6) | (b[off++] & 63);
      }
      if (c < min || c > 0x10ffff || (c >= 0xd800 && c < 0xe000)) return null;
      if (c > 0xffff) {
        c -= 0x10000;
        s += String.fromCharCode(0xd800 + (c >> 10));
        c = 0xdc00 + (c & 0x3ff);
      }
    }
    s += String.fromCharCode(c);
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

/** Copies `len` bytes inside one array, overlapping allowed (typed-array `copyWithin` is not on every engine). */
export function moveBytes(b: Uint8Array, to: number, from: number, len: number): void {
  var i: number;
  if (to < from) for (i = 0; i < len; i++) b[to + i] = b[from + i];
  else for (i = len; i--; ) b[to + i] = b[from + i];
}
