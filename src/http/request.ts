// HTTP/1.1 request head writer (RFC 7230 §3): size first, then encode into the caller's buffer.
import { utf8Length, utf8Write } from "../platform";
import { E_ARGUMENT, E_BUFFER } from "../errors";

// true when `s` has a control character (tab allowed in values) or, for `strict` > 0, a space or tab,
// for `strict` > 1 also a colon: what would break the message framing (header injection)
function bad(s: string, strict: number): boolean {
  for (var i = 0, c: number; i < s.length; i++) {
    c = s.charCodeAt(i);
    if ((c < 32 && c != 9) || c == 127 || (strict && (c == 32 || c == 9 || (c == 58 && strict > 1)))) return true;
  }
  return !s && strict > 0;
}

// the head as text, or E_ARGUMENT
function head(method: string, path: string, headers: string[], bodyLength: number): string | number {
  // RFC 7230 §3.1.1 request-line = method SP request-target SP HTTP-version CRLF
  var s = method + " " + path + " HTTP/1.1\r\n", i = 0;
  if (bad(method, 2) || bad(path, 1) || headers.length & 1) return E_ARGUMENT;
  // RFC 7230 §3.2 header-field = field-name ":" OWS field-value OWS
  for (; i < headers.length; i += 2) {
    if (bad(headers[i], 2) || bad(headers[i + 1], 0)) return E_ARGUMENT;
    s += headers[i] + ": " + headers[i + 1] + "\r\n";
  }
  // RFC 7230 §3.3.2: Content-Length only when there is a body (bodyLength >= 0)
  return s + (bodyLength >= 0 ? "Content-Length: " + bodyLength + "\r\n" : "") + "\r\n";
}

/**
 * Bytes of the request head `METHOD path HTTP/1.1`, `name: value` per pair of `headers` (alternating name, value),
 * `Content-Length: {bodyLength}` when bodyLength >= 0 (none when negative), and the empty line; E_ARGUMENT for a
 * control character, a space in the method, path or a name, an odd header list or a lone surrogate.
 */
export function sizeRequest(method: string, path: string, headers: string[], bodyLength: number): number {
  var s = head(method, path, headers, bodyLength), n: number;
  if (typeof s == "number") return s;
  n = utf8Length(s);
  return n < 0 ? E_ARGUMENT : n;
}

/** Writes the head sizeRequest measures at `off` (UTF-8); returns the new offset, E_BUFFER (nothing written) or E_ARGUMENT. */
export function encodeRequest(buf: Uint8Array, off: number, method: string, path: string, headers: string[], bodyLength: number): number {
  var n = sizeRequest(method, path, headers, bodyLength);
  if (n < 0) return n;
  if (off + n > buf.length) return E_BUFFER;
  return utf8Write(buf, off, head(method, path, headers, bodyLength) as string);
}
