// One HTTP/1.1 exchange at a time over a Transport, the connection kept for the next (RFC 7230 §6.3).
// One buffer: its first rxSize bytes assemble response lines, the rest stages the request head and body.
import { Transport, Clock, TlsOptions, TransportEvents, PayloadSource } from "../types";
import { E_BUSY, E_CLOSED, E_TIMEOUT, E_TRANSPORT, E_ENDED, E_ARGUMENT, E_BUFFER, E_TOO_LARGE, E_SOURCE } from "../errors";
import { UPLOAD } from "../features";
import { utf8Length, utf8Write } from "../platform";
import { encodeRequest } from "./request";
import { createResponseParser } from "./response";

export interface HttpClientOptions {
  host: string;
  /** Default 443 with TLS, 80 without. */
  port?: number;
  /** TLS settings; null or undefined for plain TCP. */
  tls?: TlsOptions | null;
  /** Bytes of the one buffer (default 2048), or the buffer itself. */
  bufferSize?: number;
  buffer?: Uint8Array;
  /** Bytes of it for response lines (default half); the rest holds the request head, which must fit. */
  rxSize?: number;
  /** Milliseconds for a whole exchange, connecting included (default 30000); then E_TIMEOUT. */
  timeout?: number;
  /** Milliseconds a kept connection is trusted idle (default 60000); an older one is replaced before a request. */
  idle?: number;
  transport: Transport;
  clock: Clock;
}

/** Per-request response callbacks: headers (name lower-cased) and body pieces (views valid during the call). */
export interface HttpHandler {
  onHeader?(name: string, value: string): void;
  onBody?(chunk: Uint8Array): void;
}

/** A request body: a string (sent as UTF-8), bytes, or (with UPLOAD) a source read into the buffer as it is sent. */
export type HttpBody = string | Uint8Array | PayloadSource;

/** Called once per request: err 0 and the final status, or a negative code and 0. */
export type HttpDone = (err: number, status: number) => void;

export interface HttpClient {
  /**
   * Starts an exchange: `headers` alternate name, value (Host is added); a `body` (even "") is sent with its
   * Content-Length, null sends none; a source's read failing ends the exchange with E_SOURCE (and the connection).
   * Returns 0, or E_BUSY (one at a time), E_TOO_LARGE (head over the buffer) or E_ARGUMENT without calling done.
   */
  request(method: string, path: string, headers: string[], body: HttpBody | null, h: HttpHandler | null, done: HttpDone): number;
  /** Closes the connection; a request in progress gets E_ENDED. The client stays usable. */
  end(): void;
  /** The transmit part of the buffer: free for the caller while a response to a bodiless request is read. */
  scratch: Uint8Array;
}

// connection states
var CLOSED = 0, OPENING = 1, OPEN = 2;

