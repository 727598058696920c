// `tinyhub flash espruino`, the whole path a user takes, against the REAL Espruino interpreter (2v29, the
// Linux build of the source that runs on ESP32; tools/engines/espruino-build.js) through its telnet
// console (tcp://127.0.0.1:2323), with the official Espruino command-line tool doing the upload:
//
//   - each bundle of dist/espruino/ is written to Storage, the app `require("tinyhub")`s it from flash
//     and reports the JsVars that cost (process.memory().usage after minus before);
//   - with --save the app becomes .bootcde: it runs at once, connects to the IoT Hub emulator over
//     plain MQTT and sends telemetry the hub receives; killed and started again (a power cycle) the
//     interpreter boots the app from flash and it sends again, with no upload;
//   - an app that throws fails the command with the board's message.
//
// Isolation: the interpreter's telnet port is fixed (2323, and it binds with SO_REUSEPORT, so a second
// interpreter elsewhere would silently share it) and the tool would reach for espruino.com if let. So the
// interpreter and the tool run in a private network namespace (`unshare -rn`: loopback only, no route
// out, its own 2323; test/tools/netns-agent.js acts in there). The hub emulator stays in this process;
// the device's connection to 127.0.0.1:<port> in the namespace comes here through a Unix socket.
// Without unshare the agent runs here, and 2323 must be free.
//
// Run: npx tsx node_modules/uvu/bin.js test/tools flash.test.ts
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { spawn, ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { plan, check, portKind, crc32, bundleFile } from "../../tools/flash-command.js";
import { espruinoBinary } from "../../tools/engines/espruino-build.js";
import { bundlePath } from "../../tools/engines/paths.js";
import { startHub, sasToken } from "../../tools/hub/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const AGENT = fileURLToPath(new URL("./netns-agent.js", import.meta.url));
const BUNDLES = ["mqtt", "mqtt-lean", "mqtt-store", "ws", "hub", "hub-ws", "hub-http", "dps", "hub-amqp", "hub-amqp-ws"];
/** Variables an ESP8266 build of Espruino has (boards/ESP8266_4MB.py): the upload and the app get no more. */
const ESP8266_VARIABLES = 1600;
const PORT = "tcp://127.0.0.1:2323";
const tmp = mkdtempSync(join(tmpdir(), "tinyhub-flash-"));
const j = JSON.stringify;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------
// The argument mapping, without a board

const test = suite("flash: what the Espruino tool is asked and how its output is judged");

test("plan: a serial port gets the tool's throttled defaults, the baud rate and no Bluetooth", () => {
  const p = plan({ port: "/dev/ttyUSB0", bundle: Buffer.from("exports.a=1;"), app: Buffer.from("require('tinyhub');"), appName: "main.js", baud: 115200 });
  assert.equal(p.args.slice(0, 2), ["-p", "/dev/ttyUSB0"]);
  assert.ok(p.args.includes("--no-ble"));
  assert.equal(p.args.slice(p.args.indexOf("-b"), p.args.indexOf("-b") + 2), ["-b", "115200"]);
  assert.not.ok(p.args.some((a) => /THROTTLE|UPLOAD_METHOD/.test(a)), "serial keeps the pauses after each Storage.write");
  assert.ok(p.args.includes("tinyhub:bundle.js") && p.args.includes("main.js:app.js"));
  assert.is(p.args[p.args.length - 1], "upload.js", "our code is the tool's file: reset() first, then the writes");
  assert.equal(p.args.slice(p.args.indexOf("--board"), p.args.indexOf("--board") + 2), ["--board", "board.json"]);
  assert.ok(p.args.includes("MODULE_URL="));
  assert.equal(JSON.parse(String(p.files["board.json"])).info.builtin_modules, ["Storage"]);
  assert.match(String(p.files["upload.js"]), /load\("main\.js"\);\n$/);
  assert.equal(p.stored, { tinyhub: { length: 12, crc: crc32(Buffer.from("exports.a=1;")) }, "main.js": { length: 19, crc: crc32(Buffer.from("require('tinyhub');")) } });
});

test("plan: TCP drops the pauses; a Bluetooth address keeps Bluetooth; --save makes the app .bootcde and load()s it", () => {
  const b = Buffer.from("x");
  const tcp = plan({ port: "tcp://192.168.1.5:23", bundle: b, app: b, save: true });
  assert.ok(tcp.args.includes("SERIAL_THROTTLE_SEND=2") && tcp.args.includes("STORAGE_UPLOAD_METHOD=1"));
  assert.not.ok(tcp.args.includes("-b"));
  assert.ok(tcp.args.includes(".bootcde:app.js"));
  assert.match(String(tcp.files["upload.js"]), /\nload\(\);\n$/);
  const ble = plan({ port: "C7:1B:00:2E:4F:01", bundle: b });
  assert.not.ok(ble.args.includes("--no-ble"));
  assert.not.ok(String(ble.files["upload.js"]).includes("load("), "no app: only the bundle is written");
  assert.is(portKind("COM3"), "serial");
  assert.is(portKind("TCP://h"), "tcp");
  assert.throws(() => plan({ port: "COM3", bundle: b, save: true }), /--save needs an app/);
  assert.throws(() => plan({ port: "COM3", bundle: b, app: b, appName: "tinyhub" }), /not "tinyhub"/);
  assert.throws(() => plan({ port: "COM3", bundle: b, app: b, appName: "x".repeat(29) }), /1-28/);
  assert.is(bundleFile("mqtt"), join(ROOT, "dist/espruino/mqtt.js"));
  assert.is(bundleFile("./my.js"), "./my.js");
  assert.is(crc32(Buffer.from("123456789")), 0xcbf43926);
});

test("check: the tool exits 0 whatever happened, so its output decides", () => {
  const stored = { tinyhub: { length: 3, crc: 7 } };
  const ok = 'Connected\n--] >\n--] tinyhub-flash stored "tinyhub" 3 7\nUpload Complete\n';
  assert.is(check(ok, stored).error, null);
  assert.equal(check(ok, stored).board, [">", 'tinyhub-flash stored "tinyhub" 3 7']);
  assert.match(String(check("Unable to connect!\n", stored).error), /could not connect/);
  assert.match(String(check(ok.replace("Upload", "--] ASSERT(len <= 64) FAILED AT src/jsdevices.c:601\nUpload"), stored).error), /ASSERT/);
  assert.match(String(check(ok.replace(" 3 7", " 3 8"), stored).error), /corrupted/);
  assert.match(String(check(ok.replace(" 3 7", " 2 7"), stored).error), /2 bytes on the board, 3 sent/);
  assert.match(String(check("Connected\n--] Uncaught SyntaxError: Got ?\n", stored).error), /Uncaught SyntaxError/);
  assert.match(String(check("Connected\nUpload Complete\n", stored).error), /did not confirm/);
  assert.is(check(ok.replace(" 3 7", " 3 -"), stored).error, null, "a build without E.CRC32 checks the length only");
});

test.run();

// ---------------------------------------------------------------------------------------------------
// The real interpreter in a private network

const real = suite("flash: the real Espruino interpreter over telnet");

type Answer = { id?: number; ok?: boolean; error?: string; [k: string]: any };

/** The agent process (in its own network namespace when unshare allows). */
let agent: ChildProcess | null = null;
let isolated = false;
let seq = 0;
const pending = new Map<number, (a: Answer) => void>();

async function startAgent(argv: string[]): Promise<{ ready: boolean; lo: boolean; why?: string } | null> {
  const p = spawn(argv[0], argv.slice(1), { detached: true, stdio: ["pipe", "pipe", "inherit"] });
  const first = new Promise<any>((resolve) => {
    p.on("error", () => resolve(null));
    p.on("exit", () => resolve(null));
    const rl = createInterface({ input: p.stdout! });
    rl.on("line", (line) => {
      const a = JSON.parse(line);
      if (a.ready) return resolve(a);
      const done = pending.get(a.id);
      pending.delete(a.id);
      if (done) done(a);
    });
  });
  const ready = await Promise.race([first, sleep(5000).then(() => null)]);
  if (ready && ready.ready) agent = p;
  else stopAgent(p);
  return ready;
}

function stopAgent(p: ChildProcess | null) {
  if (!p || p.pid === undefined) return;
  p.stdin?.end();
  // the whole process group: the agent and whatever it started, should it not have cleaned up
  try {
    process.kill(-p.pid, "SIGKILL");
  } catch {}
}

/** One request to the agent; rejects with its error or after `ms`. */
function ask(req: any, ms = 20000): Promise<Answer> {
  const id = ++seq;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`agent: no answer to ${req.op} within ${ms} ms`));
    }, ms);
    pending.set(id, (a) => {
      clearTimeout(t);
      if (a.error) reject(new Error(`agent ${req.op}: ${a.error}`));
      else resolve(a);
    });
    agent!.stdin!.write(j({ id, ...req }) + "\n");
  });
}

