// dist/moddable/hub-amqp.js in the real Moddable runtime (SDK 8.2.3's XS, built for the host): the app `tinyhub
// moddable` generates, its manifest as generated (tinyhub/hub-amqp preloaded by xsl into the read-only heap with
// every other tinyhub module, as shipped), its main.js the scenario of tools/engines/moddable-main.js, run headless
// by mclaunch (tools/engines/moddable.js). Against the IoT Hub emulator's AMQP endpoint over TLS (tools/hub/amqp.js):
// the put-token on $cbs, telemetry with UTF-8 properties checked byte for byte where the hub recorded it, C2D
// completed, rejected, abandoned and settled after the callback returned (the hub's feedback), the twin read and
// patched, a desired update, direct methods (200, 501, 500); the same over WebSockets (hub-amqp-ws.js, wss on the
// HTTPS port); then a TLS handshake that must fail reaching the app as onError and a close, the app going on.
// Needs the Moddable tools (node tools/engines/moddable-build.js) and `npm run build`.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp, hubScenario, tlsFailureScenario } from "../../tools/engines/moddable.js";
import { startHub } from "../../tools/hub/index.js";
import { ensureCerts } from "../../tools/hub/certs.js";
import { bounded, once } from "./scenarios";
import { text, reports, checkTelemetryTwin, checkDesiredMethods } from "./moddable-hub";

let hub: any = null;
const dir = mkdtempSync(join(tmpdir(), "tinyhub-moddable-amqp-"));
const log = process.env.TINYHUB_ENGINES_LOG ? (l: string) => console.log(l) : undefined;
const ID = `mda-${process.pid}`;
const E_TRANSPORT = -27;
/**
 * Heaps with room over what the AMQP/TLS session was measured to need on this host (64-bit: slots 32 bytes; each
 * figure bisected with the others ample, nothing growing: tools/engines/moddable-heap.json, session hub-amqp, about
 * 42 KB of chunks, 2,048 slots and 432 stack slots): over mcconfig's defaults (32 KB, 2,048 slots, 384 stack slots),
 * which it does not fit with room to spare; AMQP over wss needs more again (session hub-amqp-ws).
 */
const FIXED = { chunks: 49152, slots: 2560 };
const SHIPPED_STACK = JSON.parse(readFileSync(new URL("../../targets/moddable/manifest.json", import.meta.url), "utf8")).creation.stack;

const setup = once(async () => {
  const app = await buildApp({ manifest: "manifest.json" });
  // the heaps measured (FIXED), nothing growing, the shipped manifest's stack
  const fixed = await buildApp({ manifest: "manifest.json", creation: { chunk: { initial: FIXED.chunks, incremental: 0 }, heap: { initial: FIXED.slots, incremental: 0 }, stack: SHIPPED_STACK } });
  hub = await startHub({ dir, log: false, plainPort: null, adminPort: null });
  return { app, fixed };
});

test.after(async () => {
  if (hub) await hub.close();
  rmSync(dir, { recursive: true, force: true });
});


/** What the hub stored and received of an IoT Hub session over AMQP, byte for byte. */
function checkHub(o: any) {
  assert.ok(o.ok, o.error || undefined);
  assert.equal(reports(o, "error"), [], "no onError");
  assert.ok(o.connected, "the hub had the device connected");
  // the telemetry byte for byte, the twin
  assert.is(checkTelemetryTwin(o).protocol, "amqp");
  // C2D: completed (accepted), rejected (dead-lettered), abandoned (released: delivered again, then completed), and
  // one completed from a timer after its callback returned C2D_LATER
  const c2d = reports(o, "c2d");
  assert.equal(c2d.map((r: any) => [text(r.hex), r.again]).sort(), [["h\u00e9llo device \u2713", false], ["rej\u00e9ct me", false], ["ab\u00e4ndon me", false], ["ab\u00e4ndon me", true], ["l\u00e4ter", false]].sort());
  assert.equal([c2d[0].offset, c2d[0].total], [0, Buffer.byteLength("h\u00e9llo device \u2713")]);
  assert.equal([c2d[0].properties.color, c2d[0].properties.$messageId, c2d[0].properties["n\u00f6"]], ["blue", "c2d-1", "n\u00f6ne \u2713"]);
  assert.equal([reports(o, "settled"), reports(o, "completed")], [[{ ev: "settled", err: 0 }], [{ ev: "completed", err: 0 }]]);
  assert.equal(o.feedback.sort(), [["c2d-2", "Rejected"], ["c2d-3", "Success"], ["c2d-4", "Success"]]);
  assert.is(o.c2dLeft, 0, "nothing left on the hub's queue");
  checkDesiredMethods(o);
}

test("IoT Hub over AMQP/TLS (hub-amqp.js, preloaded): telemetry, twin, reported, C2D complete/reject/abandon/later, desired, methods; the hub side byte-exact", bounded(60000, async () => {
  const { app } = await setup();
  checkHub(await hubScenario({ app, hub, id: `${ID}-hub`, protocol: "amqp", log }));
}));

test("IoT Hub over AMQP over WebSockets (hub-amqp-ws.js, wss on the HTTPS port, AMQPWSB10): the same session", bounded(60000, async () => {
  const { app } = await setup();
  checkHub(await hubScenario({ app, hub, id: `${ID}-ws`, protocol: "amqp-ws", log }));
}));

test("the AMQP/TLS session within the heaps measured (48 KB chunks, 2,560 slots: over mcconfig's defaults), nothing growing, and the shipped manifest's stack (544)", bounded(60000, async () => {
  const { fixed } = await setup();
  checkHub(await hubScenario({ app: fixed, hub, id: `${ID}-fixed`, protocol: "amqp", log }));
}));

test("TLS over AMQP: a server certificate from another CA fails the handshake: onClose(E_TRANSPORT), no XS abort, the app goes on and connects with the right CA", bounded(60000, async () => {
  const { app } = await setup();
  mkdirSync(join(dir, "other-ca"));
  const other = ensureCerts(join(dir, "other-ca"), ["127.0.0.1"]);
  const o = await tlsFailureScenario({ app, hub, id: `${ID}-badca`, ca: other.ca, protocol: "amqp", log });
  assert.ok(o.ok, o.error || undefined);
  assert.is(o.close.code, E_TRANSPORT);
  assert.ok(reports(o, "error").some((e: any) => e.code == E_TRANSPORT), "onError heard the failed handshake: " + JSON.stringify(reports(o, "error")));
  assert.ok(o.connected, "connected afterwards");
  assert.ok(o.run.reports.findIndex((r: any) => r.ev == "close") < o.run.reports.findIndex((r: any) => r.ev == "connect"), "the failure came first");
}));

test.run();
