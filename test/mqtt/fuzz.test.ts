import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodePublish, encodeAck, PUBLISH, PUBACK, PUBCOMP, CONNACK, SUBACK, UNSUBACK, PINGRESP } from '../../src/mqtt/codec';
import * as E from '../../src/errors';
import { createRng, withSeed, randomChunks, Rng } from '../helpers/rng';
import { refGenerate, readAll } from '../helpers/mqtt';
import { randomIncoming } from '../helpers/packets';
import { session } from '../helpers/session';
import { hex } from '../helpers/bytes';

// Fuzzing with random and mutated frames (FUZZ_N of them, default 100,000; SEED replays a run):
//  (a) the reader and decoders: nothing throws, no decoder reads outside its frame (they run on a
//      guarded copy that throws on such a read), and whatever they accept is exactly what our
//      encoders would write for the fields they return;
//  (b) a live client: nothing throws, it only ever writes well-formed packets, a malformed frame
//      closes the connection with a negative code, and after a reconnect a session still works.

const N = +(process.env.FUZZ_N || 100000);
const CODES = new Set<number>((Object.values(E) as unknown[]).filter((v): v is number => typeof v == 'number'));

/** A valid frame a client may receive. */
const valid = (rng: Rng) => refGenerate(randomIncoming(rng).ref);

/** Random bytes, a random frame, or valid frames with a few mutations. */
function fuzzInput(rng: Rng): Uint8Array {
  const kind = rng.int(10);
  if (kind < 2) return rng.bytes(rng.range(1, 64));
  if (kind < 4) {
    // a plausible frame: any header byte, a correct length, random body
    const body = rng.bytes(rng.chance(0.8) ? rng.int(16) : rng.int(600));
    const len = body.length < 128 ? [body.length] : [(body.length & 127) | 128, body.length >> 7];
    return Uint8Array.from([rng.int(256), ...len, ...body]);
  }
  const frames: number[] = [];
  for (let n = rng.range(1, 3); n--; ) frames.push(...valid(rng).subarray(0, 700));
  for (let m = rng.range(1, 4); m--; ) {
    const i = rng.int(frames.length + 1);
    switch (rng.int(7)) {
      case 0: frames[i % frames.length] ^= 1 << rng.int(8); break;            // flip a bit
      case 1: frames[i % frames.length] = rng.int(256); break;                // any byte
      case 2: frames.splice(i, 0, rng.int(256)); break;                       // insert
      case 3: frames.splice(i % frames.length, 1); break;                     // delete
      case 4: frames.length = Math.max(1, i); break;                          // truncate
      case 5: frames[0] = (frames[0] & 0xf0) | rng.int(16); break;            // header flags
      default: frames[1] = rng.pick([0, 1, 2, 3, 127, 128, 255, frames[1] + 1, frames[1] - 1]) & 255; // remaining length
    }
  }
  return Uint8Array.from(frames);
}

/** What our encoders write for an accepted frame's fields: the decoders accept only canonical bodies. */
function reencoded(d: any): string {
  const b = new Uint8Array(8192);
  let n: number;
  switch (d.cmd) {
    case 'connack': return hex([CONNACK << 4, d.sessionPresent ? 1 : 0, 0]);
    case 'publish': n = encodePublish(b, 0, d.topic, Buffer.from(d.payload, 'hex'), d.qos, d.retain, d.dup, d.messageId); break;
    case 'suback': return hex([SUBACK << 4, d.messageId >> 8, d.messageId & 255, ...d.granted]);
    case 'unsuback': return hex([UNSUBACK << 4, d.messageId >> 8, d.messageId & 255]);
    case 'pingresp': return hex([PINGRESP << 4]);
    default: n = encodeAck(b, 0, PUBACK + ['puback', 'pubrec', 'pubrel', 'pubcomp'].indexOf(d.cmd), d.messageId);
  }
  const body = b.subarray(b[1] & 128 ? (b[2] & 128 ? 4 : 3) : 2, n);
  return hex([b[0], ...body]);
}

test(`reader + decoders: ${N} random and mutated frames`, () => {
  const rng = createRng();
  withSeed(rng, () => {
    let accepted = 0, refused = 0;
    for (let i = 0; i < N; i++) {
      const input = fuzzInput(rng), cap = rng.pick([8, 64, 256, 1024]);
      const r = readAll(randomChunks(rng, input), cap); // throws on a read outside a frame
      assert.ok(r.result == 0 || r.result == E.E_LENGTH, `#${i}: reader result ${r.result}`);
      r.frames.forEach((d, k) => {
        if (typeof d == 'number') {
          assert.ok(CODES.has(d), `#${i}: ${d} is not an error code`);
          refused++;
        } else {
          const body = Buffer.from(r.bodies[k], 'hex');
          assert.is(reencoded(d), hex([r.hdrs[k], ...body]), `#${i} ${d.cmd} accepted but not canonical: ${hex(input)}`);
          accepted++;
        }
      });
    }
    console.log(`  fuzz (a): ${N} inputs, ${accepted} frames accepted, ${refused} refused, seed ${rng.seed}`);
    assert.ok(accepted > N / 10 && refused > N / 10, 'both kinds were exercised');
  });
});

test(`a live client: ${N} random and mutated frames after CONNACK`, () => {
  const rng = createRng();
  const s = session({ keepalive: 30 });
  let closes = 0, checks = 0;

  /** Brings the client back up and proves the session works: a QoS 1 round trip both ways. */
  function check() {
    if (s.t.isOpen) s.client.reconnect(); // also forgets a partial frame
    else s.clock.advance(60e3);
    assert.is(s.t.isOpen, true, 'reconnected');
    s.t.take();
    s.t.send([0x20, 2, 0, 0]);
    assert.is(s.client.connected(), true);
    let done = 1;
    const id = s.client.publish('check/out', 'ping', 1, false, (e) => (done = e));
    assert.ok(id > 0, `publish: ${id}`);
    s.t.send([0x40, 2, id >> 8, id & 255]);
    assert.is(done, 0, 'PUBACK completes the publish');
    s.messages.length = 0;
    s.t.send(refGenerate({ cmd: 'publish', topic: 'check/in', payload: Buffer.from('pong'), qos: 1, messageId: 4242, dup: false, retain: false }));
    assert.equal(s.messages.map((m) => m.topic), ['check/in']);
    assert.equal(s.t.take().map((p) => p.cmd), ['publish', 'puback']);
    checks++;
  }

  withSeed(rng, () => {
    s.client.connect();
    s.t.send([0x20, 2, 0, 0]);
    for (let i = 0; i < N; i++) {
      const input = fuzzInput(rng);
      const log = s.events();
      for (const c of randomChunks(rng, input)) if (s.t.isOpen) s.t.send(c);
      s.t.take(); // throws if the client wrote anything mqtt-packet rejects
      const after = s.events();
      if (!s.t.isOpen) {
        closes++;
        const close = after.filter((e) => e.startsWith('close '));
        assert.is(close.length, 1, `#${i}: one close: ${after} (before: ${log})`);
        assert.ok(close[0] != 'close 0', `#${i}: closed with a code`);
        assert.ok(after.includes('error ' + close[0].slice(6)), `#${i}: the application heard why: ${after}`);
      }
      if (s.messages.length > 1000) s.messages.length = 0;
      if (!s.t.isOpen || i % 1000 == 999) check();
    }
  });
  console.log(`  fuzz (b): ${N} inputs, ${closes} closed the connection, ${checks} sessions checked after reconnecting, seed ${rng.seed}`);
  assert.ok(closes > N / 10, 'malformed input was seen');
});

test.run();
