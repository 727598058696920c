// One benchmark child process: one library, one job, one JSON line on stdout. bench/run.ts starts
// these so that CPU time and heap are attributable to one library (only that library is loaded).
//
//   node --import tsx bench/worker.ts e2e  --lib ours|mqttjs --port P --qos 0|1 --n N --warm W --window K --payload B
//   node --expose-gc --import tsx bench/worker.ts heap --lib ... (same flags): heap after warm-up and after N messages
//   node --expose-gc --import tsx bench/worker.ts idle --lib ... --port P --clients C: RSS of C idle connected clients
//   node --expose-gc --import tsx bench/worker.ts base --lib none|ours|mqttjs: heap and RSS with only the library loaded
//
//   node --import tsx bench/worker.ts bsub --lib ... --port P --qos Q --n N --warm W --topic T   burst subscriber
//   node --import tsx bench/worker.ts bpub --lib ... --port P --qos Q --n N --warm W --topic T   burst publisher
//     (bench/run.ts starts bsub, waits for its "ready" line, starts bpub; see burst() below)
//
// --lib ours-corked is an experiment (not part of bench/run.ts): tinyhub with a transport that corks per tick.
//
// e2e and heap: one publishing client and one subscribing client (two connections to the broker) in
// this process. The publisher keeps at most `window` messages in flight: published but not yet
// received by the subscriber (and, for QoS 1, not yet acknowledged by PUBACK). The subscriber
// subscribes at the same QoS. The rate is messages / (first publish .. last receive and last PUBACK).
import { pathToFileURL } from "node:url";
import * as v8 from "node:v8";

export interface Conn {
  subscribe(filter: string, qos: number): Promise<void>;
  /** false: no room now (ours: E_OUTBOX_FULL); `resume` is called when there is. */
  publish(topic: string, payload: Uint8Array, qos: number, done: (() => void) | null): boolean;
  end(): Promise<void>;
}

export interface Lib {
  name: string;
  connect(clientId: string, port: number, opts: { bufferSize?: number; onMessage: () => void; resume: () => void; transport?: unknown }): Promise<Conn>;
}

async function ours(): Promise<Lib> {
  const m = await import("../targets/node/index");
  const alt = process.env.BENCH_TRANSPORT ? ((await import(process.env.BENCH_TRANSPORT)) as typeof import("../targets/node/transport")).nodeTransport : null;
  return {
    name: "ours",
    connect(clientId, port, o) {
      return new Promise((resolve, reject) => {
        let first = true;
        const c = m.createClient({
          host: "127.0.0.1", port, clientId, keepalive: 60, clean: true, reconnect: false,
          bufferSize: o.bufferSize,
          transport: (o.transport as import("../targets/node/index").Transport | undefined) || (alt ? alt() : undefined),
          onConnect() {
            if (!first) return;
            first = false;
            resolve(conn);
          },
          onMessage: o.onMessage,
          onWritable: o.resume,
          onError(code) { reject(new Error(`${clientId}: error ${m.errorName(code)}`)); },
          onClose(code) { if (first) reject(new Error(`${clientId}: closed ${m.errorName(code)}`)); },
        });
        const conn: Conn = {
          subscribe(filter, qos) {
            return new Promise((res, rej) => {
              const r = c.subscribe(filter, qos, (err) => (err ? rej(new Error("subscribe " + err)) : res()));
              if (r < 0) rej(new Error("subscribe returned " + r));
            });
          },
          publish(topic, payload, qos, done) {
            const r = c.publish(topic, payload, qos, false, done || undefined);
            if (r >= 0) return true;
            if (r == m.E_OUTBOX_FULL) return false;
            throw new Error("publish returned " + m.errorName(r));
          },
          end() {
            return new Promise((res) => c.end(() => res()));
          },
        };
        c.connect();
      });
    },
  };
}