let bin = "";
const espDir = join(tmp, "board");
const espLog = join(tmp, "espruino.log");
let hub: any = null;
let hubPort = 0;
let unixServer: net.Server | null = null;

/** Starts the interpreter with the telnet console (its flash, espruino.flash, stays in espDir across restarts). */
async function startEspruino(cmd = bin, dir = espDir, env: Record<string, string> = {}) {
  await ask({ op: "spawn", name: "espruino", cmd, args: ["--telnet"], cwd: dir, env, log: espLog });
  await ask({ op: "listening", port: 2323, timeout: 5000 });
}

/** `node tools/cli.js flash espruino --port tcp://127.0.0.1:2323 ...args` in the namespace. */
async function flash(args: string[]): Promise<{ code: number; out: string }> {
  const r = await ask({ op: "run", cmd: process.execPath, args: ["tools/cli.js", "flash", "espruino", "--port", PORT, ...args], cwd: ROOT, timeout: 30000 }, 35000);
  return { code: r.code, out: r.out };
}

/** The interpreter's output so far (where a booted app prints when no telnet client is there). */
const espOutput = () => readFileSync(espLog, "latin1");

real.before(async () => {
  // uvu reports a failed setup only as "0 / n": say why
  await setup().catch((e) => {
    console.error(`\n  flash test setup failed: ${e && e.stack ? e.stack : e}`);
    throw e;
  });
});

