// Edge paths of the MQTT session that the main suite does not reach (found with c8 branch coverage):
// a transport pushing back on CONNECT, a full outbox meeting acknowledgements and re-subscriptions, a
// transport that misbehaves around close(), bytes before onOpen. Fake transport and manual clock.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createClient } from "../../src/mqtt/client";
import type { Transport, TransportEvents } from "../../src/types";
import { ManualClock } from "../helpers/fake";
import { session } from "../helpers/session";

const PUBACK = (id: number) => [0x40, 2, id >> 8, id & 255];
const SUBACK = (id: number, rc = 1) => [0x90, 3, id >> 8, id & 255, rc];
const CONNACK = (sp = 0) => [0x20, 2, sp, 0];
/** An incoming QoS 1 PUBLISH on topic "in" with a 1-byte payload. */
const PUB1 = (id: number) => [0x32, 7, 0, 2, 0x69, 0x6e, id >> 8, id & 255, 0x78];

test("no client id: CONNECT carries an empty one (clean session)", () => {
  const s = session({ clientId: undefined });
  s.client.connect();
  const [c] = s.t.take();
  assert.is(c.cmd, "connect");
  assert.is(c.clientId, "");
  assert.is(c.clean, true);
});

test("publish and subscribe without a QoS use QoS 0", () => {
  const s = session();
  s.up();
  s.t.take();
  assert.is(s.client.publish("t", "x"), 0);
  assert.ok(s.client.subscribe("f") > 0);
  const out = s.t.take();
  assert.is((out.find((p) => p.cmd == "publish") as any).qos, 0);
  assert.is((out.find((p) => p.cmd == "subscribe") as any).subscriptions[0].qos, 0);
});

for (const sp of [0, 1]) {
  test(`acks queued for a connection that dropped are not sent on the next one (session present ${sp})`, () => {
    const s = session({ reconnect: { min: 10, max: 10, jitter: 0 } });
    s.up();
    s.t.take();
    s.t.mode = "block";
    s.t.send(PUB1(5));
    s.t.send(PUB1(6));
    s.t.drop();
    s.t.mode = "take";
    s.clock.advance(10);
    s.t.send(CONNACK(sp));
    assert.equal(s.t.cmds().filter((c) => c != "connect"), [], "no PUBACK 5 or 6 on the new connection");
    // the server redelivers what it still wants acknowledged; that gets its PUBACK
    s.t.send(PUB1(5));
    assert.equal(s.t.take().filter((p) => p.cmd == "puback").map((p) => p.messageId), [5]);
  });
}

test("connect() twice opens one connection", () => {
  const s = session();
  s.t.autoOpen = false;
  s.client.connect();
  s.client.connect();
  assert.is(s.t.opens.length, 1);
  s.t.up();
  s.t.send(CONNACK());
  assert.equal(s.events(), ["connect false"]);
});

test("a transport that pushes back on CONNECT (write 0, the Transport contract's \"try later\"): CONNECT goes at onWritable", () => {
  const s = session({ username: "u", password: "p" });
  s.t.mode = "block";
  s.client.connect();
  assert.equal(s.events(), [], "not a failure");
  assert.is(s.t.isOpen, true);
  // a message queued meanwhile is not overwritten by the CONNECT it waits behind
  const id = s.client.publish("queued", "m", 1);
  s.t.writable();
  assert.equal(s.t.take().map((p) => [p.cmd, (p as any).username]), [["connect", "u"]]);
  s.t.send(CONNACK());
  assert.equal(s.events(), ["connect false"]);
  assert.equal(s.t.take().map((p) => [p.cmd, (p as any).messageId]), [["publish", id]]);
});

test("a transport that stays blocked on CONNECT: the open timeout ends the attempt (E_TIMEOUT), then a retry", () => {
  const s = session({ keepalive: 10, reconnect: { min: 100, max: 100, jitter: 0 } });
  s.t.mode = "block";
  s.client.connect();
  s.clock.advance(4900);
  assert.equal(s.events(), [], "waiting within the open timeout (half the keep-alive)");
  s.clock.advance(100);
  assert.equal(s.events(), ["close E_TIMEOUT"]);
  s.t.mode = "take";
  s.clock.advance(100);
  assert.is(s.t.opens.length, 2, "retried after the backoff");
  assert.equal(s.t.cmds(), ["connect"]);
});

test("bytes before onOpen are ignored; the session starts clean once open", () => {
  const s = session();
  s.t.autoOpen = false;
  s.client.connect();
  s.t.send(CONNACK());
  assert.equal(s.events(), []);
  assert.is(s.client.connected(), false);
  s.t.up();
  assert.equal(s.t.cmds(), ["connect"]);
  s.t.send(CONNACK());
  assert.equal(s.events(), ["connect false"]);
});

