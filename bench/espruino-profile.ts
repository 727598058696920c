// CPU per message of an Espruino MQTT bundle in the real interpreter, without a network: the bundle written to
// Storage and required (as bench/espruino.ts loads it), a transport that takes every write (E.toString of the bytes,
// as the real one makes) and hands the client QoS 0 PUBLISH frames, 10 to a chunk. CPU time is the interpreter's
// own (user + system, from /proc/self/stat, 10 ms steps): other processes on the machine do not count.
//
//   npx tsx bench/espruino-profile.ts [bundle, default dist/espruino/mqtt.js] [--n 2000] [--cached]
//
// --cached loads it with Modules.addCached (code in RAM) instead. Compare two builds by running both, one after the
// other. For where the time goes, run the interpreter under `perf record -g` in the folder it prints (run.js).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { espruinoBinary } from "../tools/engines/espruino-build.js";
import { writeStorage } from "../tools/engines/espruino.js";

const argv = process.argv.slice(2);
const N = argv.includes("--n") ? +argv[argv.indexOf("--n") + 1] : 2000;
const file = argv.find((a, i) => !a.startsWith("--") && argv[i - 1] != "--n") || "dist/espruino/mqtt.js";
const PAYLOAD = "t=21.5;h=40;n=0000";

/** A QoS 0 PUBLISH frame (topic and payload ASCII, together under 124 bytes). */
function frame(topic: string, payload: string): Buffer {
  return Buffer.concat([Buffer.from([0x30, 2 + topic.length + payload.length, 0, topic.length]), Buffer.from(topic + payload, "latin1")]);
}

async function main() {
  const bin = await espruinoBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tinyhub-esp-profile-"));
  const ten = Buffer.concat(Array.from({ length: 10 }, () => frame("bench/in", PAYLOAD))).toString("base64");
  writeStorage(bin, dir, { lib: Buffer.from(fs.readFileSync(file, "latin1"), "latin1") });
  const load = argv.includes("--cached") ? `(Modules.addCached("lib2", E.toString(E.toUint8Array(require("Storage").read("lib")))), require("lib2"))` : `require("lib")`;
  fs.writeFileSync(path.join(dir, "run.js"), `var base = process.memory().usage, L = ${load}, loaded = process.memory().usage - base, ev, got = 0;
function cpu() { var f = require("fs").readFileSync("/proc/self/stat").toString().split(" "); return (+f[13] + +f[14]) / 100; }
var tr = { open: function (h, p, t, e) { ev = e; setTimeout(function () { ev.onOpen(); ev.onData(E.toUint8Array("\\x20\\x02\\x00\\x00")); }, 0); },
  write: function (b, o, n) { E.toString(b.subarray(o, o + n)); return n; }, close: function () {} };
var clock = { now: function () { return Date.now(); }, set: function (f, ms) { return setTimeout(f, ms); }, clear: function (t) { if (t) try { clearTimeout(t); } catch (e) {} } };
var c = L.createClient({ host: "x", clientId: "p", transport: tr, clock: clock, reconnect: false, onMessage: function () { got++; }, onConnect: function () {
  var i, d = E.toUint8Array(atob("${ten}")), t = cpu(), pub, recv;
  for (i = 0; i < ${N}; i++) c.publish("bench/out", ${JSON.stringify(PAYLOAD)}, 0);
  pub = cpu() - t;
  t = cpu();
  for (i = 0; i < ${N / 10}; i++) ev.onData(d);
  recv = cpu() - t;
  print("RESULT " + JSON.stringify({ loaded: loaded, publishUs: Math.round(pub * 1e6 / ${N}), receiveUs: Math.round(recv * 1e6 / ${N}), received: got }));
  quit();
} });
c.connect();
`);
  const r = spawnSync(bin, ["run.js"], { cwd: dir, encoding: "latin1", timeout: 300000 });
  const m = /RESULT (.*)/.exec(r.stdout);
  if (!m) throw new Error(`no result; output: ${r.stdout.slice(-600)}${r.stderr}`);
  console.log(`${file}: ${m[1]} (CPU us per message; run.js in ${dir})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
