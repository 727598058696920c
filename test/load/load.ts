// Load: many device clients in this one Node process against mosquitto and against the IoT Hub
// emulator (each in its own process, so the memory figures here are the clients'). Connects them all
// (a bounded number of handshakes at a time), sends QoS 1 telemetry for a while, and reports connect
// time p50/p99, acknowledged messages per second, PUBACK latency, memory per client (RSS and heap delta
// over the clients) and everything that went wrong (which should be nothing).
//
//   tsx test/load/load.ts [--clients 1000] [--seconds 30] [--target mosquitto,hub] [--rate 1|max]
//                         [--plain] [--concurrency 100] [--window 8] [--json out.json]
//
//   --rate N     messages per client per second (default 1: a fleet of devices); "max": each client keeps
//                --window messages in flight, as fast as the acknowledgements come back
//   --plain      the hub over plain MQTT (default: MQTT/TLS, certificate checked against the emulator's CA)
//
// The file-descriptor limit is checked first (each client is one descriptor here and one in the broker):
// the soft limit is raised to what is needed when the hard limit allows (by running again under
// `ulimit -n`), mosquitto is started with enough (test/helpers/mosquitto.ts fdLimit).
import { fork, spawn, spawnSync, ChildProcess } from "node:child_process";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createClient, createDevice, errorName, Client, Device, E_OUTBOX_FULL } from "../../targets/node/index";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";

const HERE = dirname(fileURLToPath(import.meta.url));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export type Target = "mosquitto" | "hub";

export interface LoadOptions {
  clients: number;
  seconds: number;
  targets: Target[];
  /** Messages per client per second, or "max" (a window of messages in flight per client). */
  rate: number | "max";
  window: number;
  /** The hub over TLS (default true). */
  tls: boolean;
  /** Connection attempts in flight at once. */
  concurrency: number;
  log: (line: string) => void;
}

export const DEFAULTS: LoadOptions = {
  clients: 1000, seconds: 30, targets: ["mosquitto", "hub"], rate: 1, window: 8, tls: true, concurrency: 100, log: console.log,
};

export interface Percentiles { p50: number; p99: number; max: number }

export interface LoadResult {
  target: string;
  clients: number;
  connected: number;
  /** Milliseconds from connect() to CONNACK, per client. */
  connect: Percentiles;
  /** Milliseconds until all were connected. */
  connectAll: number;
  seconds: number;
  sent: number;
  acked: number;
  /** Acknowledged messages per second over the sending window. */
  mps: number;
  /** Milliseconds from publish to PUBACK. */
  ack: Percentiles;
  /** publish() answered E_OUTBOX_FULL (the message was skipped). */
  backpressure: number;
  /** Messages the other side counted (mosquitto: a subscriber; hub: its telemetry). */
  received: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  /** Resident set and heap growth over the connected clients, bytes per client. */
  rssPerClient: number;
  heapPerClient: number;
  externalPerClient: number;
  /** RSS of the broker or emulator process at the end, bytes. */
  serverRss: number;
  serverErrors: number;
  serverErrorSamples: string[];
  /** Clients the server still counted as connected at the end. */
  serverConnected: number;
}

function pct(a: number[]): Percentiles {
  if (!a.length) return { p50: NaN, p99: NaN, max: NaN };
  const s = Float64Array.from(a).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] };
}

function bump(o: Record<string, number>, code: number) {
  const k = errorName(code);
  o[k] = (o[k] || 0) + 1;
}

// a full collection before each memory reading, also without --expose-gc
v8.setFlagsFromString("--expose-gc");
const gc: () => void = vm.runInNewContext("gc");

function memory() {
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed, external: m.external + m.arrayBuffers };
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? +m[1] * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The soft and hard limits on open files, from the shell (what children inherit). */
export function fdLimits(): { soft: number; hard: number } {
  const q = (f: string) => {
    const r = spawnSync("/bin/sh", ["-c", `ulimit ${f}`], { encoding: "utf8" });
    const v = r.stdout.trim();
    return v == "unlimited" ? Infinity : +v || 0;
  };
  return { soft: q("-Sn"), hard: q("-Hn") };
}

/** One unit under test: something that connects, publishes QoS 1 and ends. */
interface Unit {
  connect(): void;
  publish(payload: string, done: (err: number) => void): number;
  end(): void;
  connected(): boolean;
}

interface Server {
  name: string;
  make(i: number, ev: { onConnect(): void; onError(c: number): void; onClose(c: number): void; onWritable(): void }): Unit;
  /** What the far side counted, and its health, once the run is over. */
  stats(expect: number): Promise<{ received: number; rss: number; errors: number; samples: string[]; connected: number }>;
  stop(): Promise<void>;
}

