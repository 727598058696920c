import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as P from '../../src/amqp/performatives';
import * as T from '../../src/amqp/types';
import { createAmqpReader, PROTO_AMQP, PROTO_SASL } from '../../src/amqp/frame';
import * as E from '../../src/errors';
import { guarded, AT } from '../helpers/bytes';
import { createRng, withSeed, randomChunks, Rng } from '../helpers/rng';
import { norm, randomValue, randomText } from './rhea';

// Fuzzing the AMQP reader and decoders with random and mutated input (AMQP_FUZZ_N inputs, default 5,000: about 2 s;
// SEED replays):
//  (a) the frame reader fed in random chunks: nothing throws, nothing is written past its capacity, and it finds
//      exactly the frames (and the error) a whole-buffer model of §2.2/§2.3.1 finds; every body it hands over goes
//      through decodePerformative (and decodeMessage after a transfer) on a guarded copy that throws on a read
//      outside the body: an object or a named error, and an accepted performative re-encodes to the same object;
//  (b) decodeValue on random and mutated values: a value or a named error, never a read outside, and what it
//      accepts encodes and decodes back to itself.

const N = +(process.env.AMQP_FUZZ_N || 5000);
const CODES = new Set<number>((Object.values(E) as unknown[]).filter((v): v is number => typeof v == 'number'));

/** Random text of at most `n` code points. */
const txt = (rng: Rng, n: number) => Array.from(randomText(rng)).slice(0, n).join('');

/** Frames of random performatives and transfers with messages, written by our encoder. */
function validFrames(rng: Rng): number[] {
  const out: number[] = [];
  for (let n = rng.range(1, 4); n--; ) {
    const k = rng.int(6), b = new Uint8Array(2048);
    let e: number;
    if (k == 0) e = P.writeFrame(b, 0, rng.int(4), P.OPEN, { containerId: txt(rng, 50), maxFrameSize: rng.int(70000), idleTimeOut: rng.int(1e6), properties: { a: txt(rng, 20) } });
    else if (k == 1) e = P.writeFrame(b, 0, rng.int(4), P.ATTACH, { name: 'l' + rng.int(9), handle: rng.int(9), role: rng.chance(0.5), source: { type: P.SOURCE, address: '/a' }, target: { type: P.TARGET, address: '/b' }, desiredCapabilities: ['x', 'y'] });
    else if (k == 2) e = P.writeFrame(b, 0, 0, P.FLOW, { incomingWindow: rng.int(1e6), nextOutgoingId: 0, outgoingWindow: 5, handle: 0, linkCredit: rng.int(100) });
    else if (k == 3) e = P.writeFrame(b, 0, 0, P.DISPOSITION, { role: true, first: rng.int(100), settled: true, state: rng.pick([{ type: P.ACCEPTED }, { type: P.REJECTED, error: { type: P.ERROR, condition: 'amqp:x', info: { k: 'v' } } }, { type: P.RELEASED }]) });
    else if (k == 4) e = P.writeFrame(b, 0, 0, P.SASL_OUTCOME, { code: rng.int(5), additionalData: rng.bytes(rng.int(8)) });
    else e = P.writeFrame(b, 0, rng.int(3), P.TRANSFER, { handle: 0, deliveryId: rng.int(1000), deliveryTag: rng.bytes(4), settled: rng.chance(0.5) },
      { header: { durable: true }, messageAnnotations: { 'iothub-x': txt(rng, 30) }, properties: { messageId: 'm' + rng.int(99), to: '/devices/d/messages/events', creationTime: rng.int(2 ** 41) }, applicationProperties: { p: txt(rng, 30), n: rng.int(100) }, data: rng.bytes(rng.int(100)) });
    assert.ok(e > 0, `valid frame ${k}: ${e}`);
    out.push(...b.subarray(0, e));
  }
  return out;
}

/** Random bytes, plausible frames, or a valid stream with a few mutations; all after the protocol header but the first kind. */
function fuzzInput(rng: Rng): Uint8Array {
  const kind = rng.int(10), head = [0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0];
  if (kind < 1) return rng.bytes(rng.range(1, 64));
  if (kind < 3) {
    // a plausible frame: a right size, doff 2 or more, any type and channel, random body
    const body = rng.bytes(rng.chance(0.8) ? rng.int(40) : rng.int(700)), doff = rng.pick([2, 2, 2, 3, 1, 0, 255]);
    const size = 8 + body.length + (doff > 2 ? 4 * (doff - 2) : 0);
    return Uint8Array.from([...head, size >>> 24, (size >> 16) & 255, (size >> 8) & 255, size & 255, doff, rng.pick([0, 1, 2]), rng.int(256), rng.int(256), ...new Uint8Array(doff > 2 ? 4 * (doff - 2) : 0), ...body]);
  }
  const bytes = [...head, ...validFrames(rng)];
  for (let m = rng.range(kind < 5 ? 0 : 1, 4); m--; ) {
    const i = rng.int(bytes.length);
    switch (rng.int(6)) {
      case 0: bytes[i] ^= 1 << rng.int(8); break;                     // flip a bit
      case 1: bytes[i] = rng.int(256); break;                         // any byte
      case 2: bytes.splice(i, 0, rng.int(256)); break;                // insert
      case 3: bytes.splice(i, 1); break;                              // delete
      case 4: bytes.length = Math.max(1, i); break;                   // truncate
      default: bytes[8 + 3] = (bytes[8 + 3] + rng.pick([1, -1, 4, -4])) & 255; // the first frame's size
    }
  }
  return Uint8Array.from(bytes);
}

