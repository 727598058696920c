// One IoT Hub device (targets/node createDevice) in a process of its own, for allocation accounting: run as
//
//   node --expose-gc --import tsx test/helpers/alloc-device.ts '<json Config>'
//
// by test/helpers/alloc-node.ts, whose process runs the hub emulator and drives the hub's side (C2D, desired
// updates, direct methods) so that nothing of the hub lives in this heap. Each stdout line is one JSON object;
// the last is the Result.
//
// The device sends telemetry (QoS 1; string and byte payloads by turns, properties) with at most `window` in
// flight, and over MQTT gets the twin and patches reported properties now and then; over HTTPS it polls for C2D.
// Phases:
//   1. warm-up: `warmup` messages
//   2. readings: a heap snapshot (when `snapDir`), then heapUsed after forced GCs; `readings` more steps of
//      messages/readings each, a reading after each; the end snapshot last (with `snapEach`, a snapshot at
//      every reading)
//   3. census (when `census` > 0): `census` more messages with V8's sampling heap profiler on (objects collected
//      by GC included: every allocation, not only what survives) and the typed-array constructors counted,
//      each charged to the library's call site on the stack (src/, targets/) or else to the application
//      (this file) or the runtime (Node's own code: sockets, TLS, timers)
// `leak` makes the application keep 32 bytes per acknowledged message: the canary the checks must catch.
import { writeHeapSnapshot, getHeapSpaceStatistics } from "node:v8";
import { Session } from "node:inspector";
import { findSourceMap } from "node:module";
import { join, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createDevice, errorName, E_OUTBOX_FULL, E_HUB_POLL_FAST } from "../../targets/node/index";
import type { Device, HttpDevice } from "../../targets/node/index";

export interface Config {
  protocol: "mqtt" | "mqtt-ws" | "http";
  connectionString: string;
  port: number;
  ca: string;
  warmup: number;
  messages: number;
  readings: number;
  window?: number;
  bufferSize?: number;
  snapDir?: string | null;
  snapEach?: boolean;
  census?: number;
  leak?: boolean;
}

export interface Counts { sent: number; acked: number; twins: number; patches: number; c2d: number; c2dBytes: number; desired: number; methods: number; polls: number }

/** Bytes or allocations charged to one place. */
export interface Site { site: string; kind: "library" | "application" | "runtime"; bytes: number; count: number }

export interface Census {
  messages: number;
  /** Sampling heap profiler (interval `interval` bytes), estimates: JS heap bytes and objects allocated. */
  interval: number;
  heap: { library: { bytes: number; count: number }; application: { bytes: number; count: number }; runtime: { bytes: number; count: number }; sites: Site[] };
  /** (a second pass of `messages`) Typed arrays and ArrayBuffers made (new Uint8Array/ArrayBuffer, Buffer.from/alloc/allocUnsafe/concat, Uint8Array#slice), by caller; exact counts. */
  buffers: { library: number; application: number; sites: { site: string; kind: string; count: number; bytes: number }[] };
}

