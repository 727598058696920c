// Resumable HTTP/1.1 response parser (RFC 7230): bytes in any chunking, one at a time included.
// Status and header lines are assembled one at a time in buf[0..cap); the body is handed on as
// views into the fed chunks, never copied, so a body of any size passes through a small buffer.
import { E_CLOSED, E_HTTP_STATUS_LINE, E_HTTP_HEADER, E_HTTP_HEADER_SIZE, E_HTTP_CHUNK, E_HTTP_TRUNCATED } from "../errors";

/** What the parser reports, in order: status, headers, end of headers, body pieces, end. */
export interface ResponseHandler {
  /** The final status code (1xx interim responses other than 101 are skipped, RFC 7231 §6.2). */
  onStatus(code: number): void;
  /** One header field: the name lower-cased, the value without surrounding whitespace (RFC 7230 §3.2.4). */
  onHeader(name: string, value: string): void;
  /** True stops the parser here: the rest of the chunk is not HTTP (after a 101 upgrade). */
  onHeadersEnd(): boolean;
  /** A piece of the body (transfer coding removed): a view valid only during the call. */
  onBody(chunk: Uint8Array): void;
  onEnd(): void;
}

export interface ResponseParser {
  /** Consumes bytes from chunk[off..]: returns how many (less than offered only once the response is over), or a negative code. */
  feed(chunk: Uint8Array, off?: number): number;
  /** Prepares for the next response; `head` when the request was HEAD (no body whatever the headers say). */
  reset(head?: boolean): void;
  /** The connection closed: 0 if that ended the response (body delimited by close), E_CLOSED if nothing came, else E_HTTP_TRUNCATED. */
  end(): number;
  /** After the end: true when the connection may carry the next request (RFC 7230 §6.3). */
  keepAlive(): boolean;
}

// states; below BODY a line is being assembled
var STATUS = 0, HEADER = 1, CHUNK_SIZE = 2, CHUNK_END = 3, TRAILER = 4, BODY = 5, CHUNK = 6, UNTIL_CLOSE = 7, DONE = 8;

/** True when a comma-separated header value has the token `t` (RFC 7230 §7), case-insensitively. */
export function hasToken(v: string, t: string): boolean {
  return ("," + v.toLowerCase().replace(/[ \t]/g, "") + ",").indexOf("," + t + ",") >= 0;
}

