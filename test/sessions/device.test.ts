// The IoT Hub device client end to end against the local hub emulator (tools/hub): every feature
// over MQTT/TLS on 127.0.0.1, and the bad inputs each giving a named error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHmac, createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { startHub } from "../../tools/hub/index.js";
import { createDevice, provision, errorName, fileStore } from "../../targets/node/index";
import type { Device } from "../../targets/node/index";
import {
  E_REFUSED_CREDENTIALS, E_REFUSED_AUTH, E_TIMEOUT, E_TOO_LARGE, E_OUTBOX_FULL, E_ARGUMENT, E_BUSY,
} from "../../src/errors";
import { E_TOKEN_EXPIRED, E_HUB_QOS2, E_HUB_FILTER, E_HUB_SIZE, E_HUB_STATUS, E_CS_HOST } from "../../src/iothub/errors";

const dir = mkdtempSync(join(tmpdir(), "tinyhub-dev-"));
let hub: any;
const devices: Device[] = [];

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Resolves when `cond()` holds, polling; fails after `ms`. */
async function until(cond: () => boolean, ms = 5000, what = "condition") {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await wait(10);
  }
}

type Log = { connects: number; closes: number[]; errors: number[]; c2d: any[]; desired: any[] };

function device(extra: any = {}, id = "dev-" + devices.length): { d: Device; log: Log; id: string } {
  if (!extra.connectionString && !hub.registry.get(id)) hub.registry.addDevice(id);
  const log: Log = { connects: 0, closes: [], errors: [], c2d: [], desired: [] };
  const d = createDevice({
    connectionString: extra.connectionString || hub.registry.connectionString(id),
    port: hub.ports.mqtts,
    tls: { ca: hub.ca },
    reconnect: { min: 50, max: 200 },
    onConnect: () => log.connects++,
    onClose: (c: number) => log.closes.push(c),
    onError: (c: number) => log.errors.push(c),
    onMessage: (m: any) => log.c2d.push({ body: Buffer.from(m.payload).toString(), props: m.properties, total: m.total }),
    onDesired: (p: any, v: number, whole?: boolean) => log.desired.push({ p, v, whole: !!whole }),
    ...extra,
  });
  if (typeof d === "number") throw new Error("createDevice: " + errorName(d));
  devices.push(d);
  return { d, log, id };
}

const twin = (d: Device) => new Promise<[number, any]>((r) => d.getTwin((e, t) => r([e, t])));
const patch = (d: Device, p: unknown) => new Promise<[number, any]>((r) => d.patchReported(p, (e, v) => r([e, v])));
const send = (d: Device, body: string, props?: any) => new Promise<number>((r) => {
  const n = d.sendEvent(body, props, r);
  if (n < 0) r(n);
});

test.before(async () => {
  hub = await startHub({ dir, log: false, plainPort: null });
});

