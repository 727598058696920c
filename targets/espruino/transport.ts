// Espruino glue: a Transport over require("net") / require("tls") and a Clock over setTimeout.
// Espruino sockets speak binary strings: 'data' delivers one (E.toUint8Array converts it) and
// write() must be given one (E.toString), because write(uint8array) sends "16,2,0,255" as text.

import type { Clock, TlsOptions, Transport, TransportEvents } from "../../src/types";
import { E_CLOSED, E_NO_MEMORY, E_TRANSPORT } from "../../src/errors";

/** Bytes handed to the socket since its last 'drain' beyond which write() answers "try later". */
const HIGH_WATER = 1024;

/**
 * mbedTLS in Espruino parses DER only ("mbedtls_x509_crt_parse of 'ca': Invalid format" for PEM text): PEM
 * text becomes the DER bytes of its first block. Anything else goes as it is (DER bytes, or a Storage file
 * name, which Espruino reads itself).
 */
function der(v: unknown): unknown {
  return typeof v == "string" && v.indexOf("-----BEGIN") >= 0 ? atob(v.split("-----")[2].replace(/\s/g, "")) : v;
}

/** A Transport over Espruino's net (or tls, when TLS options are given) sockets. */
export function espruinoTransport(): Transport {
  var socket: EspruinoSocket | null = null, queued = 0, blocked = false;

  return {
    // the callbacks of a socket report only while it is the current one (s == socket)
    open: function (host: string, port: number, tls: TlsOptions | null, ev: TransportEvents) {
      var s: EspruinoSocket, err = 0;
      var o = { host: host, port: port, ca: tls && der(tls.ca), cert: tls && der(tls.cert), key: tls && der(tls.key) };
      // ends the connection once: the first of 'error' and 'close' reports it, the other is ignored
      function closed() {
        if (s != socket) return;
        socket = null;
        ev.onClose(err);
      }
      queued = 0;
      blocked = false;
      s = socket = require(tls ? "tls" : "net").connect(o, function () {
        if (s == socket) ev.onOpen();
      });
      s.on("data", function (data: string) {
        if (s == socket) ev.onData(E.toUint8Array(data));
      });
      s.on("drain", function () {
        queued = 0;
        if (blocked && s == socket) {
          blocked = false;
          ev.onWritable();
        }
      });
      s.on("error", function () {
        err = E_TRANSPORT;
        closed();
      });
      s.on("close", closed);
    },

    write: function (buf: Uint8Array, off: number, len: number): number {
      var str: string | undefined;
      if (!socket) return E_CLOSED;
      if (queued && queued + len > HIGH_WATER) {
        blocked = true;
        return 0;
      }
      str = E.toString(buf.subarray(off, off + len));
      if (str == null) return E_NO_MEMORY;
      socket.write(str);
      queued += len;
      return len;
    },

    // closing from our side reports nothing more: the caller knows
    close: function () {
      var s = socket;
      socket = null;
      if (s) s.end();
    }
  };
}

// the monotonic milliseconds handed out, and the Date.now() they were last taken from
var mono = 0, last = 0;

/**
 * Milliseconds that only move forward: Date.now()'s steps, but not its jumps. Espruino boots at 1970 and setTime
 * (SNTP, the IDE) moves Date.now() by decades; its timers are adjusted, elapsed times taken from Date.now() would
 * not be (every keep-alive and request timeout would fire at once). A step back, or forward by more than an
 * hour between two readings (the client reads at least every keep-alive tick), counts as none.
 * Timers from setTimeout, cleared without Espruino's throws.
 */
export var espruinoClock: Clock = {
  now: function () {
    var t = Date.now(), d = t - last;
    last = t;
    if (d > 0 && d < 3600000) mono += d;
    return mono;
  },
  set: function (fn: () => void, ms: number) {
    return setTimeout(fn, ms);
  },
  clear: function (t: unknown) {
    // clearTimeout(undefined) throws, and so does clearing a timeout that already fired
    if (t != null) try { clearTimeout(t as any); } catch (e) {}
  }
};
