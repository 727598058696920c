import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import {
  createFrameReader, encodeFrameHeader, frameHeaderSize, maskCopy, WS_BINARY, WS_FIN, WS_PING, WS_PONG, WS_TEXT,
} from '../../src/ws/frame';
import * as E from '../../src/errors';
import { u8, hex, canaryBuffer, trampled, AT } from '../helpers/bytes';
import { createRng, withSeed, randomChunks } from '../helpers/rng';
import { wsFrame } from './wshelp';

// RFC 6455 frames four ways, as the MQTT codec tests do:
//   parse     our reader finds exactly the expected frames in the bytes;
//   stream    the same bytes fed one at a time (and in random chunks) give the same frames;
//   generate  our header encoder + masking write exactly these bytes (canaries around them);
//   mirror    the `ws` package (the reference implementation) reads our bytes and writes theirs.
// Then every bad frame the reader must refuse, each with its own named error.

const require = createRequire(import.meta.url);
// not in @types/ws: the frame codec of the `ws` package
const { Receiver } = require('ws') as { Receiver: any };

const MAX = 2 ** 32;

interface Read { frames: string[]; err: number }

/**
 * Feeds `bytes` to a reader `step` bytes at a time (0: one chunk; an array: those chunks) and lists the
 * frames it finds as "hdr total payload-hex", checking on the way that pieces arrive in order, as
 * ranges of the chunk it was fed (nothing copied) and never outside it.
 */
function read(bytes: Uint8Array, step: number | Uint8Array[] = 0, max = MAX): Read {
  const frames: string[] = [];
  let cur: number[] = [], fed: Uint8Array | null = null;
  const r = createFrameReader(max, (hdr, total, pos, data, from, to) => {
    assert.ok(data === fed, 'a piece is a range of the chunk fed');
    assert.ok(from >= 0 && from <= to && to <= data.length, `piece [${from}, ${to}) inside the chunk`);
    assert.is(pos, cur.length, 'pieces in order');
    for (let i = from; i < to; i++) cur.push(data[i]);
    assert.ok(cur.length <= total, 'no more than the frame length');
    if (cur.length == total) {
      frames.push(`${hdr.toString(16)} ${total} ${hex(cur)}`);
      cur = [];
    }
    return 0;
  });
  const chunks = Array.isArray(step) ? step : [];
  if (!Array.isArray(step)) for (let i = 0; i < bytes.length; i += step || bytes.length) chunks.push(bytes.subarray(i, i + (step || bytes.length)));
  for (const c of chunks) {
    fed = c;
    const e = r.feed(c);
    if (e) return { frames, err: e };
  }
  assert.equal(cur, [], 'no frame left half read');
  return { frames, err: 0 };
}

/** The frame list `read` gives for a payload. */
const frame = (hdr: number, payload: ArrayLike<number>) => `${hdr.toString(16)} ${payload.length} ${hex(payload)}`;

/** What `ws`'s receiver (as a server when `masked`) makes of bytes: messages, pings, pongs, or its error. */
function wsRead(bytes: Uint8Array, masked: boolean): string[] {
  const out: string[] = [];
  const r = new Receiver({ isServer: masked, skipUTF8Validation: true, maxPayload: 0 });
  r.on('message', (d: Buffer, binary: boolean) => out.push(`${binary ? 'binary' : 'text'} ${hex(d)}`));
  r.on('ping', (d: Buffer) => out.push(`ping ${hex(d)}`));
  r.on('pong', (d: Buffer) => out.push(`pong ${hex(d)}`));
  r.on('conclude', (code: number, d: Buffer) => out.push(`close ${code} ${hex(d)}`));
  r.on('error', (e: Error) => out.push(`error ${e.message}`));
  r.write(Buffer.from(bytes));
  return out;
}

/** Our client frame: header with `key` and the payload masked with it, at AT inside canaries. */
function encodeMasked(hdr: number, payload: Uint8Array, key: Uint8Array): Uint8Array {
  const h = frameHeaderSize(payload.length, true), n = h + payload.length, b = canaryBuffer(n);
  const k = canaryBuffer(4, 2);
  k.set(key, AT);
  assert.is(encodeFrameHeader(b, AT, hdr, payload.length, k, AT), AT + h, 'header size as frameHeaderSize says');
  maskCopy(payload, 0, b, AT + h, payload.length, k, AT, 0);
  assert.equal(trampled(b, AT, AT + n), [], 'canaries intact');
  return b.subarray(AT, AT + n);
}

