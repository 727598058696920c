// Moddable XS glue: a Transport over the ECMA-419 TCP socket, or Moddable's ECMA-419 TLS socket when TLS
// options are given, and a Clock over XS timers. (The classic Socket/SecureSocket API: classic.ts.)

import TCP from "embedded:io/socket/tcp";
import TLSSocket from "embedded:io/socket/tcp/tls";
import Timer from "timer";
import type { Clock, TlsOptions, Transport, TransportEvents } from "../../src/types";
import { E_CLOSED, E_TRANSPORT } from "../../src/errors";
import { secureOptions } from "./secure";

/** Bytes one TLS record may add to what is written (Moddable's own allowance). */
const TLS_OVERHEAD = 96;

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

  // ends the connection once, reporting `code` (deferred when still inside open())
  function fail(code: number) {
    const ev = events, g = gen;
    if (socket) try { socket.close(); } catch {}
    socket = events = null;
    if (ev) Timer.set(() => g == gen && ev.onClose(code), 0);
  }

  function connect(address: string, port: number, host: string, tls: TlsOptions | null, g: number) {
    if (!events || g != gen) return;
    // the TLS socket calls these on an object of its own, not on the socket: `s` (not `this`) is the socket
    let s: TCP | TLSSocket;
    const o: any = {
      address,
      port,
      nodelay: true,
      onReadable() {
        const data = s.read();
        if (data && s == socket) events!.onData(new Uint8Array(data));
      },
      onWritable(count: number) {
        if (s != socket) return;
        writable = count;
        if (!opened) {
          opened = true;
          events!.onOpen();
        } else if (blocked) {
          blocked = false;
          events!.onWritable();
        }
      },
      onError() {
        if (s == socket) fail(opened ? E_CLOSED : E_TRANSPORT);
      }
    };
    try {
      if ((secure = !!tls)) {
        o.host = host;
        o.TCP = { io: TCP };
        o.secure = secureOptions(tls!);
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
      writable = 0;
      opened = blocked = false;
      if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) connect(host, port, host, tls, g);
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
      if (len > writable) {
        blocked = true;
        return 0;
      }
      try {
        const n = socket.write(buf.subarray(off, off + len));
        // the TLS socket's answer does not shrink with each write: count the record ourselves
        writable = secure ? writable - len - TLS_OVERHEAD : n;
      } catch {
        return E_TRANSPORT;
      }
      return len;
    },

    // closing from our side reports nothing more: the caller knows
    close() {
      const s = socket;
      gen++;
      socket = events = null;
      if (s) s.close();
    }
  };
}

/** Milliseconds from Date.now(); timers from XS `Timer`, cleared without its throws. */
export const moddableClock: Clock = {
  now: () => Date.now(),
  set: (fn: () => void, ms: number) => Timer.set(fn, ms),
  clear(t: unknown) {
    // Timer.clear throws for undefined and for a one-shot timer that already fired
    if (t) try { Timer.clear(t); } catch {}
  }
};
