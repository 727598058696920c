import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createOutbox, recordSize, reserve, cut, compact, Outbox } from '../src/memory';
import { recordId, findRecord } from '../src/mqtt/state';
import { encodePublish, encodeAck, PUBREL, PUBACK } from '../src/mqtt/codec';
import { hex } from './helpers/bytes';

// The outbox is a run of records [state byte][frame] from `head` to `tail`, inside [start, size).

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
  assert.is(m._head, 256);
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

test('recordSize (and with body, the body offset): 1- to 3-byte remaining lengths', () => {
  const m = createOutbox(40000, 0);
  for (const [payload, vl] of [[0, 1], [200, 2], [20000, 3]]) {
    m._tail = 0;
    const n = 1 + vl + 3 + payload; // header, length, topic "t", payload
    const p = push(m, (b, off) => encodePublish(b, off, 't', new Uint8Array(payload), 0, false, false, 0), n);
    assert.is(recordSize(m, p), 1 + n, `payload ${payload}`);
    assert.is(recordSize(m, p, true), p + 2 + vl);
  }
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
  assert.is(m._head, m._tail, 'empty again');
});

test('cut: the first record leaves by moving the head, no byte moves', () => {
  const m = createOutbox(128, 8);
  const ids = [1, 2, 3].map((id) => push(m, (b, o) => encodeAck(b, o, PUBACK, id), 4));
  const before = hex(m._buf);
  assert.is(cut(m, ids[0], 5), ids[1], 'returns where the next record is');
  assert.is(m._head, ids[1]);
  assert.is(m._tail, 8 + 15);
  assert.is(hex(m._buf), before, 'nothing copied');
  assert.is(findRecord(m, 1, 0xff, 0x40), -1, 'the removed record is gone');
  assert.is(findRecord(m, 3, 0xff, 0x40), ids[2]);
  assert.is(cut(m, ids[2], 5), ids[2], 'a record after the head: the gap closes behind it');
  assert.is(m._head, ids[1]);
  assert.is(m._tail, ids[2]);
  assert.is(cut(m, ids[1], 5), ids[2]);
  assert.is(m._head, m._tail, 'empty');
  assert.is(reserve(m, 128 - 8 - 1, 0), 8 + 1, 'the whole outbox again: moved back to the start');
  assert.is(m._head, m._start);
});

test('cut: part of the first record (PUBLISH -> PUBREL keeps its last 5 bytes)', () => {
  const m = createOutbox(128, 8);
  const a = push(m, (b, o) => encodePublish(b, o, 't', 'xyz', 2, false, false, 9), 10);
  const c = push(m, (b, o) => encodeAck(b, o, PUBACK, 4), 4);
  const r = cut(m, a, recordSize(m, a) - 5);
  assert.is(r, a + 11 - 5);
  m._buf[r] = 0;
  encodeAck(m._buf, r + 1, PUBREL, 9);
  assert.is(m._head, r);
  assert.is(recordSize(m, r), 5);
  assert.is(findRecord(m, 9, 0xff, 0x62), r);
  assert.is(recordId(m, c), 4, 'the next record did not move');
});

test('reserve: reuses the room before the head by moving the records back to the start, in order', () => {
  const m = createOutbox(48, 8);
  const ids = [1, 2, 3, 4, 5, 6, 7, 8].map((id) => push(m, (b, o) => encodeAck(b, o, PUBACK, id), 4));
  assert.is(m._tail, 48, 'full');
  assert.is(reserve(m, 4, 0), -1);
  cut(m, ids[0], 5);
  cut(m, ids[1], 5);
  assert.is(m._head, 18);
  const six = hex(m._buf.subarray(m._head, m._tail));
  assert.is(reserve(m, 8, 2), -1, 'needs 1 + 8 + 2 bytes, 10 are free: refused');
  assert.is(hex(m._buf.subarray(m._head, m._tail)), six, 'the records are intact and in order');
  const q = reserve(m, 4, 1);
  assert.is(q, 8 + 30 + 1, 'compacted: six records at the start, the new one after them');
  encodeAck(m._buf, q, PUBACK, 9);
  assert.is(m._head, m._start);
  assert.is(m._tail, 8 + 35);
  const seen: number[] = [];
  for (let p = m._head; p < m._tail; p += recordSize(m, p)) seen.push(recordId(m, p));
  assert.equal(seen, [3, 4, 5, 6, 7, 8, 9]);
});

test('compact: moves the records to the start; nothing to do when the head is there', () => {
  const m = createOutbox(64, 4);
  const ids = [1, 2, 3].map((id) => push(m, (b, o) => encodeAck(b, o, PUBACK, id), 4));
  cut(m, ids[0], 5);
  const rest = hex(m._buf.subarray(m._head, m._tail));
  compact(m);
  assert.is(m._head, 4);
  assert.is(m._tail, 14);
  assert.is(hex(m._buf.subarray(m._head, m._tail)), rest);
  compact(m);
  assert.is(hex(m._buf.subarray(m._head, m._tail)), rest);
});

test.run();