test.after(async () => {
  for (const d of devices) d.end();
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

test("connect, telemetry with application and system properties (percent-encoded, no topic injection)", async () => {
  const { d, log, id } = device();
  d.connect();
  await until(() => log.connects == 1, 5000, "connect");
  const err = await send(d, '{"t":21.5}', { "a/b&c=d#": "x/y+z?é", $messageId: "m1", $contentType: "application/json", $contentEncoding: "utf-8", $correlationId: "c 1" });
  assert.is(err, 0);
  await until(() => hub.telemetry.some((m: any) => m.deviceId == id), 2000, "telemetry");
  const m = hub.telemetry.find((m: any) => m.deviceId == id);
  assert.is(m.body.toString(), '{"t":21.5}');
  assert.is(m.properties["a/b&c=d#"], "x/y+z?é");
  assert.is(m.system.messageId, "m1");
  assert.is(m.system.contentType, "application/json");
  assert.is(m.system.contentEncoding, "utf-8");
  assert.is(m.system.correlationId, "c 1");
  assert.is(m.topic.split("/").length, 5, "the property bag added no topic level");
});

test("C2D with properties, null versus empty", async () => {
  const { d, log, id } = device();
  d.connect();
  await until(() => log.connects == 1);
  hub.sendC2D(id, "hello device", { k: "v", empty: "", nul: null });
  await until(() => log.c2d.length == 1, 3000, "c2d");
  assert.is(log.c2d[0].body, "hello device");
  assert.is(log.c2d[0].props.k, "v");
  assert.is(log.c2d[0].props.empty, "");
  assert.is(log.c2d[0].props.nul, null);
  assert.ok(log.c2d[0].props.$messageId, "system property message id mapped");
});

test("twin get, reported patch answered with its version, desired update with its version", async () => {
  const { d, log, id } = device();
  d.connect();
  await until(() => log.connects == 1);
  let [e, t] = await twin(d);
  assert.is(e, 0);
  assert.is(typeof t.desired.$version, "number");
  const before = t.reported.$version;
  const [pe, v] = await patch(d, { fw: "1.2.3", nested: { a: 1 } });
  assert.is(pe, 0);
  assert.is(v, before + 1);
  [e, t] = await twin(d);
  assert.equal(t.reported.nested, { a: 1 });
  const dv = hub.updateDesired(id, { interval: 7 });
  await until(() => log.desired.length == 1, 3000, "desired");
  assert.equal([log.desired[0].v, log.desired[0].whole], [dv, false]);
  assert.is(log.desired[0].p.interval, 7);
});

test("desired changes made while the device was away reach onDesired after the reconnect (a twin GET), once", async () => {
  const { d, log, id } = device();
  d.connect();
  await until(() => log.connects == 1, 3000, "connected");
  const [, t] = await twin(d); // the application's own GET: the version it has seen
  const v0 = t.desired.$version;
  d.mqtt.reconnect();
  await until(() => log.connects == 2, 3000, "reconnected");
  await wait(300);
  assert.is(log.desired.length, 0, "nothing new since the application's GET");
  d.mqtt.end(); // the link goes; the hub keeps the twin
  await until(() => !hub.connected(id), 3000, "the hub to see it go");
  hub.updateDesired(id, { mode: "eco" });
  const v = hub.updateDesired(id, { level: 3 });
  assert.is(v, v0 + 2);
  d.mqtt.connect();
  await until(() => log.desired.length == 1, 3000, "the changes");
  assert.equal([log.desired[0].v, log.desired[0].whole, log.desired[0].p.mode, log.desired[0].p.level], [v, true, "eco", 3]);
  // a reconnect with nothing new delivers nothing
  d.mqtt.reconnect();
  await until(() => log.connects == 4, 3000, "the fourth connection");
  await wait(300);
  assert.is(log.desired.length, 1);
  d.end();
});

test("direct methods: dispatch by name, respond with status, unknown -> 501, throwing handler -> 500", async () => {
  const { d, log, id } = device({
    methods: {
      add: (p: any, respond: any) => respond(200, { sum: p.a + p.b }),
      boom: () => {
        throw new Error("kaput");
      },
    },
  });
  d.connect();
  await until(() => log.connects == 1);
  await wait(100);
  let r = await hub.invokeMethod(id, "add", { a: 2, b: 3 }, 3000);
  assert.equal(r, { status: 200, payload: { sum: 5 } });
  r = await hub.invokeMethod(id, "nope", null, 3000);
  assert.is(r.status, 501);
  r = await hub.invokeMethod(id, "boom", null, 3000);
  assert.is(r.status, 500);
  assert.match(JSON.stringify(r.payload), "kaput");
  // the connection survived all of it
  assert.is(log.connects, 1);
  assert.is((await twin(d))[0], 0);
});

test("a method response that meets a full outbox waits for room and is sent, not dropped", async () => {
  let d: Device;
  const r0 = device({
    bufferSize: 1024,
    methods: {
      fill: (_p: any, respond: any) => {
        // the outbox full of unacknowledged telemetry when the answer is due
        while (d.sendEvent("x".repeat(100), null) > 0);
        while (d.sendEvent("x", null) > 0);
        respond(200, { filled: true });
      },
    },
  });
  d = r0.d;
  d.connect();
  await until(() => r0.log.connects == 1);
  await wait(100);
  const r = await hub.invokeMethod(r0.id, "fill", null, 3000);
  assert.equal(r, { status: 200, payload: { filled: true } });
  assert.not.ok(r0.log.errors.includes(E_BUSY), "E_BUSY");
});

test("onMethod handles every method", async () => {
  const names: string[] = [];
  const { d, log, id } = device({ onMethod: (n: string, p: any, respond: any) => (names.push(n), respond(202, p)) });
  d.connect();
  await until(() => log.connects == 1);
  await wait(100);
  const r = await hub.invokeMethod(id, "anything", [1, 2], 3000);
  assert.equal(r, { status: 202, payload: [1, 2] });
  assert.equal(names, ["anything"]);
});

test("wrong key -> CONNACK refusal as a named error, no reconnect loop", async () => {
  const id = "wrong-key";
  hub.registry.addDevice(id);
  const cs = hub.registry.connectionString(id).replace(/SharedAccessKey=[^;]+/, "SharedAccessKey=" + Buffer.alloc(32, 7).toString("base64"));
  const { d, log } = device({ connectionString: cs });
  d.connect();
  await until(() => log.errors.length > 0, 3000, "refusal");
  await wait(500);
  assert.equal(log.errors, [E_REFUSED_CREDENTIALS], errorName(log.errors[0]));
  assert.is(log.connects, 0);
  assert.is(log.closes.length, 1, "closed once, not retried");
});

test("unknown device -> E_REFUSED_AUTH", async () => {
  const cs = `HostName=${hub.hubName};DeviceId=ghost;SharedAccessKey=${Buffer.alloc(32, 1).toString("base64")};GatewayHostName=localhost`;
  const { d, log } = device({ connectionString: cs });
  d.connect();
  await until(() => log.errors.length > 0, 3000, "refusal");
  assert.is(log.errors[0], E_REFUSED_AUTH, errorName(log.errors[0]));
});

function fixedToken(id: string, se: number) {
  const key = hub.registry.get(id).primaryKey;
  const sr = encodeURIComponent(`${hub.hubName}/devices/${id}`);
  const sig = createHmac("sha256", Buffer.from(key, "base64")).update(`${sr}\n${se}`).digest("base64");
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}`;
}

test("an expired fixed SharedAccessSignature -> E_TOKEN_EXPIRED before connecting", async () => {
  const id = "fixed-expired";
  hub.registry.addDevice(id);
  const cs = `HostName=${hub.hubName};DeviceId=${id};SharedAccessSignature=${fixedToken(id, Math.floor(Date.now() / 1000) - 10)};GatewayHostName=localhost`;
  const { d, log } = device({ connectionString: cs });
  d.connect();
  await wait(300);
  assert.equal(log.errors, [E_TOKEN_EXPIRED]);
  assert.is(log.connects, 0);
});

test("a fixed SharedAccessSignature that expires during the session -> E_TOKEN_EXPIRED, not a reconnect loop", async () => {
  const id = "fixed-expiring";
  hub.registry.addDevice(id);
  const cs = `HostName=${hub.hubName};DeviceId=${id};SharedAccessSignature=${fixedToken(id, Math.floor(Date.now() / 1000) + 2)};GatewayHostName=localhost`;
  const { d, log } = device({ connectionString: cs });
  d.connect();
  await until(() => log.connects == 1);
  await until(() => log.errors.includes(E_TOKEN_EXPIRED), 4000, "expiry");
  await wait(500);
  assert.is(log.connects, 1);
  assert.equal(log.errors, [E_TOKEN_EXPIRED]);
});

test("token renewal reconnects with a fresh token, keeping queued QoS 1 messages and subscriptions", async () => {
  const { d, log, id } = device({ tokenLifetime: 2 });
  d.connect();
  await until(() => log.connects == 1);
  // renewal after 1 s (half the lifetime when shorter than the 300 s margin): send across it
  const done: number[] = [];
  for (let i = 0; i < 30; i++) {
    d.sendEvent(`n${i}`, null, (e) => done.push(e));
    await wait(70);
  }
  await until(() => log.connects >= 2, 3000, "renewal reconnect");
  await until(() => done.length == 30, 3000, "all acknowledged");
  assert.ok(done.every((e) => e == 0), JSON.stringify(done));
  const got = new Set(hub.telemetry.filter((m: any) => m.deviceId == id).map((m: any) => m.body.toString()));
  for (let i = 0; i < 30; i++) assert.ok(got.has(`n${i}`), `n${i} arrived`);
  hub.sendC2D(id, "after renewal", {});
  await until(() => log.c2d.length == 1, 3000, "c2d after renewal");
  assert.equal(log.errors, []);
});

test("twin answered 429 -> E_HUB_STATUS with the status; the connection is kept", async () => {
  const { d, log } = device();
  d.connect();
  await until(() => log.connects == 1);
  hub.options.twinThrottle = 1;
  const [e, status] = await twin(d);
  assert.is(e, E_HUB_STATUS);
  assert.is(status, 429);
  assert.is((await twin(d))[0], 0);
  assert.is(log.connects, 1);
});

test("twin requests time out with E_TIMEOUT when unanswered", async () => {
  const { d, log } = device({ requestTimeout: 300 });
  // never connected: the request waits in the buffer and times out
  const [e] = await twin(d);
  assert.is(e, E_TIMEOUT);
  assert.is(log.connects, 0);
});

test("hub rules client-side: QoS 2 refused, only the device's own filters, 256 KB telemetry limit", async () => {
  const { d, id } = device({ bufferSize: 4096 });
  assert.is(d.publish(`devices/x/messages/events/`, "x", 2), E_HUB_QOS2);
  // no count limit (the service documents none): the device's own filters, as often as asked
  for (let i = 0; i < 8; i++) assert.ok(d.subscribe("$iothub/methods/POST/#", 1) > 0);
  assert.ok(d.subscribe("$iothub/twin/res/#", 0) > 0);
  assert.ok(d.subscribe(`devices/${id}/messages/devicebound/#`, 1) > 0, "its C2D");
  assert.is(d.subscribe("devices/x/b", 0), E_HUB_FILTER, "not a topic of this device");
  assert.is(d.subscribe("devices/other/messages/devicebound/#", 1), E_HUB_FILTER, "another device's C2D");
  assert.is(d.sendEvent(new Uint8Array(262145), null), E_HUB_SIZE);
  assert.is(d.sendEvent(new Uint8Array(5000), null), E_TOO_LARGE, "larger than this device's buffer");
});

