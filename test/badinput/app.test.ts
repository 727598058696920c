// Bad input from the application: wildcards and over-long or ill-formed topics, lone surrogates in
// topics and payloads, property names that try to break out of the topic, bad connection strings.
// Each call must return its named negative code with nothing queued (nothing written, the outbox as
// roomy as before), and the client must work normally afterwards: first against a fake transport, byte
// for byte, then end to end against the IoT Hub emulator.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDevice as nodeDevice, errorName, Device } from "../../targets/node/index";
import { createDevice } from "../../src/sessions/device";
import * as E from "../../src/errors";
import * as H from "../../src/iothub/errors";
import { startHub } from "../../tools/hub/index.js";
import { session } from "../helpers/session";
import { FakeTransport, ManualClock } from "../helpers/fake";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const name = (c: number) => (typeof c == "number" && c < 0 ? errorName(c) : String(c));

/** How many 20-byte QoS 1 messages fit the outbox before E_OUTBOX_FULL (they stay until PUBACK). */
function capacity(c: { publish: (t: string, p: string, q: number) => number }): number {
  let n = 0;
  while (c.publish("cap/t", "0123456789", 1) > 0) n++;
  return n;
}

const BAD_TOPICS: [string, string, number][] = [
  ["'+' level", "a/+/b", E.E_TOPIC],
  ["'#' last", "a/#", E.E_TOPIC],
  ["'+' alone", "+", E.E_TOPIC],
  ["'#' alone", "#", E.E_TOPIC],
  ["'+' inside a level", "a+b", E.E_TOPIC],
  ["empty", "", E.E_TOPIC],
  ["U+0000", "a\u0000b", E.E_UTF8],
  ["a lone high surrogate", "a/\ud800", E.E_UTF8],
  ["a lone low surrogate", "\udc00/a", E.E_UTF8],
  ["surrogates reversed", "a\udc00\ud800", E.E_UTF8],
  ["70,000 bytes", "t".repeat(70000), E.E_TOO_LARGE],
  ["65,536 bytes of 3-byte characters", "€".repeat(21845) + "a", E.E_TOO_LARGE],
];

test("MQTT publish/subscribe/unsubscribe: bad topics, filters, QoS and payloads give named codes; nothing queued", () => {
  const s = session({ bufferSize: 2048 });
  s.up();
  s.events();
  const { client, t } = s;
  const got: string[] = [];
  const expect = (what: string, r: number, code: number) => got.push(`${what}: ${name(r)}${r === code ? "" : ` (expected ${errorName(code)})`}`);
  for (const [what, topic, code] of BAD_TOPICS) {
    for (const q of [0, 1, 2]) expect(`publish ${what} QoS ${q}`, client.publish(topic, "x", q, false, () => got.push("done called")), code);
  }
  expect("publish a lone surrogate in the payload", client.publish("a/b", "ok\ud83d", 1), E.E_UTF8);
  expect("publish QoS 3", client.publish("a/b", "x", 3), E.E_QOS);
  expect("publish QoS -1", client.publish("a/b", "x", -1), E.E_QOS);
  expect("publish QoS NaN", client.publish("a/b", "x", NaN), E.E_QOS);
  expect("publish QoS 1.5", client.publish("a/b", "x", 1.5), E.E_QOS);
  const BAD_FILTERS: [string, number][] = [
    ["a/#/b", E.E_TOPIC], ["a#", E.E_TOPIC], ["a/b+", E.E_TOPIC], ["+a/b", E.E_TOPIC], ["#/", E.E_TOPIC], ["", E.E_TOPIC],
    ["a/\u0000", E.E_UTF8], ["a/\ud800", E.E_UTF8], ["f".repeat(70000), E.E_TOO_LARGE],
  ];
  for (const [f, code] of BAD_FILTERS) {
    expect(`subscribe ${JSON.stringify(f.slice(0, 12))}`, client.subscribe(f, 1), code);
    expect(`unsubscribe ${JSON.stringify(f.slice(0, 12))}`, client.unsubscribe(f), code);
  }
  expect("subscribe QoS 3", client.subscribe("a/b", 3), E.E_QOS);
  assert.equal(got.filter((g) => g.includes("expected") || g == "done called"), [], got.join("\n"));
  assert.equal(t.take(), [], "nothing written");
  assert.equal(s.events(), [], "nothing reported");
  // nothing queued: the outbox takes as many messages as a fresh client's does
  const fresh = session({ bufferSize: 2048 });
  fresh.up();
  assert.is(capacity(client), capacity(fresh.client), "the same room as a fresh client");
  // and the session works: acknowledge them all, a message round trip
  const pubs = t.take().filter((p) => p.cmd == "publish");
  for (const p of pubs) t.send([0x40, 2, (p.messageId as number) >> 8, (p.messageId as number) & 255]);
  assert.ok(client.publish("a/b", "fine", 1) > 0);
  assert.equal(t.cmds(), ["publish"]);
});

