// Moddable's classic socket API as a Transport: `Socket` (module "socket") for TCP, `SecureSocket`
// (module "securesocket") for TLS, for apps built on the Moddable SDK's original networking (or on
// platforms without the ECMA-419 sockets):
//
//   import { createDevice } from "tinyhub/hub";
//   import { moddableClassicTransport } from "tinyhub/classic";
//   createDevice({ connectionString, transport: moddableClassicTransport(), tls: { ca: new Resource("ca.der") } });
//
// Both report through socket.callback(message, value): 1 connected (after the TLS handshake), 2 readable
// (value bytes, read in the callback), 3 writable (value bytes free; it comes once all that was written is
// sent), -1 disconnected, -2 error. The sockets resolve host names themselves.

import { Socket } from "socket";
import SecureSocket from "securesocket";
import Timer from "timer";
import type { TlsOptions, Transport, TransportEvents } from "../../src/types";
import { E_CLOSED, E_TRANSPORT } from "../../src/errors";
import { secureOptions } from "./secure";

/** SecureSocket takes at most this many bytes a write (one TLS record)... */
const RECORD = 1024;
/** ...and sends at most this many more on the TCP socket for it (SecureSocket's own allowance). */
const RECORD_OVERHEAD = 128;

/** A Transport over the classic `Socket`, or `SecureSocket` when open() is given TLS options. */
export function moddableClassicTransport(): Transport {
  let socket: Socket | SecureSocket | null = null, events: TransportEvents | null = null;
  let opened = false, blocked = false;
  // bumped by open() and close(): a deferred close from an earlier connection is ignored
  let gen = 0;
  // What the socket gives is handed on, and what is written to a SecureSocket is encrypted and sent, from
  // a timer: the application's callbacks and the TLS record layer then start from a shallow stack, not
  // one below the other (XS's default stack is 384 slots). `input`: received, not yet handed on;
  // `output`: copies written, not yet sent, and the bytes they take on the TCP socket (`owed`).
  let input: Uint8Array[] = [], output: Uint8Array[] = [], owed = 0, ticking: unknown = null;

  // ends the connection once, reporting `code` later (never inside a call into this transport)
  function fail(code: number) {
    const ev = events, g = gen;
    if (socket) try { socket.close(); } catch {}
    socket = events = null;
    input = [];
    output = [];
    owed = 0;
    if (ev) Timer.set(() => g == gen && ev.onClose(code), 0);
  }

  function later() {
    if (!ticking) ticking = Timer.set(tick, 0);
  }

  // sends what was written, then hands on what came in (one chunk at a time: a callback may close)
  function tick() {
    const s = socket as any, out = output;
    ticking = null;
    output = [];
    owed = 0;
    if (!s) return;
    try {
      for (let i = 0; i < out.length; i++) s.write(out[i]);
    } catch {
      return fail(E_TRANSPORT);
    }
    while (input.length && s == socket) events!.onData(input.shift()!);
    if (out.length && blocked && s == socket) {
      blocked = false;
      events!.onWritable();
    }
  }

  return {
    open(host: string, port: number, tls: TlsOptions | null, ev: TransportEvents) {
      let s: Socket | SecureSocket;
      const g = ++gen;
      events = ev;
      opened = blocked = false;
      input = [];
      output = [];
      owed = 0;
      // from a timer: an application often opens inside a callback, and SecureSocket's constructor is deep
      Timer.set(() => {
        if (g != gen) return;
        try {
          // TLS 1.2 (IoT Hub requires it): SecureSocket offers 1.1 unless told
          s = socket = tls ? new SecureSocket({ host, port, secure: { ...secureOptions(tls), protocolVersion: 0x303 } }) : new Socket({ host, port });
          s.callback = (message: number) => {
            if (s != socket) return;
            if (message == 1) {
              opened = true;
              Timer.set(() => s == socket && events!.onOpen(), 0);
            } else if (message == 2) {
              // what is not read in the callback is not offered again
              const data = s.read(ArrayBuffer);
              if (data) {
                input.push(new Uint8Array(data));
                later();
              }
            } else if (message == 3) {
              if (blocked && !ticking) {
                blocked = false;
                events!.onWritable();
              }
            } else fail(opened ? E_CLOSED : E_TRANSPORT);
          };
        } catch {
          fail(E_TRANSPORT);
        }
      }, 0);
    },

    // all or nothing: Socket throws for more than its free space; SecureSocket takes 1024 bytes a write,
    // so a longer one goes as several records, once the TCP socket underneath has room for all of them
    write(buf: Uint8Array, off: number, len: number): number {
      const s = socket as any;
      if (!s || !opened) return E_CLOSED;
      const tcp = s.sock;
      if (!tcp) {
        if (len > s.write()) {
          blocked = true;
          return 0;
        }
        try {
          s.write(buf.subarray(off, off + len));
        } catch {
          return E_TRANSPORT;
        }
        return len;
      }
      const need = len + RECORD_OVERHEAD * Math.ceil(len / RECORD);
      if (owed + need > tcp.write()) {
        blocked = true;
        return 0;
      }
      for (let i = 0; i < len; i += RECORD) output.push(buf.slice(off + i, off + Math.min(len, i + RECORD)));
      owed += need;
      later();
      return len;
    },

    // closing from our side reports nothing more: the caller knows (what was written goes out first)
    close() {
      const s = socket as any;
      if (s && output.length) try { for (let i = 0; i < output.length; i++) s.write(output[i]); } catch {}
      gen++;
      socket = events = null;
      input = [];
      output = [];
      owed = 0;
      if (s) s.close();
    }
  };
}
