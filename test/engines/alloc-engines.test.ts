// Memory on the message path inside the embedded engines (issue 11, "one memory budget"): a whole IoT Hub
// session of each IoT Hub bundle, hub (MQTT), hub-ws (MQTT over wss) and hub-http (HTTPS), against the hub
// emulator: telemetry, twin GET and reported patches, C2D messages, desired updates and direct methods (200 and
// 501) over MQTT; telemetry and C2D polling over HTTPS (tools/engines/measure.js measureHubSession).
//
//   QuickJS  dist/espruino/<entry>.js with its own Espruino glue (net and tls emulated over the bridge, as on a
//            board): after a forced garbage collection after the warm-up and after each step, memory_used_size
//            may not grow by more than BYTES_SLACK and the live objects and malloc blocks not at all (a few of
//            slack); then a census counts every typed array made per 1,000 messages, by call site in the bundle
//   XS       dist/moddable/<entry>.js with its own Moddable glue: heap slots in use after gc() may not grow
//            (what the measuring itself leaves per step, measured on steps without messages, taken out)
//
// Figures go to engines-report.json ("quickjs-alloc" and "xs-alloc" under hub, hub-ws, hub-http).
// ALLOC_ENGINE_MESSAGES=20000 runs a longer session.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHub } from "../../tools/hub/index.js";
import { record } from "../../tools/engines/index.js";
import { measureHubSession } from "../../tools/engines/measure.js";
import { bounded, once } from "./scenarios";

const MESSAGES = +(process.env.ALLOC_ENGINE_MESSAGES || 400);
/** The hub's side: a C2D message every 20 telemetry messages, a desired update every 30, a method every 25 (every fifth unknown). */
const EVENTS = { c2dEvery: 20, desiredEvery: 30, methodEvery: 25 };
/** Warm-up: every kind of event once at least (the fifth method, unknown, comes at message 125). */
const WARMUP = 200;
const CENSUS = 200;
/** memory_used_size may be this much higher at the end (the last payload and property strings differ in length). */
const BYTES_SLACK = 1024;
/** Live QuickJS objects / malloc blocks that may be more at the end. */
const OBJECT_SLACK = 2, BLOCK_SLACK = 8;
/** XS slots that may be more at the end (XS allocates slots one by one; a leak of one per message would be MESSAGES). */
const SLOT_SLACK = 8;

const ENTRIES = ["hub", "hub-ws", "hub-http"] as const;
type Figures = Awaited<ReturnType<typeof measureHubSession>>;

let hub: any = null;
const dir = mkdtempSync(join(tmpdir(), "tinyhub-alloc-eng-"));
const got: Record<string, Figures> = {};
const setup = once(async () => {
  hub = await startHub({ dir, log: false, plainPort: 0, mqttsPort: null, dpsPort: null, adminPort: null });
});