test("a topic of exactly 65,535 bytes is accepted by a large enough buffer; one byte more is E_TOO_LARGE", () => {
  const s = session({ bufferSize: 140000, rxSize: 1024 });
  s.up();
  assert.ok(s.client.publish("t".repeat(65535), "x", 1) > 0);
  assert.is(name(s.client.publish("t".repeat(65536), "x", 1)), "E_TOO_LARGE");
  const [p] = s.t.take();
  assert.is((p.topic as string).length, 65535);
});

test("bad CONNECT fields (will topic, client id, password without user name, keep-alive): a final named error at connect", () => {
  const cases: [string, any, number][] = [
    ["will topic with '#'", { will: { topic: "w/#", payload: "x" } }, E.E_TOPIC],
    ["will topic with a lone surrogate", { will: { topic: "w/\ud800", payload: "x" } }, E.E_UTF8],
    ["will payload with a lone surrogate", { will: { topic: "w", payload: "\udfff" } }, E.E_UTF8],
    ["will QoS 3", { will: { topic: "w", payload: "x", qos: 3 } }, E.E_QOS],
    ["client id with U+0000", { clientId: "a\u0000" }, E.E_UTF8],
    ["client id with a lone surrogate", { clientId: "a\ud800" }, E.E_UTF8],
    ["password without user name", { password: "p" }, E.E_ARGUMENT],
    ["keep-alive 65536 s", { keepalive: 65536 }, E.E_ARGUMENT],
    ["empty client id with a persistent session", { clientId: "", clean: false }, E.E_ARGUMENT],
    ["user name of 70,000 bytes", { username: "u".repeat(70000) }, E.E_TOO_LARGE],
  ];
  for (const [what, opts, code] of cases) {
    const s = session({ reconnect: { min: 10, max: 10 }, ...opts });
    s.client.connect();
    assert.equal(s.events(), [`error ${errorName(code)}`, `close ${errorName(code)}`], what);
    assert.is(s.t.written.length, 0, `${what}: nothing written`);
    s.clock.advance(60000);
    assert.is(s.t.opens.length, 1, `${what}: no reconnect loop`);
  }
});

// ---- IoT Hub device -----------------------------------------------------------------------------

const KEY = Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");
const CS = `HostName=h.azure-devices.net;DeviceId=d1;SharedAccessKey=${KEY}`;
const INJECT = { "a/b": "x", "$.x": 1, "k&v=1#": "/+#" };

