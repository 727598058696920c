// createDevice({protocol}): MQTT over WebSockets and HTTPS against the emulator; AMQP offered by the Node build.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHub } from "../../tools/hub/index.js";
import { createDevice, errorName, E_HUB_PROTOCOL } from "../../targets/node/index";
import { selectProtocol } from "../../src/sessions/protocol";

const dir = mkdtempSync(join(tmpdir(), "tinyhub-proto-"));
let hub: any;
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
};

test.before(async () => {
  hub = await startHub({ dir, log: false });
});
test.after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

test('"mqtt-ws": the MQTT device over a WebSocket at /$iothub/websocket: telemetry, twin, C2D', async () => {
  hub.registry.addDevice("ws-dev");
  const c2d: string[] = [];
  let up = 0;
  // one buffer for all of it: the WebSocket's scratch first, then the MQTT client's regions
  const mem = new Uint8Array(4096);
  const d = createDevice({
    connectionString: hub.registry.connectionString("ws-dev"), protocol: "mqtt-ws", port: hub.ports.https, tls: { ca: hub.ca }, buffer: mem,
    onConnect: () => up++, onMessage: (m) => c2d.push(Buffer.from(m.payload).toString()),
  });
  if (typeof d == "number") throw new Error(errorName(d));
  d.connect();
  await until(() => up == 1);
  const err = await new Promise<number>((r) => d.sendEvent("over ws", { via: "ws" }, r));
  assert.is(err, 0);
  assert.ok(hub.telemetry.some((m: any) => m.deviceId == "ws-dev" && m.body.toString() == "over ws" && m.properties.via == "ws"));
  const [e, twin] = await new Promise<[number, any]>((r) => d.getTwin((e, t) => r([e, t])));
  assert.is(e, 0);
  assert.ok(twin.reported);
  hub.sendC2D("ws-dev", "to ws", {});
  await until(() => c2d.length == 1);
  const text = Buffer.from(mem).toString("latin1");
  assert.ok(mem.subarray(0, 512).some((b) => b != 0), "the WebSocket's frames went through the first 512 bytes");
  assert.ok(text.indexOf("over ws") > 512, "telemetry was built in the MQTT part");
  d.end();
});

test('"http": telemetry over HTTPS through createDevice', async () => {
  hub.registry.addDevice("http-dev");
  const d = createDevice({ connectionString: hub.registry.connectionString("http-dev"), protocol: "http", port: hub.ports.https, tls: { ca: hub.ca } });
  if (typeof d == "number") throw new Error(errorName(d));
  const [err, status] = await new Promise<[number, number?]>((r) => d.sendEvent("over https", { via: "http" }, (e, s) => r([e, s])));
  assert.is(err, 0);
  assert.is(status, 204);
  assert.ok(hub.telemetry.some((m: any) => m.deviceId == "http-dev" && m.protocol == "https" && m.properties.via == "http"));
  d.end();
});

test('the Node build offers "amqp" and "amqp-ws" (test/sessions/amqp.test.ts); a build without them refuses them by name', () => {
  const cs = hub.registry.connectionString("ws-dev");
  for (const protocol of ["amqp", "amqp-ws"] as const) {
    const d: any = createDevice({ connectionString: cs, protocol });
    assert.type(d.amqp, "object", protocol);
  }
  const o: any = { transport: {}, protocol: "amqp" };
  assert.is(selectProtocol(o, { mqtt: () => 1 }), E_HUB_PROTOCOL);
  assert.is(selectProtocol({ ...o, protocol: "amqp-ws" }, { mqtt: () => 1, ws: () => ({}) as any }), E_HUB_PROTOCOL);
  let seen: any;
  selectProtocol({ ...o, protocol: "amqp-ws" }, { amqp: (x: any) => ((seen = x), 1), ws: (inner: any, w: any) => ({ inner, w }) as any });
  assert.equal([seen.port, seen.transport.w.path, seen.transport.w.protocol, seen.buffer.length], [443, "/$iothub/websocket", "AMQPWSB10", 4096 - 512]);
});

test("a build without a protocol's code refuses it by name", () => {
  const o: any = { transport: {}, protocol: "mqtt-ws" };
  assert.is(selectProtocol(o, { mqtt: () => 1 }), E_HUB_PROTOCOL, "no WebSocket transport in this build");
  assert.is(selectProtocol({ ...o, protocol: "http" }, { mqtt: () => 1 }), E_HUB_PROTOCOL);
  let seen: any;
  selectProtocol(o, { mqtt: (x: any) => ((seen = x), 1), ws: (inner: any, w: any) => ({ inner, w }) as any });
  assert.is(seen.port, 443);
  assert.is(seen.transport.w.path, "/$iothub/websocket");
  assert.equal([seen.transport.w.buffer.length, seen.buffer.length, seen.buffer.buffer], [512, 2048 - 512, seen.transport.w.buffer.buffer], "one allocation, two regions");
  assert.is(o.port, undefined, "the caller's options are not changed");
});

test.run();
