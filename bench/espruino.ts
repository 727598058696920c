// tinyhub beside the MQTT modules Espruino users pick today (Espruino's `MQTT` and `tinyMQTT`, from
// ../shared/engines/espruino-modules), in the same real Espruino interpreter (2v29, Linux build), against the
// same local mosquitto, each loaded the way a board loads it: minified, written to Storage, then required.
//
//   npx tsx bench/espruino.ts [--n 2000] [--m 2000] [--rounds 3] [--out DIR] [--only NAME]
//
// Per library: JsVars after `require` from Storage and after `Modules.addCached` (the source kept in RAM), the
// peak JsVars of the session, and QoS 0 rates both ways:
//   publish  the library publishes N messages as fast as it lets: 10 per idle-loop tick (setTimeout 0), ours
//            pausing on E_OUTBOX_FULL until onWritable; rate = N / (last - first arrival) at a Node subscriber
//   receive  a Node client publishes M messages to the library's subscription; rate = messages counted by
//            the library's callback / (last - first callback), timed inside Espruino with getTime()
// Writes bench/espruino.json; `tsx bench/run.ts --render` puts it into bench/RESULTS.md.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import mqtt from "mqtt";
import { minify } from "terser";
import { espruinoBinary } from "../tools/engines/espruino-build.js";
import { writeStorage } from "../tools/engines/espruino.js";
import { startMosquitto } from "../test/helpers/mosquitto";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const MODULES = path.join(process.env.TINYHUB_ENGINES || path.join(ROOT, "..", "shared", "engines"), "espruino-modules");
const argv = process.argv.slice(2);
const opt = (f: string, d: number) => (argv.includes(f) ? +argv[argv.indexOf(f) + 1] : d);
const N = opt("--n", 2000), M = opt("--m", 2000), ROUNDS = opt("--rounds", 3);
const OUT = argv.includes("--out") ? argv[argv.indexOf("--out") + 1] : BENCH;
// --only NAME: one library (a quick look; the file written then holds that row only)
const ONLY = argv.includes("--only") ? argv[argv.indexOf("--only") + 1] : "";
const PAYLOAD = "t=21.5;h=40;n=0000"; // 18 bytes, far under tinyMQTT's 127-byte topic + payload limit

/** How each library is driven, as ES5 snippets for Espruino; `L` is the module, `ready`, `got`, `step` the bench's. */
interface Lib { name: string; file: string; source: () => Promise<string>; about: string; create: string; publish: string; subscribe: string }

const LIBS: Lib[] = [
  {
    name: "tinyhub mqtt",
    file: "dist/espruino/mqtt.js",
    about: "QoS 0/1/2, resend, keep-alive, reconnect, the fixed buffer",
    source: async () => fs.readFileSync(path.join(ROOT, "dist/espruino/mqtt.js"), "utf8"),
    create: `var c = L.createClient({ host: "127.0.0.1", port: PORT, clientId: "bench-esp", keepalive: 60, reconnect: false, bufferSize: 2048,
      onConnect: function () { ready(); }, onMessage: function () { got(); }, onWritable: function () { step(); } }); c.connect();`,
    publish: `c.publish("bench/out", PAY, 0) >= 0`,
    subscribe: `c.subscribe("bench/in", 0)`,
  },
  {
    name: "Espruino MQTT",
    file: "MQTT.js",
    about: "QoS 0 in practice (never acknowledges an incoming QoS 1)",
    source: () => minified("MQTT.js"),
    create: `var c = L.create("127.0.0.1", { port: PORT, client_id: "bench-esp", keep_alive: 60 });
      c.on("connected", function () { ready(); }); c.on("publish", function () { got(); }); c.connect();`,
    publish: `(c.publish("bench/out", PAY), true)`,
    subscribe: `c.subscribe("bench/in")`,
  },
  {
    name: "Espruino tinyMQTT",
    file: "tinyMQTT.js",
    about: "QoS 0 only, topic + payload at most 127 bytes",
    source: () => minified("tinyMQTT.js"),
    create: `var c = L.create("127.0.0.1", { port: PORT, reconnect_interval: 100 });
      c.on("connected", function () { ready(); }); c.on("message", function () { got(); }); c.connect();`,
    publish: `(c.publish("bench/out", PAY), true)`,
    subscribe: `c.subscribe("bench/in")`,
  },
];

/** One of Espruino's modules minified as the Espruino tools do for Storage (terser, ES5 output). */
async function minified(file: string): Promise<string> {
  const r = await minify(fs.readFileSync(path.join(MODULES, file), "utf8"), { ecma: 5, compress: true, mangle: true });
  return r.code!;
}

/** The Espruino script of one run: load, connect, publish N, then receive M. */
function session(lib: Lib, port: number): string {
  return `var base = process.memory().usage;
var L = require("lib");
var loaded = process.memory().usage - base, peak = 0;
function mem() { var u = process.memory().usage; if (u > peak) peak = u; }
setInterval(mem, 20);
var PORT = ${port}, PAY = ${JSON.stringify(PAYLOAD)}, N = ${N}, M = ${M}, sent = 0, recv = 0, t0 = 0, r0 = 0, r1 = 0, started = false, done = false;
function ready() {
  if (started) return;
  started = true;
  ${lib.subscribe};
  setTimeout(function () { print("READY " + loaded); t0 = getTime(); step(); }, 300);
}
function step() {
  for (var k = 0; k < 10 && sent < N; k++) { if (!(${lib.publish})) break; sent++; }
  mem();
  if (sent < N) setTimeout(step, 0);
  else if (!done) { done = true; print("PUBDONE " + Math.round((getTime() - t0) * 1000)); }
}
function report() { print("RECVDONE " + JSON.stringify({ recv: recv, ms: (r1 - r0) * 1000, peak: peak - base })); setTimeout(function () { quit(); }, 50); }
function got() {
  if (!recv) { r0 = getTime(); setTimeout(report, 15000); }
  r1 = getTime();
  if (++recv == M) report();
}
${lib.create}
`;
}

