// An RFC 6455 WebSocket client as a Transport: the opening handshake over an inner transport (TCP
// or TLS), then binary frames both ways. MQTT over WebSockets is the unchanged MQTT client on it.
//
// Memory: one scratch array, given or allocated at construction, never another:
//   [0, cap - 135)       data frames are built and masked here (header + payload); the handshake
//                        (request, then response lines) uses all of [0, cap) before any frame exists
//   [cap - 135, cap - 4) control frames: a ping's or close's payload is collected and answered here
//   [cap - 4, cap)       the masking key of the frame being written
// A payload too large for the data region is masked in place in the caller's buffer, the frame
// header swapped in over the bytes just before it; both are undone before write() returns. So a
// frame is always one write of the inner transport, and write() stays all-or-nothing. (Only a large
// write at an offset under 14, with no room for the header, goes out in pieces: see E_WS_PARTIAL.)
import { Transport, TransportEvents, TlsOptions } from "../types";
import { E_NO_CRYPTO, E_TRANSPORT, E_CLOSED, E_WS_HANDSHAKE, E_WS_ACCEPT, E_WS_SUBPROTOCOL, E_WS_TEXT, E_WS_CONTROL, E_WS_CLOSED, E_WS_PARTIAL, E_WS_TOO_BIG } from "../errors";
import { createResponseParser, hasToken } from "../http/response";
import { createFrameReader, encodeFrameHeader, maskCopy, WS_FIN, WS_BINARY, WS_TEXT, WS_CLOSE, WS_PING, WS_PONG } from "./frame";
import { wsKey, wsAccept, encodeUpgrade } from "./handshake";

export interface WsOptions {
  /** Request path: "/mqtt" for most brokers, "/$iothub/websocket" for IoT Hub. */
  path: string;
  /** Host header (default: the host given to open(), with ":port" unless it is 80, or 443 with TLS). */
  host?: string;
  /** The subprotocol asked for, and required in the answer (default "mqtt", MQTT 3.1.1 §6). */
  protocol?: string;
  /** Numbers in [0, 1) for the handshake key and the masking keys (default Math.random). */
  rng?: () => number;
  /** The scratch region, or its size to allocate (default 512); the upgrade request (about 160 bytes + path + host) must fit. */
  buffer?: Uint8Array | number;
  /** Longest frame accepted from the server, else E_WS_TOO_BIG (default: no limit, payloads stream through). */
  max?: number;
}

function noop() {}

// connection states
var IDLE = 0, CONNECTING = 1, REQUEST = 2, RESPONSE = 3, OPEN = 4;

