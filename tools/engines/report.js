#!/usr/bin/env node
// RAM of the shipped bundles inside embedded engines, written to engines-report.json and printed:
//
//   node tools/engines/report.js            (after `npm run build`; needs mosquitto, duktape-dev, gcc)
//
//   quickjs  dist/espruino/<entry>.js in QuickJS: bytes in use (computeMemoryUsage().memory_used_size)
//            with the bundle loaded, after a warm-up of 1,000 messages and after 10,000 messages
//   xs       dist/moddable/<entry>.js in Moddable XS: heap slots in use after gc() with the bundle
//            loaded, after 100 and after 1,000 messages
//   duktape  dist/espruino/<entry>.js in Duktape: heap bytes with the engine alone and with the bundle
//
// for the entries mqtt (to itself through mosquitto) and hub (telemetry to tools/hub). The engine
// tests (test/engines) write the same file as they run, so `npm test` refreshes it too.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { register } from "tsx/esm/api";
import { startHub } from "../hub/index.js";
import { measureQuickJS, measureXS, record, REPORT } from "./measure.js";
import { startDuktapeEngine } from "./duktape.js";

async function main() {
  // the mosquitto helper of the tests is TypeScript: tsx (a devDependency) loads it
  const unregister = register();
  const { startMosquitto } = await import("../../test/helpers/mosquitto.ts");
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-report-hub-"));
  const broker = await startMosquitto({ tls: false });
  const hub = await startHub({ dir, log: false, plainPort: 0, mqttsPort: null, httpsPort: null, dpsPort: null, adminPort: null });
  /** @type {Record<string, any>} */
  const rows = {};
  try {
    for (const entry of ["mqtt", "hub"]) {
      /** @param {string} engine */
      const target = (engine) => {
        if (entry == "mqtt") return { port: broker.ports.mqtt };
        const deviceId = `report-${engine}-${process.pid}`;
        hub.registry.addDevice(deviceId);
        return { hub, deviceId };
      };
      const q = await measureQuickJS(entry, target("quickjs"));
      record("quickjs", entry, {
        unit: "bytes", bundle: q.bundle, empty: q.empty, afterLoad: q.afterLoad, bundleBytes: q.bundleBytes, connected: q.connected,
        warm: q.warm, end: q.end, growth: q.growth, messages: q.messages, warmup: q.warmup, ms: q.ms,
      });
      const x = await measureXS(entry, target("xs"));
      record("xs", entry, {
        unit: "slots", bundle: x.bundle, empty: x.empty, afterLoad: x.afterLoad, bundleSlots: x.bundleSlots, connected: x.connected,
        warm: x.warm, end: x.end, growth: x.growth, ended: x.ended, messages: x.messages,
      });
      const d = await startDuktapeEngine({ entry });
      await d.close();
      record("duktape", entry, {
        unit: "bytes", bundle: `dist/espruino/${entry}.js`, empty: d.atLoad.empty, afterLoad: d.atLoad.bundle, bundleBytes: d.atLoad.bundle - d.atLoad.empty,
      });
      rows[entry] = { q, x, d: d.atLoad };
    }
  } finally {
    await broker.stop();
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
    await unregister();
  }

  const pad = (/** @type {unknown} */ s, /** @type {number} */ n) => String(s).padStart(n);
  console.log("RAM in the engines (bundles from dist/):");
  console.log(`${"entry".padEnd(6)} | ${"QuickJS bytes: load".padStart(19)} ${pad("warm", 8)} ${pad("end", 8)} ${pad("growth", 7)} | ${"XS slots: load".padStart(14)} ${pad("warm", 6)} ${pad("end", 6)} | ${"Duktape bytes: bundle".padStart(21)}`);
  for (const [entry, r] of Object.entries(rows)) {
    console.log(`${entry.padEnd(6)} | ${pad(r.q.afterLoad, 19)} ${pad(r.q.warm, 8)} ${pad(r.q.end, 8)} ${pad(r.q.growth, 7)} | ${pad(r.x.afterLoad, 14)} ${pad(r.x.warm, 6)} ${pad(r.x.end, 6)} | ${pad(r.d.bundle - r.d.empty, 21)}`);
  }
  console.log(`written to ${REPORT}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  },
);
