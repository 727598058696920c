// The Espruino bundles that need TLS or WebSockets, in Duktape 2.7 with their own Espruino glue over the
// emulated Espruino APIs (test/engines/espruino.es5.js: require("net") and require("tls"), whose TLS the
// Node parent does, the certificate checked against the PEM `ca` for the host name):
//
//   hub       IoT Hub over MQTT/TLS (the emulator's mqtts port)
//   hub-ws    IoT Hub over MQTT over WebSockets (wss: the emulator's HTTPS port, /$iothub/websocket)
//   hub-http  IoT Hub over HTTPS (the emulator's HTTPS device API)
//   ws        MQTT over WebSockets against mosquitto's websockets listener
// Run: npx tsx node_modules/uvu/bin.js test/engines "\.test\.ts$"
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDuktapeEngine } from "../../tools/engines/index.js";
import type { DuktapeEngine } from "../../tools/engines/index.js";
import { startHub } from "../../tools/hub/index.js";
import { startMosquitto, Mosquitto, testCerts } from "../helpers/mosquitto";
import { mqttSession, hubSession, httpSession, bounded, once } from "./scenarios";

/** The Duktape process's address space, in KB (`ulimit -v`). */
const MEMORY_KB = 65536;

let broker: Mosquitto | null = null, hub: any = null;
const dir = mkdtempSync(join(tmpdir(), "tinyhub-duk-tls-"));
const log = process.env.TINYHUB_ENGINES_LOG ? (l: string) => console.log(l) : undefined;
const engines: DuktapeEngine[] = [];
const j = JSON.stringify;

async function duk(entry: string, names: Record<string, string> = {}): Promise<DuktapeEngine> {
  const e = await startDuktapeEngine({ entry, names, log, memoryKB: MEMORY_KB, espruino: true });
  engines.push(e);
  return e;
}

const setup = once(async () => {
  broker = await startMosquitto({ tls: false, websockets: true, extra: ["log_type debug"] });
  hub = await startHub({ dir, log: false, plainPort: null, mqttsPort: 0, httpsPort: 0, dpsPort: null, adminPort: null });
});

const sessions = [
  hubSession({
    id: `duk-tls-${process.pid}`,
    hub: () => hub,
    start: (names) => duk("hub", names),
    connect: (h) => `port: ${h.ports.mqtts}, tls: { ca: ${j(h.ca)} }`,
  }),
  hubSession({
    id: `duk-wss-${process.pid}`,
    hub: () => hub,
    start: (names) => duk("hub-ws", names),
    connect: (h) => `protocol: "mqtt-ws", port: ${h.ports.https}, tls: { ca: ${j(h.ca)} }`,
  }),
  httpSession({
    id: `duk-https-${process.pid}`,
    hub: () => hub,
    start: (names) => duk("hub-http", names),
    connect: (h) => `port: ${h.ports.https}, tls: { ca: ${j(h.ca)} }`,
  }),
  mqttSession({
    id: `duk-ws-${process.pid}`,
    broker: () => broker!,
    start: () => duk("ws"),
    port: () => broker!.ports.ws,
  }),
];
const titles = ["hub over TLS", "hub-ws (MQTT over wss)", "hub-http (HTTPS)", "ws (MQTT over WebSockets)"];

test.after(async () => {
  for (const s of sessions) await s.close().catch(() => {});
  for (const e of engines) await e.close().catch(() => {});
  if (broker) await broker.stop();
  if (hub) await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

sessions.forEach((s, i) => {
  for (const step of s.steps) test(`Duktape Espruino ${titles[i]}: ${step.name}`, bounded(step.ms, async () => { await setup(); await step.run(); }));
});

test("Duktape Espruino hub-ws: a server certificate from another CA fails the handshake, no connect", bounded(8000, async () => {
  await setup();
  const id = `duk-ca-${process.pid}`;
  hub.registry.addDevice(id);
  const e = await duk("hub-ws", { [hub.hubName]: "127.0.0.1" });
  await e.eval(`var d = tinyhub.createDevice(S.hubEvents({ connectionString: ${j(hub.registry.connectionString(id))}, protocol: "mqtt-ws", ` +
    `port: ${hub.ports.https}, tls: { ca: ${j(testCerts().caPem)} }, reconnect: false })); d.connect(); 1`);
  assert.ok((await e.host.until("close", 5000)) < 0, "closed with an error code");
  assert.equal(e.host.reports.filter((r) => r.name == "connect"), []);
  assert.ok(e.host.errors.some((m) => /certificate/i.test(m)), `the handshake failed on the certificate: ${e.host.errors}`);
}));

test("Duktape Espruino hub-http: createDevice in this build speaks HTTP; mqtt and amqp are E_HUB_PROTOCOL", bounded(8000, async () => {
  await setup();
  const e = await duk("hub-http");
  const cs = "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=AAAA";
  assert.equal(await e.eval(`[typeof tinyhub.createDevice({ connectionString: ${j(cs)} }), tinyhub.createDevice({ connectionString: ${j(cs)}, protocol: "mqtt" }), ` +
    `tinyhub.createDevice({ connectionString: ${j(cs)}, protocol: "amqp" }), typeof tinyhub.createHttpDevice, tinyhub.C2D_REJECT]`), ["object", -61, -61, "function", 1]);
}));

test.run();
