import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { buildPoolStress, missingTools } from "../../tools/qemu/build.js";

// The firmware's JS heap allocator (targets/qemu/firmware/pool.c) under random alloc, realloc
// and free on the emulated Cortex-M3 (test/qemu/pool_stress.c): contents kept, POOL_ALIGN
// (4-byte) alignment, and the pool's structure checked every 16 operations; then the soft limit.

const missing = missingTools();
if (missing.length) console.warn(`\n!! QEMU POOL STRESS TEST SKIPPED: ${missing.join(" and ")} not installed.\n`);

(missing.length ? test.skip : test)("pool allocator: 200,000 random operations on the target", async () => {
  const elf = await buildPoolStress();
  const r = spawnSync("qemu-system-arm", [
    "-M", "mps2-an385", "-cpu", "cortex-m3", "-nodefaults", "-display", "none", "-monitor", "none",
    "-semihosting-config", "enable=on,target=native", "-serial", "stdio", "-serial", "null", "-kernel", elf,
  ], { encoding: "utf8", timeout: 60000, killSignal: "SIGKILL" });
  assert.is(r.status, 0, `exit ${r.status} ${r.signal || ""}: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^pool-stress ok /m);
});

test.run();
