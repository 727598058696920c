// The Moddable build's TLS and its other transports in Moddable XS (@agoric/xsnap), the shipped files
// imported unmodified, their platform modules answered by the bridge (tools/engines/xs.js):
//
//   hub       IoT Hub over MQTT/TLS through Moddable's ECMA-419 TLS socket ("embedded:io/socket/tcp/tls"),
//             the TLS done in Node against the emulator's mqtts port, the certificate checked with hub.ca
//   classic   moddableClassicTransport(): an MQTT session on the classic Socket against mosquitto, and the
//             IoT Hub session on the classic SecureSocket (TLS)
//   hub-ws    IoT Hub over MQTT over WebSockets (wss, the emulator's HTTPS port at /$iothub/websocket)
//   hub-http  IoT Hub over HTTPS (the emulator's HTTPS device API)
//   ws        MQTT over WebSockets against mosquitto's websockets listener
// plus what must fail: a PEM string where Moddable wants DER, a server certificate from another CA.
// Run: npx tsx node_modules/uvu/bin.js test/engines "\.test\.ts$"
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startXSEngine } from "../../tools/engines/index.js";
import type { XSEngine } from "../../tools/engines/index.js";
import { startHub } from "../../tools/hub/index.js";
import { startMosquitto, Mosquitto, testCerts } from "../helpers/mosquitto";
import { mqttSession, hubSession, httpSession, bounded, once, derLiteral, until } from "./scenarios";

let broker: Mosquitto | null = null, hub: any = null;
const dir = mkdtempSync(join(tmpdir(), "tinyhub-xs-tls-"));
const log = process.env.TINYHUB_ENGINES_LOG ? (l: string) => console.log(l) : undefined;
const engines: XSEngine[] = [];
const CLASSIC = ", transport: tinyhub.moddableClassicTransport()";

async function xs(entry: string, names: Record<string, string> = {}, extra: string[] = []): Promise<XSEngine> {
  const e = await startXSEngine({ entry, names, extra, log });
  engines.push(e);
  return e;
}

const setup = once(async () => {
  broker = await startMosquitto({ tls: false, websockets: true, extra: ["log_type debug"] });
  hub = await startHub({ dir, log: false, plainPort: null, mqttsPort: 0, httpsPort: 0, dpsPort: null, adminPort: null });
});

const sessions = [
  hubSession({
    id: `xs-tls-${process.pid}`,
    hub: () => hub,
    start: (names) => xs("hub", names),
    connect: (h) => `port: ${h.ports.mqtts}, tls: { ca: ${derLiteral(h.ca)} }`,
  }),
  mqttSession({
    id: `xs-classic-${process.pid}`,
    broker: () => broker!,
    start: () => xs("mqtt", {}, ["classic"]),
    io: CLASSIC,
  }),
  hubSession({
    id: `xs-secure-${process.pid}`,
    hub: () => hub,
    start: (names) => xs("hub", names, ["classic"]),
    connect: (h) => `port: ${h.ports.mqtts}, tls: { ca: ${derLiteral(h.ca)} }, bufferSize: 8192`,
    io: CLASSIC,
  }),
  hubSession({
    id: `xs-wss-${process.pid}`,
    hub: () => hub,
    start: (names) => xs("hub-ws", names),
    connect: (h) => `protocol: "mqtt-ws", port: ${h.ports.https}, tls: { ca: ${derLiteral(h.ca)} }`,
  }),
  httpSession({
    id: `xs-https-${process.pid}`,
    hub: () => hub,
    start: (names) => xs("hub-http", names),
    connect: (h) => `port: ${h.ports.https}, tls: { ca: ${derLiteral(h.ca)} }`,
  }),
  mqttSession({
    id: `xs-ws-${process.pid}`,
    broker: () => broker!,
    start: () => xs("ws"),
    port: () => broker!.ports.ws,
  }),
];
const titles = ["hub over TLS (ECMA-419 TLSSocket)", "mqtt on the classic Socket", "hub over TLS on the classic SecureSocket", "hub-ws (MQTT over wss)", "hub-http (HTTPS)", "ws (MQTT over WebSockets)"];

