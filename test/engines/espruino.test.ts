// The shipped Espruino bundles in the real Espruino interpreter (2v29, built from ../shared/engines by
// tools/engines/espruino-build.js), each written to Storage and `require`d as a user loads it, with
// its own glue over the interpreter's real `net` and `tls` (tools/engines/espruino.js):
//
//   mqtt.js     an MQTT session against mosquitto over TCP and over TLS (the CA as PEM text, as
//               targets/espruino/README.md tells users): QoS 0/1/2, UTF-8 topics and payloads, a message
//               larger than the receive region in chunks, a link cut (RST) with QoS 1 queued, none lost
//   ws.js       the same session against mosquitto's websockets listener
//   hub.js      a full IoT Hub session against the emulator over MQTT/TLS, non-ASCII payloads and
//               property values checked byte for byte on the hub side
//   hub-ws.js   the IoT Hub session over MQTT over WebSockets (wss, the emulator's HTTPS port)
//   hub-http.js the IoT Hub session over HTTPS
//   dps.js      a DPS registration (MQTT/TLS)
//
// Builds: "linux" is boards/LINUX.py as shipped (Unicode strings, TLS buffers in the variable pool);
// "esp32" and "esp8266" are the same source shaped like those boards (tools/engines/espruino/*.py: the
// board's JsVar format, no Unicode, TLS outside the pool on the ESP32 as ESP-IDF does, none on the
// ESP8266). Board-sized runs: the IoT Hub session with 5,000 variables (what an ESP32 has left for
// JavaScript), a plain-MQTT session with 1,600 (an ESP8266), and below that an out-of-memory that must
// end in a named error. JsVar figures (after a Storage load, after addCached, session peaks) go to
// engines-report.json under "espruino".
// The hub emulator's host name does not resolve here: the devices connect to gatewayHostName 127.0.0.1
// (the SAS token and user name keep the hub name), DPS to host 127.0.0.1.
// Run: npx tsx node_modules/uvu/bin.js test/engines espruino.test.ts
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import type { Engine } from "../../tools/engines/index.js";
import { espruinoBinary } from "../../tools/engines/espruino-build.js";
import { startEspruinoEngine } from "../../tools/engines/espruino.js";
import type { EspruinoEngine, EspruinoOptions, EspruinoVariant } from "../../tools/engines/espruino.js";
import { startHub } from "../../tools/hub/index.js";
import { ESP32_VARIABLES, ESP8266_VARIABLES, peakOf, loadsOf, recordJsVars } from "./espruino-figures";
import { derivedKey } from "../../tools/hub/registry.js";
import { startMosquitto, Mosquitto, testCerts } from "../helpers/mosquitto";
import { mqttSession, hubSession, httpSession, bounded, once, until, bytes, sum } from "./scenarios";
import type { Step } from "./scenarios";

const ENTRIES = ["mqtt", "mqtt-lean", "mqtt-store", "ws", "hub", "hub-ws", "hub-http", "dps"];

let broker: Mosquitto | null = null, hub: any = null;
const dir = mkdtempSync(join(tmpdir(), "tinyhub-espruino-"));
const log = process.env.TINYHUB_ENGINES_LOG ? (l: string) => console.log(l) : undefined;
const engines: EspruinoEngine[] = [];
let current: EspruinoEngine | null = null;
const j = JSON.stringify;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Figures per entry for engines-report.json. */
const figures: Record<string, any> = {};
const built: Record<string, number> = {};

async function esp(o: EspruinoOptions): Promise<Engine> {
  const e = await startEspruinoEngine({ log, ...o });
  engines.push(e);
  current = e;
  return e as unknown as Engine;
}
const cur = () => {
  if (!current) throw new Error("no engine");
  return current;
};

const setup = once(async () => {
  for (const variant of ["linux", "esp32", "esp8266"]) {
    const t = Date.now();
    await espruinoBinary({ variant, log: (l) => console.log(`  ${l}`) });
    built[variant] = Date.now() - t;
  }
  broker = await startMosquitto({ websockets: true, extra: ["log_type debug"] });
  hub = await startHub({ dir, log: false, plainPort: 0, mqttsPort: 0, httpsPort: 0, dpsPort: 0, adminPort: null });
});