const hello = u8('Hello');
const key = u8(0x37, 0xfa, 0x21, 0x3d);
const bin = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 255);

// ---- RFC 6455 §5.7 examples ------------------------------------------------------------------

interface Vector { name: string; bytes: Uint8Array; frames: string[]; ws: string[] }

const VECTORS: Vector[] = [
  {
    name: '§5.7 a single-frame unmasked text message "Hello"',
    bytes: u8(0x81, 0x05, 'Hello'), // FIN + text, length 5
    frames: [frame(0x81, hello)],
    ws: ['text 48 65 6c 6c 6f'],
  },
  {
    name: '§5.7 a fragmented unmasked text message "Hel" + "lo"',
    bytes: u8(
      [0x01, 0x03, 'Hel'], // text, not FIN
      [0x80, 0x02, 'lo'], //  continuation, FIN
    ),
    frames: [frame(0x01, u8('Hel')), frame(0x80, u8('lo'))],
    ws: ['text 48 65 6c 6c 6f'],
  },
  {
    name: '§5.7 an unmasked Ping "Hello"',
    bytes: u8(0x89, 0x05, 'Hello'),
    frames: [frame(0x89, hello)],
    ws: ['ping 48 65 6c 6c 6f'],
  },
  {
    name: '§5.7 256 bytes of binary data in a single unmasked frame',
    bytes: u8(0x82, 0x7e, [0x01, 0x00], bin(256)), // 126: a 16-bit length follows
    frames: [frame(0x82, bin(256))],
    ws: ['binary ' + hex(bin(256))],
  },
  {
    name: '§5.7 64 KiB of binary data in a single unmasked frame',
    bytes: u8(0x82, 0x7f, [0, 0, 0, 0, 0, 1, 0, 0], bin(65536)), // 127: a 64-bit length follows
    frames: [frame(0x82, bin(65536))],
    ws: ['binary ' + hex(bin(65536))],
  },
  {
    name: 'an empty binary frame, an empty ping, a pong, a close 1000',
    bytes: u8([0x82, 0x00], [0x89, 0x00], [0x8a, 0x02, 'hi'], [0x88, 0x02, 0x03, 0xe8]),
    frames: [frame(0x82, []), frame(0x89, []), frame(0x8a, u8('hi')), frame(0x88, [0x03, 0xe8])],
    ws: ['binary ', 'ping ', 'pong 68 69', 'close 1000 '],
  },
  {
    name: '§5.4 control frames in the middle of a fragmented binary message',
    bytes: u8([0x02, 0x01, 0xaa], [0x89, 0x01, 0x01], [0x00, 0x00], [0x8a, 0x00], [0x80, 0x02, 0xbb, 0xcc]),
    frames: [frame(0x02, [0xaa]), frame(0x89, [1]), frame(0x00, []), frame(0x8a, []), frame(0x80, [0xbb, 0xcc])],
    ws: ['ping 01', 'pong ', 'binary aa bb cc'],
  },
  {
    name: 'the largest control frame (125 bytes), then a 126-byte frame in the 16-bit form',
    bytes: u8([0x89, 0x7d], bin(125), [0x82, 0x7e, 0x00, 0x7e], bin(126)),
    frames: [frame(0x89, bin(125)), frame(0x82, bin(126))],
    ws: ['ping ' + hex(bin(125)), 'binary ' + hex(bin(126))],
  },
];

