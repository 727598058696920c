// Where the board-sized runs stop fitting: the fewest JsVars (a board's count, the test's own driver and
// helpers on top) with which each session of test/engines/espruino.test.ts still passes in the real
// Espruino interpreter, found by bisection, and what happens one step below. Not part of `npm test`
// (a few dozen interpreter runs, about a minute); the figures go to engines-report.json
// (entries.<entry>.espruino.limits) and the console.
// Run: npx tsx test/engines/espruino-limits.ts [name...]   (names: mqtt, mqtt-one, hub, hub-tls)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync, existsSync } from "node:fs";
import { record, REPORT } from "../../tools/engines/index.js";
import type { Engine } from "../../tools/engines/index.js";
import { startEspruinoEngine } from "../../tools/engines/espruino.js";
import type { EspruinoEngine, EspruinoOptions } from "../../tools/engines/espruino.js";
import { startHub } from "../../tools/hub/index.js";
import { startMosquitto } from "../helpers/mosquitto";
import { mqttSession, hubSession, bounded } from "./scenarios";
import type { Step } from "./scenarios";

const broker = await startMosquitto({ tls: false, extra: ["log_type debug"] });
const dir = mkdtempSync(join(tmpdir(), "tinyhub-esp-limits-"));
const hub = await startHub({ dir, log: false, plainPort: 0, mqttsPort: 0, httpsPort: null, dpsPort: null, adminPort: null });
let current: EspruinoEngine | null = null, n = 0;

async function esp(o: EspruinoOptions): Promise<Engine> {
  current = await startEspruinoEngine(o);
  return current as unknown as Engine;
}

interface Trial { ok: boolean; failed?: string; why?: string; peak?: number }
interface Case { name: string; entry: string; variant: "esp32" | "esp8266"; lo: number; hi: number; steps: (board: number) => { steps: Step[]; close: () => Promise<void> } }

const cases: Case[] = [
  {
    name: "mqtt",
    entry: "mqtt",
    variant: "esp8266",
    lo: 400,
    hi: 2047 - 380,
    steps: (board) => mqttSession({
      id: `lim-mqtt-${process.pid}-${++n}`,
      broker: () => broker,
      start: () => esp({ entry: "mqtt", variant: "esp8266", board, targets: { mqtt: broker.ports.mqtt } }),
      port: () => current!.ports.mqtt,
    }),
  },
  {
    // the same session without its second client (the persistent-session step opens one beside the first)
    name: "mqtt-one",
    entry: "mqtt",
    variant: "esp8266",
    lo: 400,
    hi: 2047 - 380,
    steps: (board) => {
      const s = mqttSession({
        id: `lim-mqtt1-${process.pid}-${++n}`,
        broker: () => broker,
        start: () => esp({ entry: "mqtt", variant: "esp8266", board, targets: { mqtt: broker.ports.mqtt } }),
        port: () => current!.ports.mqtt,
      });
      return { steps: s.steps.filter((x) => !/persistent session/.test(x.name)), close: s.close };
    },
  },
  {
    name: "hub",
    entry: "hub",
    variant: "esp32",
    lo: 500,
    hi: 5000,
    steps: (board) => hubSession({
      id: `lim-hub-${process.pid}-${++n}`,
      hub: () => hub,
      start: () => esp({ entry: "hub", variant: "esp32", board, utf8Source: false, targets: { plain: hub.ports.plain! } }),
      connect: () => `port: ${current!.ports.plain}, tls: null, gatewayHostName: "127.0.0.1"`,
    }),
  },
  {
    name: "hub-tls",
    entry: "hub",
    variant: "esp32",
    lo: 500,
    hi: 5000,
    steps: (board) => hubSession({
      id: `lim-hubs-${process.pid}-${++n}`,
      hub: () => hub,
      start: () => esp({ entry: "hub", variant: "esp32", board, utf8Source: false, targets: { mqtts: hub.ports.mqtts! } }),
      connect: () => `port: ${current!.ports.mqtts}, tls: { ca: ${JSON.stringify(hub.ca)} }, gatewayHostName: "127.0.0.1"`,
    }),
  },
];

async function trial(c: Case, board: number): Promise<Trial> {
  const s = c.steps(board);
  let r: Trial = { ok: true };
  try {
    for (const step of s.steps) {
      try {
        await bounded(step.ms, step.run)();
      } catch (e) {
        const ex = current?.host.reports.filter((x) => x.name == "exception").map((x) => String(x.value).split("\n")[0]) || [];
        r = { ok: false, failed: step.name, why: [...new Set(ex)].slice(0, 4).join(" | ") || String((e as Error).message).split("\n")[0].slice(0, 200) };
        break;
      }
    }
    if (r.ok && current) {
      const m = await current.memory();
      r.peak = m.peak - current.atLoad.scaffold;
    }
  } finally {
    await s.close().catch(() => {});
    current = null;
  }
  return r;
}

const only = process.argv.slice(2);
const results: Record<string, any> = {};
for (const c of cases.filter((x) => !only.length || only.includes(x.name))) {
  const t0 = Date.now();
  let lo = c.lo, hi = c.hi;
  const top = await trial(c, hi);
  if (!top.ok) {
    results[c.name] = { variant: c.variant, limit: null, note: `fails even with ${hi}: ${top.failed}: ${top.why}` };
    console.log(c.name, results[c.name]);
    continue;
  }
  let below: Trial = { ok: false, why: "not tried" }, passAt = top;
  // invariant: hi passes, lo fails (assumed; checked when the search ends at lo + 1)
  while (hi - lo > 10) {
    const mid = Math.round((lo + hi) / 2);
    const t = await trial(c, mid);
    console.log(`  ${c.name} ${mid}: ${t.ok ? `pass (peak ${t.peak})` : `FAIL at "${t.failed}": ${t.why}`}`);
    if (t.ok) { hi = mid; passAt = t; } else { lo = mid; below = t; }
  }
  results[c.name] = { variant: c.variant, limit: hi, sampledPeakAtLimit: passAt.peak, below: lo, belowFailsAt: below.failed, belowWhy: below.why, seconds: Math.round((Date.now() - t0) / 1000) };
  console.log(c.name, JSON.stringify(results[c.name]));
}

await broker.stop();
await hub.close();
rmSync(dir, { recursive: true, force: true });

// merged into the espruino figures of each entry
let report: any = {};
if (existsSync(REPORT)) report = JSON.parse(readFileSync(REPORT, "utf8"));
for (const entry of ["mqtt", "hub"]) {
  const mine = Object.fromEntries(Object.entries(results).filter(([k]) => cases.find((c) => c.name == k)!.entry == entry));
  if (!Object.keys(mine).length) continue;
  const prev = report.entries?.[entry]?.espruino || {};
  record("espruino", entry, { ...prev, limits: { ...(prev.limits || {}), ...mine } });
}
