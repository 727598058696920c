// Percent-encoding of UTF-8 bytes (RFC 3986 §2.1), by hand: encodeURIComponent leaves ! ' ( ) *
// alone and Espruino's 8-bit strings make its non-ASCII handling doubtful.
import { byteString } from "../platform";

var HEX = "0123456789ABCDEF";

/**
 * Percent-encodes the UTF-8 bytes of `s` with upper-case hex, keeping only the RFC 3986 §2.3 unreserved
 * A-Z a-z 0-9 - _ . ~ (so ! ' ( ) * are encoded too); a lone surrogate is encoded as U+FFFD, as TextEncoder does.
 * Works on code points from charCodeAt alone: no scratch buffer (a module-level one is read-only once
 * Moddable preloads the module) and no substr (wrong on Espruino's Unicode strings).
 */
export function urlEncode(s: string): string {
  for (var r = "", i = 0, c: number, d: number, n: number, k: number, b: number, raw = byteString(s); i < s.length; i++) {
    c = s.charCodeAt(i);
    if ((c > 47 && c < 58) || (c > 64 && c < 91) || (c > 96 && c < 123) || c == 45 || c == 46 || c == 95 || c == 126) r += s.charAt(i);
    else {
      // (an Espruino binary string: its characters are the UTF-8 bytes already, each encoded as it is)
      if (!raw && (c & 0xf800) == 0xd800) {
        // a surrogate pair is one code point; a lone surrogate becomes U+FFFD
        d = s.charCodeAt(i + 1);
        if (c < 0xdc00 && (d & 0xfc00) == 0xdc00) c = 0x10000 + ((c & 0x3ff) << 10) + (d & 0x3ff), i++;
        else c = 0xfffd;
      }
      // UTF-8: n continuation bytes of 6 bits each, after a lead byte with n + 1 high bits set
      n = raw || c < 0x80 ? 0 : c < 0x800 ? 1 : c < 0x10000 ? 2 : 3;
      // the lead byte (k == n), then the continuation bytes, as %XX each: in place, no helper function for
      // Espruino to keep in its variables
      for (k = n; k >= 0; k--) {
        b = k < n ? 0x80 | ((c >> (6 * k)) & 63) : n ? (256 - (128 >> n)) | (c >> (6 * n)) : c;
        r += "%" + HEX.charAt(b >> 4) + HEX.charAt(b & 15);
      }
    }
  }
  return r;
}

/** Decodes %XX escapes (either case) as UTF-8; null for a truncated or non-hex escape or ill-formed UTF-8. "+" stays "+". */
export { urlDecode } from "../platform";