async function setup() {
  for (const b of BUNDLES) bundlePath(`dist/espruino/${b}.js`);
  bin = await espruinoBinary();
  rmSync(espDir, { recursive: true, force: true });
  writeFileSync(espLog, "");
  mkdirSync(espDir);
  const own = await startAgent(["unshare", "-rn", process.execPath, AGENT, "--own-net"]);
  isolated = !!(own && own.lo);
  if (!isolated) {
    if (agent) stopAgent(agent), (agent = null);
    console.log(`  (no private network namespace: ${own ? own.why : "unshare failed"}; running on this host's network)`);
    await startAgent([process.execPath, AGENT]);
    const busy = await ask({ op: "listening", port: 2323, timeout: 1 }).then(() => true, () => false);
    if (busy) throw new Error("port 2323 is in use on this host: another Espruino interpreter (it binds with SO_REUSEPORT and would share it)");
  }
  hub = await startHub({ dir: join(tmp, "hub"), mqttsPort: null, plainPort: null, httpsPort: null, dpsPort: null, adminPort: null, log: false });
  const sock = join(tmp, "hub.sock");
  unixServer = net.createServer(hub.mqtt.broker.handle);
  await new Promise<void>((r) => unixServer!.listen(sock, r));
  hubPort = (await ask({ op: "forward", port: 0, path: sock })).port;
  await startEspruino();
}

real.after(async () => {
  stopAgent(agent);
  agent = null;
  if (unixServer) unixServer.close();
  if (hub) await hub.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** JsVars per bundle, loaded from Storage through the whole path; printed at the end. */
const jsvars: Record<string, { bytes: number; empty: number; loaded: number; vars: number }> = {};

/** The app that reports what require("tinyhub") from Storage cost. */
function measureApp() {
  const app = join(tmp, "measure.js");
  writeFileSync(
    app,
    // every variable exists before the first count, so the difference is the module alone
    "var m0 = 0, m1 = 0, th = null;\n" +
      "m0 = process.memory().usage;\n" +
      'th = require("tinyhub");\n' +
      "m1 = process.memory().usage;\n" +
      'print("tinyhub-mem " + JSON.stringify({ empty: m0, loaded: m1, free: process.memory().free, blocksize: process.memory().blocksize, exports: Object.keys(th) }));\n',
  );
  return app;
}

real("each bundle is written to Storage and required from flash: JsVars after require", async () => {
  const app = measureApp();
  for (const b of BUNDLES) {
    // the first verbosely: the tool then logs every board-data load, module lookup and HTTP request it makes
    const verbose = b == BUNDLES[0];
    const r = await flash(["--bundle", b, ...(verbose ? ["--verbose"] : []), app]);
    assert.is(r.code, 0, `flash --bundle ${b} failed:\n${r.out}`);
    assert.match(r.out, `stored ${b}.js (`);
    const line = /tinyhub-mem (\{.*\})/.exec(r.out);
    assert.ok(line, `the app's report is in the board output:\n${r.out}`);
    const m = JSON.parse(line![1]);
    const bytes = readFileSync(bundlePath(`dist/espruino/${b}.js`)).length;
    jsvars[b] = { bytes, empty: m.empty, loaded: m.loaded, vars: m.loaded - m.empty };
    assert.ok(m.exports.length > 0, `${b}: require("tinyhub") gave exports`);
    // run from flash: the module costs fewer variables than its own source text would take in RAM
    assert.ok(jsvars[b].vars > 0 && jsvars[b].vars * m.blocksize < bytes, `${b}: ${jsvars[b].vars} JsVars of ${m.blocksize} B for ${bytes} bytes of code: not running from flash?`);
    // the tool reached for nothing on the internet: no board data, no module lookup ("--] " and
    // "board| " lines are the board's own output, whose banner names espruino.com)
    const tool = r.out.split("\n").filter((l) => !/^(--\] |board\| )/.test(l)).join("\n");
    if (verbose) assert.match(tool, /Manual board JSON load complete/, "verbose output seen");
    assert.not.match(tool, /loadModule\(|getURL|Loading https?:|host: '|ENOTFOUND|EAI_AGAIN|Module .* not found/);
  }
  console.log(
    "\n  JsVars after require(\"tinyhub\") from Storage (" + (isolated ? "private network" : "host network") + "):\n" +
      BUNDLES.map((b) => `    ${(b + ".js").padEnd(14)} ${String(jsvars[b].vars).padStart(4)} JsVars  (${jsvars[b].bytes} bytes; empty interpreter ${jsvars[b].empty})`).join("\n"),
  );
});

const ID = "flash-esp32-" + process.pid;
let bootApp = "";

/** Waits for the next telemetry of device ID. */
function nextTelemetry(ms: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      hub.off("telemetry", on);
      reject(new Error(`no telemetry from ${ID} within ${ms} ms; the interpreter said:\n${espOutput().slice(-1500)}`));
    }, ms);
    const on = (m: any) => {
      if (m.deviceId != ID) return;
      clearTimeout(t);
      hub.off("telemetry", on);
      resolve(m);
    };
    hub.on("telemetry", on);
  });
}