test.after(async () => {
  for (const e of engines) await e.close().catch(() => {});
  if (broker) await broker.stop();
  if (hub) await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The UTF-8 bytes of `s` as a binary string (one character per byte). */
const bin = (s: string) => Buffer.from(s, "utf8").toString("latin1");
/** Engine code for a binary string literal: its characters (bytes) above 0x7F as \\xHH escapes, which every build reads as bytes. */
const bytesLit = (s: string) => j(s).replace(/[\u0080-\u00ff]/g, (c) => "\\x" + c.charCodeAt(0).toString(16).padStart(2, "0"));
/** Engine code for a string literal, ASCII only (non-ASCII characters as \\u escapes). */
const lit = (s: string) => j(s).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));

/**
 * Steps of a non-ASCII round trip through the hub: telemetry and reported properties checked byte for byte
 * there, C2D properties here. A Unicode build (linux) takes text as code points. A build without Unicode
 * strings (ESP32, ESP8266) holds 8-bit characters: the code it gets has its text as UTF-8 bytes (the engine
 * sends it as the Espruino IDE does, tools/engines/espruino.js utf8Source). Received text comes back as a
 * binary string of its UTF-8 bytes on every build (targets/espruino/platform.ts: 2v29's UTF-8 strings index
 * by character in charAt and indexOf but by byte in substring, substr and slice).
 */
function utf8Steps(id: () => string, unicode: boolean): Step[] {
  const payload = "h\u00e9llo \u2713 \u20ac \ud83d\ude00", value = "v\u00e4lue \u2713", key = "n\u00f6ne";
  const steps: Step[] = [
    {
      name: "non-ASCII telemetry payload and property values reach the hub byte for byte",
      ms: 5000,
      async run() {
        const e = cur();
        const n = await e.eval(`d.sendEvent(${lit(payload)}, { ${lit(key)}: ${lit(value)}, plain: "x" }, S.done("utf8-sent"))`);
        assert.ok(n > 0, `packet id ${n}`);
        assert.is((await e.host.until("utf8-sent")).err, 0);
        let m: any;
        await until(() => !!(m = hub.telemetry.find((t: any) => t.deviceId == id() && t.properties && t.properties.plain == "x")), 3000, "the hub to record it");
        assert.equal([...m.body], [...Buffer.from(payload, "utf8")], "payload bytes");
        assert.equal(m.properties, { [key]: value, plain: "x" });
      },
    },
    {
      name: "non-ASCII reported properties stored by the hub as sent",
      ms: 5000,
      async run() {
        const e = cur();
        assert.ok((await e.eval(`d.patchReported({ ${lit(key)}: ${lit(value)} }, S.done("utf8-patched"))`)) > 0);
        assert.is((await e.host.until("utf8-patched")).err, 0);
        assert.is(hub.getTwin(id()).reported[key], value);
      },
    },
    {
      name: "a C2D message with non-ASCII property keys and values arrives decoded (as the binary string of their UTF-8 bytes)",
      ms: 5000,
      async run() {
        const e = cur();
        const from = e.host.reports.length;
        hub.sendC2D(id(), payload, { [key]: value, "$.mid": "u-1" });
        const m = await e.host.until("c2d", 3000, () => true, from);
        assert.is(m.text, payload, "payload bytes");
        assert.is(m.properties[bin(key)], bin(value), JSON.stringify(m.properties));
        await until(() => hub.c2dQueue(id()).length == 0, 3000, "the hub to see it acknowledged");
      },
    },
    {
      name: "a non-ASCII desired value read from the twin and reported back unchanged reaches the hub unchanged",
      ms: 5000,
      async run() {
        const e = cur();
        hub.updateDesired(id(), { [key]: value });
        await e.host.until("desired", 3000, (d) => d.patch && bin(key) in d.patch);
        await e.eval(
          // the key as the library hands it over: the binary string of its UTF-8 bytes
          `d.getTwin(function (err, t) { Bridge.report("twin-echo", err ? { err: err } : { n: d.patchReported({ echo: t.desired[${bytesLit(bin(key))}] }, S.done("echoed")) }); })`,
        );
        const t = await e.host.until("twin-echo", 3000);
        assert.ok(t.n > 0, JSON.stringify(t));
        assert.is((await e.host.until("echoed")).err, 0);
        assert.is(hub.getTwin(id()).reported.echo, value);
      },
    },
  ];
  if (!unicode)
    steps.push({
      name: "text that is not UTF-8 (a Latin-1 binary string) is refused with E_UTF8, not sent; in JSON it is Latin-1, as the engine escapes it",
      ms: 3000,
      async run() {
        const e = cur(), before = hub.telemetry.length;
        const r = await e.eval(
          `[d.sendEvent("h\\xe9llo", null, S.done("latin1-0")), d.sendEvent("ok", { k: "\\xe9" }, S.done("latin1-1")), d.patchReported({ k: "\\xe9" }, S.done("latin1-2"))]`,
        );
        // what went out anyway is let finish, so that the session ends cleanly after a failure here
        for (let i = 0; i < r.length; i++) if (r[i] > 0) await e.host.until(`latin1-${i}`, 3000);
        assert.equal(r.slice(0, 2), [-5, -5], "payload, property value");
        assert.ok(r[2] > 0, "reported properties: JSON.stringify writes the byte as \\u00e9");
        await sleep(100);
        assert.is(hub.telemetry.length, before, "nothing sent");
        assert.is(hub.getTwin(id()).reported.k, "\u00e9", "read as U+00E9 by the hub");
      },
    });
  return steps;
}