export interface Result {
  ev: "result";
  protocol: string;
  warmup: number;
  messages: number;
  /** heapUsed after forced GCs, less the code spaces: after the warm-up, then after each step of messages / readings. */
  readings: number[];
  /** heapUsed itself at the same moments. */
  heapUsed: number[];
  /** Messages sent when each reading was taken (from the end of the warm-up). */
  at: number[];
  snapshots: { start: string; end: string; each: string[] } | null;
  counts: Counts;
  errors: string[];
  census: Census | null;
  ms: number;
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LIB = [join(ROOT, "src") + sep, join(ROOT, "targets") + sep], APP = join(ROOT, "test") + sep;

function out(o: object) {
  process.stdout.write(JSON.stringify(o) + "\n");
}

/** heapUsed after forced GCs, and the same without compiled code (which grows as the JIT optimizes, for a while). */
function settle(gc: () => void): { heapUsed: number; data: number } {
  for (let i = 0; i < 6; i++) gc();
  let code = 0;
  for (const s of getHeapSpaceStatistics()) if (s.space_name.startsWith("code")) code += s.space_used_size;
  const heapUsed = process.memoryUsage().heapUsed;
  return { heapUsed, data: heapUsed - code };
}

/** "library", "application" or null for a file path or URL. */
function kindOf(file: string): "library" | "application" | null {
  const f = file.startsWith("file://") ? fileURLToPath(file) : file;
  if (LIB.some((p) => f.startsWith(p))) return "library";
  if (f.startsWith(APP)) return "application";
  return null;
}

/** A generated (tsx) position as the TypeScript source's "src/x.ts:line". */
function sourcePos(url: string, line0: number, col0: number): string {
  let file = url.startsWith("file://") ? fileURLToPath(url) : url, line = line0 + 1;
  try {
    const m = findSourceMap(url.startsWith("file://") ? fileURLToPath(url) : url) || findSourceMap(url);
    const e: any = m && m.findEntry(line0, col0);
    if (e && e.originalSource) {
      file = e.originalSource.startsWith("file://") ? fileURLToPath(e.originalSource) : e.originalSource;
      line = e.originalLine + 1;
    }
  } catch {
    /* the generated position */
  }
  return file.startsWith(ROOT) ? file.slice(ROOT.length) + ":" + line : file + ":" + line;
}

export async function run(cfg: Config): Promise<Result> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  const started = Date.now();
  const http = cfg.protocol == "http", WINDOW = cfg.window || 4;
  const c: Counts = { sent: 0, acked: 0, twins: 0, patches: 0, c2d: 0, c2dBytes: 0, desired: 0, methods: 0, polls: 0 };
  const errors: string[] = [];
  const kept: Uint8Array[] = [];
  const bin = new Uint8Array(64).map((_, i) => (i * 13) & 255);
  const props: Record<string, string> = { seq: "", $contentType: "application/json", $contentEncoding: "utf-8" };
  let target = 0, twinsAsked = 0, patchesAsked = 0, pumping = false, wake: (() => void) | null = null;
  let up: () => void = () => {};
  const connected = new Promise<void>((r) => (up = r));

  const check = () => {
    if (wake && c.acked == target && c.twins == twinsAsked && c.patches == patchesAsked) {
      const w = wake;
      wake = null;
      w();
    }
  };
  const onAck = (err: number) => {
    if (err) errors.push(`telemetry ${c.acked}: ${errorName(err)}`);
    c.acked++;
    if (cfg.leak) kept.push(new Uint8Array(32));
    pump();
    check();
  };
  const o: any = {
    connectionString: cfg.connectionString, protocol: cfg.protocol, port: cfg.port, tls: { ca: cfg.ca },
    bufferSize: cfg.bufferSize || 4096, reconnect: false, requestTimeout: 10000,
    onConnect: () => up(),
    onClose: (code: number) => { if (code) errors.push("close " + errorName(code)); },
    onError: (code: number) => { if (code != E_HUB_POLL_FAST) errors.push("error " + errorName(code)); },
    onWritable: () => pump(),
    onMessage: (m: { payload: Uint8Array; offset: number; total: number }) => {
      c2dBytes(m);
      if (cfg.leak) kept.push(m.payload.slice());
    },
  };
  function c2dBytes(m: { payload: Uint8Array; offset: number; total: number }) {
    c.c2dBytes += m.payload.length;
    if (m.offset + m.payload.length >= m.total) c.c2d++;
  }
  if (http) o.pollInterval = 3600;
  else {
    o.onDesired = () => { c.desired++; };
    o.methods = { ping: (payload: any, respond: (status: number, payload?: unknown) => void) => { c.methods++; respond(200, { n: payload && payload.n }); } };
  }
  const d = createDevice(o) as Device | HttpDevice | number;
  if (typeof d == "number") throw new Error("createDevice: " + errorName(d));
  const dev = d;

  function pump() {
    if (pumping) return;
    pumping = true;
    try {
      while (c.sent < target && c.sent - c.acked < WINDOW) {
        const i = c.sent;
        props.seq = "" + i;
        const r = dev.sendEvent(i & 1 ? bin : '{"n":' + i + ',"t":21.5}', props, onAck);
        if (r == E_OUTBOX_FULL) break;
        if (r < 0) throw new Error(`sendEvent ${i}: ${errorName(r)}`);
        c.sent++;
        if (http) {
          if (i % 25 == 24) {
            (dev as HttpDevice).poll();
            c.polls++;
          }
        } else if (i % 50 == 10) {
          if ((dev as Device).getTwin((err) => { if (err) errors.push("getTwin " + errorName(err)); c.twins++; check(); }) > 0) twinsAsked++;
        } else if (i % 50 == 35) {
          if ((dev as Device).patchReported({ n: i, t: 21.5 }, (err) => { if (err) errors.push("patchReported " + errorName(err)); c.patches++; check(); }) > 0) patchesAsked++;
        }
      }
    } finally {
      pumping = false;
    }
  }

