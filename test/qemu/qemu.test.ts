import { test } from "uvu";
import * as assert from "uvu/assert";
import { missingTools } from "../../tools/qemu/build.js";
import { PEAK_BUDGET, PLANS, runSession, startBenchHub } from "../../tools/qemu/session.js";
import type { BenchHub, Result } from "../../tools/qemu/session.js";

// The device bench (tools/qemu): the firmware (Duktape on a Cortex-M3 with a fixed JS heap
// pool) in qemu-system-arm, against the hub emulator through the harness's UART link. The same
// runs as `node tools/qemu/run.js`: full sessions (SAS connect, telemetry with properties, C2D,
// twin get and patch, a direct method, a link cut with QoS 1 messages resent), and pools too
// small, which must end with a named E_NO_MEMORY and not hang.

const missing = missingTools();
const kb = (n: number) => (Number.isFinite(n) ? `${(n / 1024).toFixed(1)} KB` : "-");
let hub: BenchHub;

if (missing.length) {
  const bar = "!".repeat(78);
  console.warn(`\n${bar}\n!! QEMU DEVICE BENCH SKIPPED: ${missing.join(" and ")} not installed.\n!! Install gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm (bash .ci/run does).\n${bar}\n`);
}

const run = missing.length ? test.skip : test;

test.before(async () => {
  if (!missing.length) hub = await startBenchHub();
});

test.after(async () => {
  if (hub) await hub.stop();
});

function explain(r: Result): string {
  return `${r.failures.join("; ")}\n--- device console ---\n${r.lines.join("\n")}`;
}

for (const plan of PLANS) {
  const name = plan.expect == "pass"
    ? `full hub session with a ${kb(plan.pool)} pool`
    : `${kb(plan.pool)} pool: a named E_NO_MEMORY, not a hang`;
  run(name, async () => {
    const r = await runSession(hub, plan);
    const h = r.heap;
    console.log(`  qemu ${kb(plan.pool)}: exit ${r.exit} in ${(r.ms / 1000).toFixed(1)} s, peak ${kb(h.peak)}, live ${kb(h.live)}, engine ${kb(h.engine)}, image ${kb(r.image.flash)}${r.noMemory ? `, "${r.noMemory}"` : ""}`);
    assert.ok(r.ok, explain(r));
    assert.not.ok(r.timedOut);
    if (plan.expect == "pass") {
      assert.ok(h.peak <= PEAK_BUDGET, `peak ${h.peak} over ${PEAK_BUDGET}`);
      assert.ok(r.reconnects >= 1);
    } else {
      assert.is(r.exit, 32);
      assert.ok(r.ms < 20000, `took ${r.ms} ms`);
    }
  });
}

test.run();