/** Inserts steps before a session's last one (its end). */
function withSteps<T extends { steps: Step[] }>(s: T, extra: Step[]): T {
  s.steps.splice(s.steps.length - 1, 0, ...extra);
  return s;
}

/** A DPS registration over MQTT/TLS, then the assignment checked against the emulator. */
function dpsSession(o: { id: string; variant: EspruinoVariant; board?: number }) {
  return {
    steps: [
      {
        name: "registers with DPS (MQTT/TLS, SAS signed by the bundle) and gets its hub assignment",
        ms: 15000,
        async run() {
          const enr = hub.registry.addEnrollment(o.id);
          const e = await esp({ entry: "dps", variant: o.variant, board: o.board, targets: { dps: hub.ports.dps } });
          await e.eval(
            `tinyhub.provision({ idScope: ${j(hub.dpsIdScope)}, registrationId: ${j(o.id)}, symmetricKey: ${j(enr.key)}, host: "127.0.0.1", ` +
              `port: ${cur().ports.dps}, tls: { ca: ${j(hub.ca)} }, payload: { modelId: "dtmi:x:y;1" }, timeout: 10000 }, S.done("provisioned")); 1`,
          );
          const r = await e.host.until("provisioned", 12000);
          assert.is(r.err, 0, JSON.stringify(r));
          assert.is(r.value.deviceId, o.id);
          assert.is(r.value.assignedHub, hub.hubName);
          assert.is(r.value.connectionString, `HostName=${hub.hubName};DeviceId=${o.id};SharedAccessKey=${enr.key}`);
          assert.ok(hub.registry.get(o.id), "the emulator created the device");
        },
      },
      {
        name: "an enrollment group: deriveKey on the board (the firmware's SHA-256) gives the emulator's derived key, which registers",
        ms: 15000,
        async run() {
          const e = cur(), id = o.id + "-grp", group = hub.registry.addGroupEnrollment("esp-group");
          const key = await e.eval(`tinyhub.deriveKey(${j(group.key)}, ${j(id)})`);
          assert.is(key, derivedKey(group.key, id));
          await e.eval(
            `tinyhub.provision({ idScope: ${j(hub.dpsIdScope)}, registrationId: ${j(id)}, symmetricKey: tinyhub.deriveKey(${j(group.key)}, ${j(id)}), ` +
              `host: "127.0.0.1", port: ${e.ports.dps}, tls: { ca: ${j(hub.ca)} }, timeout: 10000 }, S.done("grouped")); 1`,
          );
          const r = await e.host.until("grouped", 12000);
          assert.is(r.err, 0, JSON.stringify(r));
          assert.is(r.value.connectionString, `HostName=${hub.hubName};DeviceId=${id};SharedAccessKey=${key}`);
          assert.is(hub.registry.get(id)!.primaryKey, key);
        },
      },
      {
        name: "no socket, timer or error left",
        ms: 5000,
        async run() {
          const e = cur();
          await until(() => e.host.live().sockets == 0, 3000, "the connection to close");
          assert.equal(await e.eval("Bridge.pending()"), { sockets: 0, timers: 0, lookups: 0 });
          assert.equal(e.host.reports.filter((r) => r.name == "exception").map((r) => r.value), []);
        },
      },
    ] as Step[],
  };
}