test.after(async () => {
  if (hub) await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The session did what it should. */
function sessionOk(f: Figures) {
  const http = f.protocol == "http", c = f.counts, h = f.hub;
  assert.equal(c.errors, [], "no error in the device");
  assert.equal(f.pending, { sockets: 0, timers: 0, lookups: 0 }, "nothing left open inside the engine");
  assert.equal([c.sent, c.acked], [f.sent, f.sent], "every message acknowledged");
  assert.ok(f.sent >= f.warmup + f.messages + f.census);
  assert.ok(h.c2dSent > 0 && c.c2d == h.c2dSent, `C2D ${c.c2d} of ${h.c2dSent}`);
  if (http) return assert.ok(c.polls > 0, "polled");
  assert.ok(c.twins > 0 && c.patches > 0, "twin GETs and patches");
  assert.ok(h.desiredSent > 0 && c.desired == h.desiredSent, `desired ${c.desired} of ${h.desiredSent}`);
  assert.equal(h.methodErrors, [], "methods answered as expected");
  assert.ok(h.methods501 > 0 && h.methodsOk == c.methods && h.methodsOk + h.methods501 == h.methodsCalled, `methods ${JSON.stringify(h)}`);
}

for (const entry of ENTRIES) {
  test(`QuickJS ${entry}: ${MESSAGES} messages after ${WARMUP} of warm-up keep no memory (forced GC)`, bounded(60000 + MESSAGES * 10, async () => {
    await setup();
    const f = await measureHubSession("quickjs", entry, hub, `alloc-qjs-${entry}-${process.pid}`, { warmup: WARMUP, messages: MESSAGES, readings: 4, census: CENSUS, events: EVENTS });
    got[`quickjs/${entry}`] = f;
    const r = f.readings, first = r[0], last = r[r.length - 1];
    console.log(`  QuickJS ${entry}: memory_used_size ${r.map((x: any) => x.memory_used_size).join(" ")} (growth ${f.growth} B, slope ${f.slopePer1k} B / 1,000 msgs); ` +
      `objects ${first.obj_count} -> ${last.obj_count}, malloc blocks ${first.malloc_count} -> ${last.malloc_count}; ${f.ms} ms`);
    sessionOk(f);
    assert.ok(f.growth <= BYTES_SLACK, `memory_used_size grew by ${f.growth} bytes over ${MESSAGES} messages`);
    assert.ok(last.obj_count - first.obj_count <= OBJECT_SLACK, `live objects ${first.obj_count} -> ${last.obj_count}`);
    assert.ok(last.malloc_count - first.malloc_count <= BLOCK_SLACK, `malloc blocks ${first.malloc_count} -> ${last.malloc_count}`);
    assert.ok(f.sites && f.sites.length > 0, "the census saw the typed arrays the Espruino glue makes");
  }));
}

for (const entry of ENTRIES) {
  test(`XS ${entry}: ${MESSAGES} messages after ${WARMUP} of warm-up keep no slots (after gc)`, bounded(60000 + MESSAGES * 40, async () => {
    await setup();
    const f = await measureHubSession("xs", entry, hub, `alloc-xs-${entry}-${process.pid}`, { warmup: WARMUP, messages: MESSAGES, readings: 4, events: EVENTS });
    got[`xs/${entry}`] = f;
    console.log(`  XS ${entry}: slots ${f.readings.map((x: any) => x.slots).join(" ")}, steps without messages ${f.control.join(" ")} ` +
      `(measuring: ${f.perStep} per step); growth ${f.growth} slots${f.allocated ? `; ${Math.round((f.allocated.slots * 1000) / f.allocated.messages)} slots allocated per 1,000 messages` : ""}; ${f.ms} ms`);
    sessionOk(f);
    assert.ok(f.perStep >= 0 && f.perStep <= 8, `the measuring's own share per step: ${f.perStep}`);
    assert.ok(f.growth <= SLOT_SLACK, `heap slots grew by ${f.growth} over ${MESSAGES} messages`);
  }));
}

test("QuickJS and XS: the checks catch an application that keeps 32 bytes per message (canary)", bounded(30000, async () => {
  await setup();
  const q = await measureHubSession("quickjs", "hub", hub, `alloc-qjs-canary-${process.pid}`, { warmup: 100, messages: 200, readings: 2, leak: true });
  const r = q.readings, objects = r[r.length - 1].obj_count - r[0].obj_count;
  console.log(`  canary: QuickJS memory_used_size +${q.growth} B, objects +${objects}`);
  assert.ok(q.growth > BYTES_SLACK && objects > OBJECT_SLACK, "QuickJS: caught");
  const x = await measureHubSession("xs", "hub", hub, `alloc-xs-canary-${process.pid}`, { warmup: 100, messages: 200, readings: 2, leak: true });
  console.log(`  canary: XS slots +${x.growth}`);
  assert.ok(x.growth > SLOT_SLACK, "XS: caught");
}));

test("engines: allocation figures written to engines-report.json", () => {
  const per1k = (n: number, m: number) => Math.round((n * 1000) / m);
  const lines: string[] = [];
  for (const entry of ENTRIES) {
    const q = got[`quickjs/${entry}`], x = got[`xs/${entry}`];
    assert.ok(q && x, `${entry} figures`);
    const sites = q.sites!, lib = sites.filter((s: any) => s.site.startsWith("library"));
    const libN = lib.reduce((n: number, s: any) => n + s.count, 0), bridgeN = sites.reduce((n: number, s: any) => n + s.count, 0) - libN;
    const r = q.readings;
    record("quickjs-alloc", entry, {
      protocol: q.protocol, bundle: q.bundle, unit: "bytes", messages: q.messages, warmup: q.warmup, census: q.census,
      /** after forced GCs: memory_used_size end - warm (the measuring's share taken out) and slope per 1,000 messages */
      growth: q.growth, slopePer1k: q.slopePer1k,
      objects: [r[0].obj_count, r[r.length - 1].obj_count],
      mallocBlocks: [r[0].malloc_count, r[r.length - 1].malloc_count],
      /** typed arrays made per 1,000 messages: by the bundle (directly, or through E.toUint8Array), by the test's bridge (the emulated sockets) */
      typedArraysPer1k: per1k(libN, q.census),
      bridgeTypedArraysPer1k: per1k(bridgeN, q.census),
      sites: sites.map((s: any) => ({ site: s.site, per1k: per1k(s.count, q.census), near: s.near })),
      ms: q.ms,
    });
    record("xs-alloc", entry, {
      protocol: x.protocol, bundle: x.bundle, unit: "slots", messages: x.messages, warmup: x.warmup,
      /** slots after gc(): end - warm, less the measuring's share (perStep per step) */
      growth: x.growth, rawGrowth: x.rawGrowth, perStep: x.perStep, slopePer1k: x.slopePer1k,
      slots: x.readings.map((v: any) => v.slots),
      /** slots allocated per 1,000 messages (between collections), when the engine tells slots without a gc */
      slotsAllocatedPer1k: x.allocated ? per1k(x.allocated.slots, x.allocated.messages) : null,
      ms: x.ms,
    });
    lines.push(`    ${entry.padEnd(8)} QuickJS growth ${q.growth} B, typed arrays per 1,000 msgs: ${per1k(libN, q.census)} by the bundle (${lib.map((s: any) => `${per1k(s.count, q.census)} at ${s.near.slice(30, 75)}`).join("; ")}), ${per1k(bridgeN, q.census)} by the bridge; XS growth ${x.growth} slots`);
  }
  console.log("  engines, per protocol:\n" + lines.join("\n"));
});

test.run();
