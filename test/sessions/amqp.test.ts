// createDevice({protocol: "amqp" | "amqp-ws"}) against rhea 3.0.5 (the AMQP library the official SDK builds on) playing
// the hub on 127.0.0.1 with the service's wire as the official SDK speaks it (azure-iot-device-amqp): $cbs put-token
// checked against the device's key, telemetry, C2D dispositions, twin and method links. Everything checked on the
// hub's side too. (The emulator's own AMQP endpoint, tools/hub, is a separate piece.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as http from "node:http";
import { WebSocketServer } from "ws";
import { createDevice, errorName, E_AMQP_UNAUTHORIZED, E_HUB_STATUS, E_PROPERTY, E_NOT_CONNECTED } from "../../targets/node/index";
import type { AmqpDevice } from "../../targets/node/index";
import { E_OUTBOX_FULL } from "../../src/errors";
import { C2D_REJECT, C2D_ABANDON, C2D_LATER } from "../../src/sessions/amqp";

import { miniHub, rhea, HOST, KEY } from "../helpers/amqp-hub";
import { connected, until, watched, gate, fill } from "../helpers/amqp-device";


function device(port: number, more: any = {}) {
  return watched({
    connectionString: `HostName=${HOST};DeviceId=${more.moduleId ? "gw" : "dev1"}${more.moduleId ? ";ModuleId=" + more.moduleId : ""};SharedAccessKey=${more.key || KEY};GatewayHostName=127.0.0.1`,
    port, tls: null,
    ...more, moduleId: undefined, key: undefined,
  });
}


const end = (d: AmqpDevice) => new Promise<void>((r) => d.end(() => r()));

test("SASL ANONYMOUS, put-token on $cbs with the device's audience; telemetry with UTF-8 and system properties, done on the disposition", async () => {
  const hub = await miniHub(), l = await hub.listen(), k = device(l.port);
  await connected(k);
  assert.equal(hub.rec.puts.length, 1);
  const p = hub.rec.puts[0];
  assert.equal([p.operation, p.type, p.name, p.to, p.reply_to, p.ok], ["put-token", "servicebus.windows.net:sastoken", HOST + "/devices/dev1", "$cbs", "cbs", true]);
  const events = hub.rec.attaches.filter((a) => a.addr == "/devices/dev1/messages/events");
  assert.equal(events.map((a) => a.role), ["receiver"], "the telemetry sender attached");
  const done: number[] = [];
  const props = { "température": "été ☀ 🌡", n: 42, ok: true, $messageId: "m-1", $correlationId: "c-1", $contentType: "application/json", $contentEncoding: "utf-8", $outputName: "out1", $component: "thermostat1" };
  assert.ok(k.d.sendEvent('{"t":21.5}', props, (e) => done.push(e)) >= 0);
  await until(() => done.length == 1, "telemetry done");
  assert.equal(done, [0]);
  const e = hub.rec.events[0];
  assert.is(e.body, '{"t":21.5}');
  assert.equal(e.app, { "température": "été ☀ 🌡", n: 42, ok: true, "iothub-outputname": "out1" });
  assert.equal([e.m.message_id, e.m.correlation_id, e.m.content_type, e.m.content_encoding], ["m-1", "c-1", "application/json", "utf-8"]);
  assert.equal(e.m.message_annotations, { "dt-subject": "thermostat1" });
  // a rejection reaches done by name
  hub.st.rejectNext = true;
  k.d.sendEvent(new Uint8Array([1, 2, 3]), null, (e) => done.push(e));
  await until(() => done.length == 2, "rejected telemetry");
  assert.is(errorName(done[1]), "E_AMQP_REJECTED");
  assert.equal([...hub.rec.events[1].raw], [1, 2, 3]);
  assert.is(k.d.sendEvent("x", { $nope: 1 }), E_PROPERTY);
  assert.is(k.d.sendEvent("x", { a: {} as any }), E_PROPERTY);
  await end(k.d);
  assert.equal(k.ev.closes, [0]);
  assert.is(k.d.sendEvent("x"), E_NOT_CONNECTED);
  l.close();
});