async function mqttjs(): Promise<Lib> {
  const mqtt = (await import("mqtt")).default;
  return {
    name: "mqttjs",
    connect(clientId, port, o) {
      return new Promise((resolve, reject) => {
        const c = mqtt.connect({ host: "127.0.0.1", port, protocol: "mqtt", protocolVersion: 4, clientId, keepalive: 60, clean: true, reconnectPeriod: 0 });
        c.on("message", o.onMessage);
        c.once("error", reject);
        c.once("connect", () => resolve(conn));
        const conn: Conn = {
          subscribe(filter, qos) {
            return new Promise((res, rej) => c.subscribe(filter, { qos: qos as 0 | 1 }, (err) => (err ? rej(err) : res())));
          },
          publish(topic, payload, qos, done) {
            c.publish(topic, payload as Buffer, { qos: qos as 0 | 1 }, done || undefined);
            return true;
          },
          end() {
            return new Promise((res) => c.end(false, {}, () => res()));
          },
        };
      });
    },
  };
}

/**
 * An experiment, not a library: tinyhub with a Node transport that corks the socket on the first
 * write of a tick and uncorks on the next tick (as mqtt-packet's writeToStream does for MQTT.js), so
 * the packets of one tick leave in one writev. targets/node/transport.ts writes each packet at once.
 */
async function oursCorked(): Promise<Lib> {
  const net = await import("node:net");
  const m = await import("../targets/node/index");
  const transport = (): import("../targets/node/index").Transport => {
    let sock: import("node:net").Socket | null = null, full = false, corked = false;
    const uncork = () => {
      corked = false;
      if (sock) sock.uncork();
    };
    return {
      open(host, port, _tls, ev) {
        const s = net.connect({ host, port }, () => s === sock && ev.onOpen());
        sock = s;
        full = false;
        s.setNoDelay(true);
        s.on("data", (d: Buffer) => s === sock && ev.onData(d));
        s.on("drain", () => {
          full = false;
          if (s === sock) ev.onWritable();
        });
        s.on("error", () => {});
        s.on("close", (hadError: boolean) => {
          if (s !== sock) return;
          sock = null;
          ev.onClose(hadError ? m.E_TRANSPORT : 0);
        });
      },
      write(buf, off, len) {
        if (!sock || sock.destroyed) return m.E_TRANSPORT;
        if (full) return 0;
        if (!corked) {
          corked = true;
          sock.cork();
          process.nextTick(uncork);
        }
        full = !sock.write(Buffer.from(buf.subarray(off, off + len)));
        return len;
      },
      close() {
        const s = sock;
        sock = null;
        if (s) s.destroy();
      },
    };
  };
  const base = await ours();
  return {
    name: "ours-corked",
    connect(clientId, port, o) {
      return base.connect(clientId, port, { ...o, transport: transport() });
    },
  };
}

export function loadLib(name: string): Promise<Lib> {
  if (name == "ours") return ours();
  if (name == "ours-corked") return oursCorked();
  if (name == "mqttjs") return mqttjs();
  throw new Error("unknown library " + name);
}

/**
 * BENCH_PROF=prefix: a V8 CPU profile of the timed part only (not module loading or warm-up), through the inspector,
 * written to prefix-<job>.cpuprofile; summarise it with `npx tsx bench/profiles/summary.ts FILE`. Returns the stop function.
 */
