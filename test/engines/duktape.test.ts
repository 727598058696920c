// The Espruino build in Duktape 2.7 (ES5.1 only; the engine of Debian's `duk`): dist/espruino/mqtt.js
// and hub.js run by a small C host (tools/engines/dukhost.c, memory capped with `ulimit -v`), given the
// bridge's transport and clock (test/engines/bridge.es5.js) whose sockets are real ones in Node.
// A full MQTT session against mosquitto and a full IoT Hub session against the emulator; then the same
// two with no transport or clock given, so the bundles' own Espruino glue (targets/espruino/transport.ts)
// runs over emulated Espruino APIs (test/engines/espruino.es5.js: require("net"), E, setTimeout).
// Run: npx tsx node_modules/uvu/bin.js test/engines "\.test\.ts$"
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDuktapeEngine, record } from "../../tools/engines/index.js";
import type { DuktapeEngine } from "../../tools/engines/index.js";
import { startHub } from "../../tools/hub/index.js";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { mqttSession, hubSession, bounded, once } from "./scenarios";

/** The Duktape process's address space, in KB (`ulimit -v`). */
const MEMORY_KB = 65536;

let broker: Mosquitto | null = null, hub: any = null;
const dir = mkdtempSync(join(tmpdir(), "tinyhub-duk-hub-"));
const heap: Record<string, Record<string, number>> = { mqtt: {}, hub: {} };
const log = process.env.TINYHUB_ENGINES_LOG ? (l: string) => console.log(l) : undefined;

const mq = mqttSession({
  id: `duk-mqtt-${process.pid}`,
  broker: () => broker!,
  start: () => startDuktapeEngine({ entry: "mqtt", log, memoryKB: MEMORY_KB }),
  measure: async (e, when) => { heap.mqtt[when] = (await (e as DuktapeEngine).heap()).used; },
});
const hb = hubSession({
  id: `duk-hub-${process.pid}`,
  hub: () => hub,
  start: (names) => startDuktapeEngine({ entry: "hub", names, log, memoryKB: MEMORY_KB }),
  measure: async (e, when) => { heap.hub[when] = (await (e as DuktapeEngine).heap()).used; },
});

const setup = once(async () => {
  broker = await startMosquitto({ tls: false, extra: ["log_type debug"] });
  hub = await startHub({ dir, log: false, plainPort: 0, mqttsPort: null, httpsPort: null, dpsPort: null, adminPort: null });
});

test.after(async () => {
  for (const s of [mq, hb, emq, ehb]) await s.close().catch(() => {});
  if (broker) await broker.stop();
  if (hub) await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

// the same bundles given no transport or clock: their own Espruino glue over emulated Espruino APIs
const emq = mqttSession({
  id: `esp-mqtt-${process.pid}`,
  broker: () => broker!,
  start: () => startDuktapeEngine({ entry: "mqtt", log, memoryKB: MEMORY_KB, espruino: true }),
});
const ehb = hubSession({
  id: `esp-hub-${process.pid}`,
  hub: () => hub,
  start: (names) => startDuktapeEngine({ entry: "hub", names, log, memoryKB: MEMORY_KB, espruino: true }),
});

for (const s of mq.steps) test(`Duktape mqtt: ${s.name}`, bounded(s.ms, async () => { await setup(); await s.run(); }));
for (const s of hb.steps) test(`Duktape hub: ${s.name}`, bounded(s.ms, async () => { await setup(); await s.run(); }));
for (const s of emq.steps) test(`Duktape mqtt, Espruino glue (emulated net): ${s.name}`, bounded(s.ms, async () => { await setup(); await s.run(); }));
for (const s of ehb.steps) test(`Duktape hub, Espruino glue (emulated net): ${s.name}`, bounded(s.ms, async () => { await setup(); await s.run(); }));

test("Duktape: heap figures written to engines-report.json", () => {
  for (const [entry, s] of [["mqtt", mq], ["hub", hb]] as const) {
    const e = s.engine() as DuktapeEngine | null;
    assert.ok(e, `the ${entry} session ran`);
    const load = e!.atLoad;
    assert.ok(load.empty > 0 && load.bundle > load.empty && load.loaded.used > load.bundle, `heap figures ${JSON.stringify(load)}`);
    record("duktape", entry, {
      unit: "bytes",
      bundle: `dist/espruino/${entry}.js`,
      empty: load.empty,
      afterLoad: load.bundle,
      bundleBytes: load.bundle - load.empty,
      connected: heap[entry].connected,
      end: heap[entry].end,
      memoryKB: MEMORY_KB,
    });
  }
});

test.run();