test("C2D on /messages/devicebound: complete, reject, abandon settle as accepted, rejected, released; properties as over MQTT", async () => {
  const hub = await miniHub(), l = await hub.listen();
  const answers = [undefined, C2D_REJECT, C2D_ABANDON];
  const k = device(l.port, { onMessage: (m: any) => (k.ev.c2d.push({ body: Buffer.from(m.payload).toString(), props: m.properties }), answers[k.ev.c2d.length - 1]) });
  await connected(k);
  const addr = "/devices/dev1/messages/devicebound";
  assert.ok(hub.senders[addr], "the C2D receiver attached");
  for (let i = 0; i < 3; i++) hub.senders[addr].send({ message_id: "c2d-" + i, correlation_id: "corr", application_properties: { "clé": "välue " + i, n: i }, body: rhea.message.data_section(Buffer.from("msg " + i + " ü")) });
  await until(() => hub.rec.outcomes.length == 3, "three outcomes").catch((e) => {
    throw new Error(e.message + " " + JSON.stringify([hub.rec.outcomes, k.ev.c2d, k.ev.errors]));
  });
  assert.equal(hub.rec.outcomes, ["accepted", "rejected", "released"]);
  assert.equal(k.ev.c2d.map((m) => m.body), ["msg 0 ü", "msg 1 ü", "msg 2 ü"]);
  assert.equal({ ...k.ev.c2d[1].props }, { "clé": "välue 1", n: "1", $messageId: "c2d-1", $correlationId: "corr" });
  // more than the credit given at once: the flow keeps it coming
  for (let i = 0; i < 10; i++) hub.senders[addr].send({ body: rhea.message.data_section(Buffer.from("more " + i)) });
  await until(() => k.ev.c2d.length == 13, "ten more");
  await end(k.d);
  l.close();
});

test("C2D outcomes when the outbox is full: owed, not dropped; sent in order once the transport drains, before the application's onWritable", async () => {
  const hub = await miniHub(), l = await hub.listen();
  const wire: string[] = [];
  // a disposition (descriptor 0x15) goes out
  const g = gate((b, off, len) => len > 10 && b[off + 8] == 0 && b[off + 9] == 0x53 && b[off + 10] == 0x15 && wire.push("disposition"));
  const answers = [undefined, C2D_REJECT, C2D_ABANDON, C2D_REJECT];
  const k = device(l.port, {
    transport: g.transport,
    onMessage: () => answers[k.ev.c2d.push(1) - 1],
    onWritable: () => wire.push("onWritable"),
  });
  await connected(k);
  const addr = "/devices/dev1/messages/devicebound";
  wire.length = 0;
  g.blocked = true;
  const done: number[] = [], sent = fill(k.d, (e) => done.push(e));
  assert.is(k.d.sendEvent(new Uint8Array(1)), E_OUTBOX_FULL);
  assert.ok(sent > 5, "telemetry queued: " + sent);
  // four C2D messages (the credit given) answered complete, reject, abandon, reject: the outbox has no room for all
  // of their dispositions
  for (let i = 0; i < 4; i++) hub.senders[addr].send({ body: rhea.message.data_section(Buffer.from("c2d " + i)) });
  await until(() => k.ev.c2d.length == 4, "four C2D messages");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(hub.rec.outcomes, [], "nothing written while blocked");
  g.drain();
  await until(() => hub.rec.outcomes.length == 4 && done.length == sent, "four outcomes and the telemetry settled").catch((e) => {
    throw new Error(e.message + " " + JSON.stringify([hub.rec.outcomes, done.length, sent, k.ev.errors.map(errorName)]));
  });
  assert.equal(hub.rec.outcomes, ["accepted", "rejected", "released", "rejected"]);
  // the owed dispositions went out before the application heard onWritable
  assert.equal(wire, ["disposition", "disposition", "disposition", "disposition", "onWritable"]);
  assert.ok(done.every((e) => e == 0));
  assert.equal(k.ev.errors, []);
  // the connection goes on: C2D still comes, settled at once
  hub.senders[addr].send({ body: rhea.message.data_section(Buffer.from("after")) });
  await until(() => hub.rec.outcomes.length == 5, "a fifth outcome");
  assert.is(hub.rec.outcomes[4], "accepted");
  await end(k.d);
  l.close();
});