test("device.sendEvent: property names that try to inject into the topic are encoded or refused; nothing queued", () => {
  const t = new FakeTransport(), clock = new ManualClock();
  const d = createDevice({ connectionString: CS, transport: t, clock, tls: null, time: () => 1.7e9 }) as Device;
  d.connect();
  t.take();
  t.send([0x20, 2, 0, 0]);
  for (const p of t.take()) if (p.cmd == "subscribe") t.send([0x90, 3, (p.messageId as number) >> 8, (p.messageId as number) & 255, 0]);
  const codes = {
    inject: d.sendEvent("x", INJECT),
    unknownSystem: d.sendEvent("x", { $foo: "1" }),
    emptyName: d.sendEvent("x", { "": "v" }),
    objectValue: d.sendEvent("x", { a: {} as any }),
    nan: d.sendEvent("x", { a: NaN }),
    infinity: d.sendEvent("x", { a: -Infinity }),
    nullValue: d.sendEvent("x", { a: null as any }),
    surrogatePayload: d.sendEvent("x\udbff", { a: "1" }),
    tooBig: d.sendEvent(new Uint8Array(262145)),
    qos2: d.publish("devices/d1/messages/events/", "x", 2),
    wildcard: d.publish("devices/d1/messages/events/#", "x", 1),
  };
  assert.equal(Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, name(v)])), {
    inject: "E_PROPERTY", unknownSystem: "E_PROPERTY", emptyName: "E_PROPERTY", objectValue: "E_PROPERTY", nan: "E_PROPERTY",
    infinity: "E_PROPERTY", nullValue: "E_PROPERTY", surrogatePayload: "E_UTF8", tooBig: "E_HUB_SIZE", qos2: "E_HUB_QOS2", wildcard: "E_TOPIC",
  });
  assert.equal(t.take(), [], "nothing written");
  // without the unknown system name, the rest goes out percent-encoded: one topic level, no wildcard, no extra pair
  const id = d.sendEvent("x", { "a/b": "x", "k&v=1#": "/+#", $messageId: "m?1" });
  assert.ok(id > 0);
  const [p] = t.take();
  assert.is(p.topic, "devices/d1/messages/events/a%2Fb=x&k%26v%3D1%23=%2F%2B%23&%24.mid=m%3F1");
});

test("bad connection strings: one named code per E_CS_* (and E_TOKEN), for every protocol; E_TOKEN_EXPIRED at connect", () => {
  const cases: [string, number][] = [
    ["HostName=h;DeviceId", H.E_CS_SYNTAX],
    [`=x;HostName=h;DeviceId=d;SharedAccessKey=${KEY}`, H.E_CS_SYNTAX],
    [`DeviceId=d;SharedAccessKey=${KEY}`, H.E_CS_HOST],
    [`HostName=;DeviceId=d;SharedAccessKey=${KEY}`, H.E_CS_HOST],
    [`HostName=h;SharedAccessKey=${KEY}`, H.E_CS_DEVICE],
    [`HostName=h;DeviceId=a/b;SharedAccessKey=${KEY}`, H.E_CS_DEVICE],
    [`HostName=h;DeviceId=${"d".repeat(129)};SharedAccessKey=${KEY}`, H.E_CS_DEVICE],
    [`HostName=h;DeviceId=d#1;SharedAccessKey=${KEY}`, H.E_CS_DEVICE],
    ["HostName=h;DeviceId=d", H.E_CS_CREDENTIAL],
    [`HostName=h;DeviceId=d;SharedAccessKey=${KEY};x509=true`, H.E_CS_CREDENTIAL],
    ["HostName=h;DeviceId=d;SharedAccessKeyName=p;x509=true", H.E_CS_CREDENTIAL],
    ["HostName=h;DeviceId=d;SharedAccessKey=!!!notbase64", H.E_CS_KEY],
    ["HostName=h;DeviceId=d;SharedAccessKey=", H.E_CS_KEY],
    [`HostName=h;DeviceId=d;SharedAccessKey=${KEY};Password=x`, H.E_CS_UNKNOWN],
    [`hostname=h;DeviceId=d;SharedAccessKey=${KEY}`, H.E_CS_UNKNOWN],
    [`HostName=h;DeviceId=d;DeviceId=e;SharedAccessKey=${KEY}`, H.E_CS_DUPLICATE],
    [`HostName=h;DeviceId=d;ModuleId=m/1;SharedAccessKey=${KEY}`, H.E_CS_MODULE],
    [`HostName=h;DeviceId=d;ModuleId=;SharedAccessKey=${KEY}`, H.E_CS_MODULE],
    ["HostName=h;DeviceId=d;x509=yes", H.E_CS_VALUE],
    ["HostName=h;DeviceId=d;SharedAccessSignature=garbage", H.E_TOKEN],
    ["HostName=h;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=h%2Fdevices%2Fd&sig=abc&se=soon", H.E_TOKEN],
  ];
  const seen = new Set<number>();
  for (const [cs, code] of cases) {
    for (const protocol of ["mqtt", "mqtt-ws", "http"] as const) {
      const r = nodeDevice({ connectionString: cs, protocol } as any);
      assert.is(name(r as number), errorName(code), `${protocol} ${cs.slice(0, 60)}`);
    }
    seen.add(code);
  }
  for (const k of Object.keys(H).filter((k) => k.startsWith("E_CS_"))) assert.ok(seen.has((H as any)[k]), `a case for ${k}`);
  // a well-formed token that has expired: the device is made, connect() reports E_TOKEN_EXPIRED, nothing is opened
  const t = new FakeTransport(), errors: number[] = [];
  const d = createDevice({
    connectionString: "HostName=h;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=h%2Fdevices%2Fd&sig=abc&se=1000",
    transport: t, clock: new ManualClock(), onError: (c) => errors.push(c),
  }) as Device;
  d.connect();
  assert.equal(errors.map(name), ["E_TOKEN_EXPIRED"]);
  assert.is(t.opens.length, 0);
});

