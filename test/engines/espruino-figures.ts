// JsVar figures of the Espruino bundles for engines-report.json (the size report's Espruino column), shared by the
// engine tests that run sessions in the real interpreter (espruino.test.ts, hub-amqp-espruino.test.ts).
import { readFileSync } from "node:fs";
import { record, REPORT } from "../../tools/engines/index.js";
import { startEspruinoEngine } from "../../tools/engines/espruino.js";
import type { EspruinoEngine } from "../../tools/engines/espruino.js";

/** Variables an ESP32 build has left for JavaScript (Wi-Fi and TLS took the rest); an ESP8266's. */
export const ESP32_VARIABLES = 5000, ESP8266_VARIABLES = 1600;

/** JsVars of a session at its sampled peak, the test's own driver and helpers left out (the bare interpreter and the bundle's code in). */
export async function peakOf(e: EspruinoEngine) {
  const m = await e.memory();
  return { peak: m.peak - e.atLoad.scaffold, peakTotal: m.peak, total: m.total, board: e.atLoad.board, samples: m.samples, flags: m.flags, blocksize: m.blocksize, variant: e.variant, load: e.atLoad.bundle };
}

/** JsVars of dist/espruino/<entry>.js loaded (linux build, no test helpers): required from Storage, and with Modules.addCached. */
export async function loadsOf(entry: string, log?: (l: string) => void) {
  const load = async (storage: boolean) => {
    const e = await startEspruinoEngine({ entry, storage, helpers: false, log });
    try {
      return e.atLoad;
    } finally {
      await e.close();
    }
  };
  const [st, ca] = await Promise.all([load(true), load(false)]);
  return { storage: st.bundle, cached: ca.bundle, blocksize: st.blocksize };
}

/**
 * Records an entry's figures: its loads, and the peak of its session `key` among `sessions` (peakOf's, by name); the
 * limits test/engines/espruino-limits.ts found (a separate run) stay. Returns a line for the log.
 */
export function recordJsVars(entry: string, l: Awaited<ReturnType<typeof loadsOf>>, sessions: Record<string, any>, key: string): string {
  const main = sessions[key];
  let limits: any = null;
  try {
    limits = JSON.parse(readFileSync(REPORT, "utf8")).entries?.[entry]?.espruino?.limits ?? null;
  } catch {
    /* no report yet */
  }
  record("espruino", entry, {
    unit: "JsVars",
    bundle: `dist/espruino/${entry}.js`,
    build: "linux",
    storage: l.storage,
    cached: l.cached,
    blocksize: l.blocksize,
    peak: main ? main.peak : null,
    peakSession: main ? `${key}: ${main.variant} build${main.board ? `, ${main.board} variables` : ""}` : null,
    sessions,
    ...(limits ? { limits } : {}),
  });
  return `${entry.padEnd(9)} Storage ${l.storage}, addCached ${l.cached}, session peak ${main ? `${main.peak} (${main.load} loaded; ${key})` : "-"}`;
}
