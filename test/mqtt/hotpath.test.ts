// The QoS 0 paths of the session (short for Espruino, src/mqtt/client.ts): publish to the topic of the last message
// written at the start of the empty outbox, and a whole incoming QoS 0 PUBLISH to the last topic received. Each of
// them meets what the general path handles: another topic, flags, sizes, bad payloads, backpressure, a write error,
// a close inside onMessage, the keep-alive. Fake transport and manual clock; frames checked by mqtt-packet.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as E from "../../src/errors";
import { u8 } from "../helpers/bytes";
import { refGenerate, Packet } from "../helpers/mqtt";
import { session } from "../helpers/session";

const CONNACK = u8(0x20, 2, 0, 0);
const PINGRESP = u8(0xd0, 0);
const publish = (topic: string, payload: string | Uint8Array, qos = 0, more: Partial<Packet> = {}) =>
  refGenerate({ cmd: "publish", topic, payload: Buffer.from(payload as any), qos, messageId: qos ? 7 : undefined, dup: false, retain: false, ...more } as Packet);
const out = (ps: Packet[]) => ps.map((p) => `${p.cmd} ${p.topic} ${Buffer.from(p.payload as any).toString()} q${p.qos}${p.retain ? " r" : ""}`);
/** A connected session that has sent two QoS 0 messages to "t": the next one to "t" takes the short path. */
const onShortPath = (o?: Parameters<typeof session>[0]) => {
  const s = session(o);
  s.up();
  s.client.publish("t", "a");
  s.client.publish("t", "b");
  return s;
};

test("publish QoS 0 to one topic again and again: each message whole and in order, with its flags; other topics, sizes and QoS between", () => {
  const s = session();
  s.up();
  s.t.take();
  const big = "b".repeat(200), euro = "\u20ac=1";
  const sent: [string, string, number, boolean][] = [["t", "a", 0, false], ["t", "b", 0, false], ["t", "c", 0, true], ["t", "", 0, false], ["t", euro, 0, false],
    ["t", big, 0, false], ["t", "d", 0, false], ["u/v", "e", 0, false], ["u/v", "f", 0, false], ["t", "g", 1, false], ["t", "h", 0, false], ["t", "i", 0, false]];
  for (const [t, p, q, r] of sent) assert.ok(s.client.publish(t, p, q, r) >= 0);
  assert.equal(out(s.t.take()), sent.map(([t, p, q, r]) => `publish ${t} ${p} q${q}${r ? " r" : ""}`));
  assert.equal(s.events(), ["connect false"]);
});

test("publish QoS 0 to the last topic refuses what the general path refuses: an ill-formed payload (E_UTF8), a payload too large (E_TOO_LARGE)", () => {
  const s = onShortPath({ bufferSize: 512 });
  s.t.take();
  assert.is(s.client.publish("t", "x\ud800"), E.E_UTF8);
  assert.is(s.client.publish("t", "x".repeat(300)), E.E_TOO_LARGE);
  assert.equal(out(s.t.take()), []);
  assert.is(s.client.publish("t", "c"), 0);
  assert.equal(out(s.t.take()), ["publish t c q0"]);
});

test("publish QoS 0 to the last topic meets backpressure: it waits in the outbox, later ones behind it, all out in order at onWritable", () => {
  const s = onShortPath();
  s.t.take();
  s.t.mode = "block";
  for (const p of ["c", "d", "e"]) assert.is(s.client.publish("t", p), 0);
  assert.equal(s.t.take(), []);
  s.t.writable();
  assert.equal(out(s.t.take()), ["publish t c q0", "publish t d q0", "publish t e q0"]);
  for (const p of ["f", "g"]) assert.is(s.client.publish("t", p), 0);
  assert.equal(out(s.t.take()), ["publish t f q0", "publish t g q0"]);
});

test("publish QoS 0 to the last topic meets a write error: closed with E_TRANSPORT, then reconnects and the next one goes", () => {
  const s = session();
  s.up();
  s.client.publish("t", "a");
  s.events();
  s.t.mode = "fail";
  assert.is(s.client.publish("t", "b"), 0);
  assert.equal(s.events(), ["close E_TRANSPORT"]);
  assert.is(s.t.isOpen, false);
  s.t.mode = "take";
  s.clock.advance(1000);
  s.up();
  s.t.take();
  assert.is(s.client.publish("t", "c"), 0);
  assert.equal(out(s.t.take()), ["publish t c q0"]);
});

