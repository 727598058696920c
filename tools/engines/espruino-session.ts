// Where a hub session's JsVars go, in the real Espruino interpreter (the esp32 build, as the engine test's "hub over
// plain MQTT" session whose peak the README shows):
//
//   TINYHUB_ENGINES=../shared/engines npx tsx tools/engines/espruino-session.ts [entry] [--depth N] [--min N]
//
// dist/espruino/<entry>.js (default hub) is written to Storage and required by a small script of its own (no test
// driver), which runs a session against the hub emulator's plain MQTT port: connect, telemetry with properties, a
// C2D message, getTwin, patchReported, a desired patch, three direct methods, end. JsVars (from before the require)
// are printed at each event with the sampled peak so far. When connected, and after the end, trace() dumps
// everything the interpreter holds: each variable is counted under the first path that reaches it (names as the
// minified bundle has them; `~sco` a function's scope, `~cod` its code), summed to `--depth` names (default 4).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { espruinoBinary } from "./espruino-build.js";
import { writeStorage } from "./espruino.js";
import { startHub } from "../hub/index.js";

const args = process.argv.slice(2);
const opt = (k: string, d: number) => (args.indexOf(k) >= 0 ? +args[args.indexOf(k) + 1] : d);
const entry = args.find((a, i) => !a.startsWith("--") && !(i && args[i - 1].startsWith("--"))) || "hub";
const DEPTH = opt("--depth", 4), MIN = opt("--min", 4);