/** Creates a client; it connects when the first request is made. */
export function createHttpClient(o: HttpClientOptions): HttpClient {
  var b = o.buffer || new Uint8Array(o.bufferSize || 2048),
    size = b.length,
    rx = o.rxSize || size >> 1,
    tx = b.subarray(rx),
    clock = o.clock,
    port = o.port || (o.tls ? 443 : 80),
    // RFC 7230 §5.4: Host is the authority, with the port when it is not the scheme's default
    host = o.host + (port == (o.tls ? 443 : 80) ? "" : ":" + port),
    st = CLOSED,
    done: HttpDone | null = null,
    h: HttpHandler | null = null,
    method = "",
    body: HttpBody | null = null,
    len = 0, // body units: bytes, or UTF-16 code units of a string
    pos = 0,
    fill = 0,
    status = 0,
    timer: unknown,
    lastUse = 0,
    reused = false,
    retried = false,
    ended = false,
    extra = false,
    args: [string, string, string[], number] = ["", "", [], 0],
    parser = createResponseParser(b, rx, {
      onStatus: function (code) {
        status = code;
      },
      onHeader: function (n, v) {
        if (done && h && h.onHeader) h.onHeader(n, v);
      },
      onHeadersEnd: function () {
        return false;
      },
      onBody: function (c) {
        if (done && h && h.onBody) h.onBody(c);
      },
      onEnd: function () {
        ended = true;
      },
    }),
    ev: TransportEvents = {
      onOpen: function () {
        st = OPEN;
        pump();
      },
      onData: function (chunk: Uint8Array) {
        var r: number;
        if (!done) return drop(); // nothing asked: the connection is out of step
        r = parser.feed(chunk);
        if (r < 0) return fail(r);
        extra = r < chunk.length;
        if (ended) complete();
      },
      onWritable: pump,
      onClose: function (err: number) {
        var r: number;
        st = CLOSED;
        if (!done) return;
        r = parser.end();
        if (ended) return complete();
        // RFC 7230 §6.3.1: a kept connection closed before any answer: an idempotent request is retried once
        if (r == E_CLOSED && reused && !retried && method != "POST" && method != "PATCH") {
          retried = true;
          return start();
        }
        fail(r == E_CLOSED && err ? err : r);
      },
    };

  /** Closes the connection ourselves; the transport reports nothing after close(). */
  function drop() {
    if (st != CLOSED) {
      st = CLOSED;
      o.transport.close();
    }
  }

  function fail(code: number) {
    var d = done;
    drop();
    done = null;
    clock.clear(timer);
    if (d) d(code, 0);
  }

  function complete() {
    var d = done!;
    done = null;
    clock.clear(timer);
    // the connection stays only when the response allows it and the request went out whole
    if (!parser.keepAlive() || extra || fill || pos < len) drop();
    lastUse = clock.now();
    d(0, status);
  }

  /** Appends the next piece of the body after the `fill` bytes already staged in tx; E_SOURCE when a source failed. */
  function more(): number | void {
    var room = tx.length - fill, k: number, s: string;
    if (UPLOAD && body && typeof body == "object" && !(body instanceof Uint8Array)) {
      k = len - pos;
      if (k > room) k = room;
      if (!(body.read(pos, tx, fill, k) == k)) return E_SOURCE;
      fill += k;
      pos += k;
    } else if (typeof body == "string") {
      // as many code units as fit: all of the room when they are ASCII, else a third of it (3 bytes a unit at most)
      s = piece(room);
      if (utf8Length(s) > room) s = piece((room / 3) | 0);
      fill = utf8Write(tx, fill, s);
      pos += s.length;
    } else if (body) {
      k = len - pos;
      if (k > room) k = room;
      tx.set((body as Uint8Array).subarray(pos, pos + k), fill);
      fill += k;
      pos += k;
    }
  }

  // up to k code units of the string body from pos, a surrogate pair never split
  function piece(k: number): string {
    var s = body as string;
    if (pos + k < len && (s.charCodeAt(pos + k - 1) & 0xfc00) == 0xd800) k--;
    return s.substr(pos, k);
  }

  /** Writes what is staged, then the rest of the body piece by piece; a write that returns 0 waits for onWritable. */
  function pump() {
    var r: number;
    while (done && st == OPEN) {
      // (UPLOAD last: without it the test goes and the call stays)
      if (pos < len && fill < tx.length && (more() as number) < 0 && UPLOAD) return fail(E_SOURCE);
      if (!fill) return;
      r = o.transport.write(b, rx, fill);
      if (!r) return;
      if (r < 0) return fail(E_TRANSPORT);
      fill = 0;
    }
  }

  /** Stages the head (and what fits of the body) and sends it, on the kept connection or a new one. */
  function start(): number {
    var n = encodeRequest(tx, 0, args[0], args[1], args[2], args[3]);
    if (n < 0) return n == E_BUFFER ? E_TOO_LARGE : n;
    fill = n;
    pos = 0;
    ended = extra = false;
    status = 0;
    parser.reset(method == "HEAD");
    if (st == OPEN && ((clock.now() - lastUse) >>> 0) > (o.idle || 60000)) drop();
    reused = st == OPEN;
    if (st == CLOSED) {
      st = OPENING;
      o.transport.open(o.host, port, o.tls || null, ev);
    } else pump();
    return 0;
  }

  return {
    scratch: tx,
    request: function (m, path, headers, bd, hh, d) {
      var r: number;
      if (done) return E_BUSY;
      len = bd == null ? -1 : typeof bd == "string" ? utf8Length(bd) : UPLOAD && !(bd instanceof Uint8Array) ? (bd as PayloadSource).size : (bd as Uint8Array).length;
      if (typeof bd == "string" && len < 0) return E_ARGUMENT;
      args = [m, path, ["Host", host].concat(headers), len];
      if (typeof bd == "string") len = bd.length;
      if (len < 0) len = 0;
      method = m;
      body = bd;
      h = hh;
      retried = false;
      done = d;
      timer = clock.set(function () {
        fail(E_TIMEOUT);
      }, o.timeout || 30000);
      if ((r = start()) < 0) {
        done = null;
        clock.clear(timer);
      }
      return r;
    },
    end: function () {
      fail(E_ENDED);
    },
  };
}
