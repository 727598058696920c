// The Moddable build in Moddable XS (@agoric/xsnap): dist/moddable/mqtt.js and hub.js imported
// unmodified, their platform modules "embedded:io/socket/tcp" and "timer" resolved to the bridge
// (test/engines/bridge.es5.js: ECMA-419 TCP, Timer, DNS) whose sockets are real ones in Node.
// A full MQTT session against mosquitto, a full IoT Hub session against the emulator, and the XS
// heap slot counts per entry (engines-report.json).
// Run: npx tsx node_modules/uvu/bin.js test/engines "\.test\.ts$"
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startXSEngine, measureXS, record } from "../../tools/engines/index.js";
import type { XSEngine, XSFigures } from "../../tools/engines/index.js";
import { startHub } from "../../tools/hub/index.js";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { mqttSession, hubSession, bounded, once } from "./scenarios";

let broker: Mosquitto | null = null, hub: any = null;
const dir = mkdtempSync(join(tmpdir(), "tinyhub-xs-hub-"));
const slots: Record<string, Record<string, number>> = { mqtt: {}, hub: {} };
const volume: Record<string, XSFigures> = {};
/** Heap slots may grow by this much over the volume run (XS allocates slots in chunks; a leak of one slot per message would be 900). */
const SLOT_GROWTH = 64;

const log = process.env.TINYHUB_ENGINES_LOG ? (l: string) => console.log(l) : undefined;

const mq = mqttSession({
  id: `xs-mqtt-${process.pid}`,
  broker: () => broker!,
  start: () => startXSEngine({ entry: "mqtt", log }),
  measure: async (e, when) => { slots.mqtt[when] = await (e as XSEngine).heapSlots(); },
});
const hb = hubSession({
  id: `xs-hub-${process.pid}`,
  hub: () => hub,
  start: (names) => startXSEngine({ entry: "hub", names, log }),
  measure: async (e, when) => { slots.hub[when] = await (e as XSEngine).heapSlots(); },
});

const setup = once(async () => {
  broker = await startMosquitto({ tls: false, extra: ["log_type debug"] });
  hub = await startHub({ dir, log: false, plainPort: 0, mqttsPort: null, httpsPort: null, dpsPort: null, adminPort: null });
});

test.after(async () => {
  await mq.close().catch(() => {});
  await hb.close().catch(() => {});
  if (broker) await broker.stop();
  if (hub) await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const s of mq.steps) test(`XS mqtt: ${s.name}`, bounded(s.ms, async () => { await setup(); await s.run(); }));

test("XS mqtt: the bundle's heap slots", () => {
  const e = mq.engine() as XSEngine | null;
  assert.ok(e, "the session ran");
  slots.mqtt.afterLoad = e!.slots.loaded;
  slots.mqtt.bundle = e!.slots.bundle;
  assert.ok(e!.slots.bundle > 0 && e!.slots.bundle < 20000, `bundle slots ${e!.slots.bundle}`);
});

for (const s of hb.steps) test(`XS hub: ${s.name}`, bounded(s.ms, async () => { await setup(); await s.run(); }));

test("XS hub: the bundle's heap slots", () => {
  const e = hb.engine() as XSEngine | null;
  assert.ok(e, "the session ran");
  slots.hub.afterLoad = e!.slots.loaded;
  slots.hub.bundle = e!.slots.bundle;
  assert.ok(e!.slots.bundle > 0 && e!.slots.bundle < 40000, `bundle slots ${e!.slots.bundle}`);
});

test("XS mqtt: 1,000 messages (QoS 0/1 to itself through mosquitto) do not grow the heap", bounded(30000, async () => {
  await setup();
  const f = await measureXS("mqtt", { port: broker!.ports.mqtt }, { messages: 1000, warmup: 100 });
  volume.mqtt = f;
  assert.equal([f.counts.received, f.counts.acked], [1000, 1000]);
  assert.equal(f.pending, { sockets: 0, timers: 0, lookups: 0 });
  assert.ok(f.growth <= SLOT_GROWTH, `heap slots grew by ${f.growth} (warm ${f.warm}, end ${f.end})`);
}));

test("XS hub: 1,000 telemetry messages with properties do not grow the heap", bounded(30000, async () => {
  await setup();
  hub.registry.addDevice(`xs-hub-${process.pid}`.replace("hub", "vol"));
  const f = await measureXS("hub", { hub, deviceId: `xs-hub-${process.pid}`.replace("hub", "vol") }, { messages: 1000, warmup: 100 });
  volume.hub = f;
  assert.equal(f.counts.acked, 1000);
  assert.equal(f.pending, { sockets: 0, timers: 0, lookups: 0 });
  assert.ok(f.growth <= SLOT_GROWTH, `heap slots grew by ${f.growth} (warm ${f.warm}, end ${f.end})`);
}));

test("XS: slot figures written to engines-report.json", () => {
  for (const entry of ["mqtt", "hub"]) {
    const v = volume[entry];
    assert.ok(v, `${entry} volume figures`);
    record("xs", entry, {
      unit: "slots",
      bundle: v.bundle,
      empty: v.empty,
      afterLoad: v.afterLoad,
      bundleSlots: v.bundleSlots,
      connected: v.connected,
      warm: v.warm,
      end: v.end,
      growth: v.growth,
      ended: v.ended,
      messages: v.messages,
      session: slots[entry],
    });
  }
  console.log(`  XS heap slots: ${JSON.stringify({ mqtt: volume.mqtt && { load: volume.mqtt.afterLoad, warm: volume.mqtt.warm, end: volume.mqtt.end }, hub: volume.hub && { load: volume.hub.afterLoad, warm: volume.hub.warm, end: volume.hub.end } })}`);
});

test.run();