interface Run { loaded: number; pubRate: number; pubLost: number; recvRate: number; recvLost: number; peak: number }

/** One round for one library. */
async function round(bin: string, lib: Lib, src: string, port: number): Promise<Run> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tinyhub-bench-esp-"));
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `bench-sub-${process.pid}`, reconnectPeriod: 0 });
  try {
    writeStorage(bin, dir, { lib: Buffer.from(src, "latin1") });
    fs.writeFileSync(path.join(dir, "run.js"), session(lib, port));
    const arrivals: number[] = [];
    sub.on("message", () => arrivals.push(performance.now()));
    await sub.subscribeAsync("bench/out", { qos: 0 });
    const child = spawn(bin, ["run.js"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const seen = (tag: string, ms: number) =>
      new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${lib.name}: no ${tag} in ${ms} ms; output: ${out.slice(-600)}`)), ms);
        const check = () => {
          const m = new RegExp(`${tag} ([^\\r\\n]*)\\r?\\n`).exec(out);
          if (m) {
            clearTimeout(t);
            child.stdout.off("data", check);
            resolve(m[1]);
          }
        };
        child.stdout.on("data", check);
        check();
      });
    child.stdout.on("data", (d) => (out += d.toString("latin1")));
    try {
      const loaded = +(await seen("READY", 15000));
      await seen("PUBDONE", 60000);
      // the last messages still on their way
      let n = -1;
      while (n != arrivals.length) (n = arrivals.length), await new Promise((r) => setTimeout(r, 300));
      const pub = arrivals.length;
      const pubRate = pub > 1 ? (pub - 1) / ((arrivals[pub - 1] - arrivals[0]) / 1000) : 0;
      const payload = Buffer.from(PAYLOAD);
      for (let i = 0; i < M; i++) sub.publish("bench/in", payload, { qos: 0 });
      const r = JSON.parse(await seen("RECVDONE", 30000));
      return { loaded, pubRate, pubLost: N - pub, recvRate: r.recv > 1 ? (r.recv - 1) / (r.ms / 1000) : 0, recvLost: M - r.recv, peak: r.peak };
    } finally {
      child.kill("SIGKILL");
    }
  } finally {
    await sub.endAsync(true);
    if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`kept ${dir}\n`);
  }
}

/** JsVars a module takes when `Modules.addCached` keeps its source in RAM (a copy out of flash, as an upload of the text makes), then required. */
async function addCached(bin: string, src: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tinyhub-bench-esp-"));
  try {
    writeStorage(bin, dir, { src: Buffer.from(src, "latin1") });
    fs.writeFileSync(path.join(dir, "c.js"), `var base = process.memory().usage, s = E.toString(E.toUint8Array(require("Storage").read("src"))); Modules.addCached("lib", s); s = undefined; require("lib"); print("CACHED " + (process.memory().usage - base));`);
    const r = await new Promise<string>((resolve) => {
      const c = spawn(bin, ["c.js"], { cwd: dir });
      let o = "";
      c.stdout.on("data", (d) => (o += d));
      c.on("close", () => resolve(o));
    });
    return +(/CACHED (\d+)/.exec(r) || [])[1];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

async function main() {
  const bin = await espruinoBinary();
  const broker = await startMosquitto({ tls: false });
  const rows: any[] = [];
  try {
    // rounds interleaved (each round runs every library once): a machine whose load changes affects them alike
    const libs = LIBS.filter((l) => l.name.includes(ONLY));
    const srcs = await Promise.all(libs.map((l) => l.source()));
    const runs: Run[][] = libs.map(() => []);
    for (let i = 0; i < ROUNDS; i++) for (let j = 0; j < libs.length; j++) runs[j].push(await round(bin, libs[j], srcs[j], broker.ports.mqtt));
    for (let j = 0; j < libs.length; j++) {
      const lib = libs[j], src = srcs[j], rs = runs[j];
      rows.push({
        name: lib.name, about: lib.about, min: src.length, gzip: gzipSync(src, { level: 9 }).length,
        storage: median(rs.map((r) => r.loaded)), addCached: await addCached(bin, src), peak: median(rs.map((r) => r.peak)),
        pubRate: Math.round(median(rs.map((r) => r.pubRate))), pubLost: Math.max(...rs.map((r) => r.pubLost)),
        recvRate: Math.round(median(rs.map((r) => r.recvRate))), recvLost: Math.max(...rs.map((r) => r.recvLost)),
        runs: rs,
      });
      process.stderr.write(`${lib.name}: ${JSON.stringify(rows[rows.length - 1], (k, v) => (k == "runs" ? undefined : v))}\n`);
    }
  } finally {
    await broker.stop();
  }
  const out = { date: new Date().toISOString(), espruino: "2v29 (Linux build, ../shared/engines/espruino)", n: N, m: M, rounds: ROUNDS, payload: PAYLOAD.length, rows };
  fs.writeFileSync(path.join(OUT, "espruino.json"), JSON.stringify(out, null, 2) + "\n");
  process.stderr.write(`wrote ${path.join(OUT, "espruino.json")}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