const TLS_PEM = () => `tls: { ca: ${j(broker!.caPem)} }`;
const ESP32 = { variant: "esp32" as const, board: ESP32_VARIABLES };

/** A session: its steps, then its JsVar figures recorded under figures[entry][key] and its interpreter closed. */
const suites: { title: string; entry: string; key: string; steps: Step[] }[] = [
  {
    title: "mqtt over TCP (linux build)",
    entry: "mqtt",
    key: "linuxTcp",
    steps: mqttSession({
      id: `esp-mqtt-${process.pid}`,
      broker: () => broker!,
      start: () => esp({ entry: "mqtt", targets: { mqtt: broker!.ports.mqtt } }),
      port: () => cur().ports.mqtt,
    }).steps,
  },
  {
    title: "mqtt over TLS, CA as PEM text (linux build)",
    entry: "mqtt",
    key: "linuxTls",
    steps: mqttSession({
      id: `esp-mqtts-${process.pid}`,
      broker: () => broker!,
      start: () => esp({ entry: "mqtt", targets: { tls: broker!.ports.tls } }),
      port: () => cur().ports.tls,
      // read when a step builds its options (the broker's CA exists once it runs)
      get io() { return `, ${TLS_PEM()}`; },
    }).steps,
  },
  {
    title: `board-sized: mqtt over TCP with ${ESP8266_VARIABLES} variables (esp8266 build)`,
    entry: "mqtt",
    key: "esp8266",
    steps: mqttSession({
      id: `esp-b8266-${process.pid}`,
      broker: () => broker!,
      start: () => esp({ entry: "mqtt", variant: "esp8266", board: ESP8266_VARIABLES, targets: { mqtt: broker!.ports.mqtt } }),
      port: () => cur().ports.mqtt,
      // one client: the persistent-session step opens a second beside it, which 1,600 variables do not hold
      // (test/engines/espruino-limits.ts); the link cut runs in the linux sessions
    }).steps.filter((x) => !/persistent session/.test(x.name)),
  },
  {
    title: `board-sized: mqtt-lean (no QoS 2, no payload sources) over TCP with ${ESP8266_VARIABLES} variables (esp8266 build)`,
    entry: "mqtt-lean",
    key: "esp8266",
    steps: mqttSession({
      id: `esp-lean-${process.pid}`,
      broker: () => broker!,
      start: () => esp({ entry: "mqtt-lean", variant: "esp8266", board: ESP8266_VARIABLES, targets: { mqtt: broker!.ports.mqtt } }),
      port: () => cur().ports.mqtt,
      qos2: false,
    }).steps.filter((x) => !/persistent session/.test(x.name)),
  },
  {
    // (on an ESP8266's 1,600 variables createClient refuses a client with a store, E_NO_MEMORY: the test after the suites)
    title: `board-sized: mqtt-store (the client's queue in Storage) over TCP with ${ESP32_VARIABLES} variables (esp32 build)`,
    entry: "mqtt-store",
    key: "esp32Tcp",
    steps: mqttSession({
      id: `esp-store-${process.pid}`,
      broker: () => broker!,
      start: () => esp({ entry: "mqtt-store", ...ESP32, targets: { mqtt: broker!.ports.mqtt } }),
      port: () => cur().ports.mqtt,
      io: `, store: tinyhub.storageStore("ob", { size: 2048 })`,
    }).steps.filter((x) => !/persistent session/.test(x.name)),
  },
  {
    title: "hub over MQTT/TLS, CA as PEM text (linux build)",
    entry: "hub",
    key: "linuxTls",
    steps: withSteps(
      hubSession({
        id: `esp-hub-${process.pid}`,
        hub: () => hub,
        start: () => esp({ entry: "hub", targets: { mqtts: hub.ports.mqtts } }),
        connect: () => `port: ${cur().ports.mqtts}, tls: { ca: ${j(hub.ca)} }, gatewayHostName: "127.0.0.1"`,
      }),
      utf8Steps(() => `esp-hub-${process.pid}`, true),
    ).steps,
  },
  {
    title: `board-sized: hub over MQTT/TLS with ${ESP32_VARIABLES} variables (esp32 build)`,
    entry: "hub",
    key: "esp32Tls",
    steps: withSteps(
      hubSession({
        id: `esp-b32-${process.pid}`,
        hub: () => hub,
        start: () => esp({ entry: "hub", ...ESP32, targets: { mqtts: hub.ports.mqtts } }),
        connect: () => `port: ${cur().ports.mqtts}, tls: { ca: ${j(hub.ca)} }, gatewayHostName: "127.0.0.1"`,
      }),
      utf8Steps(() => `esp-b32-${process.pid}`, false),
    ).steps,
  },
  {
    title: `board-sized: hub over plain MQTT with ${ESP32_VARIABLES} variables (esp32 build)`,
    entry: "hub",
    key: "esp32Plain",
    steps: hubSession({
      id: `esp-b32p-${process.pid}`,
      hub: () => hub,
      start: () => esp({ entry: "hub", ...ESP32, targets: { plain: hub.ports.plain } }),
      connect: () => `port: ${cur().ports.plain}, tls: null, gatewayHostName: "127.0.0.1"`,
    }).steps,
  },
  {
    title: `hub-ws: MQTT over wss (esp32 build, ${ESP32_VARIABLES} variables)`,
    entry: "hub-ws",
    key: "esp32Tls",
    steps: hubSession({
      id: `esp-wss-${process.pid}`,
      hub: () => hub,
      start: () => esp({ entry: "hub-ws", ...ESP32, targets: { https: hub.ports.https } }),
      connect: () => `protocol: "mqtt-ws", port: ${cur().ports.https}, tls: { ca: ${j(hub.ca)} }, gatewayHostName: "127.0.0.1"`,
    }).steps,
  },
  {
    title: `hub-http: HTTPS (esp32 build, ${ESP32_VARIABLES} variables)`,
    entry: "hub-http",
    key: "esp32Tls",
    steps: httpSession({
      id: `esp-https-${process.pid}`,
      hub: () => hub,
      start: () => esp({ entry: "hub-http", ...ESP32, targets: { https: hub.ports.https } }),
      connect: () => `port: ${cur().ports.https}, tls: { ca: ${j(hub.ca)} }, gatewayHostName: "127.0.0.1"`,
    }).steps,
  },
  {
    title: `ws: MQTT over WebSockets (esp32 build, ${ESP32_VARIABLES} variables)`,
    entry: "ws",
    key: "esp32Tcp",
    steps: mqttSession({
      id: `esp-ws-${process.pid}`,
      broker: () => broker!,
      start: () => esp({ entry: "ws", ...ESP32, targets: { ws: broker!.ports.ws } }),
      port: () => cur().ports.ws,
    }).steps,
  },
  {
    title: `dps (esp32 build, ${ESP32_VARIABLES} variables)`,
    entry: "dps",
    key: "esp32Tls",
    steps: dpsSession({ id: `esp-dps-${process.pid}`, ...ESP32 }).steps,
  },
];