  /** Sends n more messages; resolves when every one (and every twin request) is answered. */
  function send(n: number): Promise<void> {
    target += n;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`stalled at ${c.acked} of ${target} acknowledged (twins ${c.twins}/${twinsAsked}, patches ${c.patches}/${patchesAsked}); ${errors.slice(-3).join(", ")}`)), 30000 + n * 20);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
      pump();
      check();
    });
  }

  dev.connect();
  if (!http) await connected;
  await send(cfg.warmup);
  out({ ev: "warm", counts: c });

  let snapshots: Result["snapshots"] = null;
  const readings: number[] = [], heapUsed: number[] = [], at: number[] = [];
  const read = () => {
    if (cfg.snapEach && snapshots) snapshots.each.push(writeHeapSnapshot(join(cfg.snapDir!, `reading-${readings.length}.heapsnapshot`)));
    const r = settle(gc);
    readings.push(r.data);
    heapUsed.push(r.heapUsed);
    at.push(c.sent - base);
  };
  if (cfg.snapDir) snapshots = { start: writeHeapSnapshot(join(cfg.snapDir, "start.heapsnapshot")), end: "", each: [] };
  const base = c.sent;
  read();
  for (let k = 1; k <= cfg.readings; k++) {
    await send(Math.round((cfg.messages * k) / cfg.readings) - Math.round((cfg.messages * (k - 1)) / cfg.readings));
    read();
    out({ ev: "reading", k, data: readings[k], heapUsed: heapUsed[k], at: at[k] });
  }
  if (snapshots) snapshots.end = writeHeapSnapshot(join(cfg.snapDir!, "end.heapsnapshot"));

  let census: Census | null = null;
  if (cfg.census) census = await takeCensus(cfg.census, send);

  await new Promise<void>((r) => dev.end(() => r()));
  return { ev: "result", protocol: cfg.protocol, warmup: cfg.warmup, messages: cfg.messages, readings, heapUsed, at, snapshots, counts: c, errors, census, ms: Date.now() - started };
}

/** `n` messages with allocation sampling and buffer counting on. */
async function takeCensus(n: number, send: (n: number) => Promise<void>): Promise<Census> {
  const interval = 128;
  const session = new Session();
  session.connect();
  const post = (m: string, p?: object) => new Promise<any>((res, rej) => session.post(m, p, (e, r) => (e ? rej(e) : res(r))));
  const buffers = countBuffers();
  // two passes: the counting wrappers are frames of this file and allocate, which the sampling would charge to them
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", { samplingInterval: interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await send(n);
  const { profile } = await post("HeapProfiler.stopSampling");
  await post("HeapProfiler.disable");
  session.disconnect();
  buffers.start();
  await send(n);
  buffers.stop();
  return { messages: n, interval, heap: chargeSamples(profile, interval), buffers: buffers.result() };
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children: ProfileNode[] }

/** Every sample of the sampling heap profile charged to the nearest frame of ours on its stack. */
function chargeSamples(profile: { head: ProfileNode; samples: { size: number; nodeId: number }[] }, interval: number): Census["heap"] {
  const owner = new Map<number, { site: string; kind: Site["kind"] }>();
  const walk = (node: ProfileNode, up: { site: string; kind: Site["kind"] } | null) => {
    let here = up;
    const f = node.callFrame, k = f.url ? kindOf(f.url) : null;
    // the innermost frame of ours decides: a frame deeper on the stack replaces what the outer ones said
    if (k) here = { site: `${f.functionName || "(anonymous)"} ${sourcePos(f.url, f.lineNumber, f.columnNumber)}`, kind: k };
    owner.set(node.id, here || { site: "runtime", kind: "runtime" });
    for (const ch of node.children) walk(ch, here);
  };
  walk(profile.head, null);
  const sites = new Map<string, Site>();
  const tot = { library: { bytes: 0, count: 0 }, application: { bytes: 0, count: 0 }, runtime: { bytes: 0, count: 0 } };
  for (const s of profile.samples) {
    const o = owner.get(s.nodeId) || { site: "runtime", kind: "runtime" as const };
    // a sample stands for 1 / P(sampled) allocations of its size (V8's own scaling)
    const w = 1 / (1 - Math.exp(-s.size / interval));
    const key = o.kind == "library" ? o.site : o.kind;
    let e = sites.get(key);
    if (!e) sites.set(key, (e = { site: key, kind: o.kind, bytes: 0, count: 0 }));
    e.bytes += s.size * w;
    e.count += w;
    tot[o.kind].bytes += s.size * w;
    tot[o.kind].count += w;
  }
  const round = (x: { bytes: number; count: number }) => ({ bytes: Math.round(x.bytes), count: Math.round(x.count) });
  return {
    library: round(tot.library), application: round(tot.application), runtime: round(tot.runtime),
    sites: [...sites.values()].map((s) => ({ ...s, ...round(s) })).sort((a, b) => b.bytes - a.bytes),
  };
}

