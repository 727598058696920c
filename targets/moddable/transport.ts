// Moddable XS glue: a Transport over the ECMA-419 TCP socket, or Moddable's ECMA-419 TLS socket when TLS
// options are given, and a Clock over XS timers. (The classic Socket/SecureSocket API: classic.ts.)

import TCP from "embedded:io/socket/tcp";
import TLSSocket from "embedded:io/socket/tcp/tls";
import Timer from "timer";
import Time from "time";
import type { Clock, TlsOptions, Transport, TransportEvents } from "../../src/types";
import { E_CLOSED, E_TRANSPORT } from "../../src/errors";
import { secureOptions } from "./secure";

/** Bytes one TLS record may add to what is written (Moddable's own allowance). */
const TLS_OVERHEAD = 96;
/** Bytes a TLS connection keeps for the next timer tick before it asks the writer to wait (one packet always). */
const TLS_QUEUE = 1024;

/**
 * A Transport over `embedded:io/socket/tcp`, or `embedded:io/socket/tcp/tls` (over that TCP class) when
 * open() is given TLS options; host names go through `device.network.dns` (the TLS socket gets the name
 * for SNI and the address to connect to).
 */
export function moddableTransport(): Transport {
  // `events` is set whenever `socket` is; a callback reports only while its socket is the current one
  let socket: TCP | TLSSocket | null = null, events: TransportEvents | null = null;
  let writable = 0, opened = false, blocked = false, secure = false;
  // bumped by open() and close(): a DNS answer or a deferred close from an earlier connection is ignored
  let gen = 0;
  // the timer that hands on what the socket has to read
  let reading: unknown = null;
  // TLS: copies of what was written, encrypted and sent from a timer (`sending`)
  let queue: Uint8Array[] = [], queued = 0, sending: unknown = null;

  // Sends what waits: the TLS record layer then runs from a timer, not below the caller (often the
  // application inside a callback, itself below the receive path)
  function send() {
    const s = socket, q = queue;
    sending = null;
    queue = [];
    queued = 0;
    if (!s) return;
    try {
      for (let i = 0; i < q.length; i++) s.write(q[i]);
    } catch {
      return fail(E_TRANSPORT);
    }
    if (blocked) {
      blocked = false;
      events!.onWritable();
    }
  }

  // ends the connection once, reporting `code` (deferred: never inside a call into this transport)
  function fail(code: number) {
    const ev = events, g = gen;
    if (socket) try { socket.close(); } catch {}
    socket = events = null;
    queue = [];
    queued = 0;
    if (ev) Timer.set(() => g == gen && ev.onClose(code), 0);
  }

  function connect(address: string, port: number, host: string, tls: TlsOptions | null, g: number) {
    if (!events || g != gen) return;
    // the TLS socket calls these on an object of its own, not on the socket: `s` (not `this`) is the socket
    let s: TCP | TLSSocket, thrown: unknown;
    // What the socket has is read and handed on from a timer, not inside the socket's callback: the
    // application's callbacks, and the writes they make through the TLS record layer, then start from a
    // shallow stack instead of below the TLS socket's receive path (XS's default stack is 384 slots).
    function pump() {
      reading = null;
      if (s != socket) return;
      const data = s.read();
      if (data && s == socket) events!.onData(new Uint8Array(data));
    }
    const o: any = {
      address,
      port,
      nodelay: true,
      onReadable() {
        if (s == socket && !reading) reading = Timer.set(pump, 0);
      },
      onWritable(count: number) {
        if (s != socket) return;
        writable = count;
        try {
          if (!opened) {
            opened = true;
            // from a timer too: the TLS socket reports the end of its handshake from deep inside it
            Timer.set(() => s == socket && events!.onOpen(), 0);
          } else if (blocked) {
            blocked = false;
            events!.onWritable();
          }
        } catch (e) {
          // the application's: not the TLS socket's to swallow
          thrown = e;
          throw e;
        }
      },
      onError() {
        if (s == socket) fail(opened ? E_CLOSED : E_TRANSPORT);
      }
    };
    try {
      if ((secure = !!tls)) {
        o.host = host;
        o.secure = secureOptions(tls!);
        // The TLS socket runs its handshake inside the TCP socket's callbacks and throws when it fails (a
        // certificate from a CA not trusted, another name): thrown into a native callback, that aborts the
        // whole machine. It gets a TCP socket whose callbacks catch that and fail this connection instead.
        o.TCP = {
          io: guardedTCP((e) => {
            if (e === thrown) throw e;
            if (s == socket) fail(opened ? E_CLOSED : E_TRANSPORT);
          })
        };
        s = socket = new TLSSocket(o);
      } else s = socket = new TCP(o);
    } catch {
      fail(E_TRANSPORT);
    }
  }

  return {
    open(host: string, port: number, tls: TlsOptions | null, ev: TransportEvents) {
      const dns: ModdableDNS | undefined = (globalThis as any).device?.network?.dns;
      const g = ++gen;
      events = ev;
      writable = queued = 0;
      queue = [];
      opened = blocked = false;
      // from a timer: an application often opens inside a callback (after DPS, an HTTP answer), and the
      // TLS socket's constructor is deep
      if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) Timer.set(() => connect(host, port, host, tls, g), 0);
      else if (!dns) fail(E_TRANSPORT);
      else
        new dns.io(dns).resolve({
          host,
          onResolved: (_, address) => connect(address, port, host, tls, g),
          onError: () => g == gen && fail(E_TRANSPORT)
        });
    },

    write(buf: Uint8Array, off: number, len: number): number {
      if (!socket || !opened) return E_CLOSED;
      if (len > writable || (queued && queued + len > TLS_QUEUE)) {
        blocked = true;
        return 0;
      }
      if (secure) {
        queue.push(buf.slice(off, off + len));
        queued += len;
        // the TLS socket's answer does not shrink with each write: count the record ourselves
        writable -= len + TLS_OVERHEAD;
        if (!sending) sending = Timer.set(send, 0);
        return len;
      }
      try {
        writable = socket.write(buf.subarray(off, off + len));
      } catch {
        return E_TRANSPORT;
      }
      return len;
    },

    // closing from our side reports nothing more: the caller knows
    close() {
      // what was written goes out first (the DISCONNECT before the close)
      if (sending) {
        Timer.clear(sending);
        send();
      }
      const s = socket;
      gen++;
      socket = events = null;
      if (s) s.close();
    }
  };
}

/**
 * The TCP class given to the TLS socket: a TCP socket whose readable and writable callbacks (the TLS
 * socket's, which run its handshake and record layer) hand what they throw to `failed` instead of
 * letting it reach the native caller.
 */
function guardedTCP(failed: (e: unknown) => void): typeof TCP {
  const guard = (fn: (count: number) => void) =>
    function (count: number) {
      try {
        fn(count);
      } catch (e) {
        failed(e);
      }
    };
  return function (o: any) {
    const t: any = {};
    for (const k in o) t[k] = o[k];
    t.onReadable = guard(o.onReadable);
    t.onWritable = guard(o.onWritable);
    return new TCP(t);
  } as any;
}

/** Milliseconds from Date.now(); timers from XS `Timer`, cleared without its throws. */
// Time.ticks: monotonic milliseconds. Date.now() starts at 0 on a board and jumps by decades when SNTP sets it,
// which would fire every keep-alive and request timeout at once.
export const moddableClock: Clock = {
  now: () => Time.ticks,
  set: (fn: () => void, ms: number) => Timer.set(fn, ms),
  clear(t: unknown) {
    // Timer.clear throws for undefined and for a one-shot timer that already fired
    if (t) try { Timer.clear(t); } catch {}
  }
};