/** Creates a parser assembling lines in buf[0..cap): a line longer than cap is E_HTTP_HEADER_SIZE. */
export function createResponseParser(buf: Uint8Array, cap: number, h: ResponseHandler): ResponseParser {
  var _s = STATUS, _fill = 0, _err = 0, _left = 0, _len = -1, _code = 0,
    _te = false, _chunked = false, _keep = true, _head = false, _skip = false, _any = false, _stop = false,
    _name = "", _value = "";

  function finish() {
    _s = DONE;
    h.onEnd();
  }

  /** Interprets the pending header field, if any, and hands it on. */
  function field(): number {
    var v = _value.trim(), n = _name, t: string[];
    if (!n) return 0;
    _name = "";
    if (_s == TRAILER) return 0; // trailer fields may be discarded (RFC 7230 §4.1.2)
    if (n == "content-length") {
      // RFC 7230 §3.3.2: digits only; repeated with another value is an error
      if (!/^[0-9]+$/.test(v) || (_len >= 0 && _len != +v)) return E_HTTP_HEADER;
      _len = +v;
    } else if (n == "transfer-encoding") {
      // RFC 7230 §3.3.1: chunked, if present, is the last coding
      t = v.toLowerCase().split(",");
      _te = true;
      _chunked = t[t.length - 1].replace(/[ \t]/g, "") == "chunked";
    } else if (n == "connection") {
      // RFC 7230 §6.1, §6.3: close ends the connection; HTTP/1.0 keeps it only with keep-alive
      if (hasToken(v, "close")) _keep = false;
      else if (hasToken(v, "keep-alive")) _keep = true;
    }
    if (!_skip) h.onHeader(n, v);
    return 0;
  }

  /** One assembled line, buf[0.._fill) without its LF. Returns 0 or a negative code. */
  function line(): number {
    var n = _fill, s = "", i = 0, c: number, r: number;
    if (n && buf[n - 1] == 13) n--;
    for (; i < n; i++) s += String.fromCharCode(buf[i]);
    _fill = 0;
    if (_s == STATUS) {
      // RFC 7230 §3.1.2 status-line = HTTP-version SP status-code SP reason-phrase (reason and its space tolerated missing);
      // empty lines before it are ignored (RFC 7230 §3.5)
      if (!s) return 0;
      if (!/^HTTP\/[0-9]\.[0-9] [1-9][0-9][0-9]/.test(s) || (n > 12 && s.charAt(12) != " ")) return E_HTTP_STATUS_LINE;
      _code = +s.substr(9, 3);
      _keep = s.charAt(5) == "1" && s.charAt(7) != "0";
      _len = -1;
      _te = _chunked = false;
      // RFC 7231 §6.2: interim 1xx responses are skipped, apart from 101 (the connection changes protocol)
      _skip = _code < 200 && _code != 101;
      if (!_skip) h.onStatus(_code);
      _s = HEADER;
      return 0;
    }
    if (_s == CHUNK_SIZE) {
      // RFC 7230 §4.1: chunk-size [BWS ; chunk-ext] CRLF
      c = /^[0-9a-fA-F]*/.exec(s)![0].length;
      r = parseInt(s.substr(0, c), 16);
      s = s.substr(c).replace(/^[ \t]+/, "");
      if (!c || r > 0x7fffffff || (s && s.charAt(0) != ";")) return E_HTTP_CHUNK;
      _left = r;
      _s = r ? CHUNK : TRAILER;
      return 0;
    }
    if (_s == CHUNK_END) {
      if (s) return E_HTTP_CHUNK;
      _s = CHUNK_SIZE;
      return 0;
    }
    // a header or trailer line
    c = s.charCodeAt(0);
    if (c == 32 || c == 9) {
      // obs-fold: a continuation of the previous value, joined with a space (RFC 7230 §3.2.4)
      if (!_name) return E_HTTP_HEADER;
      _value += " " + s.trim();
      return 0;
    }
    if ((r = field()) < 0) return r;
    if (s) {
      // RFC 7230 §3.2.4: no whitespace between the field name and the colon
      i = s.indexOf(":");
      if (/[ \t]/.test(s.substr(0, i)) || i < 1) return E_HTTP_HEADER;
      _name = s.substr(0, i).toLowerCase();
      _value = s.substr(i + 1);
      return 0;
    }
    // the empty line: end of the header section (or of the trailers)
    if (_s == TRAILER) return finish(), 0;
    if (_skip) {
      _s = STATUS;
      return 0;
    }
    if (h.onHeadersEnd()) {
      _stop = true;
      _keep = false;
      _s = DONE;
      return 0;
    }
    // RFC 7230 §3.3.3: the length of the body
    if (_head || _code < 200 || _code == 204 || _code == 304) {
      if (_code == 101) _keep = false;
      finish();
    } else if (_te) {
      if (_chunked) _s = CHUNK_SIZE;
      else _s = UNTIL_CLOSE;
    } else if (_len > 0) {
      _s = BODY;
      _left = _len;
    } else if (!_len) finish();
    else _s = UNTIL_CLOSE;
    if (_s == UNTIL_CLOSE) _keep = false;
    return 0;
  }

  function fail(code: number): number {
    _s = DONE;
    _keep = false;
    return (_err = code);
  }

  function reset(head?: boolean) {
    _s = STATUS;
    _fill = _err = 0;
    _head = !!head;
    _name = "";
    _any = _stop = false;
  }

  return {
    feed: function (chunk, off) {
      var i = off || 0, n = chunk.length, c: number, k: number, r: number;
      if (_err) return _err;
      if (i < n) _any = true;
      while (i < n && _s != DONE) {
        if (_s < BODY) {
          c = chunk[i++];
          if (c == 10) {
            if ((r = line()) < 0) return fail(r);
          } else {
            if (_fill == cap) return fail(E_HTTP_HEADER_SIZE);
            buf[_fill++] = c;
          }
        } else {
          k = n - i;
          if (_s != UNTIL_CLOSE && k > _left) k = _left;
          h.onBody(chunk.subarray(i, i + k));
          i += k;
          if (_s != UNTIL_CLOSE && !(_left -= k)) {
            if (_s == BODY) finish();
            else _s = CHUNK_END;
          }
        }
      }
      return i - (off || 0);
    },
    reset: reset,
    end: function () {
      if (_err) return _err;
      if (_s == UNTIL_CLOSE) finish();
      if (_s == DONE) return 0;
      return fail(_s == STATUS && !_any ? E_CLOSED : E_HTTP_TRUNCATED);
    },
    keepAlive: function () {
      return _s == DONE && !_err && _keep;
    },
  };
}