for (const v of VECTORS) {
  test(`parse: ${v.name}`, () => {
    assert.equal(read(v.bytes), { frames: v.frames, err: 0 });
  });
  test(`stream: ${v.name}, one byte at a time and in random chunks`, () => {
    assert.equal(read(v.bytes, 1), { frames: v.frames, err: 0 });
    const rng = createRng();
    withSeed(rng, () => {
      for (let k = 0; k < 5; k++) assert.equal(read(v.bytes, randomChunks(rng, v.bytes)), { frames: v.frames, err: 0 });
    });
  });
  test(`generate: ${v.name}`, () => {
    // each frame again from its first byte and payload with our encoder, unmasked like a server's
    const out: number[] = [];
    for (const f of v.frames) {
      const [h, n, ...rest] = f.split(' ');
      const payload = rest.filter((x) => x).map((x) => parseInt(x, 16));
      const b = canaryBuffer(frameHeaderSize(+n, false));
      const end = encodeFrameHeader(b, AT, parseInt(h, 16), +n, null, 0);
      assert.is(end - AT, frameHeaderSize(+n, false));
      assert.equal(trampled(b, AT, end), []);
      out.push(...b.subarray(AT, end), ...payload);
    }
    assert.is(hex(out), hex(v.bytes));
  });
  test(`mirror: ${v.name}`, () => {
    assert.equal(wsRead(v.bytes, false), v.ws, 'ws reads the vector');
    // and ws writes the same bytes for each frame
    const out: Uint8Array[] = [];
    let at = 0;
    read(v.bytes).frames.forEach((f) => {
      const h = parseInt(f, 16), n = +f.split(' ')[1], hs = frameHeaderSize(n, false);
      out.push(wsFrame(v.bytes.subarray(at + hs, at + hs + n), h & 15, !!(h & WS_FIN)));
      at += hs + n;
    });
    assert.is(hex(Buffer.concat(out)), hex(v.bytes));
  });
}

// masked client frames: the reader refuses them (§5.1), ws as a server reads them

test('generate: §5.7 a single-frame masked text message "Hello", key 37 fa 21 3d', () => {
  const b = encodeMasked(WS_FIN | WS_TEXT, hello, key);
  assert.is(hex(b), '81 85 37 fa 21 3d 7f 9f 4d 51 58');
  assert.equal(wsRead(b, true), ['text 48 65 6c 6c 6f']);
  assert.equal(read(b, 1), { frames: [], err: E.E_WS_MASKED });
});

test('generate: §5.7 a masked Pong "Hello" (the answer to the unmasked Ping)', () => {
  const b = encodeMasked(WS_FIN | WS_PONG, hello, key);
  assert.is(hex(b), '8a 85 37 fa 21 3d 7f 9f 4d 51 58');
  assert.equal(wsRead(b, true), ['pong 48 65 6c 6c 6f']);
});

test('generate: masked binary frames of 0, 125, 126, 65535, 65536 bytes read back by ws', () => {
  for (const n of [0, 1, 125, 126, 65535, 65536]) {
    const b = encodeMasked(WS_FIN | WS_BINARY, bin(n), key);
    assert.is(b.length, n + (n < 126 ? 6 : n < 65536 ? 8 : 14));
    assert.equal(wsRead(b, true), ['binary ' + hex(bin(n))], `${n} bytes`);
    assert.is(hex(b), hex(wsFrame(bin(n), WS_BINARY, true, key)), `${n} bytes: the bytes ws writes`);
  }
});

// ---- the header encoder and the mask on their own ---------------------------------------------

test('encodeFrameHeader: every length form, shortest first (§5.2), canaries intact', () => {
  const cases: [number, string][] = [
    [0, '82 00'],
    [125, '82 7d'],
    [126, '82 7e 00 7e'],
    [65535, '82 7e ff ff'],
    [65536, '82 7f 00 00 00 00 00 01 00 00'],
    [2 ** 32 + 1, '82 7f 00 00 00 01 00 00 00 01'],
    [2 ** 53 - 1, '82 7f 00 1f ff ff ff ff ff ff'],
  ];
  for (const [n, want] of cases) {
    const b = canaryBuffer(10);
    const end = encodeFrameHeader(b, AT, 0x82, n, null, 0);
    assert.is(hex(b.subarray(AT, end)), want, `length ${n}`);
    assert.is(end - AT, frameHeaderSize(n, false));
    assert.equal(trampled(b, AT, end), []);
    const m = canaryBuffer(14);
    const k = u8(0, 0, 0, 1, 2, 3, 4);
    const e2 = encodeFrameHeader(m, AT, 0x82, n, k, 3);
    assert.is(hex(m.subarray(AT, e2)), want.replace(/^82 (..)/, (_, x) => '82 ' + (parseInt(x, 16) | 0x80).toString(16)) + ' 01 02 03 04');
    assert.is(e2 - AT, frameHeaderSize(n, true));
  }
});