async function mosquittoServer(o: LoadOptions): Promise<Server> {
  const broker: Mosquitto = await startMosquitto({
    tls: false, fdLimit: o.clients + 512, extra: ["max_queued_messages 0", "max_connections -1"],
  });
  // a subscriber that counts what arrives (QoS 1: nothing dropped on the way)
  let received = 0, subUp = false;
  const sub = createClient({
    host: "127.0.0.1", port: broker.ports.mqtt, clientId: "load-sub", keepalive: 60, bufferSize: 8192,
    onConnect: () => { subUp = true; },
    onMessage: () => { received++; },
  });
  sub.connect();
  for (let t = 0; !subUp && t < 500; t++) await sleep(10);
  await new Promise<void>((r) => sub.subscribe("load/#", 1, () => r()));
  return {
    name: "mosquitto (MQTT, plain TCP)",
    make(i, ev) {
      const c: Client = createClient({
        host: "127.0.0.1", port: broker.ports.mqtt, clientId: "load-" + i, keepalive: 60,
        reconnect: { min: 1000, max: 10000 }, ...ev, onConnect: () => ev.onConnect(),
      });
      const topic = `load/${i}/t`;
      return {
        connect: () => c.connect(),
        publish: (p, done) => c.publish(topic, p, 1, false, done),
        end: () => c.end(),
        connected: () => c.connected(),
      };
    },
    async stats(expect) {
      // the last acknowledged messages reach the subscriber a moment later
      for (let t = 0; t < 100 && received < expect; t++) await sleep(10);
      return { received, rss: rssOf(broker.pid()), errors: 0, samples: [], connected: -1 };
    },
    async stop() {
      sub.end();
      await broker.stop();
    },
  };
}