test("Espruino: the interpreter builds (cached in ~/.cache/tinyhub)", bounded(400000, async () => {
  await setup();
  console.log(`  espruino builds: ${Object.entries(built).map(([v, ms]) => `${v} ${(ms / 1000).toFixed(1)} s`).join(", ")}`);
}));

// TINYHUB_ESPRUINO_ONLY=<text>: only the suites whose title has it (while debugging one)
const only = process.env.TINYHUB_ESPRUINO_ONLY;
for (const s of suites.filter((x) => !only || x.title.includes(only))) {
  for (const step of s.steps) test(`Espruino ${s.title}: ${step.name}`, bounded(step.ms, async () => { await setup(); await step.run(); }));
  test(`Espruino ${s.title}: JsVars recorded, interpreter closed`, bounded(5000, async () => {
    const e = current;
    current = null;
    assert.ok(e, "the session ran");
    try {
      const f = await peakOf(e!);
      (figures[s.entry] ||= {})[s.key] = f;
      assert.ok(f.peak > f.load && f.samples > 2, JSON.stringify(f));
      if (f.board) assert.ok(f.peakTotal <= f.total, `within the board's ${f.board} variables: ${JSON.stringify(f)}`);
    } finally {
      await e!.close();
    }
  }));
}

test(`Espruino: out of memory (mqtt with 1000 variables, esp8266 build) ends in a named error, the interpreter still answering`, bounded(15000, async () => {
  await setup();
  // 1,000 variables hold the bundle and a client but not a session (its limit is about 1,270: espruino-limits.ts)
  const e = (await esp({ entry: "mqtt", variant: "esp8266", board: 1000, targets: { mqtt: broker!.ports.mqtt } })) as unknown as EspruinoEngine;
  try {
    const failed = () => e.host.reports.some((x) => x.name == "exception");
    // the call's answer, or what the interpreter printed instead (an interrupted call never answers)
    const r = await Promise.race([
      e.eval(
        `var c = tinyhub.createClient(S.mqttEvents({ host: "127.0.0.1", port: ${e.ports.mqtt}, clientId: "esp-oom-${process.pid}", keepalive: 10, reconnect: false })); ` +
          `typeof c == "number" ? c : c.connect()`,
        5000,
      ),
      until(failed, 5000, "").then(() => "interrupted"),
    ]).catch((x: Error) => `no answer: ${x.message.split("\n")[0]}`);
    // a named error: a negative code from a call, or onError / onClose with E_NO_MEMORY (-32)
    const named = () => (typeof r == "number" && r < 0) || e.host.reports.some((x) => (x.name == "error" || x.name == "close") && x.value == -32);
    await until(() => named() || failed(), 3000, "a named error or an interpreter failure").catch(() => {});
    await sleep(200);
    const printed = e.host.reports.filter((x) => x.name == "exception" || x.name == "errorFlag").map((x) => String(JSON.stringify(x.value)).split("\\n")[0]);
    assert.ok(named(), `the application got no named error (connect gave ${JSON.stringify(r)}); the interpreter: ${printed.join(" | ")}`);
    assert.equal(printed, [], "no OUT OF MEMORY interruption, assertion or exit inside the interpreter");
    assert.is(await e.eval("1 + 1", 3000), 2, "the interpreter still answers");
  } finally {
    current = null;
    await e.close();
  }
}));