test("C2D credit when the outbox is full: the flows are owed too, so more messages than the credit all arrive once it drains", async () => {
  const hub = await miniHub(), l = await hub.listen();
  const g = gate(), toks: string[] = [];
  // the first three are settled later, by lock token
  const k = device(l.port, { transport: g.transport, onMessage: (m: any) => (k.ev.c2d.push(1) <= 3 ? (toks.push(m.lockToken), C2D_LATER) : undefined) });
  await connected(k);
  const addr = "/devices/dev1/messages/devicebound", send = (i: number) => hub.senders[addr].send({ body: rhea.message.data_section(Buffer.from("m" + i)) });
  send(0), send(1), send(2);
  await until(() => k.ev.c2d.length == 3, "three C2D messages");
  await new Promise((r) => setTimeout(r, 50));
  // blocked: telemetry fills the outbox but its spare bytes, and the three settlements by token take most of those
  g.blocked = true;
  fill(k.d);
  assert.equal(toks.map((x) => k.d.complete(x)), [0, 0, 0]);
  // eight more: the hub sends what the credit lets it (4), whose outcomes and flows find no room (a lost flow: the
  // hub would wait for credit for good)
  for (let i = 3; i < 11; i++) send(i);
  let n = -1;
  for (let i = 0; i < 20 && n != k.ev.c2d.length; i++) (n = k.ev.c2d.length), await new Promise((r) => setTimeout(r, 150));
  assert.is(n, 7, "the credit's four arrived while blocked");
  g.drain();
  await until(() => k.ev.c2d.length == 11 && hub.rec.outcomes.length == 11, "all eleven settled").catch((e) => {
    throw new Error(`${e.message}: ${k.ev.c2d.length} arrived, outcomes ${JSON.stringify(hub.rec.outcomes)}`);
  });
  assert.ok(hub.rec.outcomes.every((x: string) => x == "accepted"), JSON.stringify(hub.rec.outcomes));
  assert.equal(k.ev.errors, []);
  await end(k.d);
  l.close();
});

test("twin: links with channel-correlation-id and api-version, GET, PATCH reported (its version), desired pushes", async () => {
  const hub = await miniHub(), l = await hub.listen();
  const k = device(l.port, { onDesired: (p: any, v: number) => k.ev.desired.push([p, v]) });
  await connected(k);
  const addr = "/devices/dev1/twin";
  const links = hub.rec.attaches.filter((a) => a.addr == addr);
  assert.equal(links.map((a) => a.role).sort(), ["receiver", "sender"]);
  assert.match(links[0].props["com.microsoft:channel-correlation-id"], /^twin:/);
  assert.is(links[0].props["com.microsoft:channel-correlation-id"], links[1].props["com.microsoft:channel-correlation-id"], "one id for both links");
  assert.is(links[0].props["com.microsoft:api-version"], "2021-04-12");
  await until(() => hub.rec.twin.length == 1, "the desired-updates PUT");
  assert.equal([hub.rec.twin[0].op, hub.rec.twin[0].res, hub.rec.twin[0].settled], ["PUT", "/notifications/twin/properties/desired", true]);
  const got = await new Promise<any[]>((r) => k.d.getTwin((e, t) => r([e, t])));
  assert.equal(got, [0, { desired: { $version: 1, mode: "eco" }, reported: {} }]);
  const patched = await new Promise<any[]>((r) => k.d.patchReported({ "état": "prêt" }, (e, v) => r([e, v])));
  assert.equal(patched, [0, 2]);
  assert.equal(hub.st.reported, { "état": "prêt" });
  hub.desired(addr, { $version: 3, mode: "boost" });
  await until(() => k.ev.desired.length == 1, "desired patch");
  assert.equal(k.ev.desired[0], [{ $version: 3, mode: "boost" }, 3]);
  // a status other than 2xx is E_HUB_STATUS with the status
  hub.st.throttle = true;
  const failed = await new Promise<any[]>((r) => k.d.getTwin((e, t) => r([e, t])));
  assert.equal(failed, [E_HUB_STATUS, 429]);
  await end(k.d);
  l.close();
});

test("direct methods: links with methods: correlation id, the request's UUID echoed with IoThub-status, 501 for an unknown method", async () => {
  const hub = await miniHub(), l = await hub.listen();
  const k = device(l.port, { methods: { reboot: (p: any, respond: any) => respond(200, { got: p, "ok": "oui ✓" }) } });
  await connected(k);
  const addr = "/devices/dev1/methods/devicebound";
  const links = hub.rec.attaches.filter((a) => a.addr == addr);
  assert.equal(links.length, 2);
  assert.match(links[0].props["com.microsoft:channel-correlation-id"], /^methods:/);
  assert.is(links[1].props["com.microsoft:api-version"], "2021-04-12");
  const id = hub.method(addr, "reboot", { delay: 5 });
  const id2 = hub.method(addr, "nope", null);
  await until(() => hub.rec.answers.length == 2, "two answers");
  assert.equal(hub.rec.answers[0], { cid: id, status: 200, body: { got: { delay: 5 }, ok: "oui ✓" } });
  assert.equal([hub.rec.answers[1].cid, hub.rec.answers[1].status], [id2, 501]);
  await end(k.d);
  l.close();
});

