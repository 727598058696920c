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
  return new ModdableTransport();
}

/**
 * The transport: its state in fields, its work in module-level functions. Moddable preloads the bundle, so the
 * class, its methods and those functions are made once, in flash; a transport costs its fields and two small
 * closures (the timers' callbacks), a connection its socket's options and their callbacks. (XS copies the byte code
 * of every function made at run time into the chunk heap and gives it slots: a transport made of closures cost
 * about 15 of them.) Its users call open, write and close as methods, as the Transport contract's users here do.
 */
class ModdableTransport implements Transport {
  // `_events` is set whenever `_socket` is; a callback reports only while its connection is the current one
  _socket: TCP | TLSSocket | null = null;
  _events: TransportEvents | null = null;
  _writable = 0;
  _opened = false;
  _blocked = false;
  _secure = false;
  // bumped by open() and close(): a DNS answer, a deferred close or a callback of an earlier connection is ignored
  _gen = 0;
  // the timer that hands on what the socket has to read
  _reading: unknown = null;
  // TLS: a copy of what was written (joined: one TLS record, one set of buffers), encrypted and sent from a timer
  // (`_sending`)
  _queue: Uint8Array | null = null;
  _sending: unknown = null;
  // what the application threw from onOpen or onWritable inside the TLS socket's callback (not the TLS socket's to swallow)
  _thrown: unknown;
  // the timers' callbacks, made once
  _pump = () => pump(this);
  _send = () => send(this);

  open(host: string, port: number, tls: TlsOptions | null, ev: TransportEvents) {
    const t = this, dns: ModdableDNS | undefined = (globalThis as any).device?.network?.dns;
    const g = ++t._gen;
    t._events = ev;
    t._writable = 0;
    t._queue = null;
    t._opened = t._blocked = false;
    // from a timer: an application often opens inside a callback (after DPS, an HTTP answer), and the
    // TLS socket's constructor is deep
    if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) Timer.set(() => connect(t, host, port, host, tls, g), 0);
    else if (!dns) fail(t, E_TRANSPORT);
    else
      new dns.io(dns).resolve({
        host,
        onResolved: (_, address) => connect(t, address, port, host, tls, g),
        onError: () => g == t._gen && fail(t, E_TRANSPORT)
      });
  }

  write(buf: Uint8Array, off: number, len: number): number {
    const t = this;
    if (!t._socket || !t._opened) return E_CLOSED;
    const q = t._queue;
    if (len > t._writable || (q && q.length + len > TLS_QUEUE)) {
      t._blocked = true;
      return 0;
    }
    if (t._secure) {
      if (q) {
        (t._queue = new Uint8Array(q.length + len)).set(q);
        t._queue.set(buf.subarray(off, off + len), q.length);
      } else t._queue = buf.slice(off, off + len);
      // the TLS socket's answer does not shrink with each write: count the record ourselves
      t._writable -= len + TLS_OVERHEAD;
      if (!t._sending) t._sending = Timer.set(t._send, 0);
      return len;
    }
    try {
      t._writable = t._socket.write(buf.subarray(off, off + len));
    } catch {
      return E_TRANSPORT;
    }
    return len;
  }

  // closing from our side reports nothing more: the caller knows
  close() {
    const t = this, s = t._socket;
    // what was written goes out first (the DISCONNECT before the close)
    if (t._sending) {
      Timer.clear(t._sending);
      send(t);
    }
    t._gen++;
    t._socket = t._events = null;
    if (s) s.close();
  }
}

/**
 * A connection: what its sockets' callbacks (arrows: the TLS socket calls them on an object of its own) and the TLS
 * socket's TCP class find their transport by.
 */
interface Conn {
  _t: ModdableTransport;
  // the open() it belongs to
  _g: number;
}

/** Whether `c` is the transport's current connection. */
function current(c: Conn): boolean {
  return c._g == c._t._gen && !!c._t._socket;
}

// Sends what waits: the TLS record layer then runs from a timer, not below the caller (often the
// application inside a callback, itself below the receive path)
function send(t: ModdableTransport) {
  const s = t._socket, q = t._queue;
  t._sending = t._queue = null;
  if (!s) return;
  try {
    if (q) s.write(q);
  } catch {
    return fail(t, E_TRANSPORT);
  }
  if (t._blocked) {
    t._blocked = false;
    t._events!.onWritable();
  }
}

