// Moddable XS glue: a Transport over the ECMA-419 TCP socket and a Clock over XS timers.
// TLS and the classic Socket come with a later issue; asking for TLS fails the open for now.

import TCP from "embedded:io/socket/tcp";
import Timer from "timer";
import type { Clock, TlsOptions, Transport, TransportEvents } from "../../src/types";
import { E_CLOSED, E_TRANSPORT } from "../../src/errors";

/** A Transport over `embedded:io/socket/tcp`; host names go through `device.network.dns`. */
export function moddableTransport(): Transport {
  // `events` is set whenever `socket` is: a callback of the current socket (this == socket) may use it
  let socket: TCP | null = null, events: TransportEvents | null = null;
  let writable = 0, opened = false, blocked = false;
  // bumped by open() and close(): a DNS answer or a deferred close from an earlier connection is ignored
  let gen = 0;

  // ends the connection once, reporting `code` (deferred when still inside open())
  function fail(code: number) {
    const ev = events, g = gen;
    if (socket) try { socket.close(); } catch {}
    socket = events = null;
    if (ev) Timer.set(() => g == gen && ev.onClose(code), 0);
  }

  function connect(address: string, port: number, g: number) {
    if (!events || g != gen) return;
    try {
      socket = new TCP({
        address,
        port,
        nodelay: true,
        onReadable() {
          const data = this.read();
          if (data && this == socket) events!.onData(new Uint8Array(data));
        },
        onWritable(count) {
          if (this != socket) return;
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
          if (this == socket) fail(E_CLOSED);
        }
      });
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
      if (tls) fail(E_TRANSPORT);
      else if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) connect(host, port, g);
      else if (!dns) fail(E_TRANSPORT);
      else
        new dns.io(dns).resolve({
          host,
          onResolved: (_, address) => connect(address, port, g),
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
        writable = socket.write(buf.subarray(off, off + len));
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