test("a transport reporting a close after close(): nothing reported twice, no second reconnect", () => {
  let ev: TransportEvents | null = null, opens = 0;
  const tr: Transport = {
    open(_h, _p, _t, e) { ev = e; opens++; e.onOpen(); },
    write: (_b, _o, n) => n,
    close() { /* and keeps `ev`: reports anyway below */ },
  };
  const clock = new ManualClock(), closes: number[] = [];
  const c = createClient({ host: "h", transport: tr, clock, reconnect: { min: 50, max: 50, jitter: 0 }, onClose: (x) => closes.push(x) });
  c.connect();
  ev!.onData(Uint8Array.from(CONNACK()));
  c.end();
  ev!.onClose(0);
  assert.equal(closes, [0]);
  clock.advance(1000);
  assert.is(opens, 1);
  // a reconnect(): the stale events object reporting a close while the new connection opens changes nothing
  c.connect();
  const old = ev!;
  ev!.onData(Uint8Array.from(CONNACK()));
  assert.ok(c.connected());
  c.reconnect();
  assert.ok(!c.connected() && opens == 3);
  old.onClose(0);
  assert.is(closes.length, 3, "the close of the reconnect() only (and end())");
});

test("acknowledgements that find the outbox full: the connection is dropped with E_OUTBOX_FULL, then resumes", () => {
  const s = session({ bufferSize: 512, reconnect: { min: 10, max: 10, jitter: 0 } });
  s.up();
  s.events();
  s.t.take();
  s.t.mode = "block";
  let n = 0;
  while (s.client.publish("out", "0123456789", 1) > 0) n++;
  assert.ok(n > 5);
  // the broker sends QoS 1 messages while nothing can be written: their PUBACKs pile up in the spare room
  for (let id = 1; id < 20 && s.t.isOpen; id++) s.t.send(PUB1(id));
  assert.ok(s.events().includes("close E_OUTBOX_FULL"));
  s.t.mode = "take";
  s.clock.advance(10);
  s.t.send(CONNACK(1));
  const sent = s.t.take().filter((p) => p.cmd == "publish");
  assert.is(sent.length, n, "every queued message resent");
  // they were refused by the transport, never written: not a redelivery, so no DUP [MQTT-3.3.1-1]
  assert.ok(sent.every((p) => !p.dup));
});

test("re-subscribing after a session loss waits for room; a filter unsubscribed meanwhile is not re-subscribed", () => {
  // outbox of 256 bytes; SUBSCRIBE "a" is a 9-byte record, UNSUBSCRIBE "b" 8; 16 bytes stay spare
  const s = session({ bufferSize: 512, rxSize: 256 });
  s.up();
  const granted: string[] = [];
  s.client.subscribe("a", 1, () => granted.push("a"));
  s.client.subscribe("b", 1, () => granted.push("b"));
  for (const p of s.t.take()) if (p.cmd == "subscribe") s.t.send(SUBACK(p.messageId as number));
  assert.equal(granted, ["a", "b"]);
  // two QoS 1 messages of 111 and 112 record bytes leave 33 free
  const p1 = s.client.publish("t", "x".repeat(103), 1);
  const p2 = s.client.publish("t", "x".repeat(104), 1);
  assert.ok(p1 > 0 && p2 > 0);
  s.t.take();
  // the session is lost: "a" fits (24 left), "b" must wait
  s.t.drop();
  s.clock.advance(60000);
  s.t.send(CONNACK(0));
  let out = s.t.take();
  assert.equal(out.filter((p) => p.cmd == "subscribe").map((p) => (p as any).subscriptions[0].topic), ["a"]);
  // exactly room for the UNSUBSCRIBE of "b"
  assert.ok(s.client.unsubscribe("b") > 0);
  // room frees: "b" is no longer wanted, nothing is re-subscribed
  s.t.send(PUBACK(p1));
  out = s.t.take();
  assert.equal(out.map((p) => p.cmd), ["unsubscribe"]);
  s.t.send(PUBACK(p2));
  assert.equal(s.t.take(), []);
});

test("re-subscribing after a session loss resumes when room frees", () => {
  const s = session({ bufferSize: 512, rxSize: 256 });
  s.up();
  s.client.subscribe("a", 1);
  s.client.subscribe("b", 1);
  for (const p of s.t.take()) if (p.cmd == "subscribe") s.t.send(SUBACK(p.messageId as number));
  const p1 = s.client.publish("t", "x".repeat(103), 1);
  s.client.publish("t", "x".repeat(104), 1);
  s.t.take();
  s.t.drop();
  s.clock.advance(60000);
  s.t.send(CONNACK(0));
  assert.equal(s.t.take().filter((p) => p.cmd == "subscribe").length, 1);
  s.t.send(PUBACK(p1));
  const again = s.t.take().filter((p) => p.cmd == "subscribe");
  assert.equal(again.map((p) => (p as any).subscriptions[0].topic), ["b"]);
});

test.run();
