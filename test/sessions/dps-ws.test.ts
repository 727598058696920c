// DPS registration over MQTT over WebSockets (provision({ protocol: "mqtt-ws" }) through the Node entry: the MQTT
// registration over src/ws/transport.ts) against the emulator's DPS listener, which takes MQTT/TLS and, on the same
// port, WebSocket upgrades at /$iothub/websocket as the service's DPS host does on 443. An individual enrollment,
// an enrollment group with a derived key and an X.509 enrollment register; each device then connects to the hub.
// The recorded bytes show the upgrade went first; the refusals are the client's named errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { startHub } from "../../tools/hub/index.js";
import { createDevice, provision, deriveKey, errorName, E_HUB_PROTOCOL } from "../../targets/node/index";
import type { Device, Provisioned, ProvisionOptions } from "../../targets/node/index";
import { E_REFUSED_CREDENTIALS } from "../../src/errors";
import { recording } from "../helpers/recording";

const dir = mkdtempSync(join(tmpdir(), "tinyhub-dps-ws-"));
let hub: any;
const devices: Device[] = [];

test.before(async () => {
  hub = await startHub({ dir, log: false, plainPort: null, adminPort: null });
});
test.after(async () => {
  for (const d of devices) d.end();
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** provision({ protocol: "mqtt-ws" }) to the emulator's DPS port. */
function register(o: Partial<ProvisionOptions> & { registrationId: string; protocol?: any }): Promise<{ err: number; out?: Provisioned; sent: string }> {
  const transport = recording();
  return new Promise((resolve) =>
    provision({
      protocol: "mqtt-ws", idScope: hub.dpsIdScope, host: "localhost", port: hub.ports.dps, tls: { ca: hub.ca }, timeout: 10000, transport, ...o,
    }, (err, out) => resolve({ err, out, sent: transport.text("latin1") })));
}

function connectDevice(connectionString: string, tls: any = { ca: hub.ca }): Promise<Device> {
  return new Promise((resolve, reject) => {
    const d = createDevice({
      connectionString: connectionString + ";GatewayHostName=localhost", port: hub.ports.mqtts, tls,
      onConnect: () => resolve(d as Device), onError: (e: number) => reject(new Error(errorName(e))),
    });
    if (typeof d == "number") return reject(new Error(errorName(d)));
    devices.push(d);
    d.connect();
  });
}

test("an individual enrollment registers over MQTT/WebSockets: the upgrade to /$iothub/websocket (subprotocol mqtt) goes first; the device connects", async () => {
  const { key } = hub.registry.addEnrollment("ws-dev-1");
  const r = await register({ registrationId: "ws-dev-1", symmetricKey: key });
  assert.is(r.err, 0, errorName(r.err));
  assert.ok(r.sent.startsWith("GET /$iothub/websocket HTTP/1.1\r\n"), r.sent.slice(0, 60));
  assert.match(r.sent.slice(0, r.sent.indexOf("\r\n\r\n") + 2), /\r\nSec-WebSocket-Protocol: mqtt\r\n/i);
  assert.is(r.out!.connectionString, `HostName=${hub.hubName};DeviceId=ws-dev-1;SharedAccessKey=${key}`);
  assert.is(hub.registry.get("ws-dev-1").primaryKey, key);
  await connectDevice(r.out!.connectionString);
});

test("an enrollment group's derived key registers over MQTT/WebSockets; the group key itself is refused by name", async () => {
  const group = hub.registry.addGroupEnrollment("ws-grp");
  const key = deriveKey(group.key, "ws-grp-1") as string;
  const r = await register({ registrationId: "ws-grp-1", symmetricKey: key });
  assert.is(r.err, 0, errorName(r.err));
  assert.is(hub.registry.get("ws-grp-1").primaryKey, key);
  await connectDevice(r.out!.connectionString);
  const bad = await register({ registrationId: "ws-grp-2", symmetricKey: group.key });
  assert.is(bad.err, E_REFUSED_CREDENTIALS, errorName(bad.err));
  assert.is(hub.registry.get("ws-grp-2"), undefined);
});

test("an X.509 enrollment registers over MQTT/WebSockets with the TLS client certificate under the WebSocket", async () => {
  const id = "ws-x509";
  const { cert, key } = hub.deviceCert(id);
  hub.registry.addEnrollment(id, undefined, { auth: "x509" });
  const tls = { ca: hub.ca, cert, key };
  const r = await register({ registrationId: id, tls });
  assert.is(r.err, 0, errorName(r.err));
  assert.is(r.out!.connectionString, `HostName=${hub.hubName};DeviceId=${id};x509=true`);
  await connectDevice(r.out!.connectionString, tls);
  const other = hub.deviceCert("ws-x509-other");
  assert.is((await register({ registrationId: id, tls: { ca: hub.ca, cert: other.cert, key: other.key } })).err, E_REFUSED_CREDENTIALS);
});

test("the DPS port refuses an upgrade without the mqtt subprotocol (400); an unknown protocol is E_HUB_PROTOCOL", async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`wss://localhost:${hub.ports.dps}/$iothub/websocket`, { ca: hub.ca });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode!));
    ws.on("open", () => reject(new Error("opened")));
    ws.on("error", () => {});
  });
  assert.is(status, 400);
  assert.is((await register({ registrationId: "ws-none", protocol: "amqp" })).err, E_HUB_PROTOCOL);
});

test.run();
