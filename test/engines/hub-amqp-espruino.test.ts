// The shipped dist/espruino/hub-amqp.js in the real Espruino interpreter (the linux build, the bundle loaded from
// Storage as a user loads it; tools/engines/espruino.js), over a real TCP connection to rhea playing IoT Hub
// (test/helpers/amqp-hub.ts): SASL, put-token signed by the bundle, UTF-8 telemetry checked on the hub's side, C2D
// settled rejected, twin, a method, and a refused token by name. Needs `npm run build` first.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startEspruinoEngine } from "../../tools/engines/espruino.js";
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
test.after(async () => {
  for (const e of engines) await e.close().catch(() => {});
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

  // a wrong key: E_AMQP_UNAUTHORIZED (-83) to onClose
  await e.eval(`var d2 = tinyhub.createDevice(S.hubEvents({ connectionString: ${j(cs(Buffer.from("wrong").toString("base64")))}, port: ${e.ports.amqp}, tls: null, reconnect: false })); d2.connect(), true`);
  assert.is(await e.host.until("close", 10000, (c: number) => c != 0), -83);
  l.close();
});

test.run();