/** The frames in `b` read whole by the rules of §2.2 and §2.3.1, and the error that ends them (0 when the input just ends). */
function model(b: Uint8Array, cap: number, max: number): { frames: string[]; result: number } {
  const frames: string[] = [];
  if (b.length < 8) return { frames, result: 0 };
  if (Buffer.from(b.subarray(0, 8)).toString('latin1') != 'AMQP\0\x01\0\0') return { frames, result: E.E_AMQP_HEADER };
  for (let at = 8; at + 8 <= b.length; ) {
    const size = b[at] * 2 ** 24 + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3], doff = b[at + 4] * 4, type = b[at + 5];
    if (size < 8 || size > max) return { frames, result: E.E_AMQP_FRAME_SIZE };
    if (doff < 8 || doff > size || type > 1) return { frames, result: E.E_AMQP_FRAME };
    if (size - doff > cap) return { frames, result: E.E_AMQP_FRAME_SIZE };
    if (at + size > b.length) break;
    frames.push(`${type} ${(b[at + 6] << 8) | b[at + 7]} ${Buffer.from(b.subarray(at + doff, at + size)).toString('hex')}`);
    at += size;
  }
  return { frames, result: 0 };
}

test(`reader + decoders: ${N} random and mutated inputs in random chunks`, () => {
  const rng = createRng();
  withSeed(rng, () => {
    let frames = 0, accepted = 0, refused = 0, errors = 0;
    for (let i = 0; i < N; i++) {
      const input = fuzzInput(rng), cap = rng.pick([16, 64, 512, 2048]), max = rng.pick([512, 600, 4096]);
      const backing = new Uint8Array(cap + 8).fill(0xa5), got: string[] = [], bodies: Uint8Array[] = [];
      const r = createAmqpReader(backing, cap, PROTO_AMQP, (t, ch, len) => {
        got.push(`${t} ${ch} ${Buffer.from(backing.subarray(0, len)).toString('hex')}`);
        bodies.push(backing.slice(0, len));
        return 0;
      }, () => (r.setMaxFrameSize(max), 0));
      let result = 0;
      for (const c of randomChunks(rng, input)) if ((result = r.feed(c)) < 0) break;
      assert.ok(backing.subarray(cap).every((x) => x == 0xa5), `#${i}: written past the capacity`);
      const want = model(input, cap, Math.min(max, cap + 8));
      assert.equal({ frames: got, result }, want, `#${i}: the reader finds what the model finds`);
      if (result) errors++;
      frames += got.length;
      for (const body of bodies) {
        if (!body.length) continue;
        const g = guarded(body);
        const p = P.decodePerformative(g, AT, AT + body.length); // throws on a read outside the body
        if (typeof p == 'number') {
          assert.ok(CODES.has(p), `#${i}: ${p} is not an error code`);
          refused++;
          continue;
        }
        // what is accepted re-encodes, and reads back the same
        const again = new Uint8Array(P.sizeComposite(p.type, p) + 1);
        const n = P.writeComposite(again, 0, p.type, p);
        if (n > 0) assert.equal(norm(P.decodePerformative(again, 0, n)), norm(p), `#${i}: re-encoded ${p.type}`);
        else assert.ok(CODES.has(n), `#${i}: re-encoding ${n}`);
        if (p.type == P.TRANSFER && P.decodedTo() < AT + body.length) {
          const m = P.decodeMessage(g, P.decodedTo(), AT + body.length);
          if (typeof m == 'number') assert.ok(CODES.has(m), `#${i}: message ${m}`);
        }
        accepted++;
      }
    }
    console.log(`  fuzz (a): ${N} inputs, ${frames} frames, ${accepted} performatives accepted, ${refused} refused, ${errors} streams stopped by a named error, seed ${rng.seed}`);
    assert.ok(accepted > N / 10 && refused > N / 20 && errors > N / 10, 'every outcome was exercised');
  });
});

test(`decodeValue: ${N} random and mutated values`, () => {
  const rng = createRng();
  withSeed(rng, () => {
    let accepted = 0, refused = 0;
    for (let i = 0; i < N; i++) {
      let bytes: number[];
      if (rng.chance(0.2)) bytes = [...rng.bytes(rng.range(1, 40))];
      else {
        const v = randomValue(rng, 2), b = new Uint8Array(T.sizeValue(v));
        T.writeValue(b, 0, v);
        bytes = [...b];
        for (let m = rng.range(0, 3); m--; ) {
          const k = rng.int(bytes.length);
          if (rng.chance(0.5)) bytes[k] = rng.int(256);
          else bytes.length = Math.max(1, k);
        }
      }
      const g = guarded(bytes);
      const v = T.decodeValue(g, AT, AT + bytes.length); // throws on a read outside
      if (typeof v == 'number') {
        assert.ok(CODES.has(v), `#${i}: ${v}`);
        refused++;
        continue;
      }
      accepted++;
      assert.ok(T.decodeEnd() > AT && T.decodeEnd() <= AT + bytes.length);
      const n = T.sizeValue(v);
      if (n == E.E_ARGUMENT) continue; // arrays of described values: decoded, not encoded by this codec
      const b = new Uint8Array(n);
      assert.is(T.writeValue(b, 0, v), n);
      const back = T.decodeValue(b, 0, n);
      assert.equal(JSON.stringify(norm(back)), JSON.stringify(norm(v)), `#${i}: encodes and decodes back`);
    }
    console.log(`  fuzz (b): ${N} values, ${accepted} accepted, ${refused} refused, seed ${rng.seed}`);
    assert.ok(accepted > N / 10 && refused > N / 10);
  });
});

test.run();
