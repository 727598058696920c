// A fake transport and a manual clock for driving the MQTT client by hand: the test plays the
// broker, decides when writes are taken, and steps time.
import { Transport, TransportEvents, TlsOptions, Clock } from '../../src/types';
import { refParse, Packet } from './mqtt';

interface Timer { id: number; at: number; fn: () => void }

/** Time that moves only when told. now() starts at `start` and wraps at 2^32 like a device tick counter. */
export class ManualClock implements Clock {
  t = 0;
  private timers: Timer[] = [];
  private ids = 0;
  constructor(private start = 0) {}
  now(): number {
    return (this.start + this.t) >>> 0;
  }
  set(fn: () => void, ms: number): unknown {
    const tm = { id: ++this.ids, at: this.t + Math.max(0, ms), fn };
    this.timers.push(tm);
    return tm.id;
  }
  clear(id: unknown): void {
    this.timers = this.timers.filter((tm) => tm.id !== id);
  }
  /** Timers waiting to fire. */
  pending(): number {
    return this.timers.length;
  }
  /** Moves time forward by `ms`, firing due timers in order, each at its own time. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: Timer | null = null;
      for (const tm of this.timers) if (tm.at <= end && (!next || tm.at < next.at)) next = tm;
      if (!next) break;
      this.clear(next.id);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
  }
}

/** A transport the test drives: it records what the client writes and delivers what the test sends. */
export class FakeTransport implements Transport {
  /** Every open() call, with the clock's time when one is attached. */
  opens: { host: string; port: number; tls: TlsOptions | null; at: number }[] = [];
  clock: ManualClock | null = null;
  closes = 0;
  /** Open and not closed by the client. */
  isOpen = false;
  /** Call onOpen inside open() (else the test calls up()). */
  autoOpen = true;
  /** What write() returns: 'take' copies everything, 'block' returns 0 (backpressure), 'fail' returns -1. */
  mode: 'take' | 'block' | 'fail' = 'take';
  /** Bytes written on this connection, and every write() as its own array. */
  written: number[] = [];
  writes: Uint8Array[] = [];
  private ev: TransportEvents | null = null;
  private seen = 0;

  open(host: string, port: number, tls: TlsOptions | null, events: TransportEvents): void {
    this.opens.push({ host, port, tls, at: this.clock ? this.clock.t : 0 });
    this.ev = events;
    this.isOpen = true;
    this.written = [];
    this.writes = [];
    this.seen = 0;
    if (this.autoOpen) events.onOpen();
  }
  write(buf: Uint8Array, off: number, len: number): number {
    if (!this.isOpen) throw new Error('write() on a closed transport');
    if (off < 0 || len <= 0 || off + len > buf.length) throw new Error(`write(${off}, ${len}) outside the buffer`);
    if (this.mode == 'block') return 0;
    if (this.mode == 'fail') return -1;
    this.writes.push(buf.slice(off, off + len));
    for (let i = 0; i < len; i++) this.written.push(buf[off + i]);
    return len;
  }
  close(): void {
    this.isOpen = false;
    this.closes++;
    this.ev = null; // the transport reports nothing after close()
  }

  // --- the broker's side ---
  private events(): TransportEvents {
    if (!this.ev) throw new Error('no open connection');
    return this.ev;
  }
  /** The connection is established. */
  up(): void {
    this.events().onOpen();
  }
  /** Delivers bytes to the client, in one chunk or split into chunks of `step` bytes. */
  send(bytes: ArrayLike<number>, step = 0): void {
    const b = Uint8Array.from(bytes);
    if (!step) return this.events().onData(b);
    for (let i = 0; i < b.length && this.ev; i += step) this.ev.onData(b.subarray(i, i + step));
  }
  /** The network can take writes again. */
  writable(): void {
    this.mode = 'take';
    this.events().onWritable();
  }
  /** The peer or the network closes the connection. */
  drop(err = 0): void {
    const ev = this.events();
    this.isOpen = false;
    this.ev = null;
    ev.onClose(err);
  }
  /** Packets written since the last call, as mqtt-packet parses them (throws on bytes it rejects). */
  take(): Packet[] {
    const r = refParse(Uint8Array.from(this.written.slice(this.seen)));
    if (typeof r == 'string') throw new Error('client wrote bytes mqtt-packet rejects: ' + r);
    this.seen = this.written.length;
    return r;
  }
  /** Like take(), reduced to their `cmd` names. */
  cmds(): string[] {
    return this.take().map((p) => p.cmd);
  }
}
