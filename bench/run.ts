// tinyhub benchmarks: codec against mqtt-packet, end to end against MQTT.js through one local
// mosquitto, memory (heap over 100,000 messages, RSS of 1,000 idle clients) and bundle sizes.
//
//   npx tsx bench/run.ts            full run (about 2 minutes on 2 cores): builds, runs everything,
//                                   writes bench/results.json, bench/RESULTS.md, bench/charts/*.svg
//   npx tsx bench/run.ts --smoke    seconds: tiny counts, one round, 10 idle clients, no build;
//                                   writes to a new temp dir (or --out DIR), never to bench/
//   flags: --out DIR  --no-build  --rounds N (end-to-end rounds, default 9)
//          --render: no measuring, RESULTS.md and charts again from results.json (e.g. after editing bench/notes.md)
//
// Every measurement of a library runs in its own child process (bench/worker.ts, only that library
// loaded) so that CPU time and heap are attributable; the codec runs both codecs in one child.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { startMosquitto, Mosquitto, MOSQUITTO } from "../test/helpers/mosquitto";
import { table as loadTable } from "../test/load/load";
import type { CodecResult } from "./codec";
import type { E2EResult, IdleResult, BurstSub, BurstPub } from "./worker";
import {
  Results, E2ESection, LibE2E, BurstSection, BurstLib, Stat, SizeRow, Goal, HeapLib, IdleLib, EspruinoBench, consoleReport, markdown, charts, fmtInt, insertSection,
} from "./report";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const require = createRequire(path.join(ROOT, "package.json"));

const argv = process.argv.slice(2);
const flag = (f: string) => argv.includes(f);
const opt = (f: string) => {
  const i = argv.indexOf(f);
  return i >= 0 ? argv[i + 1] : undefined;
};
const SMOKE = flag("--smoke");
const OUT = opt("--out") || (SMOKE ? fs.mkdtempSync(path.join(os.tmpdir(), "tinyhub-bench-")) : BENCH);
const BUILD = !SMOKE && !flag("--no-build");

const CFG = SMOKE
  ? { rounds: 1, payload: 64, q0: { n: 1000, warm: 200, window: 256 }, q1: { n: 600, warm: 200, window: 32 }, heap: { n: 2000, warm: 500 }, clients: 10,
      burst0: { n: 2000, warm: 500 }, burst1: { n: 1000, warm: 500 } }
  : { rounds: +(opt("--rounds") || 9), payload: 64, q0: { n: 80000, warm: 5000, window: 256 }, q1: { n: 50000, warm: 5000, window: 32 }, heap: { n: 100000, warm: 20000 }, clients: 1000,
      burst0: { n: 100000, warm: 10000 }, burst1: { n: 50000, warm: 5000 } };

const LIBS = ["ours", "mqttjs"] as const;
const errors: string[] = [];
const log = (s: string) => process.stderr.write(s + "\n");

// ---- helpers ---------------------------------------------------------------------------------

function median(a: number[]): number {
  if (!a.length) return NaN;
  const s = [...a].sort((p, q) => p - q), m = s.length >> 1;
  return s.length & 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const stat = (a: number[]): Stat => ({ median: +median(a).toFixed(2), rounds: a });

/** Runs a TypeScript file in a child node (tsx), returns the JSON its last stdout line holds. */
function child<T>(file: string, args: string[], o: { gc?: boolean; timeoutMs: number }): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...(o.gc ? ["--expose-gc"] : []), "--import", "tsx", path.join(BENCH, file), ...args], {
      cwd: ROOT, stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    const t = setTimeout(() => p.kill("SIGKILL"), o.timeoutMs);
    p.on("close", (code, sig) => {
      clearTimeout(t);
      const last = out.trim().split("\n").pop() || "";
      if (code === 0 && last.startsWith("{")) return resolve(JSON.parse(last) as T);
      reject(new Error(`${file} ${args.join(" ")}: ${sig ? "killed by " + sig + " (timeout?)" : "exit " + code}\n${err.trim().split("\n").slice(-8).join("\n")}`));
    });
  });
}