real("--save: the app boots from .bootcde, connects to the hub emulator and sends telemetry", async () => {
  hub.registry.addDevice(ID);
  const cs = hub.registry.connectionString(ID);
  bootApp = join(tmp, "app.js");
  writeFileSync(
    bootApp,
    [
      `var CS = ${j(cs)};`,
      'var th = require("tinyhub");',
      "var d = th.createDevice({",
      `  connectionString: CS, gatewayHostName: "127.0.0.1", port: ${hubPort}, tls: null, reconnect: false,`,
      "  onConnect: function () {",
      '    print("tinyhub-app connected");',
      '    d.sendEvent(JSON.stringify({ hello: "from flash", usage: process.memory().usage }), { boot: "1" }, function (err) { print("tinyhub-app sent " + err); });',
      "  },",
      '  onError: function (code) { print("tinyhub-app error " + code); }',
      "});",
      'if (typeof d == "number") print("tinyhub-app bad options " + d); else d.connect();',
      "",
    ].join("\n"),
  );
  const arrived = nextTelemetry(15000);
  const r = await flash(["--bundle", "hub", "--save", bootApp]);
  assert.is(r.code, 0, `flash --save failed:\n${r.out}`);
  assert.match(r.out, 'as ".bootcde"; it runs now and at every boot');
  const m = await arrived;
  const body = JSON.parse(m.body.toString());
  assert.is(body.hello, "from flash");
  assert.is(m.properties.boot, "1");
  assert.ok(hub.connected(ID), "the device is connected to the hub");
  console.log(`  hub session (hub.js from Storage, app in .bootcde): ${body.usage} JsVars in use when connected`);
});

real("a power cycle boots the saved app from flash again: it sends without any upload", async () => {
  await ask({ op: "kill", name: "espruino" });
  const arrived = nextTelemetry(10000);
  await startEspruino();
  const m = await arrived;
  assert.is(JSON.parse(m.body.toString()).hello, "from flash");
  assert.match(espOutput(), /tinyhub-app connected/);
});

// The same path on the ESP8266-sized build (tools/engines/espruino/TINYHUB_ESP8266.py: its JsVar format,
// 8-bit strings, no TLS, the telnet console the ESP8266 serves over Wi-Fi) with the board's 1,600
// variables: the tool's upload (one Storage.write of 384 bytes per line) and the app both run inside
// them, as on the board. Every bundle must load; a bundle too big to upload the way users upload it
// would fail here with "Module not found" or a write error.
const small: Record<string, { vars: number; free: number }> = {};