const dir = mkdtempSync(join(tmpdir(), "tinyhub-session-"));
const hub = await startHub({ dir, log: false, plainPort: 0, mqttsPort: null, httpsPort: null, dpsPort: null, adminPort: null });
const id = `probe-${process.pid}`;
hub.registry.addDevice(id);
const cs = hub.registry.connectionString(id);
try {
  const bin = await espruinoBinary({ variant: "esp32" });
  writeStorage(bin, dir, { m: readFileSync(`dist/espruino/${entry}.js`) });
  writeFileSync(
    join(dir, "run.js"),
    `var B = process.memory().usage, m = require("m"), peak = 0, d;
function u() { var x = process.memory().usage; if (x > peak) peak = x; return x; }
function ev(s) { print("EV " + s + " " + (u() - B) + " " + (peak - B)); }
// each variable once, under the first path that reaches it (objects told apart by identity); trace() would say it
// better, but its output over a pipe is lost once the event loop runs
function dump(s) {
  var seen = [], rows = {}, D = 14, keep = u;
  u = function () { return 0; };
  function add(p, n) { rows[p] = (rows[p] || 0) + n; }
  function walk(v, path, depth) {
    var kids, i, k, c, p, own = 1;
    if (seen.indexOf(v) >= 0) return;
    seen.push(v);
    if (v instanceof Uint8Array || v instanceof ArrayBuffer) { if (!v.buffer || seen.indexOf(v.buffer) < 0) { if (v.buffer) seen.push(v.buffer); own = E.getSizeOf(v); } add(path, own); return; }
    kids = E.getSizeOf(v, 1);
    if (typeof kids == "number") return add(path, kids);
    for (i = 0; i < kids.length; i++) {
      k = kids[i].name; c = v[k]; p = depth < D ? path + "." + k.replace(/\xFF/g, "~") : path;
      if (c !== null && (typeof c == "object" || typeof c == "function")) { own++; walk(c, p, depth + 1); }
      else own += kids[i].size;
    }
    add(path, own);
  }
  // the device first: what it holds is counted under its names, not under a timer or socket that reaches it too
  walk(d, "d", 1);
  walk(global, "global", 1);
  print("TRACE " + s);
  for (var k in rows) print(rows[k] + " " + k);
  print("TRACE-END");
  u = keep;
}
setInterval(u, 20);
ev("loaded");
d = m.createDevice({ connectionString: ${JSON.stringify(cs)}, port: ${hub.ports.plain}, tls: null, gatewayHostName: "127.0.0.1", reconnect: false,
  onConnect: function () { ev("connected"); d.sendEvent('{"t":21.5}', { alert: "hot", $contentType: "application/json", $messageId: "m-1" }, function (e) { ev("sent " + e); }); },
  onError: function (c) { print("ERROR " + c); },
  onMessage: function (msg) {
    ev("c2d");
    if (E.toString(msg.payload) == "end") return setTimeout(function () { dump("before-end"); d.end(function () { ev("ended"); setTimeout(function () { ev("after-end"); dump("after-end"); print("DONE"); }, 100); }); }, 50);
    d.getTwin(function (e, t) { ev("twin " + e); d.patchReported({ fw: "1.0", temp: 21.5 }, function (e) { ev("patched " + e); }); });
  },
  onDesired: function (p, v, w) { ev("desired"); },
  methods: { reboot: function (p, respond) { respond(200, { ok: true, got: p }); ev("method"); }, fail: function () { throw new Error("x"); } } });
ev("created");
d.connect();
`,
  );
  const child = spawn(bin, ["run.js"], { cwd: dir, env: { ...process.env, ESPRUINO_VARIABLES: "6000" }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", buf = "";
  const rows: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no end within 60 s:\n${out.slice(-3000)}`)), 60000);
    child.on("exit", () => { clearTimeout(timer); resolve(); });
    child.stdout.on("data", async (d: Buffer) => {
      out += d.toString("latin1");
      buf += d.toString("latin1");
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const l = buf.slice(0, i).replace(/\x1b\[[0-9;]*[A-Za-z]|\r/g, "").replace(/^>+/, "");
        buf = buf.slice(i + 1);
        const m = /^EV (\S+)(?: (-?\d+))? (\d+) (\d+)/.exec(l.replace(/^>/, ""));
        if (/^(ERROR|Uncaught|OUT OF)/.test(l)) rows.push(l);
        if (/^(Uncaught|OUT OF)/.test(l)) child.kill();
        if (/^DONE/.test(l)) child.kill();
        if (!m) continue;
        rows.push(`${(m[1] + (m[2] ? " " + m[2] : "")).padEnd(14)} usage ${m[3].padStart(5)}  peak so far ${m[4].padStart(5)}`);
        if (m[1] == "sent") hub.sendC2D(id, "h\u00e9llo device", { color: "blue", "$.mid": "c2d-1" });
        if (m[1] == "patched") hub.updateDesired(id, { interval: 5 });
        if (m[1] == "desired") {
          await hub.invokeMethod(id, "reboot", { delay: 1 }, 3000);
          await hub.invokeMethod(id, "nosuch", null, 3000);
          await hub.invokeMethod(id, "fail", null, 3000);
          hub.sendC2D(id, "end", {});
        }
      }
    });
    child.stderr.on("data", (d: Buffer) => (out += d.toString("latin1")));
  });
  await done;
  console.log(rows.join("\n"));
  for (const m of out.matchAll(/TRACE (\S+)\r?\n([\s\S]*?)TRACE-END/g)) {
    // summed by path prefix: a path's row counts everything under it; the shortest (closest to the root) shown
    const sums = new Map<string, number>();
    let total = 0;
    for (const l of m[2].split("\n")) {
      const x = /^(\d+) (.*)$/.exec(l.trim());
      if (!x) continue;
      total += +x[1];
      const parts = x[2].split(".");
      for (let i = 1; i <= Math.min(parts.length, DEPTH); i++) {
        const k = parts.slice(0, i).join(".");
        sums.set(k, (sums.get(k) || 0) + +x[1]);
      }
    }
    console.log(`\n${m[1]}: ${total} JsVars reachable from the root, by path (each counted under the first path reaching it; ${DEPTH} names deep; under ${MIN} left out):`);
    for (const [p, n] of [...sums].sort((a, b) => (a[0] < b[0] ? -1 : 1))) if (n >= MIN) console.log(`${String(n).padStart(5)}  ${"  ".repeat(p.split(".").length - 1)}${p.split(".").pop()}`);
  }
} finally {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