/** CPU milliseconds (user + system) a process has used so far, from /proc. */
function procCpuMs(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((+f[11] + +f[12]) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

function version(pkg: string): string | null {
  try {
    return JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`), "utf8")).version;
  } catch {
    try {
      // packages whose "exports" hide package.json
      let d = path.dirname(require.resolve(pkg));
      while (d != path.dirname(d)) {
        const f = path.join(d, "package.json");
        if (fs.existsSync(f)) {
          const j = JSON.parse(fs.readFileSync(f, "utf8"));
          if (j.name == pkg) return j.version;
        }
        d = path.dirname(d);
      }
    } catch { /* not installed */ }
    return null;
  }
}

const load = () => os.loadavg().map((v) => +v.toFixed(2));

function machine(): Results["machine"] {
  let cpu = os.cpus()[0]?.model || "?";
  try {
    const m = /model name\s*:\s*(.*)/.exec(fs.readFileSync("/proc/cpuinfo", "utf8"));
    if (m) cpu = m[1].trim();
  } catch { /* not Linux */ }
  const mq = spawnSync(MOSQUITTO, ["-h"], { encoding: "utf8" });
  const mv = /mosquitto version [^\s]+/.exec((mq.stdout || "") + (mq.stderr || ""));
  return {
    cpu, cores: os.cpus().length, ramGiB: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.versions.node,
    mosquitto: mv ? mv[0] : "mosquitto (version unknown)", os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadBefore: load(), loadAfter: [],
  };
}

// ---- size ------------------------------------------------------------------------------------

async function esbuildSize(name: string, what: string, contents: string): Promise<SizeRow> {
  const esbuild = await import("esbuild");
  const r = await esbuild.build({
    stdin: { contents, resolveDir: ROOT, loader: "ts", sourcefile: "bench-entry.ts" },
    bundle: true, minify: true, platform: "node", format: "esm", target: "node20", write: false, logLevel: "silent",
  });
  const code = r.outputFiles[0].contents;
  return { name, what, min: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

async function sizes(): Promise<Results["size"]> {
  let reportNote = "";
  if (BUILD) {
    log("size: npm run build");
    const b = spawnSync("npm", ["run", "-s", "build"], { cwd: ROOT, encoding: "utf8" });
    if (b.status !== 0) {
      errors.push("npm run build failed; sizes are from the dist/ already there");
      reportNote = "npm run build failed during this run: the tinyhub figures are from the dist/ that was there. ";
    }
    // exits 1 when a bundle is over its budget; the report is written either way
    spawnSync(process.execPath, ["tools/size.js"], { cwd: ROOT, encoding: "utf8" });
  }
  const report: SizeRow[] = [];
  const file = path.join(ROOT, "size-report.json");
  try {
    const j = JSON.parse(fs.readFileSync(file, "utf8"));
    const when = fs.statSync(file).mtime.toISOString().slice(0, 16).replace("T", " ");
    reportNote += `tinyhub figures from size-report.json (tools/size.js, written ${when} UTC${BUILD ? ", after npm run build in this run" : ""}): the embedded bundles as built, the Node bundle through terser; gzip -9.`;
    for (const [k, e] of Object.entries<any>(j.entries)) {
      report.push({ name: `tinyhub dist/${k}.js`, what: k.startsWith("node/") ? "rollup + terser" : "rollup (minified)", min: e.min, gzip: e.gzip, budget: e.budget });
    }
  } catch {
    reportNote += "size-report.json not available (run npm run build && node tools/size.js).";
    report.push({ name: "tinyhub dist/*", what: "tools/size.js", note: "size-report.json missing" });
  }
  const node = path.join(ROOT, "targets/node/index.ts").replace(/\\/g, "/");
  const eb: SizeRow[] = [];
  const try1 = async (name: string, what: string, code: string, pkgs: string[]) => {
    const missing = pkgs.filter((p) => !version(p));
    if (missing.length) return eb.push({ name, what, note: "not installed (" + missing.join(", ") + ")" });
    try {
      eb.push(await esbuildSize(name, what, code));
    } catch (e) {
      errors.push(`esbuild ${name}: ${(e as Error).message.split("\n")[0]}`);
      eb.push({ name, what, note: "esbuild failed" });
    }
  };
  await try1("tinyhub createClient (esbuild)", "esbuild: createClient", `export { createClient } from ${JSON.stringify(node)};`, []);
  await try1("tinyhub createDevice (esbuild)", "esbuild: createDevice", `export { createDevice } from ${JSON.stringify(node)};`, []);
  await try1("tinyhub whole Node entry (esbuild)", "esbuild: export *", `export * from ${JSON.stringify(node)};`, []);
  await try1("MQTT.js (esbuild)", "esbuild: import mqtt", `import mqtt from "mqtt"; export default mqtt;`, ["mqtt"]);
  await try1("Azure IoT device SDK + MQTT (esbuild)", "esbuild: Client, Message, Mqtt",
    `export { Client, Message } from "azure-iot-device"; export { Mqtt } from "azure-iot-device-mqtt";`, ["azure-iot-device", "azure-iot-device-mqtt"]);
  return { report, reportNote, esbuild: eb };
}

// ---- end to end ------------------------------------------------------------------------------

async function e2eSection(broker: Mosquitto, qos: number, c: { n: number; warm: number; window: number }): Promise<E2ESection> {
  const runs: { [lib: string]: { r: E2EResult; brokerUs: number }[] } = { ours: [], mqttjs: [] };
  for (let round = 0; round < CFG.rounds; round++) {
    // alternate who goes first
    for (const lib of round & 1 ? [...LIBS].reverse() : LIBS) {
      const b0 = procCpuMs(broker.pid());
      try {
        const r = await child<E2EResult>("worker.ts", ["e2e", "--lib", lib, "--port", String(broker.ports.mqtt), "--qos", String(qos),
          "--n", String(c.n), "--warm", String(c.warm), "--window", String(c.window), "--payload", String(CFG.payload)], { timeoutMs: 90000 });
        const brokerUs = ((procCpuMs(broker.pid()) - b0) * 1000) / (c.n + c.warm);
        runs[lib].push({ r, brokerUs });
        log(`e2e qos ${qos} round ${round + 1}/${CFG.rounds} ${lib}: ${fmtInt(r.rate)} msg/s, ${r.cpuUsPerMsg} µs CPU/msg`);
      } catch (e) {
        errors.push((e as Error).message);
        log(String((e as Error).message));
      }
    }
  }
  const lib = (k: string): LibE2E => ({
    rate: stat(runs[k].map((x) => x.r.rate)),
    cpuUsPerMsg: stat(runs[k].map((x) => x.r.cpuUsPerMsg)),
    peakHeap: stat(runs[k].map((x) => x.r.peakHeap)),
    brokerUsPerMsg: stat(runs[k].map((x) => +x.brokerUs.toFixed(2))),
  });
  const ours = lib("ours"), mqttjs = lib("mqttjs");
  const paired = ours.rate.rounds.slice(0, mqttjs.rate.rounds.length).map((v, i) => v / mqttjs.rate.rounds[i]);
  return {
    qos, ...c, payload: CFG.payload, rounds: CFG.rounds, ours, mqttjs,
    ratio: +(ours.rate.median / mqttjs.rate.median).toFixed(2), pairedRatio: +median(paired).toFixed(2),
  };
}

// ---- burst: publisher and subscriber in two processes, each library's and mosquitto's C clients ----------

export const MOSQUITTO_PUB = process.env.MOSQUITTO_PUB || "mosquitto_pub", MOSQUITTO_SUB = process.env.MOSQUITTO_SUB || "mosquitto_sub";
const hasCClients = () => spawnSync(MOSQUITTO_PUB, ["--help"]).status != null && spawnSync(MOSQUITTO_SUB, ["--help"]).status != null;
/** libmosquitto's default is 20 QoS 1 messages in flight; the burst lets mosquitto_pub keep as many as tinyhub's 64 KB buffer holds. */
const C_INFLIGHT = 500;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface BurstRun { rate: number; cpuUs: number; timed: number; lost: number; brokerUs: number }

/** A child that prints lines; `line(re)` resolves with the first stdout line that matches, `done` at exit. */
function proc(cmd: string, args: string[], stdin: "pipe" | "ignore" = "ignore") {
  const p = spawn(cmd, args, { cwd: ROOT, stdio: [stdin, "pipe", "pipe"] });
  let out = "", err = "";
  const waiters: { re: RegExp; res: (l: string) => void }[] = [];
  p.stdout?.on("data", (d) => {
    out += d;
    for (const w of [...waiters]) {
      const l = out.split("\n").find((x) => w.re.test(x));
      if (l) waiters.splice(waiters.indexOf(w), 1), w.res(l);
    }
  });
  p.stderr!.on("data", (d) => (err += d));
  const done = new Promise<number>((res) => p.on("close", (code) => res(code ?? -1)));
  return {
    p, done, out: () => out, err: () => err,
    line: (re: RegExp, ms: number) => new Promise<string>((res, rej) => {
      waiters.push({ re, res });
      setTimeout(() => rej(new Error(`${path.basename(cmd)} ${args.slice(0, 2).join(" ")}: no ${re} within ${ms} ms\n${err.trim().split("\n").slice(-5).join("\n")}`)), ms).unref();
      p.stdout?.emit("data", "");
    }),
  };
}

/** CPU microseconds of a process's waited-for children (cutime + cstime), printed by `sh -c '...; cat /proc/$$/stat'`. */
const childCpuUs = (stat: string) => {
  const f = stat.split(") ")[1].split(" ");
  return ((+f[13] + +f[14]) * 1e6) / 100;
};

async function burstNode(broker: Mosquitto, lib: string, qos: number, c: { n: number; warm: number }, topic: string): Promise<BurstRun> {
  const common = ["--lib", lib, "--port", String(broker.ports.mqtt), "--qos", String(qos), "--n", String(c.n), "--warm", String(c.warm),
    "--payload", String(CFG.payload), "--topic", topic, "--quiet", String(QUIET)];
  const node = (job: string, stdin: "pipe" | "ignore") => proc(process.execPath, ["--import", "tsx", path.join(BENCH, "worker.ts"), job, ...common], stdin);
  const sub = node("bsub", "ignore");
  try {
    await sub.line(/"ready"/, 30000);
    const b0 = procCpuMs(broker.pid());
    const pub = node("bpub", "pipe");
    try {
      const deadline = setTimeout(() => sub.p.kill("SIGKILL"), 90000);
      await sub.done;
      clearTimeout(deadline);
      pub.p.stdin!.end();
      const s = JSON.parse(await sub.line(/"rate"/, 1000)) as BurstSub;
      const pr = JSON.parse(await pub.line(/"cpuUs"/, 30000)) as BurstPub;
      await pub.done;
      return { rate: s.rate, cpuUs: (s.cpuUs + pr.cpuUs) / s.timed, timed: s.timed, lost: c.n + c.warm - s.received, brokerUs: ((procCpuMs(broker.pid()) - b0) * 1000) / (c.n + c.warm) };
    } finally {
      pub.p.kill("SIGKILL");
    }
  } finally {
    sub.p.kill("SIGKILL");
  }
}

/**
 * mosquitto_sub -F %U (each arrival's time, into a file) and mosquitto_pub -l reading W + N lines of the payload;
 * CPU = both processes' whole lives (C: nothing to warm up) / (W + N).
 */
async function burstC(broker: Mosquitto, qos: number, c: { n: number; warm: number }, topic: string, lines: string): Promise<BurstRun> {
  const total = c.n + c.warm, port = String(broker.ports.mqtt), outFile = lines + "." + topic.replace(/\W/g, "_");
  const q = (s: string) => "'" + s.replace(/'/g, "'\\''") + "'";
  const sub = proc("/bin/sh", ["-c", `${q(MOSQUITTO_SUB)} -p ${port} -t ${q(topic)} -q ${qos} -C ${total} -F %U > ${q(outFile)}; cat /proc/$$/stat >&2`]);
  try {
    // no "subscribed" signal from mosquitto_sub without -d (which prints a line per message): a C client is
    // connected and subscribed on 127.0.0.1 within a few milliseconds
    await sleep(SMOKE ? 200 : 500);
    const b0 = procCpuMs(broker.pid());
    const pub = proc("/bin/sh", ["-c", `${q(MOSQUITTO_PUB)} -p ${port} -t ${q(topic)} -q ${qos} -M ${C_INFLIGHT} -l < ${q(lines)}; cat /proc/$$/stat >&2`], "ignore");
    const pubCode = await pub.done;
    if (pubCode != 0) throw new Error("mosquitto_pub: exit " + pubCode + " " + pub.err());
    // mosquitto_sub exits at its count; when the broker dropped QoS 0 messages it never gets there
    let size = -1;
    while (sub.p.exitCode == null) {
      await Promise.race([sub.done, sleep(QUIET)]);
      const now = fs.statSync(outFile).size;
      if (sub.p.exitCode == null && now == size) {
        spawnSync("pkill", ["-INT", "-P", String(sub.p.pid)]);
        await sub.done;
      }
      size = now;
    }
    const times = fs.readFileSync(outFile, "utf8").trim().split("\n").filter(Boolean).map(Number);
    const timed = times.length - c.warm, ms = (times[times.length - 1] - times[c.warm]) * 1000;
    const cpu = childCpuUs(pub.err().trim().split("\n").pop()!) + childCpuUs(sub.err().trim().split("\n").pop()!);
    return { rate: Math.round((timed * 1000) / ms), cpuUs: cpu / times.length, timed, lost: total - times.length, brokerUs: ((procCpuMs(broker.pid()) - b0) * 1000) / total };
  } finally {
    sub.p.kill("SIGKILL");
    fs.rmSync(outFile, { force: true });
  }
}
/** Milliseconds without a message after which a subscriber stops waiting for the messages the broker dropped. */
const QUIET = SMOKE ? 500 : 2000;

const BURST_LIBS = ["ours", "mqttjs", "c"] as const;

async function burstSection(broker: Mosquitto, qos: number, c: { n: number; warm: number }): Promise<BurstSection> {
  const runs: { [lib: string]: BurstRun[] } = { ours: [], mqttjs: [], c: [] };
  const withC = hasCClients();
  const lines = path.join(os.tmpdir(), `tinyhub-burst-${process.pid}-q${qos}.txt`);
  if (withC) fs.writeFileSync(lines, ("a".repeat(CFG.payload) + "\n").repeat(c.n + c.warm));
  try {
    for (let round = 0; round < CFG.rounds; round++) {
      // rotate who goes first
      const order = BURST_LIBS.map((_, i) => BURST_LIBS[(i + round) % BURST_LIBS.length]).filter((l) => withC || l != "c");
      for (const lib of order) {
        const topic = `bench/burst/${process.pid}/${lib}/${qos}/${round}`;
        try {
          const r = lib == "c" ? await burstC(broker, qos, c, topic, lines) : await burstNode(broker, lib, qos, c, topic);
          runs[lib].push(r);
          log(`burst qos ${qos} round ${round + 1}/${CFG.rounds} ${lib}: ${fmtInt(r.rate)} msg/s, ${r.cpuUs.toFixed(2)} µs CPU/msg${r.lost ? ", " + r.lost + " lost" : ""}`);
        } catch (e) {
          errors.push(`burst qos ${qos} ${lib}: ${(e as Error).message}`);
          log(String((e as Error).message));
        }
      }
    }
  } finally {
    fs.rmSync(lines, { force: true });
  }
  const lib = (k: string): BurstLib | null => runs[k].length ? {
    rate: stat(runs[k].map((x) => x.rate)), cpuUsPerMsg: stat(runs[k].map((x) => +x.cpuUs.toFixed(2))),
    brokerUsPerMsg: stat(runs[k].map((x) => +x.brokerUs.toFixed(2))), lost: runs[k].map((x) => x.lost),
  } : null;
  const ours = lib("ours"), mqttjs = lib("mqttjs"), cc = lib("c");
  const ratio = (a: BurstLib | null, b: BurstLib | null) => (a && b ? +(a.rate.median / b.rate.median).toFixed(2) : NaN);
  return {
    qos, ...c, payload: CFG.payload, rounds: CFG.rounds, buffer: 65536, cInflight: C_INFLIGHT, ours: ours!, mqttjs: mqttjs!, c: cc,
    cNote: withC ? "" : `${MOSQUITTO_PUB} / ${MOSQUITTO_SUB} not found (Debian: apt-get install mosquitto-clients)`,
    ratio: ratio(ours, mqttjs), ofC: ratio(ours, cc), mqttjsOfC: ratio(mqttjs, cc),
    cpuRatio: ours && mqttjs ? +(ours.cpuUsPerMsg.median / mqttjs.cpuUsPerMsg.median).toFixed(2) : NaN,
  };
}

const NONE_HEAP: HeapLib = { loaded: NaN, heapWarm: NaN, heapMid: NaN, heapEnd: NaN, growth: NaN, growth2: NaN, samples: [], slopePer1k: NaN, spread: NaN, peakHeap: NaN, rssEnd: NaN, rate: NaN };

/** Least-squares slope of y over x. */
function slope(x: number[], y: number[]): number {
  const n = x.length, mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx ? sxy / sxx : 0;
}
type Base = { heap: number; rss: number };
const NONE_IDLE = (n: number): IdleLib => ({ clients: n, connected: 0, rssBefore: NaN, rssAfter: NaN, heapBefore: NaN, heapAfter: NaN, rssPerClient: NaN, heapPerClient: NaN, connectMs: NaN });

async function memory(broker: Mosquitto): Promise<Results["memory"]> {
  const heap: { [k: string]: HeapLib } = {}, idle: { [k: string]: IdleLib } = {}, base: { [k: string]: Base } = {};
  for (const lib of ["none", ...LIBS]) {
    try {
      base[lib] = await child<Base>("worker.ts", ["base", "--lib", lib], { gc: true, timeoutMs: 30000 });
    } catch (e) {
      errors.push((e as Error).message);
      base[lib] = { heap: NaN, rss: NaN };
    }
  }
  for (const lib of LIBS) {
    try {
      const r = await child<E2EResult>("worker.ts", ["heap", "--lib", lib, "--port", String(broker.ports.mqtt), "--qos", "1",
        "--n", String(CFG.heap.n), "--warm", String(CFG.heap.warm), "--window", "32", "--payload", String(CFG.payload)], { gc: true, timeoutMs: 120000 });
      const y = r.heapSamples!, xs = y.map((_, k) => (k * CFG.heap.n) / (y.length - 1));
      heap[lib] = {
        loaded: base[lib].heap, heapWarm: r.heapWarm!, heapMid: r.heapMid!, heapEnd: r.heapEnd!,
        growth: r.heapEnd! - r.heapWarm!, growth2: r.heapEnd! - r.heapMid!,
        samples: y, slopePer1k: Math.round(slope(xs, y) * 1000), spread: Math.max(...y) - Math.min(...y),
        peakHeap: r.peakHeap, rssEnd: r.rssEnd!, rate: r.rate,
      };
      log(`heap ${lib}: ${r.heapSamples!.map((v) => (v / 1048576).toFixed(3)).join(" ")} MiB over ${fmtInt(CFG.heap.n)} msgs`);
    } catch (e) {
      errors.push((e as Error).message);
      heap[lib] = NONE_HEAP;
    }
  }
  for (const lib of LIBS) {
    try {
      const r = await child<IdleResult>("worker.ts", ["idle", "--lib", lib, "--port", String(broker.ports.mqtt), "--clients", String(CFG.clients)], { gc: true, timeoutMs: 120000 });
      idle[lib] = r;
      log(`idle ${lib}: ${r.connected} clients, RSS ${(r.rssAfter / 1048576).toFixed(1)} MiB, ${fmtInt(r.rssPerClient)} B RSS per client`);
    } catch (e) {
      errors.push((e as Error).message);
      idle[lib] = NONE_IDLE(CFG.clients);
    }
  }
  return {
    heap: { n: CFG.heap.n, warm: CFG.heap.warm, qos: 1, window: 32, payload: CFG.payload, empty: base.none, ours: heap.ours, mqttjs: heap.mqttjs },
    idle: { clients: CFG.clients, ours: idle.ours, mqttjs: idle.mqttjs },
  };
}

// ---- goals -----------------------------------------------------------------------------------

function goals(r: Pick<Results, "codec" | "e2e" | "burst" | "memory">): Goal[] {
  const g: Goal[] = [];
  const ratios = r.codec.cases.map((c) => c.ratio);
  const geo = Math.exp(ratios.reduce((s, v) => s + Math.log(v), 0) / ratios.length);
  g.push({ name: "codec vs mqtt-packet (geometric mean of all cases)", goal: ">= 3x", value: geo.toFixed(2) + "x", met: geo >= 3 });
  for (const c of r.codec.cases) g.push({ name: `codec: ${c.name} ${c.op}`, goal: ">= 3x", value: c.ratio.toFixed(2) + "x", met: c.ratio >= 3 });
  g.push({ name: "QoS 0 msg/s vs MQTT.js", goal: ">= 1.5x", value: r.e2e.qos0.ratio.toFixed(2) + "x", met: r.e2e.qos0.ratio >= 1.5 });
  g.push({ name: "QoS 1 msg/s vs MQTT.js", goal: ">= 1.2x", value: r.e2e.qos1.ratio.toFixed(2) + "x", met: r.e2e.qos1.ratio >= 1.2 });
  for (const s of [r.e2e.qos0, r.e2e.qos1]) {
    const v = s.ours.cpuUsPerMsg.median / s.mqttjs.cpuUsPerMsg.median;
    g.push({ name: `QoS ${s.qos} client CPU per message vs MQTT.js (window ${s.window})`, goal: "<= 0.5x", value: v.toFixed(2) + "x", met: v <= 0.5 });
  }
  for (const s of r.burst ? [r.burst.qos0, r.burst.qos1] : []) {
    g.push({ name: `QoS ${s.qos} burst client CPU per message vs MQTT.js`, goal: "<= 0.5x", value: s.cpuRatio.toFixed(2) + "x", met: s.cpuRatio <= 0.5 });
    g.push({ name: `QoS ${s.qos} burst msg/s vs MQTT.js`, goal: ">= 1.5x", value: s.ratio.toFixed(2) + "x", met: s.ratio >= 1.5 });
    g.push({ name: `QoS ${s.qos} burst msg/s vs mosquitto's C clients`, goal: ">= 0.8x", value: s.c ? s.ofC.toFixed(2) + "x" : "not measured", met: !!s.c && s.ofC >= 0.8 });
  }
  const h = r.memory.heap.ours;
  // the design's claim: heap in use after warm-up does not grow over 100,000 messages. Through real sockets
  // the readings scatter by ~100-200 KiB (Node's own net/stream/timer internals, for MQTT.js too), so the
  // test is the slope of 11 readings: under 1 byte per message (100 KiB over 100,000) is "flat".
  g.push({ name: `tinyhub heap slope over ${fmtInt(r.memory.heap.n)} messages after warm-up`, goal: "< 1,000 B / 1,000 msgs", value: fmtInt(h.slopePer1k) + " B / 1,000 msgs", met: h.slopePer1k < 1000 });
  return g;
}

// ---- main ------------------------------------------------------------------------------------

const RERUN = `\`\`\`sh
npm run bench            # = tsx bench/run.ts: builds, then everything; writes bench/results.json, bench/RESULTS.md, bench/charts/
npx tsx bench/run.ts --no-build --rounds 15  # skip the build (use dist/ and size-report.json as they are), more rounds
npx tsx bench/run.ts --smoke                 # seconds, tiny counts, output in a temp dir (what npm test runs)
npx tsx bench/run.ts --render                # RESULTS.md and charts again from bench/results.json, no measuring
npx tsx bench/espruino.ts                    # the Espruino section (bench/espruino.json; real interpreter, ~2 min); then --render
npx tsx bench/wire.ts                        # bytes on the wire per protocol, ours and the Azure SDK's (bench/wire.md, ~30 s)
node --import tsx bench/codec.ts             # the codec part alone, one JSON line
\`\`\`

Needs \`mosquitto\` (\`/usr/sbin/mosquitto\`, or \`MOSQUITTO=\`), started on free 127.0.0.1 ports by
\`test/helpers/mosquitto.ts\`. For the Azure SDK size row: \`npm i -D azure-iot-device azure-iot-device-mqtt\`.
The burst's C-client rows need \`mosquitto_pub\` and \`mosquitto_sub\` (Debian: \`mosquitto-clients\`; \`MOSQUITTO_PUB=\`, \`MOSQUITTO_SUB=\`);
without them the rows say so and the rest runs. Profile the timed part of one process against a running broker:
\`BENCH_PROF=/tmp/p node --import tsx bench/worker.ts e2e --lib ours --port P --qos 1 --n 100000 --window 32\`, then
\`npx tsx bench/profiles/summary.ts /tmp/p-e2e.cpuprofile\` (the burst jobs too: bench/profiles/README.md).`;

/** Writes results.json, RESULTS.md (with bench/notes.md as its analysis) and the charts. */
function write(r: Results) {
  fs.mkdirSync(path.join(OUT, "charts"), { recursive: true });
  fs.writeFileSync(path.join(OUT, "results.json"), JSON.stringify(r, null, 2) + "\n");
  for (const [f, svg] of Object.entries(charts(r))) fs.writeFileSync(path.join(OUT, "charts", f), svg);
  let notes = "(no bench/notes.md)", espruino: EspruinoBench | undefined;
  try { notes = fs.readFileSync(path.join(BENCH, "notes.md"), "utf8"); } catch { /* none */ }
  try { espruino = JSON.parse(fs.readFileSync(path.join(BENCH, "espruino.json"), "utf8")); } catch { /* not run */ }
  let md = markdown(r, notes, RERUN, espruino);
  try { md = insertSection(md, "Bytes on the wire (issue 14)", fs.readFileSync(path.join(BENCH, "wire.md"), "utf8")); } catch { /* bench/wire.ts not run */ }
  fs.writeFileSync(path.join(OUT, "RESULTS.md"), md);
}

async function main() {
  if (flag("--render")) {
    // no measuring: RESULTS.md and the charts again from results.json (after editing notes.md or the report)
    const r = JSON.parse(fs.readFileSync(path.join(OUT, "results.json"), "utf8")) as Results;
    write(r);
    console.log(consoleReport(r));
    return;
  }
  const t0 = Date.now();
  log(`bench: ${SMOKE ? "smoke" : "full"} run, output to ${OUT}`);
  const mach = machine();
  const peers: Results["peers"] = {};
  for (const p of ["mqtt", "mqtt-packet", "esbuild", "azure-iot-device", "azure-iot-device-mqtt"]) peers[p] = version(p);

  const size = await sizes();
  log("size: done");

  log("codec: running (both codecs in one child process)");
  let codec: CodecResult;
  try {
    codec = await child<CodecResult>("codec.ts", SMOKE ? ["--smoke"] : [], { timeoutMs: 180000 });
  } catch (e) {
    errors.push((e as Error).message);
    codec = { rounds: 0, batchMs: 0, cases: [] };
  }

  const broker = await startMosquitto({ tls: false });
  let e2e: Results["e2e"], mem: Results["memory"], burst: Results["burst"];
  try {
    const q0 = await e2eSection(broker, 0, CFG.q0);
    const q1 = await e2eSection(broker, 1, CFG.q1);
    e2e = {
      qos0: q0, qos1: q1,
      note: `One process per library per round, holding two clients of that library: a publisher and a subscriber
(two connections to the same mosquitto on 127.0.0.1), subscribed at the QoS it publishes with; ${CFG.payload} B payloads,
one topic. The publisher keeps at most a fixed window of messages in flight: published but not yet received by the
subscriber (and for QoS 1 not yet acknowledged with PUBACK): ${q0.window} for QoS 0, ${q1.window} for QoS 1. Each process
sends ${fmtInt(CFG.q0.warm)} (QoS 0) / ${fmtInt(CFG.q1.warm)} (QoS 1) messages of warm-up, then ${fmtInt(q0.n)} / ${fmtInt(q1.n)} timed messages;
msg/s = timed messages / (first publish .. last receive and last PUBACK). Client CPU = process.cpuUsage() delta of that
process over the timed part (both clients, user + system); broker CPU = mosquitto's /proc utime + stime over the whole
child (warm-up included) per message; peak heap = largest heapUsed sampled every 10 ms. ${q0.rounds} rounds, the two
libraries alternating which goes first; medians. tinyhub runs with bufferSize 8192 (a 32-message QoS 1 window of 64 B
messages does not fit the default 2048); MQTT.js with its defaults.`,
    };
    const b0 = await burstSection(broker, 0, CFG.burst0);
    const b1 = await burstSection(broker, 1, CFG.burst1);
    burst = {
      qos0: b0, qos1: b1,
      note: `A publisher process and a subscriber process (as mosquitto_pub and mosquitto_sub are two programs), one topic,
${CFG.payload} B payloads. The subscriber subscribes at the QoS of the run and counts; the publisher then sends ${fmtInt(CFG.burst0.warm)} (QoS 0) /
${fmtInt(CFG.burst1.warm)} (QoS 1) messages of warm-up, waits for them to be handed over (QoS 0) or acknowledged (QoS 1), and
${fmtInt(b0.n)} / ${fmtInt(b1.n)} more as fast as the library lets it: tinyhub (bufferSize 65536) publishes until
\`E_OUTBOX_FULL\` and again at \`onWritable\`; MQTT.js calls \`publish\` for all of them in one loop (fire and forget: it queues
what the socket does not take); \`mosquitto_pub -l -M ${b0.cInflight}\` reads one message per line from a file (libmosquitto's
default of 20 QoS 1 messages in flight raised to about what tinyhub's 64 KB buffer holds). msg/s = timed messages / (arrival of
the first timed message .. the last) at the subscriber (\`mosquitto_sub -F %U\` prints each arrival's time).
Client CPU per message = publisher + subscriber CPU over the timed part / timed messages (C clients: both
processes' whole lives / all messages); broker CPU = mosquitto's over the run / all messages. "lost" = messages that
never arrived (QoS 0: the broker drops what a subscriber's queue cannot take); rates count only what arrived.
${b0.rounds} rounds rotating which of the three goes first; medians.`,
    };
    mem = await memory(broker);
  } finally {
    await broker.stop();
  }

  // the load test in its own process (it raises its open-files limit and starts its own servers)
  let loadRun: Results["load"];
  {
    const clients = SMOKE ? 20 : 1000, seconds = SMOKE ? 2 : 30, json = path.join(os.tmpdir(), `tinyhub-load-${process.pid}.json`);
    log(`load: ${clients} clients for ${seconds} s against mosquitto and the hub emulator`);
    const res = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "test/load/load.ts"), "--clients", String(clients), "--seconds", String(seconds), "--json", json],
      { cwd: ROOT, encoding: "utf8", timeout: (seconds * 2 + 120) * 1000 });
    try {
      const rs = JSON.parse(fs.readFileSync(json, "utf8"));
      fs.rmSync(json, { force: true });
      loadRun = { table: loadTable(rs), clients, seconds, ...(res.status ? { error: `exit ${res.status}` } : {}) };
    } catch {
      loadRun = { table: "", clients, seconds, error: `no result (exit ${res.status}): ${(res.stderr || "").trim().split("\n").slice(-3).join(" ")}` };
      errors.push("load: " + loadRun.error);
    }
  }

  mach.loadAfter = load();
  const partial = { codec, e2e, burst, memory: mem };
  const r: Results = {
    mode: SMOKE ? "smoke" : "full", date: new Date().toISOString(), durationS: Math.round((Date.now() - t0) / 1000),
    machine: mach, peers, codec, e2e, burst, memory: mem, size, load: loadRun, goals: goals(partial), errors,
  };

  write(r);
  console.log(consoleReport(r));
  log(`\nbench: ${r.durationS} s; wrote ${path.join(OUT, "results.json")}, RESULTS.md, charts/`);
  process.exitCode = errors.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