test("end to end against the hub emulator: injected names arrive as plain properties, refused events never arrive", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-badinput-"));
  const hub = await startHub({ dir, log: false, plainPort: 0 });
  let d: Device | null = null;
  try {
    const id = "bad-app";
    const key = hub.registry.addDevice(id).primaryKey!;
    let connects = 0;
    const errors: number[] = [];
    d = nodeDevice({
      host: hub.hubName, deviceId: id, sharedAccessKey: key, gatewayHostName: "127.0.0.1", port: hub.ports.plain, tls: null,
      reconnect: { min: 50, max: 200 }, onConnect: () => connects++, onError: (c) => errors.push(c),
    }) as Device;
    d.connect();
    const end = Date.now() + 5000;
    while (!connects && Date.now() < end) await sleep(10);
    assert.is(connects, 1, "connected");
    const refused = [
      d.sendEvent("x", INJECT),
      d.sendEvent("y\ud800"),
      d.publish("devices/" + id + "/messages/events/+", "x", 1),
      d.publish("devices/" + id + "/messages/events/", "x", 2),
      d.sendEvent("z", { lone: "\ud800" }),
    ];
    assert.equal(refused.map(name), ["E_PROPERTY", "E_UTF8", "E_TOPIC", "E_HUB_QOS2", "E_UTF8"], "a lone surrogate in a property value is not text either");
    const done = await new Promise<number>((resolve) => {
      const r = d!.sendEvent("good", { "a/b": "x", "k&v=1#": "/+#", $contentType: "text/plain" }, resolve);
      if (r < 0) resolve(r);
    });
    assert.is(done, 0, "PUBACK");
    assert.is(hub.telemetry.length, 1, "exactly the one good event arrived");
    const m = hub.telemetry[0];
    assert.is(m.body.toString(), "good");
    assert.equal(m.properties, { "a/b": "x", "k&v=1#": "/+#" }, "names and values as given");
    assert.is(m.system.contentType, "text/plain");
    assert.equal(errors, [], "no error from the connection");
    assert.ok(hub.connected(id), "still connected");
  } finally {
    if (d) d.end();
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
