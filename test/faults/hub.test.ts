// Cloud-to-device messages to a persistent-session device under faults, against the IoT Hub emulator
// (tools/hub): over plain MQTT (the emulator's plain listener) and over MQTT on WebSockets on TLS (its
// /$iothub/websocket on the https port), each through a fault proxy. The hub keeps a C2D message until
// the device's PUBACK and sends it again on the next connection, so none may be lost; duplicates are
// counted (QoS 1).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDevice, errorName, Device } from "../../targets/node/index";
import { startHub } from "../../tools/hub/index.js";
import { startFaultProxy, FaultProxy } from "../helpers/faultproxy";
import { it, later, sleep, until, injectWhile, faultTotals, faultLine, Tally, SMALL_BACKOFF } from "./util";

type Hub = Awaited<ReturnType<typeof startHub>>;

async function hubInTmp(): Promise<Hub> {
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-faults-"));
  const hub = await startHub({ dir, log: false, plainPort: 0 });
  later(() => rmSync(dir, { recursive: true, force: true }));
  later(() => hub.close());
  return hub;
}

interface C2DRun { count: number; ws: boolean; minFaults: number; pace: number }

async function c2dUnderFaults(hub: Hub, px: FaultProxy, o: C2DRun) {
  const id = `c2d-${o.ws ? "ws" : "tcp"}-${process.pid}`;
  const key = hub.registry.addDevice(id).primaryKey!;
  const tally = new Tally(o.count);
  const closes: Record<string, number> = {}, errors: number[] = [];
  let connects = 0;
  const t0 = Date.now();
  const d = createDevice({
    host: hub.hubName, deviceId: id, sharedAccessKey: key, gatewayHostName: "127.0.0.1",
    protocol: o.ws ? "mqtt-ws" : "mqtt",
    port: px.port,
    tls: o.ws ? { ca: hub.ca, servername: "localhost" } : null,
    keepalive: 2,
    reconnect: SMALL_BACKOFF,
    onConnect: () => connects++,
    onClose: (c) => { const k = errorName(c) || String(c); closes[k] = (closes[k] || 0) + 1; },
    onError: (c) => errors.push(c),
    onMessage: (m) => {
      // whole messages only here (small bodies)
      assert.is(m.payload.length, m.total);
      tally.add(+Buffer.from(m.payload).toString().slice(1));
    },
  });
  if (typeof d == "number") throw new Error("createDevice: " + errorName(d));
  const dev = d as Device;
  later(() => dev.end());
  dev.connect();
  await until(() => connects > 0 && hub.connected(id), 8000, "the device online");
  // the subscription is in place once the first message goes through
  hub.sendC2D(id, "c0");
  await until(() => tally.unique > 0, 5000, "the first C2D message");

  let sending = true;
  const injecting = injectWhile([px], 120, o.minFaults, () => sending);
  for (let i = 1; i < o.count; i++) {
    // the hub keeps at most 50 pending per device; a steady stream, so the faults meet traffic
    while (hub.c2dQueue(id).length >= 40) await sleep(10);
    hub.sendC2D(id, "c" + i, { n: String(i) });
    await sleep(o.pace);
  }
  sending = false;
  await injecting;
  await until(() => tally.unique >= o.count && hub.c2dQueue(id).length == 0, 20000,
    () => `every message delivered and acknowledged: received ${tally.unique}/${o.count}, pending ${hub.c2dQueue(id).length}, missing ${tally.lostList().slice(0, 20)}`);
  return { tally, faults: faultTotals([px]), connects, closes, errors, ms: Date.now() - t0 };
}

function line(label: string, r: Awaited<ReturnType<typeof c2dUnderFaults>>) {
  const f = r.faults;
  return `${label}: ${r.tally.expected} C2D messages in ${r.ms} ms through ${faultLine(f)}; ` +
    `received ${r.tally.unique}, lost ${r.tally.lost}, duplicates ${r.tally.duplicates}; connects ${r.connects}; closes ${JSON.stringify(r.closes)}` +
    (r.errors.length ? `; errors ${r.errors.map(errorName).join(",")}` : "");
}

it("C2D to a persistent-session device over MQTT (plain listener) through >= 20 faults: none lost", 40000, async () => {
  const hub = await hubInTmp();
  const px = await startFaultProxy(hub.ports.plain!);
  later(() => px.close());
  const r = await c2dUnderFaults(hub, px, { count: 200, ws: false, minFaults: 20, pace: 15 });
  console.log("  " + line("hub emulator, MQTT", r));
  assert.ok(r.faults.hit >= 20, `at least 20 faults hit (${r.faults.hit})`);
  assert.equal(r.tally.lostList(), [], "none lost");
  assert.ok(r.connects > 1, "the device reconnected");
});

it("C2D to a persistent-session device over MQTT/WebSockets/TLS through >= 20 faults: none lost", 40000, async () => {
  const hub = await hubInTmp();
  const px = await startFaultProxy(hub.ports.https!);
  later(() => px.close());
  const r = await c2dUnderFaults(hub, px, { count: 150, ws: true, minFaults: 20, pace: 20 });
  console.log("  " + line("hub emulator, MQTT over WebSockets (TLS)", r));
  assert.ok(r.faults.hit >= 20, `at least 20 faults hit (${r.faults.hit})`);
  assert.equal(r.tally.lostList(), [], "none lost");
  assert.ok(r.connects > 1, "the device reconnected");
});

test.run();
