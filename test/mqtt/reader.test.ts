import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createReader, PartHandler } from '../../src/mqtt/reader';
import { E_LENGTH, E_MALFORMED } from '../../src/errors';
import { u8, mstr, hex, CANARY } from '../helpers/bytes';

// The reader turns bytes in any chunking into parts: (header byte, remaining length, position, bytes).
// A body up to `cap` bytes is one part; a longer one comes in parts of `cap` bytes.

const PUBLISH = u8(0x32, 8, mstr('a/b'), 0, 1, 'x');          // QoS 1 PUBLISH, 8-byte body
const PINGRESP = u8(0xd0, 0);                                // empty body
const SUBACK = u8(0x90, 5, 0, 9, 0, 1, 0x80);
const LONG = u8(0x30, 0x82, 0x01, mstr('t'), new Uint8Array(127).map((_, i) => i)); // 130-byte body, 2-byte length
const STREAM = u8(PUBLISH, PINGRESP, SUBACK, LONG, PINGRESP);

/** A reader over a buffer of `cap` usable bytes followed by canaries; parts come back as strings. */
function harness(cap: number, stop?: (part: string) => number) {
  const buf = new Uint8Array(cap + 8).fill(CANARY), parts: string[] = [];
  const onPart: PartHandler = (h, total, pos, len) => {
    assert.ok(len <= cap && pos + len <= total, `part within capacity and body: ${pos}+${len} of ${total}`);
    const s = `${h.toString(16)} ${total} ${pos} ${hex(buf.subarray(0, len))}`;
    parts.push(s);
    return stop ? stop(s) : 0;
  };
  const reader = createReader(buf, cap, onPart);
  return {
    reader, parts,
    feed: (...chunks: Uint8Array[]) => chunks.map((c) => reader.feed(c)),
    canariesIntact: () => buf.subarray(cap).every((x) => x == CANARY),
  };
}

/** The parts of `bytes` read in one chunk. */
function whole(bytes: Uint8Array, cap = 256): string[] {
  const h = harness(cap);
  assert.equal(h.feed(bytes), [0]);
  return h.parts;
}

test('one frame, one chunk: one part with the whole body', () => {
  assert.equal(whole(PUBLISH), ['32 8 0 ' + hex(PUBLISH.subarray(2))]);
});

test('several frames in one chunk, in order', () => {
  assert.equal(whole(STREAM), [
    '32 8 0 ' + hex(PUBLISH.subarray(2)),
    'd0 0 0 ',
    '90 5 0 00 09 00 01 80',
    '30 130 0 ' + hex(LONG.subarray(3)),
    'd0 0 0 ',
  ]);
});

test('a zero-length body (PINGRESP) is a part of length 0, also alone and also byte by byte', () => {
  assert.equal(whole(PINGRESP), ['d0 0 0 ']);
  const h = harness(16);
  assert.equal(h.feed(PINGRESP.subarray(0, 1), PINGRESP.subarray(1)), [0, 0]);
  assert.equal(h.parts, ['d0 0 0 ']);
});

test('split at every byte boundary: the same parts', () => {
  const expect = whole(STREAM);
  for (let i = 1; i < STREAM.length; i++) {
    const h = harness(256);
    assert.equal(h.feed(STREAM.subarray(0, i), STREAM.subarray(i)), [0, 0]);
    assert.equal(h.parts, expect, `split at ${i}`);
  }
});

test('split at every pair of boundaries: the same parts', () => {
  const expect = whole(STREAM);
  for (let i = 1; i < STREAM.length; i++)
    for (let j = i; j < STREAM.length; j++) {
      const h = harness(256);
      h.feed(STREAM.subarray(0, i), STREAM.subarray(i, j), STREAM.subarray(j));
      assert.equal(h.parts, expect, `split at ${i}, ${j}`);
    }
});

test('one byte at a time: the same parts', () => {
  const h = harness(256);
  for (let i = 0; i < STREAM.length; i++) assert.is(h.reader.feed(STREAM.subarray(i, i + 1)), 0);
  assert.equal(h.parts, whole(STREAM));
});

test('empty chunks change nothing', () => {
  const h = harness(256);
  h.feed(new Uint8Array(0), PUBLISH.subarray(0, 3), new Uint8Array(0), PUBLISH.subarray(3), new Uint8Array(0));
  assert.equal(h.parts, whole(PUBLISH));
});