test("one buffer: documents larger than the receive region are joined in the document region; larger than it, E_TOO_LARGE and the session goes on", async () => {
  assert.is(createDevice({ connectionString: hub.registry.connectionString("dev-0"), bufferSize: 2048, documentSize: 1800, transport: {} as any, clock: {} as any }), E_ARGUMENT, "too little left for MQTT");
  assert.is(createDevice({ connectionString: hub.registry.connectionString("dev-0"), bufferSize: 300000, documentSize: 131073, transport: {} as any, clock: {} as any }), E_ARGUMENT, "over the service's 128 KB");
  const calls: any[] = [];
  const { d, log, id } = device({ bufferSize: 2048, rxSize: 512, documentSize: 1024, methods: { echo: (p: any, respond: any) => (calls.push(p), respond(200, { n: p.length })) } });
  d.connect();
  await until(() => log.connects == 1);
  // a GET answered: the SUBSCRIBEs sent before it are in force at the hub (a push before them would not come)
  assert.is((await twin(d))[0], 0);
  // a twin whose desired document is ~800 bytes: over the 512-byte receive region, within the 1024 for documents
  const v = hub.updateDesired(id, { blob: "x".repeat(800) });
  await until(() => log.desired.length == 1, 3000, "the pushed patch, joined");
  assert.equal([log.desired[0].v, log.desired[0].p.blob.length], [v, 800]);
  let [e, t] = await twin(d);
  assert.equal([e, t.desired.blob.length], [0, 800]);
  // over 1024: the request fails by name, the connection stays
  hub.updateDesired(id, { blob: "y".repeat(1500) });
  await until(() => log.errors.includes(E_TOO_LARGE), 3000, "the pushed patch refused");
  [e, t] = await twin(d);
  assert.is(e, E_TOO_LARGE);
  // a method payload over it is answered 413; a small one still works
  let r = await hub.invokeMethod(id, "echo", "z".repeat(1500), 3000);
  assert.is(r.status, 413);
  r = await hub.invokeMethod(id, "echo", "small", 3000);
  assert.equal([r.status, r.payload], [200, { n: 5 }]);
  assert.equal(calls, ["small"]);
  assert.is(log.connects, 1, "never reconnected");
});