test("token renewal: a new token put on $cbs on the live connection before the old one expires", async () => {
  const hub = await miniHub(), l = await hub.listen();
  // a 2 s token is renewed after half its life
  const k = device(l.port, { tokenLifetime: 2 });
  await connected(k);
  await until(() => hub.rec.puts.length >= 2, "a renewal", 5000);
  assert.is(hub.rec.conns, 1, "the same connection");
  assert.ok(hub.rec.puts[1].ok && hub.rec.puts[1].se > hub.rec.puts[0].se - 1);
  const done: number[] = [];
  k.d.sendEvent("after renewal", null, (e) => done.push(e));
  await until(() => done.length == 1, "telemetry");
  assert.equal([done, k.ev.connects, k.ev.closes], [[0], 1, []]);
  await end(k.d);
  l.close();
});

test("a wrong key: the hub refuses the token (status-code 401): E_AMQP_UNAUTHORIZED, no links, no retry", async () => {
  const hub = await miniHub(), l = await hub.listen();
  const k = device(l.port, { key: Buffer.from("not the key").toString("base64"), reconnect: undefined });
  k.d.connect();
  await until(() => k.ev.closes.length > 0, "close");
  assert.equal(k.ev.closes, [E_AMQP_UNAUTHORIZED]);
  assert.ok(k.ev.errors.includes(E_AMQP_UNAUTHORIZED));
  assert.is(k.ev.connects, 0);
  assert.equal(hub.rec.attaches.map((a) => a.addr), ["$cbs", "$cbs"]);
  await new Promise((r) => setTimeout(r, 1500));
  assert.is(hub.rec.conns, 1, "no reconnect after a refused token");
  l.close();
});

test("a dropped connection: the device connects again (after 1 s), puts a new token and attaches its links again", async () => {
  const hub = await miniHub(), l = await hub.listen();
  const k = device(l.port, { reconnect: undefined });
  await connected(k);
  hub.rec.conns = 0;
  const before = hub.rec.attaches.length;
  for (const c of hub.conns) c.socket.destroy();
  await until(() => k.ev.connects == 2, "the second onConnect", 8000);
  assert.is(hub.rec.conns, 1);
  assert.is(hub.rec.puts.length, 2);
  assert.is(hub.rec.attaches.length, before * 2, "the same links again");
  assert.is(k.ev.closes.length, 1);
  assert.ok(k.ev.closes[0] < 0, "closed by an error: " + errorName(k.ev.closes[0]));
  const done: number[] = [];
  k.d.sendEvent("again", null, (e) => done.push(e));
  await until(() => done.length == 1, "telemetry");
  assert.equal(done, [0]);
  await end(k.d);
  l.close();
});

test("a module: /devices/{d}/modules/{m}/... addresses, audience with the module", async () => {
  const hub = await miniHub(), l = await hub.listen();
  const k = device(l.port, { moduleId: "mod1", onMessage: () => {}, onMethod: (n: string, p: any, r: any) => r(200, n) });
  await connected(k);
  assert.is(hub.rec.puts[0].name, HOST + "/devices/gw/modules/mod1");
  assert.ok(hub.rec.puts[0].ok);
  const addrs = [...new Set(hub.rec.attaches.map((a) => a.addr))].sort();
  assert.equal(addrs, ["$cbs", "/devices/gw/modules/mod1/messages/events", "/devices/gw/modules/mod1/methods/devicebound", "/devices/gw/modules/mod1/twin"]);
  const done: number[] = [];
  k.d.sendEvent("from a module", null, (e) => done.push(e));
  await until(() => done.length == 1, "telemetry");
  assert.is(hub.rec.events[0].addr, "/devices/gw/modules/mod1/messages/events");
  await end(k.d);
  l.close();
});

test('"amqp-ws": the same device over a WebSocket at /$iothub/websocket, subprotocol AMQPWSB10', async () => {
  const hub = await miniHub(), s = http.createServer(), paths: string[] = [];
  const wss = new WebSocketServer({ server: s, handleProtocols: (p) => (p.has("AMQPWSB10") ? "AMQPWSB10" : false) });
  wss.on("connection", (w, req) => {
    paths.push(req.url!);
    hub.c.websocket_accept(w, { autoaccept: false });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as any).port;
  const k = device(port, { protocol: "amqp-ws" });
  await connected(k);
  assert.equal(paths, ["/$iothub/websocket"]);
  const done: number[] = [];
  k.d.sendEvent("over ws ✓", { via: "amqp-ws" }, (e) => done.push(e));
  await until(() => done.length == 1, "telemetry");
  assert.equal([done[0], hub.rec.events[0].body, hub.rec.events[0].app.via], [0, "over ws ✓", "amqp-ws"]);
  await end(k.d);
  for (const c of wss.clients) c.terminate();
  await new Promise((r) => s.close(r));
});

test.run();