real(`ESP8266-sized build, ${ESP8266_VARIABLES} variables: every bundle uploads through the tool and loads from Storage`, async () => {
  await ask({ op: "kill", name: "espruino" });
  const dir = join(tmp, "esp8266");
  mkdirSync(dir, { recursive: true });
  await startEspruino(await espruinoBinary({ variant: "esp8266" }), dir, { ESPRUINO_VARIABLES: String(ESP8266_VARIABLES) });
  const app = measureApp();
  for (const b of BUNDLES) {
    const r = await flash(["--bundle", b, app]);
    assert.is(r.code, 0, `flash --bundle ${b} on the ESP8266-sized build failed:\n${r.out}`);
    const line = /tinyhub-mem (\{.*\})/.exec(r.out);
    assert.ok(line, `${b}: the app's report is in the board output:\n${r.out}`);
    const m = JSON.parse(line![1]);
    assert.ok(m.exports.length > 0, `${b}: require("tinyhub") gave exports`);
    small[b] = { vars: m.loaded - m.empty, free: m.free };
    assert.ok(m.loaded + m.free <= ESP8266_VARIABLES, `${b}: the interpreter has ${m.loaded + m.free} variables, not the board's ${ESP8266_VARIABLES}`);
  }
  console.log(
    `\n  ESP8266-sized build (${ESP8266_VARIABLES} variables), uploaded by the tool and required from Storage:\n` +
      BUNDLES.map((b) => `    ${(b + ".js").padEnd(14)} ${String(small[b].vars).padStart(4)} JsVars, ${String(small[b].free).padStart(4)} free`).join("\n"),
  );
});

// An ESP8266 has no TLS, so the IoT Hub client is not for it (nor does a hub session fit its variables:
// about 1,800 in use on the build above). The plain MQTT client is: it talks to the emulator's MQTT
// endpoint with the hub's user name and a SAS token made here as its password.
for (const b of ["mqtt-lean", "mqtt"]) {
  real(`ESP8266-sized build: --save, ${b}.js boots from flash and publishes QoS 1 telemetry to the hub's MQTT endpoint within ${ESP8266_VARIABLES} variables`, async () => {
    const id = `flash-esp8266-${b}-${process.pid}`;
    hub.registry.addDevice(id);
    const cs = Object.fromEntries(hub.registry.connectionString(id).split(";").map((kv: string) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    const password = sasToken(`${cs.HostName}/devices/${id}`, cs.SharedAccessKey, Math.floor(Date.now() / 1000) + 3600);
    const app = join(tmp, `esp8266-${b}.js`);
    writeFileSync(
      app,
      [
        'var th = require("tinyhub");',
        "var c = th.createClient({",
        `  host: "127.0.0.1", port: ${hubPort}, clientId: ${j(id)}, username: ${j(`${cs.HostName}/${id}/?api-version=2021-04-12`)}, password: ${j(password)},`,
        "  keepalive: 60, reconnect: false,",
        "  onConnect: function () {",
        `    c.publish(${j(`devices/${id}/messages/events/boot=1`)}, JSON.stringify({ hello: "from flash", usage: process.memory().usage }), 1, false, function (err) { print("tinyhub-app puback " + err); });`,
        "  },",
        '  onError: function (code) { print("tinyhub-app error " + code); }',
        "});",
        "c.connect();",
        "",
      ].join("\n"),
    );
    const arrived = new Promise<any>((resolve, reject) => {
      const t = setTimeout(() => (hub.off("telemetry", on), reject(new Error(`no telemetry from ${id}; the interpreter said:\n${espOutput().slice(-1500)}`))), 15000);
      const on = (m: any) => m.deviceId == id && (clearTimeout(t), hub.off("telemetry", on), resolve(m));
      hub.on("telemetry", on);
    });
    const r = await flash(["--bundle", b, "--save", app]);
    assert.is(r.code, 0, `flash --save on the ESP8266-sized build failed:\n${r.out}`);
    const m = await arrived;
    const body = JSON.parse(m.body.toString());
    assert.is(body.hello, "from flash");
    assert.is(m.properties.boot, "1");
    assert.ok(body.usage < ESP8266_VARIABLES, `in use ${body.usage}`);
    console.log(`  ${b}.js session on the ESP8266-sized build: ${body.usage} of ${ESP8266_VARIABLES} JsVars in use when connected`);
  });
}

real("an app that throws fails the command with the board's message", async () => {
  const bad = join(tmp, "bad.js");
  writeFileSync(bad, 'require("tinyhub");\nFAIL_ME();\n');
  const r = await flash(["--bundle", "mqtt", bad]);
  assert.is.not(r.code, 0);
  assert.match(r.out, /upload failed: the board said: Uncaught ReferenceError: "FAIL_ME" is not defined/);
});

real.run();