test("backpressure: sendEvent answers E_OUTBOX_FULL while the buffer is full, then onWritable once room frees", async () => {
  let writable = 0;
  const { d, log } = device({ bufferSize: 1024, onWritable: () => writable++ });
  // not connected yet: messages wait in the buffer until it is full
  let n = 0, r: number;
  while ((r = d.sendEvent("x".repeat(100), null)) > 0) n++;
  assert.is(r, E_OUTBOX_FULL);
  assert.ok(n >= 2);
  d.connect();
  await until(() => log.connects == 1);
  await until(() => writable == 1, 3000, "onWritable");
  assert.ok(d.sendEvent("after", null) > 0);
});

test("store: telemetry queued while offline survives a restart (a new device over the same file) and arrives in order, once", async () => {
  const path = join(dir, "dev-store.log");
  const id = "dev-store";
  const a = device({ store: fileStore(path) }, id);
  for (let i = 0; i < 5; i++) assert.ok(a.d.sendEvent("m" + i, null) > 0);
  // the power cut: the first device is never connected nor ended; a second one starts over the file
  const b = device({ store: fileStore(path) }, id);
  b.d.connect();
  await until(() => hub.telemetry.filter((m: any) => m.deviceId == id).length >= 5, 5000, "restored telemetry");
  await wait(200);
  assert.equal(hub.telemetry.filter((m: any) => m.deviceId == id).map((m: any) => m.body.toString()), ["m0", "m1", "m2", "m3", "m4"]);
  // without a store the same restart loses them
  const c = device({}, "dev-nostore");
  assert.ok(c.d.sendEvent("lost", null) > 0);
  const e = device({}, "dev-nostore");
  e.d.connect();
  await until(() => e.log.connects == 1);
  await wait(300);
  assert.is(hub.telemetry.filter((m: any) => m.deviceId == "dev-nostore").length, 0);
});