// ends the connection once, reporting `code` (deferred: never inside a call into this transport)
function fail(t: ModdableTransport, code: number) {
  const ev = t._events, g = t._gen;
  if (t._socket) try { t._socket.close(); } catch {}
  t._socket = t._events = t._queue = null;
  if (ev) Timer.set(() => g == t._gen && ev.onClose(code), 0);
}

// What the socket has is read and handed on from a timer, not inside the socket's callback: the
// application's callbacks, and the writes they make through the TLS record layer, then start from a
// shallow stack instead of below the TLS socket's receive path (XS's default stack is 384 slots).
function pump(t: ModdableTransport) {
  const s = t._socket;
  t._reading = null;
  if (!s) return;
  const data = s.read();
  if (data && s == t._socket) t._events!.onData(new Uint8Array(data));
}

function readable(c: Conn) {
  const t = c._t;
  if (current(c) && !t._reading) t._reading = Timer.set(t._pump, 0);
}

function writable(c: Conn, count: number) {
  const t = c._t;
  if (!current(c)) return;
  t._writable = count;
  try {
    if (!t._opened) {
      t._opened = true;
      // from a timer too: the TLS socket reports the end of its handshake from deep inside it
      Timer.set(() => current(c) && t._events!.onOpen(), 0);
    } else if (t._blocked) {
      t._blocked = false;
      t._events!.onWritable();
    }
  } catch (e) {
    // the application's: not the TLS socket's to swallow
    t._thrown = e;
    throw e;
  }
}

function connect(t: ModdableTransport, address: string, port: number, host: string, tls: TlsOptions | null, g: number) {
  if (!t._events || g != t._gen) return;
  // the options are the sockets' to read (and the TLS socket's to copy); the callbacks keep only `c`
  const c: Conn = { _t: t, _g: g }, o: { [k: string]: unknown } = {
    address,
    port,
    nodelay: true,
    onReadable: () => readable(c),
    onWritable: (count: number) => writable(c, count),
    onError: () => current(c) && fail(t, t._opened ? E_CLOSED : E_TRANSPORT)
  };
  try {
    if ((t._secure = !!tls)) {
      o.host = host;
      o.secure = secureOptions(tls!);
      // The TLS socket runs its handshake inside the TCP socket's callbacks and throws when it fails (a
      // certificate from a CA not trusted, another name): thrown into a native callback, that aborts the
      // whole machine. It gets a TCP socket whose callbacks catch that and fail this connection instead.
      o.TCP = GUARDED;
      o._c = c;
      t._socket = new TLSSocket(o as any);
    } else t._socket = new TCP(o as any);
  } catch {
    fail(t, E_TRANSPORT);
  }
}

/**
 * The TCP class given to the TLS socket (as `TCP.io`; it constructs it with a copy of the connection's options, `_c`
 * included, and callbacks of its own): a TCP socket whose readable and writable callbacks (the TLS socket's, which
 * run its handshake and record layer) fail the connection with what they throw instead of letting it reach the
 * native caller. The socket calls them on itself (ECMA-419), where they find the TLS socket's callbacks and the
 * connection. Module-level: made once, in flash, and a constructor, which a function made inside another may not be
 * (tools/build-plugins.js arrowClosures).
 */
function GuardedTCP(o: { [k: string]: any }): TCP {
  const r = o.onReadable, w = o.onWritable, c = o._c;
  o.onReadable = guardedReadable;
  o.onWritable = guardedWritable;
  const s: any = new TCP(o as any);
  s._r = r;
  s._w = w;
  s._c = c;
  return s;
}

const GUARDED = { io: GuardedTCP as unknown as typeof TCP };

// (the try in each: one frame fewer below the TLS handshake, which runs inside them)
function guardedReadable(this: any, n: number) {
  try {
    this._r(n);
  } catch (e) {
    failed(this._c, e);
  }
}

function guardedWritable(this: any, n: number) {
  try {
    this._w(n);
  } catch (e) {
    failed(this._c, e);
  }
}

function failed(c: Conn, e: unknown) {
  const t = c._t;
  if (e === t._thrown) throw e;
  if (current(c)) fail(t, t._opened ? E_CLOSED : E_TRANSPORT);
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