async function hubServer(o: LoadOptions): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-load-"));
  const child: ChildProcess = fork(join(HERE, "hubchild.mjs"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let exited = false;
  child.once("exit", () => { exited = true; });
  // every question has an answer within 30 s (starting 1,000 devices included), or the run fails
  const ask = <T>(msg: object, key: string): Promise<T> => new Promise((resolve, reject) => {
    const done = (f: () => void) => { clearTimeout(timer); child.off("message", on); child.off("exit", gone); f(); };
    const on = (m: any) => {
      if (m.failed) done(() => reject(new Error(m.failed)));
      else if (m[key]) done(() => resolve(m[key]));
    };
    const gone = () => done(() => reject(new Error("the hub process exited")));
    const timer = setTimeout(() => done(() => reject(new Error(`the hub process did not answer ${JSON.stringify(msg).slice(0, 40)}`))), 30000);
    if (exited) return gone();
    child.on("message", on);
    child.once("exit", gone);
    child.send(msg);
  });
  const prefix = "load-dev-";
  const stop = async () => {
    if (!exited) child.send({ cmd: "stop" });
    await new Promise<void>((r) => {
      if (exited) return r();
      const t = setTimeout(() => { child.kill("SIGKILL"); r(); }, 5000);
      child.once("exit", () => { clearTimeout(t); r(); });
    });
    rmSync(dir, { recursive: true, force: true });
  };
  let ready: { ports: any; ca: string; hubName: string; keys: string[] };
  try {
    ready = await ask<typeof ready>({ cmd: "start", dir, devices: o.clients, prefix }, "ready");
  } catch (e) {
    await stop();
    throw e;
  }
  const port = o.tls ? ready.ports.mqtts : ready.ports.plain;
  return {
    name: `hub emulator (MQTT${o.tls ? "/TLS" : ", plain TCP"})`,
    make(i, ev) {
      const d = createDevice({
        host: ready.hubName, deviceId: prefix + i, sharedAccessKey: ready.keys[i], gatewayHostName: "127.0.0.1",
        port, tls: o.tls ? { ca: ready.ca, servername: "localhost" } : null, keepalive: 60,
        reconnect: { min: 1000, max: 10000 },
        onConnect: () => ev.onConnect(), onError: ev.onError, onClose: ev.onClose,
      });
      if (typeof d == "number") throw new Error("createDevice: " + errorName(d));
      const dev = d as Device;
      return {
        connect: () => dev.connect(),
        publish: (p, done) => dev.sendEvent(p, { n: "1" }, done),
        end: () => dev.end(),
        connected: () => dev.mqtt.connected(),
      };
    },
    async stats(expect) {
      let s: any;
      for (let t = 0; t < 20; t++) {
        s = await ask<any>({ cmd: "stats" }, "stats");
        if (s.telemetry >= expect) break;
        await sleep(50);
      }
      return { received: s.telemetry, rss: s.rss, errors: s.errors, samples: s.errorSamples, connected: s.connected };
    },
    stop,
  };
}

async function runOne(server: Server, o: LoadOptions): Promise<LoadResult> {
  const n = o.clients, log = o.log;
  const errors: Record<string, number> = {}, closes: Record<string, number> = {};
  const units: Unit[] = [], started: number[] = [], connectMs: number[] = [], wakers: (() => void)[] = [];
  let connectedCount = 0, phase: "connect" | "run" | "end" = "connect";
  const before = memory();
  for (let i = 0; i < n; i++) {
    let first = true;
    units.push(server.make(i, {
      onConnect() {
        if (first) {
          first = false;
          connectMs[i] = performance.now() - started[i];
          connectedCount++;
        }
      },
      onError: (c) => bump(errors, c),
      onClose: (c) => { if (phase != "end") bump(closes, c); },
      onWritable: () => { const w = wakers[i]; if (w) { delete wakers[i]; w(); } },
    }));
  }
  // connect all, at most `concurrency` handshakes at a time
  const t0 = performance.now();
  let next = 0;
  const deadline = Date.now() + 60000 + n * 50;
  while (connectedCount < n && Date.now() < deadline) {
    while (next < n && next - connectedCount < o.concurrency) {
      started[next] = performance.now();
      units[next++].connect();
    }
    await sleep(2);
  }
  const connectAll = performance.now() - t0;
  const connected = connectedCount;
  log(`  ${server.name}: ${connected}/${n} connected in ${connectAll.toFixed(0)} ms`);
  await sleep(500);
  const after = memory();

  // telemetry
  phase = "run";
  const ackMs: number[] = [];
  let sent = 0, acked = 0, ackedInWindow = 0, backpressure = 0, inFlight = 0;
  const tStart = performance.now(), tEnd = tStart + o.seconds * 1000;
  const payload = (i: number, k: number) => JSON.stringify({ d: i, k, t: 21.5 });
  const send = (i: number, k: number): number => {
    const at = performance.now();
    const r = units[i].publish(payload(i, k), (err) => {
      inFlight--;
      if (err) return bump(errors, err);
      const now = performance.now();
      acked++;
      if (now <= tEnd) ackedInWindow++;
      ackMs.push(now - at);
      if (o.rate == "max" && now < tEnd) pump(i);
    });
    if (r > 0) { sent++; inFlight++; }
    else if (r == E_OUTBOX_FULL) backpressure++;
    else bump(errors, r);
    return r;
  };
  const counters = new Array(n).fill(0);
  function pump(i: number) {
    if (performance.now() >= tEnd) return;
    if (send(i, counters[i]++) == E_OUTBOX_FULL) wakers[i] = () => pump(i);
  }
  const timers: NodeJS.Timeout[] = [];
  if (o.rate == "max") {
    for (let i = 0; i < n; i++) for (let w = 0; w < o.window; w++) pump(i);
  } else {
    const every = 1000 / o.rate;
    for (let i = 0; i < n; i++) {
      timers.push(setTimeout(() => {
        send(i, counters[i]++);
        timers.push(setInterval(() => { if (performance.now() < tEnd) send(i, counters[i]++); }, every));
      }, Math.random() * every));
    }
  }
  while (performance.now() < tEnd) await sleep(50);
  for (const t of timers) clearTimeout(t);
  // drain: what is in flight is acknowledged
  const drainEnd = Date.now() + 15000;
  while (inFlight > 0 && Date.now() < drainEnd) await sleep(20);
  const atEnd = memory();
  const st = await server.stats(acked);
  phase = "end";
  const stillConnected = units.filter((u) => u.connected()).length;
  for (const u of units) u.end();
  await sleep(200);
  const r: LoadResult = {
    target: server.name, clients: n, connected, connect: pct(connectMs.filter((x) => x >= 0)), connectAll,
    seconds: o.seconds, sent, acked, mps: ackedInWindow / o.seconds, ack: pct(ackMs), backpressure, received: st.received,
    errors, closes,
    rssPerClient: (after.rss - before.rss) / Math.max(1, connected),
    heapPerClient: (after.heap - before.heap) / Math.max(1, connected),
    externalPerClient: (after.external - before.external) / Math.max(1, connected),
    serverRss: st.rss, serverErrors: st.errors, serverErrorSamples: st.samples, serverConnected: st.connected,
  };
  log(`  ${server.name}: sent ${sent}, acked ${acked}, ${r.mps.toFixed(0)}/s, ${stillConnected} still connected; ` +
    `RSS ${(atEnd.rss / 1048576).toFixed(0)} MB at the end`);
  return r;
}

/** Runs the load against each target in turn; resolves with one result per target. */
export async function runLoad(opts: Partial<LoadOptions> = {}): Promise<LoadResult[]> {
  const o: LoadOptions = { ...DEFAULTS, ...opts };
  const out: LoadResult[] = [];
  for (const t of o.targets) {
    const server = t == "hub" ? await hubServer(o) : await mosquittoServer(o);
    try {
      out.push(await runOne(server, o));
    } finally {
      await server.stop();
    }
  }
  return out;
}

const kb = (b: number) => (b / 1024).toFixed(1) + " KB";
const ms = (x: number) => x.toFixed(1) + " ms";

/** A table of results, Markdown. */
export function table(rs: LoadResult[]): string {
  const rows = [
    ["target", "clients", "connected", "connect p50 / p99 / max", "connect all", "msgs/s", "acked / sent", "PUBACK p50 / p99",
      "received", "RSS / client", "heap / client", "buffers / client", "server RSS", "errors"],
    ...rs.map((r) => [
      r.target, String(r.clients), String(r.connected), `${ms(r.connect.p50)} / ${ms(r.connect.p99)} / ${ms(r.connect.max)}`,
      ms(r.connectAll), r.mps.toFixed(0), `${r.acked} / ${r.sent}`, `${ms(r.ack.p50)} / ${ms(r.ack.p99)}`, String(r.received),
      kb(r.rssPerClient), kb(r.heapPerClient), kb(r.externalPerClient), (r.serverRss / 1048576).toFixed(0) + " MB",
      JSON.stringify({ ...r.errors, ...Object.fromEntries(Object.entries(r.closes).map(([k, v]) => ["close " + k, v])), ...(r.serverErrors ? { server: r.serverErrors } : {}), ...(r.backpressure ? { backpressure: r.backpressure } : {}) }),
    ]),
  ];
  return rows.map((r, i) => "| " + r.join(" | ") + " |" + (i == 0 ? "\n|" + r.map(() => "---").join("|") + "|" : "")).join("\n");
}

function args(argv: string[]): Partial<LoadOptions> & { json?: string } {
  const o: any = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    if (k == "--clients") o.clients = +v, i++;
    else if (k == "--seconds") o.seconds = +v, i++;
    else if (k == "--target") o.targets = v.split(","), i++;
    else if (k == "--rate") o.rate = v == "max" ? "max" : +v, i++;
    else if (k == "--window") o.window = +v, i++;
    else if (k == "--concurrency") o.concurrency = +v, i++;
    else if (k == "--plain") o.tls = false;
    else if (k == "--json") o.json = v, i++;
    else throw new Error(`unknown option ${k}`);
  }
  return o;
}