test(`Espruino: mqtt-store with a store on an ESP8266's ${ESP8266_VARIABLES} variables (esp8266 build): E_NO_MEMORY from createClient, not an interruption later`, bounded(15000, async () => {
  await setup();
  // the bundle and its store fit; the session does not (it ran out at its first subscribe, about 1,550 in use):
  // targets/espruino/transport.ts STORE_VARS
  const e = (await esp({ entry: "mqtt-store", variant: "esp8266", board: ESP8266_VARIABLES, targets: { mqtt: broker!.ports.mqtt } })) as unknown as EspruinoEngine;
  try {
    const r = await e.eval(
      `var st = tinyhub.storageStore("ob", { size: 2048 }), c = tinyhub.createClient(S.mqttEvents({ host: "127.0.0.1", port: ${e.ports.mqtt}, clientId: "esp-store-oom-${process.pid}", ` +
        `keepalive: 10, reconnect: false, store: st })); typeof c == "number" ? c : "a client"`,
    );
    assert.is(r, -32, "E_NO_MEMORY");
    assert.equal(e.host.reports.filter((x) => x.name == "exception" || x.name == "errorFlag"), [], "nothing interrupted");
    assert.is(await e.eval("1 + 1", 3000), 2, "the interpreter still answers");
  } finally {
    current = null;
    await e.close();
  }
}));

