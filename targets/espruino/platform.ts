// Text on Espruino, linked in place of src/platform.ts (rollup.config.js). Espruino has two kinds of string:
// binary strings, one byte per character (the only kind on the ESP32 and ESP8266 builds; the Espruino IDE
// uploads non-ASCII text in them as UTF-8 \xHH bytes), and, on builds with ESPR_UNICODE_SUPPORT, UTF-8
// strings whose characters are code points. A string is sent as the bytes Espruino holds for it (as
// E.toUint8Array and socket.write do): a UTF-8 string's code points as UTF-8, a binary string's bytes as they
// are, which must then be well-formed UTF-8 (E_UTF8 otherwise: send binary data as a Uint8Array). Received
// text comes back as a binary string of its UTF-8 bytes, as on the boards without Unicode: a UTF-8 string
// would be read by character in charAt, indexOf and length but by byte in substring, substr and slice
// (seen in 2v29), so parsing it is unsafe; E.asUTF8(s) gives one to an application that wants it. No
// String.fromCharCode above 255 either: Espruino keeps the low 8 bits.
import { utf8Scan } from "../../src/bytes";

// a byte above 0x7F: only then can a binary string be ill-formed UTF-8
var HIGH = /[\x80-\xff]/;

/**
 * Writes the bytes of `s` at `off` (only counts when `b` is null); returns the new offset, or -1 when they are
 * not well-formed UTF-8. Native copies: a loop over characters costs Espruino about 30 us each.
 */
export function utf8Write(b: Uint8Array | null, off: number, s: string): number {
  var u = E.toUint8Array(s);
  if (!(E.isUTF8 && E.isUTF8(s)) && HIGH.test(s) && utf8Scan(u, 0, u.length, false, true) == null) return -1;
  if (b) b.set(u, off);
  return off + u.length;
}

/** Bytes `s` takes, or -1 when they are not well-formed UTF-8. */
export function utf8Length(s: string): number {
  return utf8Write(null, 0, s);
}

/** Checks `len` bytes at `off` as utf8Read does (null when ill-formed) and returns them as a binary string. */
export function utf8Read(b: Uint8Array, off: number, len: number, noNull?: boolean): string | null {
  return utf8Scan(b, off, len, noNull, true) == null ? null : len ? E.toString(b.subarray(off, off + len)) || null : "";
}