test('maskCopy: copied in pieces at any position equals in place in one go; twice restores (§5.3)', () => {
  const rng = createRng();
  withSeed(rng, () => {
    for (let t = 0; t < 50; t++) {
      const data = rng.bytes(rng.range(0, 40)), k = rng.bytes(4), whole = Uint8Array.from(data), parts = new Uint8Array(data.length);
      maskCopy(whole, 0, whole, 0, whole.length, k, 0, 0);
      for (let i = 0; i < whole.length; i++) assert.is(whole[i], data[i] ^ k[i % 4]);
      for (let i = 0; i < parts.length; ) {
        const n = rng.range(1, 7);
        maskCopy(data, i, parts, i, Math.min(n, parts.length - i), k, 0, i);
        i += n;
      }
      assert.is(hex(parts), hex(whole));
      maskCopy(whole, 0, whole, 0, whole.length, k, 0, 0);
      assert.is(hex(whole), hex(data));
    }
  });
});

// ---- bad frames, each with its named error ----------------------------------------------------

interface Bad { name: string; bytes: Uint8Array; err: number; before?: string[]; max?: number }

const BAD: Bad[] = [
  { name: '§5.2 RSV1 set', bytes: u8(0xc2, 0x00), err: E.E_WS_RESERVED },
  { name: '§5.2 RSV2 set', bytes: u8(0xa2, 0x00), err: E.E_WS_RESERVED },
  { name: '§5.2 RSV3 set on a ping', bytes: u8(0x99, 0x00), err: E.E_WS_RESERVED },
  { name: '§5.2 reserved data opcode 3', bytes: u8(0x83, 0x00), err: E.E_WS_OPCODE },
  { name: '§5.2 reserved data opcode 7', bytes: u8(0x87, 0x00), err: E.E_WS_OPCODE },
  { name: '§5.2 reserved control opcode 0xB', bytes: u8(0x8b, 0x00), err: E.E_WS_OPCODE },
  { name: '§5.2 reserved control opcode 0xF', bytes: u8(0x8f, 0x00), err: E.E_WS_OPCODE },
  { name: '§5.5 a fragmented ping', bytes: u8(0x09, 0x00), err: E.E_WS_CONTROL },
  { name: '§5.5 a fragmented close', bytes: u8(0x08, 0x00), err: E.E_WS_CONTROL },
  { name: '§5.5 a ping of 126 bytes', bytes: u8(0x89, 0x7e, 0x00, 0x7e, bin(126)), err: E.E_WS_CONTROL },
  { name: '§5.5 a close with a 64-bit length', bytes: u8(0x88, 0x7f, [0, 0, 0, 0, 0, 0, 0, 2], 3, 0xe8), err: E.E_WS_CONTROL },
  { name: '§5.1 a masked frame from the server', bytes: u8(0x82, 0x81, key, 0x00), err: E.E_WS_MASKED },
  { name: '§5.1 a masked empty pong from the server', bytes: u8(0x8a, 0x80, key), err: E.E_WS_MASKED },
  { name: '§5.2 a 64-bit length with the top bit set', bytes: u8(0x82, 0x7f, [0x80, 0, 0, 0, 0, 0, 0, 1]), err: E.E_WS_LENGTH },
  { name: '§5.2 a 64-bit length of 2^64 - 1', bytes: u8(0x82, 0x7f, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), err: E.E_WS_LENGTH },
  { name: 'a frame one byte over the maximum', bytes: u8(0x82, 0x7e, 0x03, 0xe9), err: E.E_WS_TOO_BIG, max: 1000 },
  { name: 'a 64-bit length over the maximum', bytes: u8(0x82, 0x7f, [0, 0x20, 0, 0, 0, 0, 0, 0]), err: E.E_WS_TOO_BIG },
  { name: 'a short frame over a small maximum', bytes: u8(0x82, 0x06), err: E.E_WS_TOO_BIG, max: 5 },
  { name: '§5.4 a continuation without a message', bytes: u8(0x80, 0x01, 0xaa), err: E.E_WS_FRAGMENT },
  { name: '§5.4 a non-final continuation without a message', bytes: u8(0x00, 0x00), err: E.E_WS_FRAGMENT },
  {
    name: '§5.4 a continuation after the final frame',
    bytes: u8([0x02, 0x01, 0xaa], [0x80, 0x00], [0x80, 0x00]),
    err: E.E_WS_FRAGMENT,
    before: [frame(0x02, [0xaa]), frame(0x80, [])],
  },
  {
    name: '§5.4 a new binary message inside a fragmented one',
    bytes: u8([0x02, 0x01, 0xaa], [0x82, 0x01, 0xbb]),
    err: E.E_WS_FRAGMENT,
    before: [frame(0x02, [0xaa])],
  },
  {
    name: '§5.4 a text frame inside a fragmented binary message (after a ping)',
    bytes: u8([0x02, 0x01, 0xaa], [0x89, 0x00], [0x01, 0x01, 0x41]),
    err: E.E_WS_FRAGMENT,
    before: [frame(0x02, [0xaa]), frame(0x89, [])],
  },
];