// What the interpreter does where the standard says otherwise: the reasons for rules the bundles follow. Each
// is checked here so that a new Espruino that behaves differently shows up (and its rule can go).
const FACTS = `var out = {};
function fact(name, f) { try { out[name] = f(); } catch (e) { out[name] = "throws: " + e.message; } }
fact("plusEquals", function () { var a = "n"; a += "\\u2713"; var b = "n"; b = b + "\\u2713"; return [a.length, b.length]; });
fact("forInNull", function () { for (var k in null) {} return "no iterations"; });
fact("forInUndefined", function () { for (var k in undefined) {} return "no iterations"; });
fact("jsonHighByte", function () { return JSON.stringify("\\xc3\\xa9"); });
fact("arrayProtoSlice", function () { return [typeof Array.prototype.slice, typeof [].slice]; });
fact("u2713", function () { var s = "\\u2713"; return [s.length, s.charCodeAt(0)]; });
fact("fromCharCode", function () { return String.fromCharCode(0x2713).charCodeAt(0); });
fact("utf8Index", function () { if (!E.asUTF8) return null; var s; try { s = E.asUTF8("\\xc3\\xa9xyz"); } catch (e) { return "no UTF-8 strings"; } return [s.length, s.indexOf("x"), s.charAt(1), s.substring(1, 2)]; });
fact("jsonParseUtf8", function () { var o = JSON.parse('{"n\\xc3\\xb6":"v\\xc3\\xa4"}'), k = Object.keys(o)[0]; return [k.length, o[k].length]; });
fact("longStringToNumber", function () { var s = ""; while (s.length < 64) s += "a"; var r = [-62 == s.substr(0, 63)]; r.push(-62 == s); return r; });
fact("evalInFunction", function () { (function () { eval("var evalScoped = 1"); })(); return typeof evalScoped; });
fact("refused", function () { require("net").connect({ host: "127.0.0.1", port: 1 }, function () {}); return "no throw"; });
print("FACTS " + JSON.stringify(out));
`;