test("a malformed connection string is refused with the part that is wrong", () => {
  assert.is(createDevice({ connectionString: "DeviceId=x;SharedAccessKey=AAAA" }) as number, E_CS_HOST);
});

test("a module identity: its own client id, user name and telemetry topic", async () => {
  hub.registry.addDevice("edge-dev");
  hub.registry.addModule("edge-dev", "filter");
  const cs = hub.registry.connectionString("edge-dev", "filter");
  const { d, log } = device({ connectionString: cs, onMessage: undefined });
  d.connect();
  await until(() => log.connects == 1);
  assert.is(await send(d, "from module"), 0);
  await until(() => hub.telemetry.some((m: any) => m.moduleId == "filter"), 2000, "module telemetry");
  assert.is((await twin(d))[0], 0);
});

test("X.509: empty password, client certificate through TLS", async () => {
  const tmp = mkdtempSync(join(tmpdir(), "tinyhub-x509-"));
  const key = join(tmp, "k.pem"), crt = join(tmp, "c.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=x509-dev"], { stdio: "ignore" });
  const der = execFileSync("openssl", ["x509", "-in", crt, "-outform", "DER"]);
  const thumb = createHash("sha256").update(der).digest("hex").toUpperCase();
  hub.registry.addDevice("x509-dev", { auth: "x509", thumbprint: thumb });
  const { d, log } = device({ connectionString: hub.registry.connectionString("x509-dev"), tls: { ca: hub.ca, cert: readFileSync(crt), key: readFileSync(key) } });
  d.connect();
  await until(() => log.connects == 1 || log.errors.length > 0, 5000, "x509 connect");
  assert.equal(log.errors, []);
  assert.is(await send(d, "signed by certificate"), 0);
  rmSync(tmp, { recursive: true, force: true });
});

test("DPS: register, poll honouring retry-after, then connect to the assigned hub (both in one buffer)", async () => {
  const e = hub.registry.addEnrollment("dps-dev-1");
  const mem = new Uint8Array(2048);
  const r = await new Promise<any>((res) =>
    provision({
      idScope: hub.dpsIdScope, registrationId: "dps-dev-1", symmetricKey: e.key,
      host: "localhost", port: hub.ports.dps, tls: { ca: hub.ca }, buffer: mem,
    }, (err, out) => res({ err, out })));
  assert.is(r.err, 0, errorName(r.err));
  assert.is(r.out.deviceId, "dps-dev-1");
  assert.is(r.out.assignedHub, hub.hubName);
  assert.ok(Buffer.from(mem).includes(Buffer.from("iotdps-register")), "DPS built its requests in the buffer given");
  const { d, log } = device({ connectionString: r.out.connectionString + ";GatewayHostName=localhost", buffer: mem });
  d.connect();
  await until(() => log.connects == 1, 5000, "connect after provisioning");
});

test("DPS with a wrong key -> a named refusal", async () => {
  hub.registry.addEnrollment("dps-dev-2");
  const r = await new Promise<number>((res) =>
    provision({
      idScope: hub.dpsIdScope, registrationId: "dps-dev-2", symmetricKey: Buffer.alloc(32, 9).toString("base64"),
      host: "localhost", port: hub.ports.dps, tls: { ca: hub.ca }, timeout: 3000,
    }, (err) => res(err)));
  assert.is(r, E_REFUSED_CREDENTIALS, errorName(r));
});

test.run();
