// Streamed messages: a payload given as a PayloadSource is read a chunk at a time as it is written, so a message
// larger than the whole buffer goes out from a small client; mqtt-packet (the reference codec) reads what went on
// the wire. A QoS 1 one is read again when it is sent again; a failing source ends that message by name.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { STREAM_CHUNK } from "../../src/mqtt/client";
import { E_ARGUMENT, E_SOURCE, E_TOO_LARGE } from "../../src/errors";
import type { PayloadSource } from "../../src/types";
import { session } from "../helpers/session";

/** `size` bytes of a pattern, read from anywhere; counts the reads and bytes read. */
function source(size: number, fail = -1) {
  const s = {
    size,
    reads: 0,
    bytes: 0,
    read(pos: number, buf: Uint8Array, off: number, len: number) {
      if (fail >= 0 && pos >= fail) return -1;
      s.reads++;
      s.bytes += len;
      for (let i = 0; i < len; i++) buf[off + i] = (pos + i) * 7 & 255;
      return len;
    },
  };
  return s;
}

const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i * 7 & 255));
const PUBACK = (id: number) => [0x40, 2, id >> 8, id & 255];

test("QoS 0: a 20,000-byte message from a 1,024-byte client arrives whole, as mqtt-packet reads it, DUP clear", () => {
  const s = session({ bufferSize: 1024 });
  s.up();
  const src = source(20000);
  assert.is(s.client.publish("big/0", src, 0), 0);
  const out = s.t.take();
  assert.is(out.length, 1);
  assert.is(out[0].cmd, "publish");
  assert.is((out[0] as any).topic, "big/0");
  assert.is((out[0] as any).dup, false);
  assert.ok(Buffer.compare((out[0] as any).payload, pattern(20000)) == 0, "payload bytes");
  assert.is(src.reads, Math.ceil(20000 / STREAM_CHUNK));
  // the outbox is free again: an ordinary message follows
  assert.is(s.client.publish("small", "x", 0), 0);
  assert.equal(s.t.take().map((p: any) => p.topic), ["small"]);
});

test("QoS 1: done(0) on PUBACK; written under backpressure and after a dropped connection it is read again, DUP set", () => {
  const s = session({ bufferSize: 1024, reconnect: { min: 10, max: 10, jitter: 0 } });
  s.up();
  const src = source(5000);
  const done: number[] = [];
  s.t.mode = "block";
  const id = s.client.publish("big/1", src, 1, false, (e) => done.push(e));
  assert.ok(id > 0);
  // a later message waits behind it
  assert.ok(s.client.publish("after", "y", 1) > 0);
  s.t.writable();
  let out: any[] = s.t.take();
  assert.equal(out.map((p) => p.topic), ["big/1", "after"]);
  assert.ok(Buffer.compare(out[0].payload, pattern(5000)) == 0);
  // the connection drops before PUBACK: both are sent again, the stream read again from its start
  s.t.drop();
  s.clock.advance(20);
  out = s.up();
  out = out.concat(s.t.take());
  const again = out.filter((p) => p.cmd == "publish");
  assert.equal(again.map((p) => [p.topic, p.dup]), [["big/1", true], ["after", true]]);
  assert.ok(Buffer.compare(again[0].payload, pattern(5000)) == 0, "the same bytes again");
  assert.is(src.bytes, 10000);
  s.t.send(PUBACK(id));
  assert.equal(done, [0]);
});

test("a connection that drops mid-frame starts the message again on the next connection", () => {
  const s = session({ bufferSize: 512, reconnect: { min: 10, max: 10, jitter: 0 } });
  s.up();
  const src = source(3000);
  let writes = 0;
  const write = s.t.write.bind(s.t);
  // the fifth write finds the network gone (0: try later), then the link drops
  s.t.write = (b, off, len) => (++writes == 5 ? 0 : write(b, off, len));
  assert.ok(s.client.publish("cut", src, 1) > 0);
  s.t.drop();
  s.t.write = write;
  s.clock.advance(20);
  const out = s.up().concat(s.t.take()).filter((p: any) => p.cmd == "publish");
  assert.is(out.length, 1);
  assert.ok(Buffer.compare((out[0] as any).payload, pattern(3000)) == 0);
});

test("a source that fails mid-message: done(E_SOURCE), the connection dropped (its frame is cut), the next message goes after the reconnect", () => {
  const s = session({ bufferSize: 1024, reconnect: { min: 10, max: 10, jitter: 0 } });
  s.up();
  const done: number[] = [];
  assert.ok(s.client.publish("bad", source(4000, 1000), 1, false, (e) => done.push(e)) > 0);
  assert.equal(done, [E_SOURCE]);
  assert.ok(s.events().includes("close E_SOURCE"));
  assert.ok(s.client.publish("next", "z", 1) > 0);
  s.clock.advance(20);
  const out = s.up().concat(s.t.take()).filter((p: any) => p.cmd == "publish");
  assert.equal(out.map((p: any) => p.topic), ["next"]);
});

test("refused by name: QoS 2, a client with a store, a bad source, a frame longer than MQTT carries", () => {
  const s = session({ bufferSize: 1024 });
  assert.is(s.client.publish("t", source(10), 2), E_ARGUMENT);
  assert.is(s.client.publish("t", { size: -1, read: () => 0 } as PayloadSource, 0), E_ARGUMENT);
  assert.is(s.client.publish("t", { size: 10 } as any, 0), E_ARGUMENT);
  assert.is(s.client.publish("t", source(268435456), 0), E_TOO_LARGE);
  const store = { _load: () => 0, _add: () => 0, _del: () => 0, _rel: () => 0, _clear: () => 0 } as any;
  const t = session({ bufferSize: 1024, store });
  assert.is(t.client.publish("t", source(10), 1), E_ARGUMENT);
});

test.run();
