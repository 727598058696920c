// Node.js transport: net and tls sockets behind the library's Transport interface.
import * as net from "node:net";
import * as tls from "node:tls";
import type { Transport, TransportEvents, TlsOptions, Clock } from "../../src/types";
import { E_TRANSPORT } from "../../src/errors";

/** Bytes the socket may hold when a tick's first write comes, and bytes one tick may add, before "try later". */
const MAX_QUEUED = 1 << 20, MAX_TICK = 1 << 24;

/** A Transport over node:net, or node:tls when TLS options are given (certificates verified by default). */
export function nodeTransport(): Transport {
  var sock: net.Socket | null = null, full = false, tick = 0;
  return {
    open(host: string, port: number, t: TlsOptions | null, ev: TransportEvents) {
      var s: net.Socket = t
        ? tls.connect({
            host, port,
            ca: t.ca as tls.ConnectionOptions["ca"],
            cert: t.cert as tls.ConnectionOptions["cert"],
            key: t.key as tls.ConnectionOptions["key"],
            servername: t.servername || (net.isIP(host) ? undefined : host),
            rejectUnauthorized: t.rejectUnauthorized !== false,
          }, () => s === sock && ev.onOpen())
        : net.connect({ host, port }, () => s === sock && ev.onOpen());
      sock = s;
      full = false;
      s.setNoDelay(true);
      s.on("data", (d: Buffer) => s === sock && ev.onData(d));
      s.on("drain", () => {
        full = false;
        if (s === sock) ev.onWritable();
      });
      s.on("error", () => {}); // reported through close
      s.on("close", (hadError: boolean) => {
        if (s !== sock) return;
        sock = null;
        ev.onClose(hadError ? E_TRANSPORT : 0);
      });
    },
    write(buf: Uint8Array, off: number, len: number): number {
      if (!sock || sock.destroyed) return E_TRANSPORT;
      // refused at the start of a tick when the socket holds too much, and past a generous bound within
      // one tick: a frame written in pieces within a tick (the WebSocket transport's) is not cut short
      if (full || (!sock.writableCorked && sock.writableLength > MAX_QUEUED) || tick + len > MAX_TICK) return (full = true), 0;
      tick += len;
      // packets written in one tick leave in one system call (writev), as MQTT.js does; backpressure
      // is judged once they have been handed over, so a write is never refused halfway through a tick
      if (!sock.writableCorked) {
        const s = sock;
        s.cork();
        process.nextTick(() => {
          s.uncork();
          tick = 0;
          if (s === sock && s.writableNeedDrain) full = true;
        });
      }
      // copy: the library reuses its buffer as soon as write returns
      sock.write(Buffer.from(buf.subarray(off, off + len)));
      return len;
    },
    close() {
      var s = sock;
      sock = null;
      if (s) {
        // hand corked bytes (a DISCONNECT, a WebSocket close frame) to the kernel before closing
        while (s.writableCorked) s.uncork();
        s.destroy();
      }
    },
  };
}

/** Milliseconds from a monotonic clock, timers from Node. */
export const nodeClock: Clock = {
  now: () => Math.floor(performance.now()),
  set: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clear: (t: unknown) => clearTimeout(t as NodeJS.Timeout),
};
