// The QEMU board's store (targets/qemu/store.ts): the client's log in a host file through semihosting, the board's
// flash. Power cuts: QEMU killed (SIGKILL) at random points of a run of numbered QoS 1 messages to the hub emulator
// and booted again over the same file (test/qemu/store-run.ts): none lost, first deliveries in order, duplicates
// counted; the control without a store loses messages. The long run (20 kills, 1,000 messages) runs when
// TINYHUB_FAULTS is set (as `npm run test:faults` does for the Node one, test/faults/store.test.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { buildFirmware, missingTools } from "../../tools/qemu/build.js";
import { startBenchHub } from "../../tools/qemu/session.js";
import type { BenchHub } from "../../tools/qemu/session.js";
import { powerCutRun, report, newId, BUFFER } from "./store-run";
import { journal, E_STORE_BAD } from "../../src/store";
import { createOutbox, reserve } from "../../src/memory";
import { encodePublish, sizePublish } from "../../src/mqtt/codec";
import { MemStore } from "../helpers/memstore";

const missing = missingTools();
const run = missing.length ? test.skip : test;
const POOL = 96 * 1024;
let hub: BenchHub, elf: string;

test.before(async () => {
  if (missing.length) return;
  hub = await startBenchHub();
  const fw = await buildFirmware({ entry: "store-app", poolSize: POOL });
  elf = fw.elf;
  console.log(`  store-app firmware: bundle ${fw.image.bundle} bytes, flash ${fw.image.flash} bytes, pool ${POOL}`);
});

test.after(async () => {
  if (hub) await hub.stop();
});

run("power cut: 150 QoS 1 messages, QEMU killed at 3 random points and booted over the same file: none lost, order kept", async () => {
  const r = await powerCutRun(hub, { elf, count: 150, kills: 3, timeout: 50000 });
  console.log("  qemu store: " + report(r));
  assert.equal(r.lost, [], "none lost\n" + r.lines.slice(-20).join("\n"));
  assert.is(r.outOfOrder, 0, "first deliveries in order");
  assert.is(r.kills, 3);
  assert.ok(r.wrote > 0, "the store was written");
});

run("power cut, control: the same run without a store loses the messages queued at the kills", async () => {
  const r = await powerCutRun(hub, { elf, count: 150, kills: 3, noStore: true, timeout: 50000 });
  console.log("  without a store: " + report(r));
  assert.ok(r.lost.length > 0, "messages lost without a store");
  assert.is(r.wrote, 0);
});

(process.env.TINYHUB_FAULTS ? run : test.skip)("power cut, long: 1,000 QoS 1 messages, 20 kills", async () => {
  const r = await powerCutRun(hub, { elf, count: 1000, kills: 20, timeout: 170000 });
  console.log("  qemu store, long: " + report(r));
  assert.equal(r.lost, [], "none lost");
  assert.is(r.outOfOrder, 0);
  assert.ok(r.restored.some((n) => n > 0), "some kills found unacknowledged messages in the store");
});

// A kill cannot tear this board's log: an append is one semihosting write, one write(2) of the host, and a replace
// is a rename. A host crash can (a file cut short), so the board's reading of one is checked: a log of messages
// 0-4 (written here by the same journal) cut inside the entry of message 4, at the offsets below (every offset of it
// in the long run); the board restores 0-3, resends them, reports E_STORE_BAD, and its file loads clean afterwards.
// (src/store.ts itself is tested torn at every offset, test/store.test.ts.)
function logOf(id: string, count: number): [Uint8Array, number] {
  const st = new MemStore(), j = journal(st), m = createOutbox(BUFFER, BUFFER >> 1), topic = `devices/${id}/messages/events/`;
  let last = 0;
  j._load(m);
  for (let i = 0; i < count; i++) {
    const payload = '{"n":' + i + "}", n = sizePublish(topic, payload, 1), q = reserve(m, n, 16);
    encodePublish(m._buf, q, topic, payload, 1, false, false, i + 1);
    last = st.data.length;
    assert.is(j._add(q, n), 0);
  }
  return [st.data, last];
}

run("a log cut short inside its last entry: the board resends the messages before it and repairs the file", async () => {
  const [, last] = logOf("x", 5), size = logOf("x", 5)[0].length - last;
  const cuts = process.env.TINYHUB_FAULTS ? Array.from({ length: size - 1 }, (_, k) => k + 1) : [1, 4, size >> 1, size - 1];
  const times: number[] = [];
  for (const k of cuts) {
    const id = newId(), [log, at] = logOf(id, 5);
    const r = await powerCutRun(hub, { elf, deviceId: id, log: log.subarray(0, at + k), from: 5, count: 5, expect: 4, kills: 0, timeout: 20000 });
    assert.equal([...r.first].sort(), [0, 1, 2, 3], `cut at ${k} of ${size}: ${r.first}\n${r.lines.slice(-20).join("\n")}`);
    assert.ok(r.errors.includes(E_STORE_BAD), `cut at ${k}: E_STORE_BAD reported (${r.errors})`);
    assert.is(r.endCode, 0, "the file loads clean afterwards");
    times.push(...r.resendMs);
  }
  console.log(`  torn last entry (${size} bytes) cut at ${cuts.length} offsets: messages before it resent, boot to first resend ${Math.round(times.reduce((a, b) => a + b, 0) / times.length)} ms`);
});

test.run();
