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
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { record } from "../../tools/engines/index.js";
import type { Engine } from "../../tools/engines/index.js";
import { espruinoBinary } from "../../tools/engines/espruino-build.js";
import { startEspruinoEngine } from "../../tools/engines/espruino.js";
import type { EspruinoEngine, EspruinoOptions, EspruinoVariant } from "../../tools/engines/espruino.js";
import { startHub } from "../../tools/hub/index.js";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { mqttSession, hubSession, httpSession, bounded, once, until, bytes, sum } from "./scenarios";
import type { Step } from "./scenarios";

/** Variables an ESP32 build has left for JavaScript (Wi-Fi and TLS took the rest); an ESP8266's. */
const ESP32_VARIABLES = 5000, ESP8266_VARIABLES = 1600;
const ENTRIES = ["mqtt", "ws", "hub", "hub-ws", "hub-http", "dps"];

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

/** JsVars a session held at its sampled peak beyond the driver and the S helpers (the bundle's code included). */
async function peakOf(e: EspruinoEngine) {
  const m = await e.memory();
  const scaffold = e.atLoad.base + e.atLoad.helpers;
  return { peak: m.peak - scaffold, peakTotal: m.peak, total: m.total, samples: m.samples, flags: m.flags, blocksize: m.blocksize };
}

function measured(entry: string, key: string) {
  return async (e: Engine, when: "connected" | "end") => {
    if (when != "end") return;
    const x = e as unknown as EspruinoEngine;
    figures[entry] = figures[entry] || {};
    figures[entry][key] = { ...(await peakOf(x)), variant: x.variant, load: x.atLoad.bundle };
  };
}

/** Steps of a non-ASCII round trip through the hub: telemetry and reported properties checked byte for byte there, C2D properties here. */
function utf8Steps(id: () => string, unicode: boolean): Step[] {
  // a build without Unicode strings (ESP32, ESP8266) holds characters up to U+00FF only: Latin-1 there
  const payload = unicode ? "h\u00e9llo \u2713 \u20ac \ud83d\ude00" : "h\u00e9llo \u00e0 \u00ff";
  const value = unicode ? "v\u00e4lue \u2713" : "v\u00e4lue \u00b5";
  const key = "n\u00f6ne";
  return [
    {
      name: "non-ASCII telemetry payload and property values reach the hub byte for byte",
      ms: 5000,
      async run() {
        const e = cur();
        const n = await e.eval(`d.sendEvent(${j(payload)}, { ${j(key)}: ${j(value)}, plain: "x" }, S.done("utf8-sent"))`);
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
        assert.ok((await e.eval(`d.patchReported({ ${j(key)}: ${j(value)} }, S.done("utf8-patched"))`)) > 0);
        assert.is((await e.host.until("utf8-patched")).err, 0);
        assert.is(hub.getTwin(id()).reported[key], value);
      },
    },
    {
      name: "a C2D message with non-ASCII property values arrives decoded",
      ms: 5000,
      async run() {
        const e = cur();
        const from = e.host.reports.length;
        hub.sendC2D(id(), payload, { [key]: value, "$.mid": "u-1" });
        const m = await e.host.until("c2d", 3000, () => true, from);
        assert.is(m.text, payload);
        assert.is(m.properties[key], value, JSON.stringify(m.properties));
        await until(() => hub.c2dQueue(id()).length == 0, 3000, "the hub to see it acknowledged");
      },
    },
  ];
}

/** Inserts steps before a session's last one (its end). */
function withSteps<T extends { steps: Step[] }>(s: T, extra: Step[]): T {
  s.steps.splice(s.steps.length - 1, 0, ...extra);
  return s;
}

