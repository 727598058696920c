// Shared pieces of the fault suites: bounded tests, polling, a fault schedule, and the QoS 1
// stream (publisher -> broker -> subscriber, both through fault proxies) with its accounting.
import { test } from "uvu";
import { createClient, errorName, Client, Transport, E_OUTBOX_FULL } from "../../targets/node/index";
import type { FaultProxy } from "../helpers/faultproxy";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const cleanups: (() => unknown)[] = [];

/** Registers something to undo after the current test, pass or fail (last in, first out). */
export function later(f: () => unknown) {
  cleanups.push(f);
}

/** A test with a time limit; everything registered with later() is undone afterwards. */
export function it(name: string, ms: number, fn: () => Promise<void>) {
  test(name, async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        fn(),
        new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms); }),
      ]);
    } finally {
      clearTimeout(timer);
      while (cleanups.length) {
        try { await cleanups.pop()!(); } catch (e) { console.error("cleanup:", e); }
      }
    }
  });
}

/** Waits until `cond()` is true, polling every 5 ms; throws after `ms` with `what` (a string or a function of it). */
export async function until(cond: () => boolean, ms: number, what: string | (() => string)) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what == "string" ? what : what()}`);
    await sleep(5);
  }
}

export const SMALL_BACKOFF = { min: 50, max: 500, jitter: 0.5 };

export type FaultKind = "cut" | "reset" | "fragment" | "delay" | "stall";

/**
 * Injects one fault, chosen round-robin over `kinds`, on one of `proxies` (random, preferring one with a
 * live connection: waits up to 1 s for one); a stall here is a transient one (held, then released), so
 * it ends with the data, not with the keep-alive.
 */
export function injector(proxies: FaultProxy[], kinds: FaultKind[] = ["cut", "reset", "fragment", "delay", "stall", "cut"]) {
  let n = 0;
  return async function inject(): Promise<FaultKind> {
    const kind = kinds[n++ % kinds.length];
    const end = Date.now() + 1000;
    let px = proxies[Math.floor(Math.random() * proxies.length)];
    while (!px.live() && Date.now() < end) {
      const up = proxies.filter((p) => p.live());
      if (up.length) px = up[Math.floor(Math.random() * up.length)];
      else await sleep(10);
    }
    // a cut at a random byte of what comes next: the client's direction carries less (acks, pings)
    if (kind == "cut") px.cut(Math.random() < 0.5 ? { dir: "up", max: 24 } : { dir: "down", max: 200 });
    else if (kind == "reset") px.reset();
    else if (kind == "fragment") px.fragment(150 + Math.random() * 250);
    else if (kind == "delay") px.delay(20 + Math.random() * 80, 300);
    else px.stall(100 + Math.random() * 300);
    return kind;
  };
}

export interface FaultTotals { cut: number; reset: number; fragment: number; delay: number; stall: number; refused: number; total: number; hit: number; hits: string }

/** The proxies' fault counters summed by kind: injected, and `hit` (those that met a live connection). */
export function faultTotals(proxies: FaultProxy[]): FaultTotals {
  const t: Record<string, number> = { cut: 0, reset: 0, fragment: 0, delay: 0, stall: 0, refused: 0 };
  const h: Record<string, number> = { cut: 0, reset: 0, fragment: 0, delay: 0, stall: 0, refused: 0 };
  for (const p of proxies) for (const k in p.counts) { t[k] += (p.counts as any)[k]; h[k] += (p.hits as any)[k]; }
  const total = t.cut + t.reset + t.fragment + t.delay + t.stall;
  const hit = h.cut + h.reset + h.fragment + h.delay + h.stall;
  return { ...(t as any), total, hit, hits: `cut ${h.cut}, reset ${h.reset}, fragment ${h.fragment}, delay ${h.delay}, stall ${h.stall}` };
}

/** "N faults hit (by kind) of M injected". */
export function faultLine(f: FaultTotals): string {
  return `${f.hit} faults hit (${f.hits}${f.refused ? `, refused ${f.refused}` : ""}) of ${f.total} injected`;
}

/** Injects faults every ~`every` ms while `more()` or until `min` of them hit a connection. */
export async function injectWhile(proxies: FaultProxy[], every: number, min: number, more: () => boolean, kinds?: FaultKind[]) {
  const inject = injector(proxies, kinds);
  while (more() || faultTotals(proxies).hit < min) {
    await sleep(every * (0.5 + Math.random()));
    await inject();
  }
}

/** Delivery accounting by message number. */
export class Tally {
  seen = new Map<number, number>();
  dupFlag = 0;
  constructor(readonly expected: number) {}
  /** Records a delivery; true when it is a duplicate. */
  add(n: number, dup = false): boolean {
    const k = this.seen.get(n) || 0;
    this.seen.set(n, k + 1);
    if (dup) this.dupFlag++;
    return k > 0;
  }
  get unique() { return this.seen.size; }
  get received() { let s = 0; for (const v of this.seen.values()) s += v; return s; }
  get duplicates() { return this.received - this.unique; }
  lostList(): number[] {
    const l: number[] = [];
    for (let i = 0; i < this.expected; i++) if (!this.seen.has(i)) l.push(i);
    return l;
  }
  get lost() { return this.lostList().length; }
}

export interface StreamOptions {
  /** Messages to send. */
  count: number;
  /** Faults to inject at least. */
  minFaults: number;
  pubPort: number;
  subPort: number;
  /** A fresh transport for each client (default: Node's TCP). */
  transport?: () => Transport;
  proxies: FaultProxy[];
  topic: string;
  /** Milliseconds between faults. */
  faultEvery?: number;
  /** Called once when half of the messages are acknowledged (e.g. kill -9 the broker); `inFlight()` counts the publisher's unacknowledged messages. */
  midway?: (inFlight: () => number) => Promise<void>;
  /** Also one stall that only the keep-alive ends, on this proxy, at the first fault. */
  longStall?: FaultProxy;
  keepalive?: number;
  timeout?: number;
}

export interface StreamResult {
  tally: Tally;
  acked: number;
  ackErrors: number[];
  faults: ReturnType<typeof faultTotals>;
  pubConnects: number;
  subConnects: number;
  /** Duplicates delivered after the midway action began (a broker restart: its restored queue). */
  dupsAfterMidway: number;
  closeCodes: Record<string, number>;
  errors: number[];
  ms: number;
}

/**
 * Publishes `count` QoS 1 messages ("n" as text) through the publisher's proxy while a persistent-session
 * subscriber reads them through its own, faults injected every `faultEvery` ms until the stream is
 * through and at least `minFaults` happened. Resolves when every message is acknowledged and
 * received (or the time is up: the tally then shows what is missing).
 */
export async function qos1Stream(o: StreamOptions): Promise<StreamResult> {
  const t0 = Date.now();
  const tally = new Tally(o.count);
  const ackErrors: number[] = [], errors: number[] = [], closeCodes: Record<string, number> = {};
  let acked = 0, published = 0, pubConnects = 0, subConnects = 0, wake: (() => void) | null = null, dupsAfterMidway = 0, midRunning = false;
  const onClose = (code: number) => { const k = errorName(code) || String(code); closeCodes[k] = (closeCodes[k] || 0) + 1; };
  const base = { host: "127.0.0.1", clean: false, keepalive: o.keepalive || 2, reconnect: SMALL_BACKOFF, bufferSize: 4096 };
  const mk = (extra: any): Client => createClient({ ...base, ...(o.transport ? { transport: o.transport() } : {}), ...extra });

  const sub = mk({
    port: o.subPort,
    clientId: "fault-sub-" + process.pid,
    onConnect: () => subConnects++,
    onClose,
    onError: (c: number) => errors.push(c),
    onMessage: (topic: string, payload: Uint8Array, info: { dup: boolean }) => {
      if (tally.add(+Buffer.from(payload).toString(), info.dup) && midRunning) dupsAfterMidway++;
    },
  });
  later(() => sub.end());
  sub.connect();
  await until(() => subConnects > 0, 5000, "subscriber CONNACK");
  await new Promise<void>((resolve, reject) => {
    const r = sub.subscribe(o.topic + "/#", 1, (err) => (err ? reject(new Error("SUBACK " + errorName(err))) : resolve()));
    if (r < 0) reject(new Error("subscribe " + errorName(r)));
  });

  const pub = mk({
    port: o.pubPort,
    clientId: "fault-pub-" + process.pid,
    onConnect: () => pubConnects++,
    onClose,
    onError: (c: number) => errors.push(c),
    onWritable: () => { const w = wake; wake = null; if (w) w(); },
  });
  later(() => pub.end());
  pub.connect();
  await until(() => pubConnects > 0, 5000, "publisher CONNACK");

  let sending = true, midDone = !o.midway;
  if (o.longStall) o.longStall.stall();
  const injecting = injectWhile(o.proxies, o.faultEvery || 200, o.minFaults, () => sending);

  for (let i = 0; i < o.count; i++) {
    // a steady stream: a few messages every few milliseconds, so the faults land all along it
    if (i % 10 == 0) await sleep(o.count >= 500 ? 40 : 60);
    for (;;) {
      const r = pub.publish(o.topic + "/" + (i % 7), String(i), 1, false, (err) => {
        if (err) ackErrors.push(err);
        else acked++;
      });
      if (r > 0) {
        published++;
        break;
      }
      if (r != E_OUTBOX_FULL) throw new Error(`publish ${i}: ${errorName(r)}`);
      await new Promise<void>((res) => { wake = res; setTimeout(res, 500); });
    }
    if (!midDone && !midRunning && acked >= o.count / 2) {
      midRunning = true;
      o.midway!(() => published - acked - ackErrors.length).then(() => { midDone = true; });
    }
  }
  sending = false;
  const limit = o.timeout || 30000;
  await until(() => midDone, limit, "midway action");
  await injecting;
  try {
    await until(() => acked + ackErrors.length >= o.count && tally.unique >= o.count, limit - (Date.now() - t0),
      () => `all acknowledged and received: acked ${acked}/${o.count}, received ${tally.unique}, lost so far ${tally.lostList().slice(0, 20)}`);
  } catch (e) {
    console.error(String(e));
  }
  return {
    tally, acked, ackErrors, faults: faultTotals(o.proxies), pubConnects, subConnects, dupsAfterMidway, closeCodes, errors, ms: Date.now() - t0,
  };
}

/** A one-line report of a stream. */
export function report(label: string, r: StreamResult): string {
  const f = r.faults;
  return `${label}: ${r.tally.expected} QoS 1 messages in ${r.ms} ms through ${faultLine(f)}; ` +
    `acked ${r.acked}, received ${r.tally.unique}, lost ${r.tally.lost}, duplicates ${r.tally.duplicates}` +
    (r.dupsAfterMidway ? ` (${r.dupsAfterMidway} since the broker kill)` : "") + ` (DUP flag on ${r.tally.dupFlag} deliveries); ` +
    `connects pub ${r.pubConnects} sub ${r.subConnects}; closes ${JSON.stringify(r.closeCodes)}` +
    (r.errors.length ? `; errors ${r.errors.map(errorName).join(",")}` : "");
}