async function profileStart(): Promise<() => Promise<void>> {
  const file = process.env.BENCH_PROF && `${process.env.BENCH_PROF}-${process.argv[2]}.cpuprofile`;
  if (!file) return async () => {};
  const { Session } = await import("node:inspector");
  const fs = await import("node:fs");
  const s = new Session();
  s.connect();
  const post = (m: string, p?: object) => new Promise<any>((res, rej) => s.post(m, p || {}, (e, r) => (e ? rej(e) : res(r))));
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 100 });
  await post("Profiler.start");
  return async () => {
    const r = await post("Profiler.stop");
    fs.writeFileSync(file, JSON.stringify(r.profile));
    s.disconnect();
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function gcSettle(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  for (let i = 0; i < 6; i++) gc();
}

interface Flow { received: number; acked: number; sent: number }

export interface E2EResult {
  lib: string; qos: number; n: number; window: number; payload: number;
  ms: number; rate: number; cpuUserMs: number; cpuSysMs: number; cpuUsPerMsg: number; peakHeap: number;
  heapWarm?: number; heapMid?: number; heapEnd?: number; rssEnd?: number;
  /** heapUsed after warm-up and after each tenth of the messages (each after forced GCs). */
  heapSamples?: number[];
}

/** The pub/sub pair and the windowed publishing loop. */
async function pair(lib: Lib, port: number, qos: number, window: number, payload: Uint8Array) {
  const topic = `bench/${process.pid}/${lib.name}/t`;
  let f: Flow = { received: 0, acked: 0, sent: 0 }, target = 0, finish: (() => void) | null = null, pumping = false;
  const done = qos ? () => { f.acked++; check(); pump(); } : null;
  function check() {
    if (finish && f.received >= target && (!qos || f.acked >= target)) {
      const fn = finish;
      finish = null;
      fn();
    }
  }
  function pump() {
    if (pumping) return;
    pumping = true;
    while (f.sent < target && f.sent - (qos ? Math.min(f.received, f.acked) : f.received) < window) {
      if (!pub.publish(topic, payload, qos, done)) break;
      f.sent++;
    }
    pumping = false;
  }
  const sub = await lib.connect(`bs-${lib.name}-${process.pid}`, port, {
    bufferSize: 8192, resume() {},
    onMessage() { f.received++; check(); pump(); },
  });
  const pub = await lib.connect(`bp-${lib.name}-${process.pid}`, port, { bufferSize: 8192, onMessage() {}, resume: pump });
  await sub.subscribe(topic, qos);
  return {
    /** Sends n messages through the window; resolves when all are received (and acknowledged). */
    run(n: number): Promise<void> {
      f = { received: 0, acked: 0, sent: 0 };
      target = n;
      return new Promise((res) => {
        finish = res;
        pump();
      });
    },
    async end() {
      await pub.end();
      await sub.end();
    },
  };
}

async function e2e(a: Args, heap: boolean): Promise<E2EResult> {
  const lib = await loadLib(a.lib);
  const payload = Buffer.alloc(a.payload, 0x61);
  const p = await pair(lib, a.port, a.qos, a.window, payload);
  if (a.warm) await p.run(a.warm);
  let heapWarm: number | undefined;
  if (heap) {
    gcSettle();
    heapWarm = process.memoryUsage().heapUsed;
  }
  let peak = process.memoryUsage().heapUsed;
  // v8's figure: process.memoryUsage() also reads the RSS from /proc, 2-5 % of the process's CPU at this rate
  const sampler = setInterval(() => {
    const h = v8.getHeapStatistics().used_heap_size;
    if (h > peak) peak = h;
  }, 10);
  const prof = await profileStart();
  const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
  let heapMid: number | undefined;
  const samples: number[] = heap ? [heapWarm!] : [];
  if (heap) {
    // ten steps, a GC'd reading after each: a steady slope is a leak, a one-off step or noise is not
    for (let k = 1; k <= 10; k++) {
      await p.run(Math.round((a.n * k) / 10) - Math.round((a.n * (k - 1)) / 10));
      gcSettle();
      samples.push(process.memoryUsage().heapUsed);
      if (k == 5) heapMid = samples[k];
    }
  } else await p.run(a.n);
  const ns = Number(process.hrtime.bigint() - t0), cpu = process.cpuUsage(c0);
  await prof();
  clearInterval(sampler);
  const h = process.memoryUsage().heapUsed;
  if (h > peak) peak = h;
  const r: E2EResult = {
    lib: a.lib, qos: a.qos, n: a.n, window: a.window, payload: a.payload,
    ms: +(ns / 1e6).toFixed(1), rate: Math.round((a.n * 1e9) / ns),
    cpuUserMs: +(cpu.user / 1000).toFixed(1), cpuSysMs: +(cpu.system / 1000).toFixed(1),
    cpuUsPerMsg: +((cpu.user + cpu.system) / a.n).toFixed(2), peakHeap: peak,
  };
  if (heap) {
    gcSettle();
    r.heapSamples = samples;
    r.heapWarm = heapWarm;
    r.heapMid = heapMid;
    r.heapEnd = process.memoryUsage().heapUsed;
    r.rssEnd = process.memoryUsage().rss;
  }
  await p.end();
  return r;
}

// ---- burst: publisher and subscriber in two processes, as mosquitto_pub / mosquitto_sub ----------------

export interface BurstSub { lib: string; received: number; timed: number; ms: number; rate: number; cpuUs: number }
export interface BurstPub { lib: string; cpuUs: number; ms: number }

const BURST_BUFFER = 65536;
/** Milliseconds without a message after which the subscriber stops counting (messages the broker dropped): --quiet. */

/**
 * Counts W + N messages; times the last N (first to last of them, at their arrival) and the process's CPU meanwhile.
 * Prints {"ready":1} once subscribed, the result when all have come or after --quiet ms without any.
 */
async function burstSub(a: Args): Promise<BurstSub> {
  const lib = await loadLib(a.lib);
  let got = 0, t0 = 0, t1 = 0, c0 = process.cpuUsage(), quiet: NodeJS.Timeout | null = null, finish = () => {}, prof = async () => {};
  const end = new Promise<void>((r) => (finish = r));
  const sub = await lib.connect(`bs-${a.lib}-${process.pid}`, a.port, {
    bufferSize: BURST_BUFFER, resume() {},
    onMessage() {
      if (++got == a.warm + 1) (t0 = performance.now()), (c0 = process.cpuUsage()), profileStart().then((f) => (prof = f));
      t1 = performance.now();
      if (got == a.warm + a.n) finish();
      // not a timer per message: refreshed every 256 messages, so the subscriber stops within a.quiet + a little
      if (!(got & 255) || !quiet) {
        if (quiet) quiet.refresh();
        else quiet = setTimeout(finish, a.quiet);
      }
    },
  });
  await sub.subscribe(a.topic, a.qos);
  process.stdout.write('{"ready":1}\n');
  await end;
  // after --quiet ms without messages this adds the idle wait's CPU: next to nothing
  const c1 = process.cpuUsage(c0);
  await prof();
  if (quiet) clearTimeout(quiet);
  const timed = Math.max(0, got - a.warm), ms = t1 - t0;
  await sub.end();
  return { lib: a.lib, received: got, timed, ms: +ms.toFixed(1), rate: timed > 1 ? Math.round((timed * 1000) / ms) : 0, cpuUs: c1.user + c1.system };
}

/**
 * Publishes W messages, waits for them to be handed over (QoS 0) or acknowledged (QoS 1), then N more, as fast as
 * the library lets: tinyhub until E_OUTBOX_FULL, again at onWritable; MQTT.js all in one loop (it queues what the
 * socket does not take). CPU is counted from the first timed publish until stdin closes (the parent closes it once
 * the subscriber is done), so it includes the flushing that follows the loop.
 */
async function burstPub(a: Args): Promise<BurstPub> {
  const lib = await loadLib(a.lib);
  const payload = Buffer.alloc(a.payload, 0x61);
  let resume = () => {};
  const pub = await lib.connect(`bp-${a.lib}-${process.pid}`, a.port, { bufferSize: BURST_BUFFER, onMessage() {}, resume: () => resume() });
  const stdinClosed = new Promise<void>((r) => {
    process.stdin.on("end", r).on("close", r).resume();
  });
  // a callback on the last message only (handed over at QoS 0, acknowledged at QoS 1: mosquitto acknowledges in
  // order): MQTT.js waits for 'drain' with a once-listener per QoS 0 callback, quadratic over a long burst
  const burst = (n: number) => new Promise<void>((res) => {
    let sent = 0;
    (resume = () => {
      while (sent < n && pub.publish(a.topic, payload, a.qos, sent == n - 1 ? res : null)) sent++;
    })();
  });
  if (a.warm) await burst(a.warm);
  await sleep(100);
  const prof = await profileStart();
  const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
  await burst(a.n);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await stdinClosed;
  const c = process.cpuUsage(c0);
  await prof();
  await pub.end();
  return { lib: a.lib, cpuUs: c.user + c.system, ms: +ms.toFixed(1) };
}

export interface IdleResult {
  lib: string; clients: number; connected: number; rssBefore: number; rssAfter: number; heapBefore: number; heapAfter: number;
  rssPerClient: number; heapPerClient: number; connectMs: number;
}

async function idle(a: Args): Promise<IdleResult> {
  const lib = await loadLib(a.lib);
  gcSettle();
  const m0 = process.memoryUsage();
  const conns: Conn[] = [];
  const t0 = Date.now();
  for (let i = 0; i < a.clients; i += 50) {
    const batch: Promise<Conn>[] = [];
    for (let j = i; j < Math.min(a.clients, i + 50); j++) {
      batch.push(lib.connect(`bi-${a.lib}-${process.pid}-${j}`, a.port, { onMessage() {}, resume() {} }));
    }
    conns.push(...(await Promise.all(batch)));
  }
  const connectMs = Date.now() - t0;
  await sleep(1000); // idle: let connection setup garbage go
  gcSettle();
  const m1 = process.memoryUsage();
  const r: IdleResult = {
    lib: a.lib, clients: a.clients, connected: conns.length,
    rssBefore: m0.rss, rssAfter: m1.rss, heapBefore: m0.heapUsed, heapAfter: m1.heapUsed,
    rssPerClient: Math.round((m1.rss - m0.rss) / a.clients), heapPerClient: Math.round((m1.heapUsed - m0.heapUsed) / a.clients),
    connectMs,
  };
  await Promise.all(conns.map((c) => c.end()));
  return r;
}

/** An empty process under the same loader: the baseline the library figures sit on. */
async function base(a: Args): Promise<{ lib: string; heap: number; rss: number }> {
  if (a.lib != "none") await loadLib(a.lib);
  await sleep(200);
  gcSettle();
  const m = process.memoryUsage();
  return { lib: a.lib, heap: m.heapUsed, rss: m.rss };
}

interface Args { job: string; lib: string; port: number; qos: number; n: number; warm: number; window: number; payload: number; clients: number; topic: string; quiet: number }

function parse(argv: string[]): Args {
  const a: Args = { job: argv[0], lib: "ours", port: 1883, qos: 0, n: 10000, warm: 1000, window: 32, payload: 64, clients: 1000, topic: "bench/burst", quiet: 2000 };
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, ""), v = argv[i + 1];
    if (k == "lib" || k == "topic") a[k] = v;
    else if (k in a) (a as any)[k] = +v;
    else throw new Error("unknown flag " + argv[i]);
  }
  return a;
}

async function main() {
  const a = parse(process.argv.slice(2));
  const r = a.job == "e2e" ? await e2e(a, false) : a.job == "heap" ? await e2e(a, true) : a.job == "idle" ? await idle(a) : a.job == "base" ? await base(a)
    : a.job == "bsub" ? await burstSub(a) : a.job == "bpub" ? await burstPub(a) : null;
  if (!r) throw new Error("unknown job " + a.job);
  process.stdout.write(JSON.stringify(r) + "\n", () => process.exit(0));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  });
}