async function main() {
  const o = args(process.argv.slice(2));
  const clients = o.clients || DEFAULTS.clients;
  // descriptors: one per client here, plus the hub child's (it inherits this limit), plus slack
  const need = clients + 512;
  const lim = fdLimits();
  console.log(`load: ${clients} clients, ${o.seconds || DEFAULTS.seconds} s, rate ${o.rate || DEFAULTS.rate}; open files: soft ${lim.soft}, hard ${lim.hard}, needed ~${need}`);
  if (lim.soft < need) {
    if (lim.hard >= need && !process.env.TINYHUB_LOAD_REEXEC) {
      console.log(`load: raising the soft limit to ${need} (ulimit -n) and running again`);
      const child = spawn("/bin/sh", ["-c", `ulimit -Sn ${need} && exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
        { stdio: "inherit", env: { ...process.env, TINYHUB_LOAD_REEXEC: "1" } });
      child.on("exit", (code) => process.exit(code ?? 1));
      return;
    }
    console.log(`load: warning: soft limit ${lim.soft} < ${need} and cannot raise it (hard ${lim.hard}): connections may fail with EMFILE`);
  }
  const rs = await runLoad(o);
  console.log("\n" + table(rs));
  if (o.json) writeFileSync(o.json, JSON.stringify(rs, null, 2) + "\n");
  const bad = rs.filter((r) => r.connected < r.clients || Object.keys(r.errors).length || r.serverErrors || r.acked < r.sent);
  process.exit(bad.length ? 1 : 0);
}

if (process.argv[1] && import.meta.url == pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
