// CPU per message of an Espruino MQTT library in the real interpreter, without a network: the library written to
// Storage and required (as bench/espruino.ts loads it), its `require("net")` given a socket that takes every write
// and answers CONNECT with a CONNACK; the library publishes N QoS 0 messages 10 to an idle-loop tick (as
// bench/espruino.ts drives it, the socket draining between ticks), then receives N QoS 0 PUBLISH frames, 10 to a
// chunk. CPU time is the interpreter's own (user + system, from /proc/self/stat, 10 ms steps): other processes on
// the machine do not count. The same harness runs Espruino's MQTT and tinyMQTT modules, for a like-for-like look.
//
//   npx tsx bench/espruino-profile.ts [bundle, default dist/espruino/mqtt.js | MQTT | tinyMQTT | floor | floor-layered] [--n 2000] [--cached]
//
// --cached loads it with Modules.addCached (code in RAM) instead. Compare two builds by running both, one after the
// other. For where the time goes, run the interpreter under `perf record -g` in the folder it prints (run.js). On a
// busy machine instructions are steadier than CPU time: `valgrind --tool=callgrind` on run.js and on copies of it
// without the publishing (sent < 0) or the receiving loop, with two values of --n, gives instructions per message.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { minify } from "terser";
import { espruinoBinary } from "../tools/engines/espruino-build.js";
import { writeStorage } from "../tools/engines/espruino.js";

const argv = process.argv.slice(2);
const N = argv.includes("--n") ? +argv[argv.indexOf("--n") + 1] : 2000;
const file = argv.find((a, i) => !a.startsWith("--") && argv[i - 1] != "--n") || "dist/espruino/mqtt.js";
const PAYLOAD = "t=21.5;h=40;n=0000";
const MODULES = path.join(process.env.TINYHUB_ENGINES || path.join(import.meta.dirname, "..", "..", "shared", "engines"), "espruino-modules");

/** How each library is driven (ES5 for Espruino): created, connected (`go()` once up), publishing, counting messages with `got++`. */
const DRIVE: Record<string, { create: string; publish: string; subscribe?: string }> = {
  tinyhub: {
    create: `var c = L.createClient({ host: "x", clientId: "p", reconnect: false, onMessage: function () { got++; }, onConnect: go }); c.connect();`,
    publish: `c.publish("bench/out", PAY, 0) >= 0`,
  },
  MQTT: {
    create: `var c = L.create("x", { client_id: "p" }); c.on("publish", function () { got++; }); c.on("connected", go); c.connect();`,
    publish: `(c.publish("bench/out", PAY), true)`,
  },
  tinyMQTT: {
    create: `var c = L.create("x", { reconnect_interval: 10 }); c.on("message", function () { got++; }); c.on("connected", go); c.connect();`,
    publish: `(c.publish("bench/out", PAY), true)`,
  },
  // bench/espruino-floor.js: the least a client can do per message, no checks (what any client's cost is above)
  floor: {
    create: `var c = L.create("x", function () { got++; }, go);`,
    publish: `(c.publish("bench/out", PAY), true)`,
  },
  "floor-layered": {
    create: `var c = L.create("x", function () { got++; }, go, true);`,
    publish: `(c.publish("bench/out", PAY), true)`,
  },
};

/** A QoS 0 PUBLISH frame (topic and payload ASCII, together under 124 bytes). */
function frame(topic: string, payload: string): Buffer {
  return Buffer.concat([Buffer.from([0x30, 2 + topic.length + payload.length, 0, topic.length]), Buffer.from(topic + payload, "latin1")]);
}

async function main() {
  const bin = await espruinoBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tinyhub-esp-profile-"));
  const ten = Buffer.concat(Array.from({ length: 10 }, () => frame("bench/in", PAYLOAD))).toString("base64");
  const lib = DRIVE[file] ? file : "tinyhub";
  // Espruino's modules minified as the Espruino tools do for Storage (as bench/espruino.ts)
  const from = /^floor/.test(file) ? path.join(import.meta.dirname, "espruino-floor.js") : path.join(MODULES, file + ".js");
  let src = DRIVE[file] ? (await minify(fs.readFileSync(from, "utf8"), { ecma: 5, compress: true, mangle: true })).code! : fs.readFileSync(file, "latin1");
  // the socket module: the harness's own
  src = src.replace(/require\([^()]*"net"\)/g, "NET");
  writeStorage(bin, dir, { lib: Buffer.from(src, "latin1") });
  const load = argv.includes("--cached") ? `(Modules.addCached("lib2", E.toString(E.toUint8Array(require("Storage").read("lib")))), require("lib2"))` : `require("lib")`;
  const d = DRIVE[lib];
  fs.writeFileSync(path.join(dir, "run.js"), `var S = null, NET = { connect: function (o, cb) {
  // (a socket's own emit queues its events for the idle loop: these call the handler at once)
  S = { on: function (e, f) { S["_" + e] = f; }, emit: function (e, a) { if (S["_" + e]) S["_" + e](a); }, end: function () {},
    write: function (d) { if (d.charCodeAt(0) == 16) setTimeout(function () { S.emit("data", "\\x20\\x02\\x00\\x00"); }, 0); } };
  setTimeout(cb, 0);
  return S;
} };
var base = process.memory().usage, L = ${load}, loaded = process.memory().usage - base, got = 0, PAY = ${JSON.stringify(PAYLOAD)}, started = false;
function cpu() { var f = require("fs").readFileSync("/proc/self/stat").toString().split(" "); return (+f[13] + +f[14]) / 100; }
function go() {
  if (started) return;
  started = true;
  setTimeout(function () {
    var sent = 0, t = cpu();
    function step() {
      for (var k = 0; k < 10 && sent < ${N}; k++) { if (!(${d.publish})) break; sent++; }
      S.emit("drain");
      if (sent < ${N}) return setTimeout(step, 0);
      var pub = cpu() - t, i, d = E.toString(E.toUint8Array(atob("${ten}")));
      t = cpu();
      for (i = 0; i < ${N / 10}; i++) S.emit("data", d);
      // the library's own events (queued) run in the idle loop
      (function fin() { if (got < ${N}) return setTimeout(fin, 0);
      var recv = cpu() - t;
      print("RESULT " + JSON.stringify({ loaded: loaded, publishUs: Math.round(pub * 1e6 / ${N}), receiveUs: Math.round(recv * 1e6 / ${N}), received: got }));
      quit(); })();
    }
    step();
  }, 10);
}
${d.create}
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
