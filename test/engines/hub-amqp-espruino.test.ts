// The shipped dist/espruino/hub-amqp.js in the real Espruino interpreter (the linux build, the bundle loaded from
// Storage as a user loads it; tools/engines/espruino.js), over a real TCP connection to rhea playing IoT Hub
// (test/helpers/amqp-hub.ts): SASL, put-token signed by the bundle, UTF-8 telemetry checked on the hub's side, C2D
// settled rejected, twin, a method, and a refused token by name. Then dist/espruino/hub-amqp-ws.js against the IoT
// Hub emulator (tools/hub): AMQP over WebSockets over TLS on its HTTPS port (AMQPWSB10, the engine's own mbedTLS),
// the session checked on the hub's side, C2D settled after the callback returned (C2D_LATER, then complete, reject,
// abandon), a twin larger than the buffer refused by name with the session going on; and AMQP/TLS from the same
// bundle. Needs `npm run build` first.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startEspruinoEngine } from "../../tools/engines/espruino.js";
import { ESP32_VARIABLES, peakOf, loadsOf, recordJsVars } from "./espruino-figures";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHub } from "../../tools/hub/index.js";
import { miniHub, rhea, HOST, KEY } from "../helpers/amqp-hub";

const j = JSON.stringify;
/** Engine code for a string literal, ASCII only (non-ASCII characters as \\u escapes). */
const lit = (s: string) => j(s).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
const until = async (cond: () => boolean, what: string, ms = 10000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 5));
  }
};
const engines: any[] = [];
let emu: any = null;
const dir = mkdtempSync(join(tmpdir(), "tinyhub-esp-amqp-"));
test.after(async () => {
  for (const e of engines) await e.close().catch(() => {});
  if (emu) await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

test("hub-amqp in Espruino (linux build): put-token, UTF-8 telemetry, C2D rejected, twin, a method, a wrong key by name", async () => {
  const hub = await miniHub(), l = await hub.listen();
  const e = await startEspruinoEngine({ entry: "hub-amqp", targets: { amqp: l.port } });
  engines.push(e);
  const cs = (key: string) => `HostName=${HOST};DeviceId=dev1;SharedAccessKey=${key};GatewayHostName=127.0.0.1`;
  const ok = await e.eval(
    `var d = tinyhub.createDevice(S.hubEvents({ connectionString: ${j(cs(KEY))}, port: ${e.ports.amqp}, tls: null, reconnect: false, bufferSize: 3072 })); ` +
      `typeof d == "object" && (d.connect(), true)`,
  );
  assert.is(ok, true, "createDevice gave a device");
  await e.host.until("connect", 15000);
  assert.equal([hub.rec.puts.length, hub.rec.puts[0].ok, hub.rec.puts[0].name], [1, true, HOST + "/devices/dev1"]);

  const key = "t\u00e9mp\u00e9rature", value = "\u00e9t\u00e9 \u2713 \u20ac";
  const n = await e.eval(`d.sendEvent(${lit("h\u00e9llo \u2713")}, { ${lit(key)}: ${lit(value)}, $messageId: "m-1", $contentType: "text/plain" }, S.done("sent"))`);
  assert.ok(n >= 0, `delivery id ${n}`);
  assert.is((await e.host.until("sent")).err, 0);
  const ev = hub.rec.events[0];
  assert.equal([ev.body, ev.app, ev.m.message_id, ev.m.content_type], ["h\u00e9llo \u2713", { [key]: value }, "m-1", "text/plain"]);

  // C2D: the S helper's onMessage answers nothing: complete, accepted
  hub.senders["/devices/dev1/messages/devicebound"].send({ message_id: "c-1", application_properties: { color: "blue" }, body: rhea.message.data_section(Buffer.from("h\u00e9 device")) });
  const m = await e.host.until("c2d", 5000);
  assert.equal([m.text, m.properties.$messageId, m.properties.color], ["h\u00e9 device", "c-1", "blue"]);
  await until(() => hub.rec.outcomes.length == 1, "the outcome");
  assert.equal(hub.rec.outcomes, ["accepted"]);

  // twin: GET and PATCH on the twin links, a desired patch pushed
  await e.eval(`d.getTwin(S.done("twin")), true`);
  const t = await e.host.until("twin", 5000);
  assert.equal([t.err, t.value.desired.mode], [0, "eco"]);
  await e.eval(`d.patchReported({ fw: "1.0" }, S.done("patched")), true`);
  assert.equal(await e.host.until("patched", 5000), { err: 0, value: 2 });
  hub.desired("/devices/dev1/twin", { $version: 5, mode: "boost" });
  const dp = await e.host.until("desired", 5000);
  assert.equal([dp.patch.mode, dp.version], ["boost", 5]);

  // a method: the UUID correlation id echoed with IoThub-status
  const cid = hub.method("/devices/dev1/methods/devicebound", "reboot", { delay: 1 });
  await until(() => hub.rec.answers.length == 1, "the method's answer");
  assert.equal(hub.rec.answers[0], { cid, status: 200, body: { ok: true, got: { delay: 1 } } });
  await e.eval(`d.end(S.done("ended")), true`);
  await e.host.until("ended", 5000);

  // "amqp-ws" is hub-amqp-ws's: here E_HUB_PROTOCOL (-61), not AMQP/TLS on 5671 in its place
  assert.is(await e.eval(`tinyhub.createDevice({ connectionString: ${j(cs(KEY))}, protocol: "amqp-ws" })`), -61);
  assert.is(await e.eval(`typeof tinyhub.createDevice({ connectionString: ${j(cs(KEY))}, protocol: "amqp", reconnect: false })`), "object");

  // a wrong key: E_AMQP_UNAUTHORIZED (-83) to onClose
  await e.eval(`var d2 = tinyhub.createDevice(S.hubEvents({ connectionString: ${j(cs(Buffer.from("wrong").toString("base64")))}, port: ${e.ports.amqp}, tls: null, reconnect: false })); d2.connect(), true`);
  assert.is(await e.host.until("close", 10000, (c: number) => c != 0), -83);
  l.close();
});

test("hub-amqp-ws in Espruino (linux build) against the emulator: AMQP over wss (AMQPWSB10), telemetry byte-exact on the hub, C2D settled later, twin, a too-large twin by name, a method; then AMQP/TLS from the same bundle", async () => {
  emu = await startHub({ dir, log: false, plainPort: null, mqttsPort: null, dpsPort: null, adminPort: null, httpsPort: 0, amqpsPort: 0 });
  const id = `esp-amqpws-${process.pid}`;
  emu.registry.addDevice(id);
  const e = await startEspruinoEngine({ entry: "hub-amqp-ws", targets: { https: emu.ports.https, amqps: emu.ports.amqps } });
  engines.push(e);
  const opts = (protocol: string, port: number) =>
    `S.hubEvents({ connectionString: ${j(emu.registry.connectionString(id))}, protocol: ${j(protocol)}, port: ${port}, tls: { ca: ${j(emu.ca)} }, gatewayHostName: "127.0.0.1", reconnect: false })`;
  // onMessage reports (S) and leaves the settling to later: the lock tokens kept in L
  const ok = await e.eval(
    `var L = [], o = ${opts("amqp-ws", e.ports.https)}, h = o.onMessage; o.onMessage = function (m) { h(m); L.push(m.lockToken); return tinyhub.C2D_LATER; }; ` +
      `var d = tinyhub.createDevice(o); typeof d == "object" && (d.connect(), true)`,
  );
  assert.is(ok, true, "createDevice gave a device");
  await e.host.until("connect", 20000);
  assert.ok(emu.connected(id));

  const key = "t\u00e9mp\u00e9rature", value = "\u00e9t\u00e9 \u2713 \u20ac";
  await e.eval(`d.sendEvent(${lit("h\u00e9llo \u2713")}, { ${lit(key)}: ${lit(value)}, $messageId: "w-1", $contentType: "text/plain" }, S.done("sent")), true`);
  assert.is((await e.host.until("sent", 10000)).err, 0);
  const t = emu.telemetry.find((x: any) => x.deviceId == id);
  assert.equal([t.protocol, t.body, t.properties, t.system.messageId, t.system.contentType], ["amqp", Buffer.from("h\u00e9llo \u2713"), { [key]: value }, "w-1", "text/plain"]);

  // C2D settled after the callback returned: complete, reject, abandon (the abandoned one comes again)
  const feedback: any[] = [];
  emu.on("feedback", (f: any) => f.deviceId == id && feedback.push(f));
  for (const [i, body] of ["one \u2713", "two", "three"].entries()) emu.sendC2D(id, body, { "$.mid": "w-c" + i, "cl\u00e9": "v\u00e4l" });
  await until(() => e.host.reports.filter((r: any) => r.name == "c2d").length == 3, "three C2D messages");
  const c2d = e.host.reports.filter((r: any) => r.name == "c2d").map((r: any) => r.value);
  // Espruino's text is its UTF-8 bytes in a binary string (targets/espruino/platform.ts): read back as UTF-8 here
  const u8 = (s: string) => Buffer.from(s, "latin1").toString("utf8");
  const props = Object.fromEntries(Object.entries(c2d[0].properties).map(([k, v]) => [u8(k), u8(v as string)]));
  assert.equal([c2d[0].text, props.$messageId, props["cl\u00e9"]], ["one \u2713", "w-c0", "v\u00e4l"], JSON.stringify(c2d[0].properties));
  assert.is(emu.c2dQueue(id).length, 3, "none settled by the callbacks");
  assert.equal(await e.eval(`[d.complete(L[0]), d.reject(L[1]), d.abandon(L[2]), d.complete(L[0])]`), [0, 0, 0, -31]);
  await until(() => feedback.length == 2 && e.host.reports.filter((r: any) => r.name == "c2d").length == 4, "feedback and the redelivery");
  assert.equal(await e.eval(`d.complete(L[3])`), 0);
  await until(() => feedback.length == 3, "the last feedback");
  assert.equal(feedback.map((f) => [f.messageId, f.statusCode]), [["w-c0", "Success"], ["w-c1", "Rejected"], ["w-c2", "Success"]]);

  // twin: GET, PATCH; a desired push; then a twin too large for the 2,048-byte receive region: E_TOO_LARGE, still connected
  await e.eval(`d.getTwin(S.done("twin")), true`);
  assert.is((await e.host.until("twin", 10000)).err, 0);
  await e.eval(`d.patchReported({ fw: ${lit("1.0 \u2713")} }, S.done("patched")), true`);
  assert.is((await e.host.until("patched", 10000)).err, 0);
  assert.is(emu.getTwin(id).reported.fw, "1.0 \u2713");
  const v = emu.updateDesired(id, { mode: "boost" });
  const dp = await e.host.until("desired", 10000);
  assert.equal([dp.patch.mode, dp.version], ["boost", v]);
  emu.updateDesired(id, { big: "x".repeat(3000) });
  assert.is(await e.host.until("error", 10000), -21, "onError(E_TOO_LARGE) for the push");
  await e.eval(`d.getTwin(S.done("bigtwin")), true`);
  assert.is((await e.host.until("bigtwin", 10000)).err, -21, "getTwin: E_TOO_LARGE");
  assert.equal(await e.eval(`d.sendEvent("after", null, S.done("after")) >= 0`), true);
  assert.is((await e.host.until("after", 10000)).err, 0);
  const r = await emu.invokeMethod(id, "reboot", { delay: 1 }, 10000);
  assert.equal(r, { status: 200, payload: { ok: true, got: { delay: 1 } } });
  assert.equal(e.host.reports.filter((x: any) => x.name == "close"), [], "never closed");
  await e.eval(`d.end(S.done("ended")), true`);
  await e.host.until("ended", 10000);

  // the same bundle, protocol "amqp": AMQP/TLS on the amqps port
  await e.eval(`var d2 = tinyhub.createDevice(${opts("amqp", e.ports.amqps)}); d2.connect(), true`);
  await until(() => e.host.reports.filter((x: any) => x.name == "connect").length == 2, "the AMQP/TLS connect", 20000);
  await e.eval(`d2.sendEvent("over amqps", null, S.done("sent2")), true`);
  assert.is((await e.host.until("sent2", 10000)).err, 0);
  await e.eval(`d2.end(S.done("ended2")), true`);
  await e.host.until("ended2", 10000);
  assert.is(emu.telemetry.filter((x: any) => x.deviceId == id).length, 3);
});

/** Session peaks per entry, from the board-sized runs below, for engines-report.json. */
const peaks: Record<string, any> = {};

// The board-sized runs: each AMQP bundle's IoT Hub session on the esp32 build (its JsVar format, no Unicode, TLS outside
// the pool as ESP-IDF has it) with the variables an ESP32 has left for JavaScript; the peak goes to the size report.
for (const [entry, protocol, port] of [["hub-amqp", "amqp", "amqps"], ["hub-amqp-ws", "amqp-ws", "https"]] as const) {
  test(`board-sized: ${entry} over ${protocol == "amqp" ? "AMQP/TLS" : "AMQP/WebSockets/TLS"} with ${ESP32_VARIABLES} variables (esp32 build): telemetry, C2D, twin, desired, a method, within the board`, async () => {
    emu ||= await startHub({ dir, log: false, plainPort: null, mqttsPort: null, dpsPort: null, adminPort: null, httpsPort: 0, amqpsPort: 0 });
    const id = `esp-b32-${entry}-${process.pid}`;
    emu.registry.addDevice(id);
    const e = await startEspruinoEngine({ entry, variant: "esp32", board: ESP32_VARIABLES, targets: { [port]: emu.ports[port] } });
    engines.push(e);
    const opts = `S.hubEvents({ connectionString: ${j(emu.registry.connectionString(id))}, protocol: ${j(protocol)}, port: ${e.ports[port]}, tls: { ca: ${j(emu.ca)} }, gatewayHostName: "127.0.0.1", reconnect: false })`;
    assert.is(await e.eval(`var d = tinyhub.createDevice(${opts}); typeof d == "object" && (d.connect(), true)`), true, "createDevice gave a device");
    await e.host.until("connect", 30000);
    await e.eval(`d.sendEvent("board telemetry", { sensor: "th-1" }, S.done("sent")), true`);
    assert.is((await e.host.until("sent", 10000)).err, 0);
    const t = emu.telemetry.find((x: any) => x.deviceId == id);
    assert.equal([t.body.toString(), t.properties], ["board telemetry", { sensor: "th-1" }]);
    emu.sendC2D(id, "to the board", { color: "blue" });
    const m = await e.host.until("c2d", 10000);
    assert.equal([m.text, m.properties.color], ["to the board", "blue"]);
    await until(() => emu.c2dQueue(id).length == 0, "the C2D message completed");
    await e.eval(`d.getTwin(S.done("twin")), true`);
    assert.is((await e.host.until("twin", 10000)).err, 0);
    await e.eval(`d.patchReported({ fw: "1.0" }, S.done("patched")), true`);
    assert.is((await e.host.until("patched", 10000)).err, 0);
    assert.is(emu.getTwin(id).reported.fw, "1.0");
    const v = emu.updateDesired(id, { mode: "boost" });
    assert.equal((await e.host.until("desired", 10000)).version, v);
    assert.equal(await emu.invokeMethod(id, "reboot", { delay: 1 }, 10000), { status: 200, payload: { ok: true, got: { delay: 1 } } });
    assert.equal(e.host.reports.filter((x: any) => x.name == "close" || x.name == "error" || x.name == "exception"), [], "no close, error or exception");
    const f = (peaks[entry] = await peakOf(e));
    assert.ok(f.peakTotal <= f.total && f.samples > 2 && f.peak > f.load, JSON.stringify(f));
    await e.eval(`d.end(S.done("ended")), true`);
    await e.host.until("ended", 10000);
  });
}

test("JsVars of hub-amqp and hub-amqp-ws (Storage, addCached, the board-sized session's peak) written to engines-report.json", async () => {
  for (const entry of ["hub-amqp", "hub-amqp-ws"]) {
    const l = await loadsOf(entry);
    assert.ok(l.storage > 0 && l.cached > l.storage, `${entry}: ${l.storage} / ${l.cached}`);
    console.log(`  ${recordJsVars(entry, l, peaks[entry] ? { esp32Tls: peaks[entry] } : {}, "esp32Tls")}`);
  }
});

test.run();
