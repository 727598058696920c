// Node.js transport: net and tls sockets behind the library's Transport interface.
import * as net from "node:net";
import * as tls from "node:tls";
import type { Transport, TransportEvents, TlsOptions, Clock } from "../../src/types";
import { E_TRANSPORT } from "../../src/errors";

/** Bytes the socket may hold when a tick's first write comes, and bytes one tick may add, before "try later". */
const MAX_QUEUED = 1 << 20, MAX_TICK = 1 << 24;
/**
 * The staging buffer: the writes of one tick are copied here and leave in one socket.write. It starts at 1 KB and
 * doubles, up to 64 KB, each time a tick fills it: an idle or slow connection keeps little (a process may hold
 * thousands), a busy one few system calls.
 */
const STAGE = 1 << 16;

/** A Transport over node:net, or node:tls when TLS options are given (certificates verified by default). */
export function nodeTransport(): Transport {
  var sock: net.Socket | null = null, full = false, tick = 0,
    // the writes of this tick, copied (the library reuses its buffer as soon as write returns); `used` bytes
    out: Buffer | null = null, used = 0, cap = 1024, pending = false;

  /** Hands the staged bytes to the socket: one write (one system call) for all the packets of a tick. */
  function send(s: net.Socket) {
    if (!used || !out) return;
    var ok = s.write(used == out.length ? out : out.subarray(0, used));
    // written through to the kernel at once (the usual case): the stage is free again; else it
    // belongs to the socket until written, and the next tick stages into a new one
    if (s.writableLength) out = null;
    used = 0;
    if (!ok) full = true;
  }

  /** End of the tick's writes: after the I/O callbacks of this loop turn, so that replies to several reads share a write. */
  function flush() {
    pending = false;
    tick = 0;
    if (sock) send(sock);
  }

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
      used = tick = 0;
      s.setNoDelay(true);
      // no copy: the chunk is valid during onData only, and Node hands each read in a new Buffer
      s.on("data", (d: Buffer) => s === sock && ev.onData(d));
      s.on("drain", () => {
        full = false;
        if (s === sock) ev.onWritable();
      });
      s.on("error", () => {}); // reported through close
      s.on("close", (hadError: boolean) => {
        if (s !== sock) return;
        sock = null;
        used = 0;
        ev.onClose(hadError ? E_TRANSPORT : 0);
      });
    },
    write(buf: Uint8Array, off: number, len: number): number {
      if (!sock || sock.destroyed) return E_TRANSPORT;
      // refused at the start of a tick when the socket holds too much, and past a generous bound within
      // one tick: a frame written in pieces within a tick (the WebSocket transport's) is not cut short
      if ((!pending && (full || sock.writableLength > MAX_QUEUED)) || tick + len > MAX_TICK) return (full = true), 0;
      tick += len;
      if (!pending) {
        pending = true;
        setImmediate(flush);
      }
      if (len > STAGE) {
        // a large packet goes as its own copy, after what is staged
        send(sock);
        if (!sock.write(Buffer.from(buf.subarray(off, off + len)))) full = true;
        return len;
      }
      if (out && used + len > out.length) {
        send(sock);
        if (cap < STAGE) (cap *= 2), (out = null);
      }
      if (!out || len > out.length) out = Buffer.allocUnsafeSlow((cap = Math.max(cap, len)));
      out.set(off || len != buf.length ? buf.subarray(off, off + len) : buf, used);
      used += len;
      return len;
    },
    close() {
      var s = sock;
      sock = null;
      if (s) {
        // hand staged bytes (a DISCONNECT, a WebSocket close frame) to the kernel before closing
        send(s);
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
