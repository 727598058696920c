// Text on Espruino, linked in place of src/platform.ts (rollup.config.js). Espruino has two kinds of string:
// binary strings, one byte per character (the only kind on the ESP32 and ESP8266 builds; the Espruino IDE
// uploads non-ASCII text in them as UTF-8 \xHH bytes), and, on builds with ESPR_UNICODE_SUPPORT, UTF-8
// strings whose characters are code points. A string is sent as the bytes Espruino holds for it (as
// E.toUint8Array and socket.write do): a UTF-8 string's code points as UTF-8, a binary string's bytes as they
// are, which must then be well-formed UTF-8 (E_UTF8 otherwise: send binary data as a Uint8Array). Received
// text comes back as a binary string of its UTF-8 bytes, flagged UTF-8 on a Unicode build. No
// String.fromCharCode above 255 (Espruino keeps the low 8 bits) and no substr (wrong on UTF-8 strings).
import { utf8Scan, utf8Write as writeCodePoints } from "../../src/bytes";

/** Writes `s` at `off` (only counts when `b` is null); returns the new offset, or -1 when not well-formed UTF-8. */
export function utf8Write(b: Uint8Array | null, off: number, s: string): number {
  if (E.isUTF8 && E.isUTF8(s)) return writeCodePoints(b, off, s);
  if (utf8Scan(s, 0, s.length, false, true) == null) return -1;
  if (b) for (var i = 0; i < s.length; i++) b[off + i] = s.charCodeAt(i);
  return off + s.length;
}

/** Bytes `s` takes, or -1 when they are not well-formed UTF-8. */
export function utf8Length(s: string): number {
  return utf8Write(null, 0, s);
}

/** Checks `len` bytes at `off` as utf8Read does (null when ill-formed) and returns them as an Espruino string. */
export function utf8Read(b: Uint8Array, off: number, len: number, noNull?: boolean): string | null {
  var s: string | null | undefined = utf8Scan(b, off, len, noNull, true), i = off;
  if (s == null || !len) return s;
  s = E.toString(b.subarray(off, off + len));
  if (s == null) return null;
  while (i < off + len && b[i] < 128) i++;
  // non-ASCII: a Unicode build reads the bytes as code points; the others have no such string (asUTF8 throws)
  if (i < off + len && E.asUTF8)
    try {
      s = E.asUTF8(s);
    } catch (e) {}
  return s;
}
