import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createOutbox, recordSize, recordBody, recordId, reserve, findRecord, cut, Outbox } from '../src/memory';
import { encodePublish, encodeAck, encodeSubscribe, PUBREL, PUBACK } from '../src/mqtt/codec';
import { hex } from './helpers/bytes';

// The outbox is a run of records [state byte][frame] from `start` to `tail`.

/** Appends a record holding `frame`, like the client does: reserve, then encode in place. */
function push(m: Outbox, encode: (b: Uint8Array, off: number) => number, n: number, spare = 0): number {
  const q = reserve(m, n, spare);
  assert.ok(q > 0, 'reserve');
  assert.is(encode(m._buf, q), q + n, 'the encoder fills exactly the reserved bytes');
  return q - 1;
}

test('createOutbox: one buffer of the given size, outbox empty at rx', () => {
  const m = createOutbox(512, 256);
  assert.is(m._buf.length, 512);
  assert.is(m._start, 256);
  assert.is(m._tail, 256);
});

test('reserve: state byte 0 (unsent) + n bytes at the tail; -1 when n + spare does not fit', () => {
  const m = createOutbox(64, 32);
  assert.is(reserve(m, 10, 0), 33);
  assert.is(m._buf[32], 0);
  assert.is(m._tail, 43);
  assert.is(reserve(m, 20, 2), -1, '43 + 1 + 20 + 2 > 64');
  assert.is(m._tail, 43, 'a refused reservation changes nothing');
  assert.is(reserve(m, 20, 0), 44, 'exactly to the end');
  assert.is(m._tail, 64);
  assert.is(reserve(m, 0, 0), -1);
});

test('recordSize/recordBody: 1- to 3-byte remaining lengths', () => {
  const m = createOutbox(40000, 0);
  for (const [payload, vl] of [[0, 1], [200, 2], [20000, 3]]) {
    m._tail = 0;
    const n = 1 + vl + 3 + payload; // header, length, topic "t", payload
    const p = push(m, (b, off) => encodePublish(b, off, 't', new Uint8Array(payload), 0, false, false, 0), n);
    assert.is(recordSize(m, p), 1 + n, `payload ${payload}`);
    assert.is(recordBody(m, p), p + 2 + vl);
  }
});

test('recordId: after the topic for PUBLISH, first in the body for PUBREL/SUBSCRIBE', () => {
  const m = createOutbox(256, 0);
  const a = push(m, (b, o) => encodePublish(b, o, 'a/€', 'x', 1, false, false, 0x1234), 2 + 2 + 5 + 2 + 1);
  const r = push(m, (b, o) => encodeAck(b, o, PUBREL, 0xbeef), 4);
  const s = push(m, (b, o) => encodeSubscribe(b, o, 7, 'x/#', 1), 2 + 2 + 5 + 1);
  assert.is(recordId(m, a), 0x1234);
  assert.is(recordId(m, r), 0xbeef);
  assert.is(recordId(m, s), 7);
});

test('findRecord: matches header under a mask and id; -1 otherwise', () => {
  const m = createOutbox(256, 16);
  const a = push(m, (b, o) => encodePublish(b, o, 't', 'x', 1, true, false, 5), 8);
  const c = push(m, (b, o) => encodePublish(b, o, 't', 'y', 2, false, false, 5), 8);
  m._buf[a + 1] |= 8; // DUP set by a resend
  assert.is(findRecord(m, 5, 0xf6, 0x32), a, 'QoS 1, DUP and RETAIN masked off');
  assert.is(findRecord(m, 5, 0xf6, 0x34), c, 'QoS 2 with the same id');
  assert.is(findRecord(m, 6, 0xf6, 0x32), -1, 'other id');
  assert.is(findRecord(m, 5, 0xff, 0x62), -1, 'no PUBREL');
});

test('cut: removes a record and closes the gap, order kept', () => {
  const m = createOutbox(128, 8);
  const ids = [1, 2, 3].map((id) => push(m, (b, o) => encodeAck(b, o, PUBACK, id), 4));
  const before = hex(m._buf.subarray(ids[2], m._tail));
  cut(m, ids[1], recordSize(m, ids[1]));
  assert.is(m._tail, 8 + 10);
  assert.is(recordId(m, ids[0]), 1);
  assert.is(recordId(m, ids[1]), 3);
  assert.is(hex(m._buf.subarray(ids[1], m._tail)), before);
  cut(m, ids[0], 10);
  assert.is(m._tail, m._start, 'empty again');
});

test.run();
