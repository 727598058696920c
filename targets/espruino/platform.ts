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
import { hmac } from "../../src/crypto/hmac";

// /[\x80-\xff]/, a byte above 0x7F (only then can a binary string be ill-formed UTF-8), is written in the functions
// that test it: a regex kept at module level costs about 14 variables for as long as the bundle is loaded

/**
 * Writes the bytes of `s` at `off` (only counts when `b` is null); returns the new offset, or -1 when they are
 * not well-formed UTF-8. Native copies: a loop over characters costs Espruino about 30 us each. Short, and with
 * nothing kept between calls: Espruino pays for each character of code it runs through, more than for a conversion.
 */
export function utf8Write(b: Uint8Array | null, off: number, s: string): number {
  var u = E.toUint8Array(s);
  // a byte above 0x7F in a binary string (a UTF-8 string is well-formed): its bytes must be UTF-8. In place, not in
  // a helper as before: a function costs about 8 variables for as long as the bundle is loaded
  if (/[\x80-\xff]/.test(s) && !(E.isUTF8 && E.isUTF8(s)) && utf8Scan(u, 0, u.length, false, true) == null) return -1;
  if (b) b.set(u, off);
  return off + u.length;
}

/** Bytes `s` takes, or -1 when they are not well-formed UTF-8. */
export function utf8Length(s: string): number {
  return utf8Write(null, 0, s);
}

/**
 * Checks `len` bytes at `off` as utf8Read does (null when ill-formed) and returns them as a binary string (`last`
 * when they are its bytes, as utf8Read): natively, scanning only text with a byte above 0x7F.
 */
export function utf8Read(b: Uint8Array, off: number, len: number, noNull?: boolean, last?: string): string | null {
  var s = E.toString(b.subarray(off, off + len)) as string | null;
  // (the usual case, `last` again, first and short: the checks are another function's text, which it does not run through)
  return s === last ? last : /*#__NOINLINE__*/ textOf(s, len, noNull);
}

/** utf8Read's checks of the binary string `s` (null when E.toString had no memory for it), `len` bytes. */
function textOf(s: string | null, len: number, noNull?: boolean): string | null {
  if (s != null && /[\x80-\xff]/.test(s) && utf8Scan(s, 0, len, noNull, true) == null) s = null;
  return s == null || (noNull && s.indexOf("\0") >= 0) ? null : s;
}

/** True for a binary string: its characters are bytes, and those of text are UTF-8 already (no double encoding). */
export function byteString(s: string): boolean {
  return !(E.isUTF8 && E.isUTF8(s));
}

/**
 * JSON text of `v`. Espruino's JSON.stringify writes each byte above 0x7F of a binary string as its own \u00XX, which
 * would turn the UTF-8 bytes of text into other characters: a run of such escapes that is well-formed UTF-8 goes
 * back to those bytes. (A UTF-8 string's characters U+0080-U+00FF come out as \u00XX too; alone they are not
 * well-formed UTF-8 and stay escaped.)
 */
export function jsonText(v: unknown): string {
  var s = JSON.stringify(v), r = "", i = 0, j: number, k: number, b: number[], u: Uint8Array;
  while ((j = s.indexOf("\\u00", i)) >= 0) {
    // a run of \u00XX above 0x7F, not itself escaped (an even number of backslashes before it)
    for (k = j; k > 0 && s.charAt(k - 1) == "\\"; ) k--;
    for (b = [], k = (j - k) & 1 ? -1 : j; k >= 0 && s.substr(k, 4) == "\\u00" && "89abcdef".indexOf(s.charAt(k + 4).toLowerCase()) >= 0; k += 6) b.push(parseInt(s.substr(k + 4, 2), 16));
    u = new Uint8Array(b);
    if (b.length && utf8Scan(u, 0, b.length, false, true) != null) {
      r += s.substring(i, j) + E.toString(u);
      i = j + b.length * 6;
    } else {
      r += s.substring(i, j + 4);
      i = j + 4;
    }
  }
  return r + s.substring(i);
}

// The firmware's crypto module: SHA-1 with USE_CRYPTO, SHA-256 with USE_SHA256; the builds with TLS (ESP32, the
// ones IoT Hub needs) have both. Absent, a digest is null, and what needs it fails by name (E_NO_CRYPTO). Asked
// for at each use (a few per connection), not when the bundle loads.
function digest(f: "SHA1" | "SHA256", d: Uint8Array): Uint8Array | null {
  var c: EspruinoCrypto | undefined;
  try {
    c = require("crypto");
  } catch (e) {}
  return c && c[f] ? new Uint8Array(c[f]!(d)) : null;
}

/** SHA-1 (the WebSocket handshake) by the firmware; null without its crypto module. */
export function sha1(d: Uint8Array): Uint8Array | null {
  return digest("SHA1", d);
}

/** HMAC-SHA256 (RFC 2104, in JavaScript) around the firmware's SHA-256; null without it. */
export function hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array | null {
  return digest("SHA256", msg) && hmac(function (d: Uint8Array) {
    return digest("SHA256", d)!;
  }, key, msg);
}

/** Base64 by the firmware's btoa. */
export function base64Encode(b: Uint8Array): string {
  return btoa(E.toString(b) || "");
}

/** Bytes of base64 `s` by the firmware's atob; null for a character outside the alphabet, "=" inside, or a bad length. */
export function base64Decode(s: string): Uint8Array | null {
  return /[^A-Za-z0-9+\/=]|=[^=]/.test(s) || (s.length & 3) == 1 ? null : E.toUint8Array(atob(s));
}

/**
 * Decodes %XX escapes (either case) as UTF-8 bytes (a binary string: Espruino's decodeURIComponent refuses bytes
 * above 0x7F on some builds and checks no UTF-8); null for a truncated or non-hex escape or ill-formed UTF-8.
 * "+" stays "+".
 */
export function urlDecode(s: string): string | null {
  var r = "", i = 0, n = s.length, j: number, x: number, y: number, b: Uint8Array, t: string | null;
  if (s.indexOf("%") < 0) return s;
  while (i < n) {
    if (s.charAt(i) != "%") r += s.charAt(i++);
    else {
      // a run of escapes is a run of UTF-8 bytes, decoded as a whole
      for (b = new Uint8Array((n - i) / 3 | 0), j = 0; s.charAt(i) == "%"; i += 3) {
        // the hex digits' values, -1 for anything else: in place, no helper function to keep
        x = "0123456789abcdef".indexOf(s.charAt(i + 1).toLowerCase());
        y = "0123456789abcdef".indexOf(s.charAt(i + 2).toLowerCase());
        if (x < 0 || y < 0 || i + 2 >= n) return null; // (past the end, charAt gives "", found at 0)
        b[j++] = x << 4 | y;
      }
      t = utf8Read(b, 0, j);
      if (t == null) return null;
      r += t;
    }
  }
  return r;
}
