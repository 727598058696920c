// Percent-encoding of UTF-8 bytes (RFC 3986 §2.1), by hand: encodeURIComponent leaves ! ' ( ) *
// alone and Espruino's 8-bit strings make its non-ASCII handling doubtful.
import { utf8Read, utf8Write } from "../bytes";

var HEX = "0123456789ABCDEF";

// the UTF-8 bytes of one character being encoded
var CHAR = new Uint8Array(4);

function pct(b: number): string {
  return "%" + HEX.charAt(b >> 4) + HEX.charAt(b & 15);
}

// value of a hex digit's char code, -1 for anything else (NaN past the end included)
function hexv(c: number): number {
  return c > 47 && c < 58 ? c - 48 : (c |= 32) > 96 && c < 103 ? c - 87 : -1;
}

/**
 * Percent-encodes the UTF-8 bytes of `s` with upper-case hex, keeping only the RFC 3986 §2.3 unreserved
 * A-Z a-z 0-9 - _ . ~ (so ! ' ( ) * are encoded too); a lone surrogate is encoded as U+FFFD, as TextEncoder does.
 */
export function urlEncode(s: string): string {
  for (var r = "", i = 0, c: number, n: number, k: number; i < s.length; i++) {
    c = s.charCodeAt(i);
    if ((c > 47 && c < 58) || (c > 64 && c < 91) || (c > 96 && c < 123) || c == 45 || c == 46 || c == 95 || c == 126) r += s.charAt(i);
    else {
      // one character's UTF-8 bytes: a surrogate pair as one code point
      n = (c & 0xfc00) == 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) == 0xdc00 ? 2 : 1;
      k = utf8Write(CHAR, 0, s.substr(i, n));
      if (k < 0) k = utf8Write(CHAR, 0, "\ufffd");
      i += n - 1;
      for (n = 0; n < k; n++) r += pct(CHAR[n]);
    }
  }
  return r;
}

/** Decodes %XX escapes (either case) as UTF-8; null for a truncated or non-hex escape or ill-formed UTF-8. "+" stays "+". */
export function urlDecode(s: string): string | null {
  var r = "", i = 0, n = s.length, j: number, x: number, y: number, b: Uint8Array, t: string | null;
  if (s.indexOf("%") < 0) return s;
  while (i < n) {
    if (s.charAt(i) != "%") r += s.charAt(i++);
    else {
      // a run of escapes is a run of UTF-8 bytes, decoded as a whole
      for (b = new Uint8Array((n - i) / 3 | 0), j = 0; s.charAt(i) == "%"; i += 3) {
        x = hexv(s.charCodeAt(i + 1));
        y = hexv(s.charCodeAt(i + 2));
        if (x < 0 || y < 0) return null;
        b[j++] = x << 4 | y;
      }
      t = utf8Read(b, 0, j);
      if (t == null) return null;
      r += t;
    }
  }
  return r;
}
