// The Espruino build in QuickJS (quickjs-emscripten, in this process) for memory accounting: 10,000
// messages through dist/espruino/mqtt.js (QoS 0 and 1, published to itself through a real mosquitto)
// and through dist/espruino/hub.js (telemetry with properties to the hub emulator, a reported-properties
// patch every 500). runtime.computeMemoryUsage().memory_used_size after load, after a warm-up of 1,000
// messages and at the end; the engine may hold at most GROWTH more bytes at the end than after the
// warm-up. Figures go to engines-report.json.
// Run: npx tsx node_modules/uvu/bin.js test/engines "\.test\.ts$"
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measureQuickJS, record } from "../../tools/engines/index.js";
import type { QuickJSFigures } from "../../tools/engines/index.js";
import { startHub } from "../../tools/hub/index.js";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { bounded, once } from "./scenarios";

/** Bytes memory_used_size may grow between the warm-up and the end of the 10,000 messages. */
const GROWTH = 8 * 1024;
const MESSAGES = 10000, WARMUP = 1000;

let broker: Mosquitto | null = null, hub: any = null;
const dir = mkdtempSync(join(tmpdir(), "tinyhub-qjs-hub-"));
const figures: Record<string, QuickJSFigures> = {};

const setup = once(async () => {
  broker = await startMosquitto({ tls: false });
  hub = await startHub({ dir, log: false, plainPort: 0, mqttsPort: null, httpsPort: null, dpsPort: null, adminPort: null });
});

test.after(async () => {
  if (broker) await broker.stop();
  if (hub) await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

function check(f: QuickJSFigures) {
  assert.equal(f.pending, { sockets: 0, timers: 0, lookups: 0 }, "nothing left open inside the engine");
  assert.ok(f.afterLoad > f.empty, "the bundle takes memory");
  assert.ok(f.growth <= GROWTH, `memory_used_size grew by ${f.growth} bytes over ${f.messages - f.warmup} messages (warm ${f.warm}, end ${f.end}); bound ${GROWTH}`);
}

test(`QuickJS mqtt: ${MESSAGES} messages to itself through mosquitto, memory flat after warm-up`, bounded(40000, async () => {
  await setup();
  const f = await measureQuickJS("mqtt", { port: broker!.ports.mqtt }, { messages: MESSAGES, warmup: WARMUP });
  figures.mqtt = f;
  assert.equal([f.counts.sent, f.counts.received, f.counts.acked], [MESSAGES, MESSAGES, MESSAGES]);
  check(f);
}));

test(`QuickJS hub: ${MESSAGES} telemetry messages to the emulator, memory flat after warm-up`, bounded(40000, async () => {
  await setup();
  const id = `qjs-vol-${process.pid}`;
  hub.registry.addDevice(id);
  const f = await measureQuickJS("hub", { hub, deviceId: id }, { messages: MESSAGES, warmup: WARMUP });
  figures.hub = f;
  assert.equal([f.counts.sent, f.counts.acked, f.counts.patches], [MESSAGES, MESSAGES, MESSAGES / 500]);
  const twin = hub.getTwin(id);
  assert.is(twin.reported.sent, MESSAGES, "the last reported patch reached the hub");
  check(f);
}));

test("QuickJS: memory figures written to engines-report.json", () => {
  for (const entry of ["mqtt", "hub"]) {
    const f = figures[entry];
    assert.ok(f, `${entry} figures`);
    record("quickjs", entry, {
      unit: "bytes",
      bundle: f.bundle,
      empty: f.empty,
      afterLoad: f.afterLoad,
      bundleBytes: f.bundleBytes,
      connected: f.connected,
      warm: f.warm,
      end: f.end,
      growth: f.growth,
      messages: f.messages,
      warmup: f.warmup,
      ms: f.ms,
    });
  }
  const show = (f: QuickJSFigures) => f && { load: f.afterLoad, warm: f.warm, end: f.end, growth: f.growth };
  console.log(`  QuickJS memory_used_size: ${JSON.stringify({ mqtt: show(figures.mqtt), hub: show(figures.hub) })}`);
});

test.run();