/** Runs a script file in a build (asynchronously: a server of this process may have to answer it). */
async function runScript(variant: EspruinoVariant, name: string, code: string, ms = 10000) {
  const bin = await espruinoBinary({ variant });
  const d = mkdtempSync(join(tmpdir(), "tinyhub-esp-fact-"));
  try {
    writeFileSync(join(d, name), code);
    return await new Promise<{ status: number | null; signal: string | null; out: string }>((resolve) => {
      const c = spawn(bin, [name], { cwd: d, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      c.stdout.on("data", (x) => (out += x.toString("latin1")));
      c.stderr.on("data", (x) => (out += x.toString("latin1")));
      const t = setTimeout(() => c.kill("SIGKILL"), ms);
      c.on("exit", (status, signal) => {
        clearTimeout(t);
        resolve({ status, signal, out });
      });
    });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

for (const variant of ["linux", "esp32"] as EspruinoVariant[]) {
  test(`Espruino facts (${variant} build): s += t, for-in over null, JSON of high bytes, \\u escapes, UTF-8 string indexing, long strings as numbers, eval scope, a refused connect`, bounded(10000, async () => {
    await setup();
    const r = await runScript(variant, "facts.js", FACTS);
    const m = /FACTS (.*)/.exec(r.out);
    assert.ok(m, r.out);
    const f = JSON.parse(m![1]);
    const unicode = variant == "linux";
    // appending a Unicode string with += to a binary string appends its UTF-8 bytes and stays binary (a = a + b does not)
    assert.equal(f.plusEquals, unicode ? [4, 2] : [2, 2], "s += t");
    // for-in over null throws (standard: no iterations); over undefined it does not
    assert.match(f.forInNull, /^throws: FOR loop can only iterate/);
    assert.is(f.forInUndefined, "no iterations");
    // JSON.stringify writes every character above 0x7F as \\u00XX: a binary string's UTF-8 bytes become Latin-1 code points
    assert.is(f.jsonHighByte, '"\\u00C3\\u00A9"');
    // Array.prototype.slice is undefined, [].slice is not
    assert.equal(f.arrayProtoSlice, ["undefined", "function"]);
    // a \\u escape above U+00FF keeps its low 8 bits without Unicode support; String.fromCharCode does in both
    assert.equal(f.u2713, unicode ? [1, 0x2713] : [1, 0x13]);
    assert.is(f.fromCharCode, 0x13);
    // a UTF-8 string (Unicode build) indexes by character in length, indexOf and charAt, by byte in substring (substr, slice)
    if (unicode) assert.equal(f.utf8Index, [4, 1, "x", "\u00a9"]);
    else assert.is(f.utf8Index, "no UTF-8 strings");
    // JSON.parse of UTF-8 bytes: a Unicode build decodes them in string values but not in keys
    assert.equal(f.jsonParseUtf8, unicode ? [3, 2] : [3, 3]);
    // a string of 64 characters or more compared with or converted to a number throws (standard: NaN, false)
    assert.is(f.longStringToNumber, "throws: String too big to convert to number");
    // eval inside a function defines its vars there (the harness evaluates through a string timeout, at the global scope)
    assert.is(f.evalInFunction, "undefined");
    // the Linux build connects synchronously: a refused connection throws from net.connect (a board reports it later)
    assert.is(f.refused, "throws: Unable to create socket");
  }));
}

test("Espruino fact: a TLS connection opened inside another socket's data callback brings the interpreter down (ASSERT(net) here, SIGSEGV in a release build)", bounded(15000, async () => {
  await setup();
  // a TLS echo server (the test CA's localhost certificate)
  const c = testCerts();
  const srv = tls.createServer({ key: readFileSync(c.keyFile), cert: readFileSync(c.certFile) }, (sock) => {
    sock.on("data", (d) => sock.write(d));
    sock.on("error", () => {});
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  const code = `var a = require("tls").connect({ host: "127.0.0.1", port: ${port} }, function () { a.write("ping"); });
a.on("data", function () { a.removeAllListeners("data"); print("OPENING"); var b = require("tls").connect({ host: "127.0.0.1", port: ${port} }, function () { print("B OPEN"); b.end(); a.end(); }); });
setTimeout(function () { print("ALIVE"); a.end(); }, 1500);
`;
  try {
    for (const variant of ["linux", "esp32"] as EspruinoVariant[]) {
      const r = await runScript(variant, "tls-in-data.js", code);
      assert.match(r.out, /OPENING/, `${variant}: ${r.out.slice(-500)}`);
      // networkGetCurrent() is NULL once the inner connect returned (libs/network/network.c ssl_send / ssl_recv)
      if (variant == "linux") assert.ok(r.status == 1 && /ASSERT\(net\) FAILED AT libs\/network\/network.c/.test(r.out), `${variant}: exit ${r.status} ${r.out.slice(-300)}`);
      else assert.ok(r.signal == "SIGSEGV" && !/ALIVE/.test(r.out), `${variant}: ${r.status} ${r.signal} ${r.out.slice(-300)}`);
    }
  } finally {
    await new Promise((r) => srv.close(r));
  }
}));

test("Espruino: JsVars per bundle (Storage and addCached) written to engines-report.json", bounded(60000, async () => {
  await setup();
  const loads: Record<string, Awaited<ReturnType<typeof loadsOf>>> = {};
  for (const entry of ENTRIES) loads[entry] = await loadsOf(entry, log);
  const peakOfKey = { mqtt: "esp8266", "mqtt-lean": "esp8266", "mqtt-store": "esp32Tcp", ws: "esp32Tcp", hub: "esp32Plain", "hub-ws": "esp32Tls", "hub-http": "esp32Tls", dps: "esp32Tls" } as Record<string, string>;
  const rows: string[] = [];
  for (const entry of ENTRIES) {
    const l = loads[entry];
    assert.ok(l.storage > 0 && l.cached > l.storage, `${entry}: ${JSON.stringify(l)}`);
    rows.push(recordJsVars(entry, l, figures[entry] || {}, peakOfKey[entry]));
  }
  console.log(`  Espruino JsVars (loads: linux build; peaks: the session named, test's own driver and helpers left out):\n    ${rows.join("\n    ")}`);
  const b = ["hub", "mqtt"].map((x) => figures[x]).filter(Boolean);
  if (b.length) console.log(`  board-sized runs: ${JSON.stringify({ hubEsp32Tls: figures.hub?.esp32Tls, hubEsp32Plain: figures.hub?.esp32Plain, mqttEsp8266: figures.mqtt?.esp8266 })}`);
}));

test.run();
