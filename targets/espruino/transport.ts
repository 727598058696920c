// Espruino glue: a Transport over require("net") / require("tls") and a Clock over setTimeout.
// Espruino sockets speak binary strings: 'data' delivers one (E.toUint8Array converts it) and
// write() must be given one (E.toString), because write(uint8array) sends "16,2,0,255" as text.

import type { Clock, TlsOptions, Transport, TransportEvents } from "../../src/types";
import { E_CLOSED, E_NO_MEMORY, E_TRANSPORT } from "../../src/errors";

/** Bytes handed to the socket since its last 'drain' beyond which write() answers "try later". */
const HIGH_WATER = 1024;

/**
 * Variables a connection needs free before it is opened (the socket, its handlers; TLS more, where mbedTLS takes its
 * buffers from the pool), and beyond a received chunk's own. Running out inside Espruino interrupts whatever runs
 * ("OUT OF MEMORY ... Execution Interrupted"): nothing reaches the application. Checked first, it is E_NO_MEMORY.
 */
const NEED_NET = 150, NEED_TLS = 400, NEED_DATA = 40;

/**
 * Variables an MQTT client takes beside its buffer, and an IoT Hub device (MQTT or HTTPS) beside it (ESP8266 build).
 * A client of the mqtt-store bundle asks for what a whole session took beside its buffer (ESP8266 build: 1,419 at the
 * peak, 250 of them the bundle, 170 the buffer): its store writes Storage from inside the client's callbacks, where
 * running out would interrupt a write with nothing said; refused at createClient, it is E_NO_MEMORY (an ESP8266's
 * 1,600 variables hold the bundle and a store, 227 variables, but not that session).
 */
export const CLIENT_VARS = 450, DEVICE_VARS = 650, STORE_VARS = 1000;

// variables held back (a 512-byte array: about 35 of them on a board) so that asking how many are free does not
// itself run out: process.memory() makes an object of about 25. Taken at the first free(), not when the bundle loads
var spare: Uint8Array | null = null;

/**
 * E_NO_MEMORY when fewer variables are free than a session's objects take (`base`: the client, its callbacks and
 * state, measured on an ESP8266 build) plus its buffer of `size` bytes (about 12 a variable), else 0. Checked
 * before creating one: an allocation that fails inside Espruino interrupts the caller, no error reaches it.
 */
export function roomFor(base: number, size?: number): number {
  return free() < base + (size || 2048) / 12 ? E_NO_MEMORY : 0;
}

/** Free variables, without a garbage collection first and not counting the spare. */
function free(): number {
  var f: number;
  spare = null;
  f = (process as unknown as EspruinoProcess).memory(false).free;
  if (f > NEED_DATA) spare = new Uint8Array(512);
  return spare ? f - NEED_DATA : 0;
}

/** A Transport over Espruino's net (or tls, when TLS options are given) sockets. */
export function espruinoTransport(): Transport {
  var socket: EspruinoSocket | null = null, queued = 0, blocked = false;

  return {
    // the callbacks of a socket report only while it is the current one (s == socket)
    open: function (host: string, port: number, tls: TlsOptions | null, ev: TransportEvents) {
      // too little memory left is said (on a later tick, as every outcome of open) before anything more is allocated
      var low = free() < (tls ? NEED_TLS : NEED_NET), s: EspruinoSocket, err = 0, me = (socket = {} as EspruinoSocket), o: any, k: string[], v: any, i: number;
      // ends the connection once: the first of 'error' and 'close' reports it, the other is ignored
      function closed() {
        if (s != socket) return;
        socket = null;
        ev.onClose(err);
      }
      queued = 0;
      blocked = false;
      if (low)
        return setTimeout(function () {
          if (socket != me) return;
          socket = null;
          ev.onClose(E_NO_MEMORY);
        }, 0);
      o = { host: host, port: port };
      // mbedTLS in Espruino parses DER only ("mbedtls_x509_crt_parse of 'ca': Invalid format" for PEM text): PEM
      // text becomes the DER bytes of its first block. Anything else goes as it is (DER bytes, or a Storage file
      // name, which Espruino reads itself). A loop, not a helper function the bundle would keep in variables.
      for (k = ["ca", "cert", "key"], i = 0; i < 3; i++) {
        v = tls && (tls as any)[k[i]];
        o[k[i]] = typeof v == "string" && v.indexOf("-----BEGIN") >= 0 ? atob(v.split("-----")[2].replace(/\s/g, "")) : v;
      }
      k = v = null as any; // the closures below keep this scope for the connection's life
      // connects on a later tick: a TLS connect made inside another socket's 'data' callback crashes Espruino 2v29
      // (the HTTP client opens its next connection from an answer's callback); and connect() throws (no socket,
      // not enough memory for TLS), which ends as onClose, not as an exception in the caller
      setTimeout(function () {
        if (socket != me) return; // closed meanwhile
        try {
          s = socket = require(tls ? "tls" : "net").connect(o, function () {
            if (s == socket) ev.onOpen();
          });
          // (the socket's handlers keep this scope for the connection's life: the options are not needed again)
          o = null;
        } catch (e) {
          socket = null;
          return ev.onClose(("" + e).indexOf("emory") >= 0 ? E_NO_MEMORY : E_TRANSPORT);
        }
        s.on("data", function (data: string) {
          if (s != socket) return;
          // the chunk's bytes as an array, about 12 per variable on a board
          if (free() < NEED_DATA + (data.length >> 3)) {
            err = E_NO_MEMORY;
            s.end();
            return closed();
          }
          ev.onData(E.toUint8Array(data));
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
      }, 0);
    },

    write: function (buf: Uint8Array, off: number, len: number): number {
      var str: string | undefined;
      if (!socket || !socket.write) return E_CLOSED;
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
      if (s && s.end) s.end();
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
