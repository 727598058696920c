var A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 of `b`, standard alphabet with `=` padding (RFC 4648 §4). */
export function base64Encode(b: Uint8Array): string {
  for (var s = '', n = b.length, i = 0, x: number; i < n; i += 3) {
    x = b[i] << 16 | b[i + 1] << 8 | b[i + 2]; // bytes past the end read as undefined, i.e. 0
    s += A.charAt(x >> 18) + A.charAt(x >> 12 & 63) +
      (i + 1 < n ? A.charAt(x >> 6 & 63) : '=') + (i + 2 < n ? A.charAt(x & 63) : '=');
  }
  return s;
}

/** Bytes of base64 `s` (RFC 4648 §4), padded or not; null for a character outside the alphabet or a bad length or padding. */
export function base64Decode(s: string): Uint8Array | null {
  var p = s.length, i = 0, j = 0, x = 0, c: number, out: Uint8Array;
  // padding only completes a 4-character group, at most two `=`
  if (!(p & 3) && s.charAt(p - 1) == '=') p -= s.charAt(p - 2) == '=' ? 2 : 1;
  if ((p & 3) == 1) return null;
  out = new Uint8Array(p * 3 >> 2);
  for (; i < p; i++) {
    c = A.indexOf(s.charAt(i));
    if (c < 0) return null;
    x = x << 6 | c;
    // the 2nd, 3rd and 4th character of a group each complete one byte
    if (i & 3) out[j++] = x >> 6 - 2 * (i & 3);
  }
  return out;
}