test.after(async () => {
  for (const s of sessions) await s.close().catch(() => {});
  for (const e of engines) await e.close().catch(() => {});
  if (broker) await broker.stop();
  if (hub) await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

sessions.forEach((s, i) => {
  for (const step of s.steps) test(`XS ${titles[i]}: ${step.name}`, bounded(step.ms, async () => { await setup(); await step.run(); }));
});

test("XS SecureSocket: telemetry of 3000 bytes goes as 1024-byte records in one all-or-nothing write", bounded(10000, async () => {
  await setup();
  const id = `xs-big-${process.pid}`;
  hub.registry.addDevice(id);
  const e = await xs("hub", { [hub.hubName]: "127.0.0.1" }, ["classic"]);
  await e.eval(`var d = tinyhub.createDevice(S.hubEvents({ connectionString: ${JSON.stringify(hub.registry.connectionString(id))}, ` +
    `port: ${hub.ports.mqtts}, tls: { ca: ${derLiteral(hub.ca)} }, bufferSize: 8192, reconnect: false${CLASSIC} })); d.connect(); 1`);
  await e.host.until("connect", 5000);
  assert.ok((await e.eval(`d.sendEvent(S.bytes(3000, 3), null, S.done("big"))`)) > 0);
  assert.is((await e.host.until("big", 5000)).err, 0);
  await until(() => hub.telemetry.some((m: any) => m.deviceId == id), 3000, "the hub to record it");
  const m = hub.telemetry.find((m: any) => m.deviceId == id);
  assert.equal([...m.body], [...Array(3000).keys()].map((i) => (i * 7 + 3) & 255));
  await e.eval("d.end()");
}));

for (const [name, io] of [["the ECMA-419 TLS socket", ""], ["the classic SecureSocket", CLASSIC]]) {
  test(`XS ${name}: 40 messages of 600 bytes at once: the writes wait for room (no throw), all acknowledged in order`, bounded(15000, async () => {
    await setup();
    const id = `xs-burst-${io ? "c" : "e"}-${process.pid}`;
    hub.registry.addDevice(id);
    const e = await xs("hub", { [hub.hubName]: "127.0.0.1" }, io ? ["classic"] : []);
    await e.eval(`var d = tinyhub.createDevice(S.hubEvents({ connectionString: ${JSON.stringify(hub.registry.connectionString(id))}, ` +
      `port: ${hub.ports.mqtts}, tls: { ca: ${derLiteral(hub.ca)} }, bufferSize: 40960, rxSize: 4096, reconnect: false${io} })); d.connect(); 1`);
    await e.host.until("connect", 5000);
    const ids = await e.eval(`var ids = []; for (var i = 0; i < 40; i++) ids.push(d.sendEvent(S.bytes(600, i), { n: String(i) }, S.done("sent-" + i))); ids`);
    assert.ok(ids.every((n: number) => n > 0), `all queued: ${ids}`);
    for (let i = 0; i < 40; i++) assert.is((await e.host.until(`sent-${i}`, 8000)).err, 0, `message ${i}`);
    await until(() => hub.telemetry.filter((m: any) => m.deviceId == id).length == 40, 3000, "the hub to record all");
    const got = hub.telemetry.filter((m: any) => m.deviceId == id);
    assert.equal(got.map((m: any) => m.properties.n), [...Array(40).keys()].map(String), "in order");
    assert.ok(got.every((m: any, i: number) => m.body.length == 600 && m.body[1] == ((7 + i) & 255)));
    assert.equal(e.host.reports.filter((r) => r.name == "error" || r.name == "close"), []);
    await e.eval("d.end()");
  }));
}

test("XS TLS: a PEM string as ca is refused (Moddable takes DER): the open fails, no connect", bounded(8000, async () => {
  await setup();
  const id = `xs-pem-${process.pid}`;
  hub.registry.addDevice(id);
  const e = await xs("hub", { [hub.hubName]: "127.0.0.1" });
  await e.eval(`var d = tinyhub.createDevice(S.hubEvents({ connectionString: ${JSON.stringify(hub.registry.connectionString(id))}, ` +
    `port: ${hub.ports.mqtts}, tls: { ca: ${JSON.stringify(hub.ca)} }, reconnect: false })); d.connect(); 1`);
  assert.is(await e.host.until("close", 5000), -27, "E_TRANSPORT");
  assert.equal(e.host.reports.filter((r) => r.name == "connect"), []);
}));

test("XS TLS: a server certificate from another CA fails the handshake: E_TRANSPORT, no connect", bounded(8000, async () => {
  await setup();
  const id = `xs-ca-${process.pid}`;
  hub.registry.addDevice(id);
  const e = await xs("hub", { [hub.hubName]: "127.0.0.1" });
  // the test CA of test/helpers/mosquitto, not the emulator's
  await e.eval(`var d = tinyhub.createDevice(S.hubEvents({ connectionString: ${JSON.stringify(hub.registry.connectionString(id))}, ` +
    `port: ${hub.ports.mqtts}, tls: { ca: ${derLiteral(testCerts().caPem)} }, reconnect: false })); d.connect(); 1`);
  assert.is(await e.host.until("close", 5000), -27, "E_TRANSPORT");
  assert.equal(e.host.reports.filter((r) => r.name == "connect"), []);
  assert.ok(e.host.errors.some((m) => /certificate/i.test(m)), `the handshake failed on the certificate: ${e.host.errors}`);
}));

test.run();