for (const v of BAD) {
  test(`refuse: ${v.name} -> ${Object.keys(E).find((k) => (E as any)[k] === v.err)}`, () => {
    const want = { frames: v.before || [], err: v.err };
    assert.equal(read(v.bytes, 0, v.max), want, 'in one chunk');
    assert.equal(read(v.bytes, 1, v.max), want, 'one byte at a time');
  });
}

test('the maximum itself is accepted', () => {
  assert.equal(read(u8(0x82, 0x7e, 0x03, 0xe8, bin(1000)), 1, 1000), { frames: [frame(0x82, bin(1000))], err: 0 });
  assert.equal(read(u8(0x82, 0x05, bin(5)), 1, 5), { frames: [frame(0x82, bin(5))], err: 0 });
});

test('reset() forgets a half-read frame and a fragmented message', () => {
  const got: string[] = [];
  const r = createFrameReader(MAX, (h, total, pos, d, from, to) => (got.push(`${h.toString(16)} ${hex(d.subarray(from, to))}`), 0));
  assert.is(r.feed(u8([0x02, 0x01, 0xaa], [0x00, 0x05, 1, 2])), 0);
  r.reset();
  // a new message is welcome again, and the half frame is gone
  assert.is(r.feed(u8(0x82, 0x01, 0xcc)), 0);
  assert.equal(got, ['2 aa', '0 01 02', '82 cc']);
  r.reset();
  assert.is(r.feed(u8(0x80, 0x00)), E.E_WS_FRAGMENT, 'no message in progress after reset');
});

test('a negative return from the handler stops the reader with that code', () => {
  let calls = 0;
  const r = createFrameReader(MAX, () => (++calls, -77));
  assert.is(r.feed(u8([0x82, 0x01, 0xaa], [0x82, 0x01, 0xbb])), -77);
  assert.is(calls, 1);
  const e = createFrameReader(MAX, () => (++calls, -78));
  assert.is(e.feed(u8([0x8a, 0x00], [0x82, 0x00])), -78, 'also for an empty frame');
});

// ---- random frames against ws, both directions -----------------------------------------------

test('random: ws-written server frames (fragments, pings) read back in random chunks', () => {
  const rng = createRng();
  withSeed(rng, () => {
    for (let t = 0; t < 40; t++) {
      const parts: Uint8Array[] = [], want: string[] = [];
      for (let m = rng.range(1, 6); m--; ) {
        const msg = rng.bytes(rng.chance(0.1) ? rng.range(126, 70000) : rng.range(0, 300));
        let at = 0;
        const nfrag = rng.range(1, 4);
        for (let f = 0; f < nfrag; f++) {
          const end = f == nfrag - 1 ? msg.length : rng.range(at, msg.length);
          const piece = msg.subarray(at, end), hdr = (f ? 0 : WS_BINARY) | (f == nfrag - 1 ? WS_FIN : 0);
          parts.push(wsFrame(piece, hdr & 15, !!(hdr & WS_FIN)));
          want.push(frame(hdr, piece));
          at = end;
          if (rng.chance(0.3)) {
            const p = rng.bytes(rng.range(0, 125));
            parts.push(wsFrame(p, WS_PING, true));
            want.push(frame(WS_FIN | WS_PING, p));
          }
        }
      }
      const bytes = new Uint8Array(Buffer.concat(parts));
      assert.equal(read(bytes, randomChunks(rng, bytes)), { frames: want, err: 0 });
    }
  });
});

test('random: our masked client frames, random keys, read back by ws as a server', () => {
  const rng = createRng();
  withSeed(rng, () => {
    for (let t = 0; t < 60; t++) {
      const p = rng.bytes(rng.chance(0.2) ? rng.range(126, 70000) : rng.range(0, 200)), k = rng.bytes(4);
      const b = encodeMasked(WS_FIN | WS_BINARY, p, k);
      assert.equal(wsRead(b, true), ['binary ' + hex(p)]);
    }
  });
});

test.run();