/** Counts typed arrays made while on, by the caller of ours nearest on the stack. */
function countBuffers() {
  const sites = new Map<string, { site: string; kind: string; count: number; bytes: number }>();
  const tot = { library: 0, application: 0 };
  let on = false;
  const U8 = Uint8Array, AB = ArrayBuffer, B = Buffer as any, saved: [any, string, any][] = [];
  function note(what: string, bytes: number) {
    if (!on) return;
    on = false; // the stack capture below makes arrays of its own
    try {
      const stack = (new Error().stack || "").split("\n").slice(2);
      for (const line of stack) {
        const m = /\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?$/.exec(line.trim());
        if (!m || m[1].endsWith("alloc-device.ts")) continue; // the wrappers
        const k = kindOf(m[1]);
        if (!k) continue;
        const fn = /^at (?:new )?([^ (]+) \(/.exec(line.trim());
        const file = m[1].startsWith("file://") ? fileURLToPath(m[1]) : m[1];
        const site = k == "library" ? `${what} in ${fn ? fn[1] : "(anonymous)"} ${file.slice(ROOT.length)}:${m[2]}` : "application";
        let e = sites.get(site);
        if (!e) sites.set(site, (e = { site, kind: k, count: 0, bytes: 0 }));
        e.count++;
        e.bytes += bytes;
        tot[k]++;
        return;
      }
    } finally {
      on = true;
    }
  }
  const len = (a: any) => (typeof a == "number" ? a : a && typeof a.length == "number" ? a.length : a && a.byteLength) || 0;
  const wrap = (obj: any, name: string, what: string, size: (args: any[], r: any) => number) => {
    const f = obj[name];
    saved.push([obj, name, f]);
    obj[name] = function (this: any, ...args: any[]) {
      const r = f.apply(this, args);
      note(what, size(args, r));
      return r;
    };
  };
  return {
    start() {
      (globalThis as any).Uint8Array = new Proxy(U8, { construct(t, args, nt) { const r = Reflect.construct(t, args, nt === globalThis.Uint8Array ? t : nt); if (!(args[0] instanceof AB)) note("new Uint8Array", r.byteLength); return r; } });
      (globalThis as any).ArrayBuffer = new Proxy(AB, { construct(t, args, nt) { const r = Reflect.construct(t, args, nt === globalThis.ArrayBuffer ? t : nt); note("new ArrayBuffer", r.byteLength); return r; } });
      wrap(B, "from", "Buffer.from", (_a, r) => r.length);
      wrap(B, "alloc", "Buffer.alloc", (_a, r) => r.length);
      wrap(B, "allocUnsafe", "Buffer.allocUnsafe", (_a, r) => r.length);
      wrap(B, "concat", "Buffer.concat", (_a, r) => r.length);
      wrap(U8.prototype, "slice", "Uint8Array#slice", (_a, r) => len(r));
      on = true;
    },
    stop() {
      on = false;
      (globalThis as any).Uint8Array = U8;
      (globalThis as any).ArrayBuffer = AB;
      for (const [obj, name, f] of saved.reverse()) obj[name] = f;
    },
    result() {
      return { library: tot.library, application: tot.application, sites: [...sites.values()].sort((a, b) => b.count - a.count) };
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(JSON.parse(process.argv[2])).then(
    (r) => {
      out(r);
      process.exit(0);
    },
    (e) => {
      out({ ev: "failed", error: String(e && e.stack ? e.stack : e) });
      process.exit(1);
    },
  );
}