/** Wraps `inner` (a TCP or TLS transport) in RFC 6455 framing; open() adds the handshake at `o.path`. */
export function wsTransport(inner: Transport, o: WsOptions): Transport {
  var S = typeof o.buffer == "object" ? o.buffer : new Uint8Array(o.buffer || 512),
    C = S.length - 135,
    K = S.length - 4,
    rng = o.rng || Math.random,
    proto = o.protocol || "mqtt",
    st = IDLE,
    ev: TransportEvents | null = null,
    host = "",
    accept = "",
    req = 0,
    code = 0,
    got = 0,
    hs = 0,
    pong = 0,
    parser = createResponseParser(S, S.length, {
      onStatus: function (c: number) {
        code = c;
      },
      // §4.1 items 2-6 of the client's checks, one bit each; an extension we did not ask for fails it
      onHeader: function (n: string, v: string) {
        var l = v.toLowerCase();
        got |= n == "upgrade" ? (l == "websocket" ? 1 : 0)
          : n == "connection" ? (hasToken(l, "upgrade") ? 2 : 0)
          : n == "sec-websocket-accept" ? (v == accept ? 4 : 0)
          : n == "sec-websocket-protocol" ? (v == proto ? 8 : 0)
          : n == "sec-websocket-extensions" ? 16 : 0;
      },
      onHeadersEnd: function () {
        hs = code != 101 || (got & 19) != 3 ? E_WS_HANDSHAKE : !(got & 4) ? E_WS_ACCEPT : !(got & 8) ? E_WS_SUBPROTOCOL : 0;
        return true; // what follows is frames
      },
      onBody: noop,
      onEnd: noop,
    }),
    reader = createFrameReader(o.max || 1 / 0, onPart);

  /** A fresh masking key for the next frame: §5.3 wants it unpredictable, one per frame. */
  function newKey() {
    for (var i = 0; i < 4; i++) S[K + i] = rng() * 256;
  }

  /** Exchanges b[at, at + n) with S[0, n). */
  function swap(b: Uint8Array, at: number, n: number) {
    for (var i = 0, t: number; i < n; i++) (t = b[at + i]), (b[at + i] = S[i]), (S[i] = t);
  }

  /** Sends the control frame whose payload is S[C + 6, C + 6 + n); returns what the inner write did. */
  function controlFrame(op: number, n: number): number {
    newKey();
    encodeFrameHeader(S, C, WS_FIN | op, n, S, K);
    maskCopy(S, C + 6, S, C + 6, n, S, K, 0);
    return inner.write(S, C, n + 6);
  }

  /** Ends the connection: a close frame with `status` first when open (best effort), then `err` reported if anyone listens. */
  function shut(err: number, status: number) {
    var e = ev;
    if (!st) return;
    if (st == OPEN && status) {
      S[C + 6] = status >> 8;
      S[C + 7] = status & 255;
      controlFrame(WS_CLOSE, 2);
    }
    st = IDLE;
    ev = null;
    inner.close();
    if (e) e.onClose(err);
  }

  /** §7.1.7 failing the connection: close 1009 (too big), 1003 (text), else 1002 (protocol error), §7.4.1. */
  function fail(err: number) {
    shut(err, err == E_WS_TOO_BIG ? 1009 : err == E_WS_TEXT ? 1003 : 1002);
  }

  function request() {
    var r = inner.write(S, 0, req);
    if (r < 0) shut(r, 0);
    else if (r) st = RESPONSE;
  }

  function onPart(hdr: number, total: number, pos: number, data: Uint8Array, from: number, to: number): number {
    var op = hdr & 15, r: number;
    if (op < WS_CLOSE) {
      // MQTT over WebSockets is binary (MQTT 3.1.1 §6); the payloads of a message are the byte stream in order
      if (op == WS_TEXT) return E_WS_TEXT;
      if (to > from) ev!.onData(data.subarray(from, to));
    } else if (op != WS_PONG) {
      // a ping's or close's payload (at most 125 bytes, §5.5) is collected for the answer
      if (!pos) pong = 0;
      while (from < to) S[C + 6 + pos++] = data[from++];
      if (pos == total) {
        // §5.5.2 a ping is answered with a pong carrying its payload, later if the network pushes back
        if (op == WS_PING) pong = controlFrame(WS_PONG, total) ? 0 : total + 6;
        // §5.5.1 a close body starts with a 2-byte status
        else if (total == 1) return E_WS_CONTROL;
        else {
          // §5.5.1 answered with a close echoing the status; 1000 (or none) is an orderly end (§7.4.1)
          r = total && ((S[C + 6] << 8) | S[C + 7]) != 1000 ? E_WS_CLOSED : 0;
          controlFrame(WS_CLOSE, total && 2);
          shut(r, 0);
        }
      }
    }
    // stops the reader once the connection is over (the application may have closed it meanwhile)
    return st == OPEN ? 0 : E_CLOSED;
  }

  var events: TransportEvents = {
    onOpen: function () {
      // §4.1 the opening handshake: a new random key per connection
      var key = wsKey(rng);
      if (!(accept = wsAccept(key))) return shut(E_NO_CRYPTO, 0);
      req = encodeUpgrade(S, S.length, o.path, host, key, proto);
      if (req < 0) return shut(req, 0);
      st = REQUEST;
      request();
    },
    onData: function (chunk: Uint8Array) {
      var r = 0, n: number;
      if (st == RESPONSE) {
        n = parser.feed(chunk);
        if (n < 0) r = n;
        else if (hs <= 0 && !(r = hs)) {
          // the response checked out (hs stays 1 until its header section is over)
          st = OPEN;
          ev!.onOpen();
          // frames may follow the response in the same chunk
          if (st == OPEN && n < chunk.length) r = reader.feed(chunk.subarray(n));
        }
      } else if (st == OPEN) r = reader.feed(chunk);
      if (r < 0) fail(r);
    },
    onWritable: function () {
      if (st == REQUEST) request();
      else if (st == OPEN) {
        if (pong && inner.write(S, C, pong)) pong = 0;
        ev!.onWritable();
      }
    },
    onClose: function (err: number) {
      shut(err, 0);
    },
  };

  return {
    open: function (h: string, port: number, tls: TlsOptions | null, e: TransportEvents) {
      ev = e;
      st = CONNECTING;
      hs = 1;
      got = pong = 0;
      host = o.host || (port == (tls ? 443 : 80) ? h : h + ":" + port);
      parser.reset();
      reader.reset();
      inner.open(h, port, tls, events);
    },

    // one binary frame (§5.6), masked (§5.3: every client frame, with a new key)
    write: function (buf: Uint8Array, off: number, len: number): number {
      var h: number, i = 0, p: number, k: number, r: number;
      if (st != OPEN) return E_TRANSPORT;
      newKey();
      p = h = encodeFrameHeader(S, 0, WS_FIN | WS_BINARY, len, S, K);
      if (len + h > C && off >= h) {
        // in place: the header trades places with the h bytes before the payload, and back after
        swap(buf, off - h, h);
        maskCopy(buf, off, buf, off, len, S, K, 0);
        r = inner.write(buf, off - h, h + len);
        maskCopy(buf, off, buf, off, len, S, K, 0);
        swap(buf, off - h, h);
        return r > 0 ? len : r;
      }
      // through the data region, at once when it fits; else in pieces, where a push-back after the
      // first piece leaves the frame half sent: E_WS_PARTIAL
      for (; ; p = 0) {
        k = len - i < C - p ? len - i : C - p;
        maskCopy(buf, off + i, S, p, k, S, K, i);
        r = inner.write(S, 0, p + k);
        if (r <= 0) return i && !r ? E_WS_PARTIAL : r;
        if ((i += k) >= len) return len;
      }
    },

    // §5.5.1 a close frame with 1000 (normal closure), best effort; nothing is reported after close()
    close: function () {
      ev = null;
      shut(0, 1000);
    },
  };
}