/** A DPS registration over MQTT/TLS, then the assignment checked against the emulator. */
function dpsSession(o: { id: string; variant: EspruinoVariant; variables?: number }) {
  return {
    steps: [
      {
        name: "registers with DPS (MQTT/TLS, SAS signed by the bundle) and gets its hub assignment",
        ms: 15000,
        async run() {
          const enr = hub.registry.addEnrollment(o.id);
          const e = await esp({ entry: "dps", variant: o.variant, variables: o.variables, targets: { dps: hub.ports.dps } });
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
        name: "no socket, timer or error left",
        ms: 5000,
        async run() {
          const e = cur();
          await until(() => e.host.live().sockets == 0, 3000, "the connection to close");
          assert.equal(await e.eval("Bridge.pending()"), { sockets: 0, timers: 0, lookups: 0 });
          assert.equal(e.host.reports.filter((r) => r.name == "exception").map((r) => r.value), []);
          await measured("dps", "session")(e as unknown as Engine, "end");
        },
      },
    ] as Step[],
  };
}

const TLS_PEM = () => `tls: { ca: ${j(broker!.caPem)} }`;

const suites: { title: string; steps: Step[] }[] = [
  {
    title: "mqtt over TCP (linux build)",
    steps: mqttSession({
      id: `esp-mqtt-${process.pid}`,
      broker: () => broker!,
      start: () => esp({ entry: "mqtt", targets: { mqtt: broker!.ports.mqtt } }),
      port: () => cur().ports.mqtt,
      measure: measured("mqtt", "linuxTcp"),
    }).steps,
  },
  {
    title: "mqtt over TLS, CA as PEM text (linux build)",
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
    title: "ws: MQTT over WebSockets (linux build)",
    steps: mqttSession({
      id: `esp-ws-${process.pid}`,
      broker: () => broker!,
      start: () => esp({ entry: "ws", targets: { ws: broker!.ports.ws } }),
      port: () => cur().ports.ws,
      measure: measured("ws", "linuxTcp"),
    }).steps,
  },
  {
    title: "hub over MQTT/TLS, CA as PEM text (linux build)",
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
    title: `hub-ws: MQTT over wss (esp32 build, ${ESP32_VARIABLES} variables)`,
    steps: withSteps(
      hubSession({
        id: `esp-wss-${process.pid}`,
        hub: () => hub,
        start: () => esp({ entry: "hub-ws", variant: "esp32", variables: ESP32_VARIABLES, targets: { https: hub.ports.https } }),
        connect: () => `protocol: "mqtt-ws", port: ${cur().ports.https}, tls: { ca: ${j(hub.ca)} }, gatewayHostName: "127.0.0.1"`,
        measure: measured("hub-ws", "esp32Tls"),
      }),
      utf8Steps(() => `esp-wss-${process.pid}`, false),
    ).steps,
  },
  {
    title: `hub-http: HTTPS (esp32 build, ${ESP32_VARIABLES} variables)`,
    steps: httpSession({
      id: `esp-https-${process.pid}`,
      hub: () => hub,
      start: () => esp({ entry: "hub-http", variant: "esp32", variables: ESP32_VARIABLES, targets: { https: hub.ports.https } }),
      connect: () => `port: ${cur().ports.https}, tls: { ca: ${j(hub.ca)} }, gatewayHostName: "127.0.0.1"`,
    }).steps,
  },
  {
    title: `dps (esp32 build, ${ESP32_VARIABLES} variables)`,
    steps: dpsSession({ id: `esp-dps-${process.pid}`, variant: "esp32", variables: ESP32_VARIABLES }).steps,
  },
  {
    title: `board-sized: hub over MQTT/TLS with ${ESP32_VARIABLES} variables (esp32 build)`,
    steps: hubSession({
      id: `esp-b32-${process.pid}`,
      hub: () => hub,
      start: () => esp({ entry: "hub", variant: "esp32", variables: ESP32_VARIABLES, targets: { mqtts: hub.ports.mqtts } }),
      connect: () => `port: ${cur().ports.mqtts}, tls: { ca: ${j(hub.ca)} }, gatewayHostName: "127.0.0.1"`,
      measure: measured("hub", "esp32Tls"),
    }).steps,
  },
  {
    title: `board-sized: hub over plain MQTT with ${ESP32_VARIABLES} variables (esp32 build)`,
    steps: hubSession({
      id: `esp-b32p-${process.pid}`,
      hub: () => hub,
      start: () => esp({ entry: "hub", variant: "esp32", variables: ESP32_VARIABLES, targets: { plain: hub.ports.plain } }),
      connect: () => `port: ${cur().ports.plain}, tls: null, gatewayHostName: "127.0.0.1"`,
      measure: measured("hub", "esp32Plain"),
    }).steps,
  },
];

test("Espruino: the interpreter builds (cached in ~/.cache/tinyhub)", bounded(400000, async () => {
  await setup();
  console.log(`  espruino builds: ${Object.entries(built).map(([v, ms]) => `${v} ${(ms / 1000).toFixed(1)} s`).join(", ")}`);
}));

// TINYHUB_ESPRUINO_ONLY=<text>: only the suites whose title has it (while debugging one)
const only = process.env.TINYHUB_ESPRUINO_ONLY;
for (const s of suites.filter((x) => !only || x.title.includes(only))) for (const step of s.steps) test(`Espruino ${s.title}: ${step.name}`, bounded(step.ms, async () => { await setup(); await step.run(); }));

test.run();