test("publish QoS 0 while disconnected is queued (not written over), then sent in order after CONNACK", () => {
  const s = onShortPath();
  s.t.drop(0);
  for (const p of ["c", "d"]) assert.is(s.client.publish("t", p), 0);
  s.clock.advance(1000);
  s.up();
  assert.equal(out(s.t.take()), ["publish t c q0", "publish t d q0"]);
});

test("[MQTT-3.1.2-23] keep alive: QoS 0 messages to one topic count as writes, and a PINGREQ follows the last one within the keep alive", () => {
  const s = session({ keepalive: 10 });
  s.up();
  s.t.take();
  let last = 0, pinged = -1;
  for (let ms = 1000; ms <= 60e3; ms += 1000) {
    s.clock.advance(1000);
    s.t.send(publish("in", "x")); // the server talks all the time
    if (ms <= 20e3) s.client.publish("t", "m"), (last = s.clock.t);
    for (const p of s.t.take()) {
      if (p.cmd == "pingreq") {
        assert.ok(ms > 20e3, "no PINGREQ while writing");
        if (pinged < 0) pinged = s.clock.t;
        s.t.send(PINGRESP);
      }
    }
  }
  assert.ok(pinged > 0 && pinged - last <= 10000, `PINGREQ ${pinged - last} ms after the last message`);
  assert.equal(s.events(), ["connect false"]);
});

test("incoming QoS 0 to one topic again and again: each delivered with its topic, payload and flags; others between", () => {
  const s = session();
  s.up();
  const frames = [publish("a/b", "1"), publish("a/b", "2"), publish("a/b", "3", 0, { retain: true }), publish("a/b", ""), publish("c", "4"), publish("c", "5"),
    publish("a/b", "6", 1), publish("a/b", "7"), publish("\u00e9t\u00e9", "8"), publish("\u00e9t\u00e9", "9"), publish("a/b", Buffer.alloc(300, 65))];
  s.t.send(u8(...frames));
  s.t.send(u8(...frames), 3);
  const want = [["a/b", "1", 0, false], ["a/b", "2", 0, false], ["a/b", "3", 0, true], ["a/b", "", 0, false], ["c", "4", 0, false], ["c", "5", 0, false], ["a/b", "6", 1, false],
    ["a/b", "7", 0, false], ["\u00e9t\u00e9", "8", 0, false], ["\u00e9t\u00e9", "9", 0, false], ["a/b", "A".repeat(300), 0, false]];
  const got = s.messages.map((m) => [m.topic, Buffer.from(m.payload, "hex").toString(), m.info.qos, m.info.retain, m.info.dup, m.info.offset, m.info.total]);
  assert.equal(got, [...want, ...want].map(([t, p, q, r]) => [t, p, q, r, false, 0, (p as string).length]));
  assert.equal(s.events(), ["connect false"]);
});

test("incoming QoS 0 to the last topic, malformed (topic longer than the frame): E_MALFORMED, closed", () => {
  const s = session();
  s.up();
  s.t.send(publish("t", "a"));
  s.t.send(u8(0x30, 4, 0, 5, 0x74, 0x61));
  assert.equal(s.events(), ["connect false", "error E_MALFORMED", "close E_MALFORMED"]);
  assert.is(s.messages.length, 1);
});

test("incoming QoS 0 to the last topic: end() in onMessage stops the chunk there; after a reconnect the first one goes the general way", () => {
  let n = 0;
  const s = session({ onMessage: () => ++n == 2 && s.client.end() });
  s.up();
  s.t.send(u8(publish("t", "a"), publish("t", "b"), publish("t", "c")));
  assert.is(n, 2);
  assert.equal(s.events(), ["connect false", "close 0"]);
  s.client.connect();
  s.t.send(CONNACK);
  s.t.send(u8(publish("t", "d"), publish("t", "e")));
  assert.is(n, 4);
});

test.run();