test('streaming: a body larger than the capacity comes in parts of `cap` bytes with pos and total', () => {
  for (const cap of [1, 7, 16, 64, 129, 130]) {
    const h = harness(cap), body = LONG.subarray(3), expect: string[] = [];
    for (let pos = 0; pos < 130; pos += cap) expect.push(`30 130 ${pos} ${hex(body.subarray(pos, pos + cap))}`);
    assert.equal(h.feed(LONG), [0]);
    assert.equal(h.parts, expect, `cap ${cap}`);
    assert.ok(h.canariesIntact(), `nothing written past cap ${cap}`);
    // and the same byte by byte
    const k = harness(cap);
    for (let i = 0; i < LONG.length; i++) k.reader.feed(LONG.subarray(i, i + 1));
    assert.equal(k.parts, expect, `cap ${cap}, one byte at a time`);
    assert.ok(k.canariesIntact());
  }
});

test('streaming: the frame after a long one starts clean', () => {
  const h = harness(50);
  h.feed(u8(LONG, PUBLISH));
  assert.is(h.parts.length, 4);
  assert.is(h.parts[3], '32 8 0 ' + hex(PUBLISH.subarray(2)));
});

test('[MQTT-2.2.3] remaining length: 4 bytes are accepted, a fifth is E_LENGTH', () => {
  const h = harness(8);
  assert.equal(h.feed(u8(0x30, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9)), [0]);
  assert.equal(h.parts, ['30 268435455 0 01 02 03 04 05 06 07 08'], 'the 268,435,455-byte body starts streaming');
  const k = harness(8);
  assert.equal(k.feed(u8(0x30, 0x80, 0x80, 0x80, 0x80, 0x01)), [E_LENGTH]);
  assert.equal(k.parts, []);
  // byte by byte: the fourth length byte with its continuation bit set is already too many
  const j = harness(8), r = Array.from(u8(0x30, 0xff, 0xff, 0xff, 0xff), (x) => j.reader.feed(Uint8Array.of(x)));
  assert.equal(r, [0, 0, 0, 0, E_LENGTH]);
});

test('after E_LENGTH the reader starts again at a header byte', () => {
  const h = harness(16);
  assert.equal(h.feed(u8(0x30, 0xff, 0xff, 0xff, 0xff, 0x7f)), [E_LENGTH]);
  assert.equal(h.feed(PINGRESP), [0]);
  assert.equal(h.parts, ['d0 0 0 ']);
});

test('a negative return from the handler stops the reader and is returned; the rest of the chunk is not read', () => {
  const h = harness(256, (s) => (s.startsWith('90') ? E_MALFORMED : 0));
  assert.equal(h.feed(STREAM), [E_MALFORMED]);
  assert.is(h.parts.length, 3, 'PUBLISH, PINGRESP, SUBACK; nothing after');
  assert.equal(h.feed(PINGRESP), [0], 'the next feed starts a new frame');
  assert.is(h.parts[3], 'd0 0 0 ');
});

test('a negative return from a streamed part stops mid-frame; the next feed starts a new frame', () => {
  const h = harness(16, (s) => (s.startsWith('30 130 16') ? -99 : 0));
  assert.equal(h.feed(LONG), [-99]);
  assert.equal(h.feed(PINGRESP), [0]);
  assert.equal(h.parts.slice(-1), ['d0 0 0 ']);
});

test('reset() mid-frame: in the remaining length, in the body, in a streamed body', () => {
  for (const cut of [1, 2, 4, 9]) {
    const h = harness(16);
    h.feed(LONG.subarray(0, cut + 1));
    h.reader.reset();
    assert.equal(h.feed(PUBLISH), [0]);
    assert.equal(h.parts.slice(-1), ['32 8 0 ' + hex(PUBLISH.subarray(2))], `reset after ${cut + 1} bytes`);
  }
  const h = harness(16);
  h.feed(LONG.subarray(0, 40)); // two parts handed over, a third half-filled
  h.reader.reset();
  h.feed(SUBACK);
  assert.equal(h.parts.slice(-1), ['90 5 0 00 09 00 01 80']);
});

test('every header byte is framed, even types a client never receives (the client judges them)', () => {
  for (let b = 0; b < 256; b++) assert.equal(whole(u8(b, 1, 0x42)), [`${b.toString(16)} 1 0 42`]);
});

test.run();
