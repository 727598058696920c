// What the emulator stored and received of an IoT Hub session run by the Moddable app (tools/engines/moddable.js
// hubScenario), the checks every protocol shares: test/engines/moddable.test.ts (MQTT, MQTT/WS, DPS) and
// test/engines/hub-amqp-moddable.test.ts (AMQP).
import * as assert from "uvu/assert";

export const text = (hex: string) => Buffer.from(hex, "hex").toString("utf8");
export const reports = (o: any, ev: string) => o.run.reports.filter((r: any) => r.ev == ev);

/** The telemetry (body and every property byte for byte), the twin read and the reported patch. */
export function checkTelemetryTwin(o: any) {
  assert.equal(reports(o, "sent")[0]?.err, 0);
  assert.is(o.telemetry.length, 1);
  const m = o.telemetry[0];
  assert.equal(m.body, Buffer.from('{"t":21.5,"n":"gr\u00fc\u00df \u2713"}', "utf8"));
  assert.equal(m.properties, { alert: "hot", "spaced key/&=": "a/b&c=d \u00e9", "n\u00f6": "n\u00f6ne \u2713" });
  assert.equal([m.system.contentType, m.system.contentEncoding, m.system.messageId], ["application/json", "utf-8", "m-1"]);
  const twin = reports(o, "twin")[0];
  assert.equal([twin.err, typeof twin.desired, typeof twin.reported], [0, "number", "number"]);
  const patched = reports(o, "patched")[0];
  assert.is(patched.err, 0);
  assert.equal([o.twin.reported.fw, o.twin.reported.temp, o.twin.reported["n\u00e4me"], o.twin.reported.$version], ["1.0", 21.5, "gr\u00fc\u00df \u2713", patched.value]);
  return m;
}

/** The desired patch heard, the three direct methods (200, 501, 500) and the end. */
export function checkDesiredMethods(o: any) {
  // (after a connect the device may also hear the whole desired document: `whole`)
  const desired = reports(o, "desired").find((d: any) => !d.whole);
  assert.equal([desired.version, desired.patch.interval, desired.patch["n\u00e4"]], [o.desiredVersion, 5, "gr\u00fc\u00df \u2713"]);
  assert.equal(o.methods[0], { status: 200, payload: { ok: true, got: { delay: 1, t: "gr\u00fc\u00df \u2713" }, text: "gr\u00fc\u00df \u2713" } });
  assert.equal(reports(o, "method")[0].payload, { delay: 1, t: "gr\u00fc\u00df \u2713" });
  assert.equal([o.methods[1].status, o.methods[2].status], [501, 500]);
  assert.equal(reports(o, "ended")[0]?.err, 0);
}
