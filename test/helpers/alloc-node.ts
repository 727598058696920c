// Drives test/helpers/alloc-device.ts (one Node device in a child process) against the hub emulator running in
// this process: the hub's side of the session (C2D messages, desired-property updates, direct methods) is
// sent as the device's telemetry arrives. Returns the child's figures with the heap-snapshot comparison and
// the slope of the GC'd heap readings worked out.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config, Result } from "./alloc-device";
import { driveHub } from "../../tools/engines/hubdriver.js";
import type { HubSide } from "../../tools/engines/hubdriver.js";

const DEVICE = fileURLToPath(new URL("./alloc-device.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));


export interface Growth { name: string; start: number; end: number; growth: number }

export interface NodeFigures extends Result {
  hub: HubSide;
  /** Least-squares slope of the readings (snapshot data with `snapEach`, else heapUsed less code): bytes per 1,000 messages. */
  slopePer1k: number;
  slopeOf: "snapshot data" | "heapUsed less code";
  /** The slope of heapUsed less the code spaces (what bench/run.ts judges, code left out), bytes per 1,000 messages. */
  heapSlopePer1k: number;
  /** With `snapEach`: the snapshot data (dataBytes) at each reading. */
  snapshotData: number[] | null;
  /** Largest minus smallest reading. */
  spread: number;
  /** Objects (by constructor) and closures in the heap snapshots after the warm-up and at the end: what grew. */
  grew: Growth[] | null;
  /** Typed arrays and array buffers (Uint8Array, Buffer, ArrayBuffer, DataView...) in the start and end snapshots. */
  buffers: { start: number; end: number } | null;
  /** Bytes of the heap snapshots by node type (V8's: object, closure, string, array, code, hidden...), start and end. */
  bytes: { [type: string]: { start: number; end: number } } | null;
  /** Growth of the snapshot's data: every type but compiled code and V8's own metadata (code, hidden, object shape, synthetic). */
  dataGrowth: number | null;
  stderr: string;
}

/** Least-squares slope of y over x. */
export function slope(x: number[], y: number[]): number {
  const n = x.length, mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx ? sxy / sxx : 0;
}

/** The typed-array family, as V8 names their objects in a heap snapshot. */
export const BUFFER_NAMES = ["Uint8Array", "Buffer", "FastBuffer", "ArrayBuffer", "SharedArrayBuffer", "DataView", "Int8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];

/** Objects per constructor name ("object" nodes) and closures per function name ("closure: name") in a .heapsnapshot. */
/** Bytes of a snapshot's data: every node type but NOT_DATA. */
export function dataBytes(file: string): number {
  const b = new Map<string, number>();
  snapshotCounts(file, b);
  let n = 0;
  for (const [t, v] of b) if (!NOT_DATA.includes(t)) n += v;
  return n;
}

export function snapshotCounts(file: string, bytes?: Map<string, number>): Map<string, number> {
  const s = JSON.parse(readFileSync(file, "utf8"));
  const meta = s.snapshot.meta, F = meta.node_fields.length, types: string[] = meta.node_types[0];
  const ti = meta.node_fields.indexOf("type"), ni = meta.node_fields.indexOf("name"), si = meta.node_fields.indexOf("self_size");
  const nodes: number[] = s.nodes, strings: string[] = s.strings, m = new Map<string, number>();
  for (let i = 0; i < nodes.length; i += F) {
    const t = types[nodes[i + ti]];
    if (bytes) bytes.set(t, (bytes.get(t) || 0) + nodes[i + si]);
    let key: string;
    if (t == "object") key = strings[nodes[i + ni]];
    else if (t == "closure") key = "closure: " + (strings[nodes[i + ni]] || "(anonymous)");
    else if (t == "string" || t == "concatenated string" || t == "sliced string") key = "(strings)";
    else if (t == "array") key = "(internal arrays)";
    else continue;
    m.set(key, (m.get(key) || 0) + 1);
  }
  return m;
}

/** Node types that are the JIT's and V8's bookkeeping (they grow while functions get optimized), not data. */
export const NOT_DATA = ["code", "hidden", "object shape", "synthetic"];

export function compareSnapshots(start: string, end: string): { grew: Growth[]; buffers: { start: number; end: number }; bytes: NonNullable<NodeFigures["bytes"]>; dataGrowth: number } {
  const ab = new Map<string, number>(), bb = new Map<string, number>();
  const a = snapshotCounts(start, ab), b = snapshotCounts(end, bb);
  const bytes: NonNullable<NodeFigures["bytes"]> = {};
  let dataGrowth = 0;
  for (const t of new Set([...ab.keys(), ...bb.keys()])) {
    bytes[t] = { start: ab.get(t) || 0, end: bb.get(t) || 0 };
    if (!NOT_DATA.includes(t)) dataGrowth += bytes[t].end - bytes[t].start;
  }
  const grew: Growth[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const s = a.get(name) || 0, e = b.get(name) || 0;
    if (e != s) grew.push({ name, start: s, end: e, growth: e - s });
  }
  grew.sort((p, q) => q.growth - p.growth);
  const sum = (m: Map<string, number>) => BUFFER_NAMES.reduce((n, k) => n + (m.get(k) || 0), 0);
  return { grew, buffers: { start: sum(a), end: sum(b) }, bytes, dataGrowth };
}

export interface RunOptions {
  protocol: Config["protocol"];
  warmup: number;
  messages: number;
  readings: number;
  snapshots?: boolean;
  /** A heap snapshot at every reading too: the slope is judged on their data bytes (exact) instead of heapUsed. */
  snapEach?: boolean;
  census?: number;
  leak?: boolean;
  timeoutMs?: number;
  /** Hub events per telemetry messages: a C2D message every `c2dEvery`, desired every `desiredEvery`, a method every `methodEvery` (MQTT). */
  c2dEvery?: number;
  desiredEvery?: number;
  methodEvery?: number;
}

/** One device session in a child process against `hub` (started with mqtts and https ports). */
export async function runNodeDevice(hub: any, id: string, o: RunOptions): Promise<NodeFigures> {
  hub.registry.addDevice(id);
  const snapDir = o.snapshots ? mkdtempSync(join(tmpdir(), "tinyhub-alloc-snap-")) : null;
  const cfg: Config = {
    protocol: o.protocol, connectionString: hub.registry.connectionString(id), ca: hub.ca,
    port: o.protocol == "mqtt" ? hub.ports.mqtts : hub.ports.https,
    warmup: o.warmup, messages: o.messages, readings: o.readings, snapDir, snapEach: !!(snapDir && o.snapEach), census: o.census || 0, leak: !!o.leak,
  };
  const total = o.warmup + o.messages + 2 * (o.census || 0);
  // the hub's side stops 100 messages before the end: every event reaches the device before it ends
  const driver = driveHub(hub, id, { http: o.protocol == "http", stopAt: total - 100, c2dEvery: o.c2dEvery, desiredEvery: o.desiredEvery, methodEvery: o.methodEvery });
  let stderr = "";
  try {
    const lines: any[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const p = spawn(process.execPath, ["--expose-gc", "--import", "tsx", DEVICE, JSON.stringify(cfg)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let buf = "";
      const t = setTimeout(() => p.kill("SIGKILL"), o.timeoutMs || 120000);
      p.stdout.on("data", (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const l = buf.slice(0, i);
          buf = buf.slice(i + 1);
          try {
            lines.push(JSON.parse(l));
          } catch {
            stderr += l + "\n";
          }
        }
      });
      p.stderr.on("data", (d) => { stderr = (stderr + d).slice(-8000); });
      p.on("error", reject);
      p.on("close", (c) => {
        clearTimeout(t);
        resolve(c);
      });
    });
    const side = await driver.stop();
    const last = lines[lines.length - 1];
    if (code !== 0 || !last || last.ev != "result") throw new Error(`alloc-device ${o.protocol} exited ${code}: ${last && last.error ? last.error : ""}\n${stderr.trim().split("\n").slice(-10).join("\n")}`);
    const r = last as Result;
    let grew: Growth[] | null = null, buffers: NodeFigures["buffers"] = null, bytes: NodeFigures["bytes"] = null, dataGrowth: number | null = null;
    if (r.snapshots) ({ grew, buffers, bytes, dataGrowth } = compareSnapshots(r.snapshots.start, r.snapshots.end));
    const snapshotData = r.snapshots && r.snapshots.each.length ? r.snapshots.each.map(dataBytes) : null;
    return {
      ...r, hub: side, stderr, snapshotData,
      slopeOf: snapshotData ? "snapshot data" : "heapUsed less code",
      slopePer1k: Math.round(slope(r.at, snapshotData || r.readings) * 1000),
      heapSlopePer1k: Math.round(slope(r.at, r.readings) * 1000),
      spread: Math.max(...r.readings) - Math.min(...r.readings),
      grew, buffers, bytes, dataGrowth,
    };
  } finally {
    await driver.stop();
    if (snapDir && !process.env.ALLOC_KEEP_SNAPSHOTS) rmSync(snapDir, { recursive: true, force: true });
  }
}
