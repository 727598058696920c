import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as P from '../../src/amqp/performatives';
import * as T from '../../src/amqp/types';
import { createAmqpReader, writeProtocolHeader, writeFrameHeader, FRAME_AMQP, FRAME_SASL, PROTO_AMQP, PROTO_SASL } from '../../src/amqp/frame';
import * as E from '../../src/errors';
import { u8, hex, canaryBuffer, trampled, untouched, guarded, AT } from '../helpers/bytes';
import { createRng, withSeed, randomChunks, Rng } from '../helpers/rng';
import { norm, rframes, rtypes, randomText } from './rhea';
import { createRequire } from 'node:module';

// Frames (Part 2 §2.2, §2.3), performatives (§2.7), SASL bodies (Part 5 §5.3.3) and message sections (Part 3 §3.2):
// annotated vectors, every performative against rhea both ways on random fields, the reader over any chunking.

const rmessage = createRequire(import.meta.url)('rhea/lib/message.js');
const N = +(process.env.DIFF_N || 2000);

/** Our frame bytes for a performative (checked: exact size, canaries, one byte short gives E_BUFFER and writes nothing). */
function frame(channel: number, code: number, o: any, m?: P.Message): Uint8Array {
  const n = P.sizeFrame(code, o, m);
  assert.ok(n >= 8, `sizeFrame ${n}`);
  const b = canaryBuffer(n);
  assert.is(P.writeFrame(b, AT, channel, code, o, m), AT + n);
  assert.equal(trampled(b, AT, AT + n), []);
  const short = canaryBuffer(n - 1, 0);
  assert.is(P.writeFrame(short, AT, channel, code, o, m), E.E_BUFFER);
  assert.ok(untouched(short));
  return b.subarray(AT, AT + n);
}

/** Reads frames from `bytes` fed in `chunks`: the events, and the reader's result. */
function readAll(chunks: Uint8Array[], id = PROTO_AMQP, cap = 4096, max = 4096): { events: string[]; result: number } {
  const buf = new Uint8Array(cap + 16).fill(0xa5), events: string[] = [];
  const r = createAmqpReader(buf.subarray(0, cap + 16), cap, id, (type, ch, len) => {
    events.push(`frame ${type} ${ch} ${hex(buf.subarray(0, len))}`);
    return 0;
  }, (pid) => (events.push(`header ${pid}`), r.setMaxFrameSize(max), 0));
  let result = 0;
  for (const c of chunks) if ((result = r.feed(c)) < 0) break;
  assert.ok(buf.subarray(cap).every((x) => x == 0xa5), 'nothing written past the capacity');
  return { events, result };
}

const open = { containerId: 'dev', hostname: 'hub.example', maxFrameSize: 2048, channelMax: 0, idleTimeOut: 240000 };

const VECTORS: [string, Uint8Array, () => Uint8Array][] = [
  ['protocol header AMQP 0 1.0.0 (§2.2)', u8('AMQP', 0, 1, 0, 0), () => { const b = new Uint8Array(8); writeProtocolHeader(b, 0, PROTO_AMQP); return b; }],
  ['protocol header SASL 3 1.0.0 (§5.3.2)', u8('AMQP', 3, 1, 0, 0), () => { const b = new Uint8Array(8); writeProtocolHeader(b, 0, PROTO_SASL); return b; }],
  ['empty frame: the heartbeat (§2.4.5)', u8([0, 0, 0, 8, 2, 0, 0, 0]), () => { const b = new Uint8Array(8); writeFrameHeader(b, 0, 8, FRAME_AMQP, 0); return b; }],
  ['open (§2.7.1)', u8([0, 0, 0, 0x2d, 2, 0, 0, 0], [0x00, 0x53, 0x10], [0xc0, 0x20, 0x05], [0xa1, 3], 'dev', [0xa1, 11], 'hub.example',
    [0x70, 0, 0, 8, 0], [0x60, 0, 0], [0x70, 0, 3, 0xa9, 0x80]), () => frame(0, P.OPEN, open)],
  ['begin on channel 1 (§2.7.2)', u8([0, 0, 0, 0x14, 2, 0, 0, 1], [0x00, 0x53, 0x11], [0xc0, 0x07, 0x04], 0x40, 0x43, [0x52, 100], [0x52, 100]),
    () => frame(1, P.BEGIN, { nextOutgoingId: 0, incomingWindow: 100, outgoingWindow: 100 })],
  ['attach a sender with a target (§2.7.3, §3.5.4)', u8([0, 0, 0, 0x27, 2, 0, 0, 0], [0x00, 0x53, 0x12], [0xc0, 0x1a, 0x07], [0xa1, 1], 's', 0x43, 0x42, [0x50, 1], 0x40, 0x40,
    [0x00, 0x53, 0x29], [0xc0, 0x0b, 0x01], [0xa1, 8], '/devices'),
    () => frame(0, P.ATTACH, { name: 's', handle: 0, role: false, sndSettleMode: 1, target: { type: P.TARGET, address: '/devices' } })],
  ['flow with credit (§2.7.4)', u8([0, 0, 0, 0x18, 2, 0, 0, 0], [0x00, 0x53, 0x13], [0xc0, 0x0b, 0x07], 0x43, [0x52, 100], 0x43, [0x52, 100], 0x43, 0x43, [0x52, 10]),
    () => frame(0, P.FLOW, { nextIncomingId: 0, incomingWindow: 100, nextOutgoingId: 0, outgoingWindow: 100, handle: 0, deliveryCount: 0, linkCredit: 10 })],
  ['transfer with a message: annotations, properties, application-properties, data (§2.7.5, §3.2)',
    u8([0, 0, 0, 0x4a, 2, 0, 0, 0], [0x00, 0x53, 0x14], [0xc0, 0x08, 0x05], 0x43, 0x43, [0xa0, 1, 7], 0x43, 0x42,
      [0x00, 0x53, 0x72], [0xc1, 0x0a, 0x02], [0xa3, 3], 'x-a', [0xa1, 2], 'hi',
      [0x00, 0x53, 0x73], [0xc0, 0x06, 0x03], 0x40, 0x40, [0xa1, 1], 't',
      [0x00, 0x53, 0x74], [0xc1, 0x0c, 0x04], [0xa1, 1], 'k', [0xa1, 1], 'v', [0xa1, 1], 'n', [0x54, 5],
      [0x00, 0x53, 0x75], [0xa0, 5], 'hello'),
    () => frame(0, P.TRANSFER, { handle: 0, deliveryId: 0, deliveryTag: u8([7]), messageFormat: 0, settled: false },
      { messageAnnotations: { 'x-a': 'hi' }, properties: { to: 't' }, applicationProperties: { k: 'v', n: 5 }, data: 'hello' })],
  ['disposition: accepted, settled (§2.7.6, §3.4.2)', u8([0, 0, 0, 0x17, 2, 0, 0, 0], [0x00, 0x53, 0x15], [0xc0, 0x0a, 0x05], 0x41, [0x52, 3], 0x40, 0x41, [0x00, 0x53, 0x24, 0x45]),
    () => frame(0, P.DISPOSITION, { role: true, first: 3, settled: true, state: { type: P.ACCEPTED } })],
  ['detach with an error (§2.7.7, §2.8.14)', u8([0, 0, 0, 0x2f, 2, 0, 0, 0], [0x00, 0x53, 0x16], [0xc0, 0x22, 0x03], 0x43, 0x41, [0x00, 0x53, 0x1d], [0xc0, 0x1a, 0x01], [0xa3, 0x17], 'amqp:unauthorized-acces'),
    () => frame(0, P.DETACH, { handle: 0, closed: true, error: { type: P.ERROR, condition: 'amqp:unauthorized-acces' } })],
  ['end (§2.7.8)', u8([0, 0, 0, 0x0c, 2, 0, 0, 0], [0x00, 0x53, 0x17, 0x45]), () => frame(0, P.END, {})],
  ['close (§2.7.9)', u8([0, 0, 0, 0x0c, 2, 0, 0, 0], [0x00, 0x53, 0x18, 0x45]), () => frame(0, P.CLOSE, {})],
  ['sasl-mechanisms: one symbol (§5.3.3.1)', u8([0, 0, 0, 0x19, 2, 1, 0, 0], [0x00, 0x53, 0x40], [0xc0, 0x0c, 0x01], [0xa3, 9], 'ANONYMOUS'),
    () => frame(0, P.SASL_MECHANISMS, { saslServerMechanisms: 'ANONYMOUS' })],
  ['sasl-init PLAIN (§5.3.3.2)', u8([0, 0, 0, 0x1d, 2, 1, 0, 0], [0x00, 0x53, 0x41], [0xc0, 0x10, 0x02], [0xa3, 5], 'PLAIN', [0xa0, 6], 0, 'u', 0, 'pwd'),
    () => frame(0, P.SASL_INIT, { mechanism: 'PLAIN', initialResponse: '\0u\0pwd' })],
  ['sasl-outcome ok (§5.3.3.5)', u8([0, 0, 0, 0x10, 2, 1, 0, 0], [0x00, 0x53, 0x44], [0xc0, 0x03, 0x01], [0x50, 0]), () => frame(0, P.SASL_OUTCOME, { code: 0 })],
];

for (const [what, want, make] of VECTORS) {
  test(`vector: ${what}`, () => {
    assert.is(hex(make()), hex(want), 'our encoder');
    const r = readAll([want.length == 8 && want[0] == 0x41 ? want : u8('AMQP', 0, 1, 0, 0, want)], want[0] == 0x41 ? want[4] : PROTO_AMQP);
    assert.is(r.result, 0);
    if (want[0] == 0x41) return assert.equal(r.events, [`header ${want[4]}`]);
    assert.is(r.events.length, 2);
    if (want.length > 8) {
      const body = want.subarray(8), g = guarded(body);
      const p = P.decodePerformative(g, AT, AT + body.length);
      assert.type(p, 'object', `decoded: ${p}`);
      const f = rframes.read_frame(Buffer.from(want));
      assert.is(f.performative.constructor.descriptor.numeric, p.type, "rhea reads the same performative");
      if (P.decodedTo() < AT + body.length) {
        const m = P.decodeMessage(g, P.decodedTo(), AT + body.length);
        assert.type(m, 'object', `message: ${m}`);
        assert.is(Buffer.from(m.data).toString(), 'hello');
        const rm = rmessage.decode(f.payload);
        assert.equal([rm.message_annotations, rm.to, rm.application_properties, rm.body.content.toString()], [{ 'x-a': 'hi' }, 't', { k: 'v', n: 5 }, 'hello'], 'rhea reads the same message');
        assert.equal(norm({ ...m.messageAnnotations }), { 'x-a': 'hi' });
        assert.equal(norm({ ...m.applicationProperties }), { k: 'v', n: { t: T.INT, v: 5 } });
      }
    }
  });
}

test('decodePerformative: fields by name, absent ones null, composites inside', () => {
  const b = frame(0, P.ATTACH, { name: 'r', handle: 1, role: true, source: { type: P.SOURCE, address: '/m', filter: { 'f': 'x' } }, maxMessageSize: 2 ** 40, desiredCapabilities: ['a', 'b'] });
  const p = P.decodePerformative(b, 8, b.length);
  assert.equal(norm({ ...p, source: { ...p.source, filter: { ...p.source.filter } } }), {
    type: P.ATTACH, name: 'r', handle: 1, role: true, sndSettleMode: null, rcvSettleMode: null,
    source: { type: P.SOURCE, address: '/m', durable: null, expiryPolicy: null, timeout: null, dynamic: null, dynamicNodeProperties: null, distributionMode: null, filter: { f: 'x' }, defaultOutcome: null, outcomes: null, capabilities: null },
    target: null, unsettled: null, incompleteUnsettled: null, initialDeliveryCount: null, maxMessageSize: 2 ** 40, offeredCapabilities: null, desiredCapabilities: ['a', 'b'], properties: null,
  });
  const out: any = { stale: 1 };
  assert.is(P.decodePerformative(b, 8, b.length, out), out, 'fills the object given');
});

test('performatives: bad input gets named errors', () => {
  const body = (...p: any[]) => u8(...p);
  const cases: [string, Uint8Array, number][] = [
    ['not described', body(0x45), E.E_AMQP_BODY],
    ['unknown descriptor 0x19', body(0x00, 0x53, 0x19, 0x45), E.E_AMQP_BODY],
    ['a symbolic descriptor (not read as a performative here)', body(0x00, 0xa3, 4, 'open', 0x45), E.E_AMQP_BODY],
    ['a delivery state is not a performative', body(0x00, 0x53, 0x24, 0x45), E.E_AMQP_BODY],
    ['open without container-id (mandatory, §2.7.1)', body(0x00, 0x53, 0x10, 0x45), E.E_AMQP_BODY],
    ['open with container-id null', body(0x00, 0x53, 0x10, 0xc0, 2, 1, 0x40), E.E_AMQP_BODY],
    ['open with a uint container-id', body(0x00, 0x53, 0x10, 0xc0, 2, 1, 0x43), E.E_AMQP_BODY],
    ['open with a symbol max-frame-size', body(0x00, 0x53, 0x10, 0xc0, 8, 3, 0xa1, 1, 'c', 0x40, 0xa3, 1, 'x'), E.E_AMQP_BODY],
    ['begin with a list count past its size', body(0x00, 0x53, 0x11, 0xc0, 1, 9), E.E_AMQP_BODY],
    ['transfer whose list ends before its fields', body(0x00, 0x53, 0x14, 0xc0, 3, 1, 0xa1, 5), E.E_MALFORMED],
    ['flow with a map as handle', body(0x00, 0x53, 0x13, 0xc0, 9, 5, 0x43, 0x43, 0x43, 0x43, 0xc1, 1, 0), E.E_AMQP_BODY],
    ['open properties with a key twice', body(0x00, 0x53, 0x10, 0xc0, 0x17, 0x0a, 0xa1, 1, 'c', 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0xc1, 9, 4, 0xa3, 1, 'k', 0x40, 0xa3, 1, 'k', 0x40), E.E_AMQP_VALUE],
  ];
  for (const [what, b, code] of cases) {
    const g = guarded(b);
    assert.is(P.decodePerformative(g, AT, AT + b.length), code, what);
  }
  assert.is(P.sizeComposite(P.OPEN, {}), E.E_ARGUMENT, 'encode: open without container-id');
  assert.is(P.sizeComposite(P.BEGIN, { nextOutgoingId: -1, incomingWindow: 1, outgoingWindow: 1 }), E.E_ARGUMENT, 'encode: uint -1');
  assert.is(P.sizeComposite(0x19, {}), E.E_ARGUMENT, 'encode: unknown code');
  assert.is(P.sizeMessage({ data: 'a', value: 'b' }), E.E_ARGUMENT, 'encode: two bodies');
  // an amqp-value body of any value (§3.2.8; the CBS put-token carries the token as a string): 00 53 77 a1 03 "tok"
  const vb = new Uint8Array(P.sizeMessage({ value: 'tok' }));
  assert.is(P.writeMessage(vb, 0, { value: 'tok' }), 8);
  assert.is(hex(vb), '00 53 77 a1 03 74 6f 6b');
  assert.is(P.decodeMessage(vb, 0, 8).value, 'tok');
  assert.is(P.sizeMessage({ properties: { to: 'x' } }), E.E_ARGUMENT, 'encode: no body');
  assert.is(P.sizeMessage({ data: 'a', applicationProperties: { l: [1] } }), E.E_ARGUMENT, 'encode: a list in application-properties (§3.2.5)');
  const m = (...p: any[]) => u8(...p);
  const msgs: [string, Uint8Array, number][] = [
    ['sections out of order', m(0x00, 0x53, 0x75, 0xa0, 0, 0x00, 0x53, 0x74, 0xc1, 1, 0), E.E_AMQP_BODY],
    ['two data sections', m(0x00, 0x53, 0x75, 0xa0, 0, 0x00, 0x53, 0x75, 0xa0, 0), E.E_AMQP_BODY],
    ['data and value', m(0x00, 0x53, 0x75, 0xa0, 0, 0x00, 0x53, 0x77, 0x40), E.E_AMQP_BODY],
    ['data not binary', m(0x00, 0x53, 0x75, 0xa1, 0), E.E_AMQP_BODY],
    ['application-properties not a map', m(0x00, 0x53, 0x74, 0x45), E.E_AMQP_BODY],
    ['section 0x79', m(0x00, 0x53, 0x79, 0x40), E.E_AMQP_BODY],
    ['not described', m(0x40), E.E_AMQP_BODY],
    ['truncated data', m(0x00, 0x53, 0x75, 0xa0, 5, 1), E.E_MALFORMED],
  ];
  for (const [what, b, code] of msgs) {
    const g = guarded(b);
    assert.is(P.decodeMessage(g, AT, AT + b.length), code, what);
  }
});

test('reader: headers, frames, limits and named errors', () => {
  const amqp = u8('AMQP', 0, 1, 0, 0), hb = u8(0, 0, 0, 8, 2, 0, 0, 0);
  assert.equal(readAll([amqp, hb]).events, ['header 0', 'frame 0 0 '], 'a heartbeat: an empty body');
  assert.equal(readAll([u8('AMQP', 3, 1, 0, 0)]).result, E.E_AMQP_HEADER, 'SASL header where AMQP was expected');
  assert.equal(readAll([u8('AMQP', 0, 1, 0, 0)], PROTO_SASL).result, E.E_AMQP_HEADER, 'AMQP header where SASL was expected');
  assert.equal(readAll([u8('AMQP', 0, 0, 9, 1)]).result, E.E_AMQP_HEADER, 'AMQP 0-9-1');
  assert.equal(readAll([u8('HTTP/1.1')]).result, E.E_AMQP_HEADER, 'not AMQP');
  assert.equal(readAll([amqp, u8(0, 0, 0, 12, 3, 0, 0, 5, 9, 9, 9, 9)]).events, ['header 0', 'frame 0 5 '], 'an extended header is skipped (doff 3)');
  assert.equal(readAll([amqp, u8(0, 0, 0, 13, 3, 1, 0, 0, 9, 9, 9, 9, 0x45)]).events, ['header 0', 'frame 1 0 45'], 'a SASL frame');
  assert.is(readAll([amqp, u8(0, 0, 0, 7, 2, 0, 0, 0)]).result, E.E_AMQP_FRAME_SIZE, 'size under 8');
  assert.is(readAll([amqp, u8(0, 0, 0, 8, 1, 0, 0, 0)]).result, E.E_AMQP_FRAME, 'doff 1');
  assert.is(readAll([amqp, u8(0, 0, 0, 8, 3, 0, 0, 0)]).result, E.E_AMQP_FRAME, 'doff past the frame');
  assert.is(readAll([amqp, u8(0, 0, 0, 8, 2, 2, 0, 0)]).result, E.E_AMQP_FRAME, 'frame type 2');
  // max-frame-size: 512 until the header handler raises it (here to `max`), and the buffer's capacity
  const big = (n: number) => u8(be4(n), 2, 0, 0, 0, new Uint8Array(n - 8));
  assert.is(readAll([amqp, big(1000)], PROTO_AMQP, 4096, 999).result, E.E_AMQP_FRAME_SIZE, 'over max-frame-size');
  assert.is(readAll([amqp, big(1000)], PROTO_AMQP, 4096, 1000).result, 0, 'at max-frame-size');
  assert.is(readAll([amqp, big(1000)], PROTO_AMQP, 500, 4096).result, E.E_AMQP_FRAME_SIZE, 'over the buffer');
  assert.is(readAll([amqp, u8(0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0)]).result, E.E_AMQP_FRAME_SIZE, 'size 2^32-1');
  // stopped after an error until reset; reset(id) expects a header again (SASL then AMQP on one connection)
  const buf = new Uint8Array(64), ev: string[] = [];
  const r = createAmqpReader(buf, 64, PROTO_SASL, (t, c, n) => {
    ev.push(`f${t}`);
    if (t == FRAME_SASL) r.reset(PROTO_AMQP); // after sasl-outcome the AMQP header follows, maybe in the same chunk
    return 0;
  }, (id) => (ev.push(`h${id}`), 0));
  assert.is(r.feed(u8('AMQP', 3, 1, 0, 0, 0, 0, 0, 9, 2, 1, 0, 0, 0x45, 'AMQP', 0, 1, 0, 0, hb)), 0);
  assert.equal(ev, ['h3', 'f1', 'h0', 'f0']);
  assert.is(r.feed(u8(0, 0, 0, 8, 1, 0, 0, 0)), E.E_AMQP_FRAME);
  assert.is(r.feed(hb), E.E_AMQP_FRAME, 'stays stopped');
  r.reset(PROTO_AMQP);
  assert.is(r.feed(u8('AMQP', 0, 1, 0, 0, hb)), 0, 'works again after reset');
  // a handler's negative return stops the reader with that code
  const r2 = createAmqpReader(buf, 64, PROTO_AMQP, () => -123, () => 0);
  assert.is(r2.feed(u8('AMQP', 0, 1, 0, 0, hb, hb)), -123);
});

function be4(n: number): number[] {
  return [n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// ---- random performatives, both ways against rhea ----

const SNAKE = (s: string) => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
/** The performatives and SASL bodies with their fields (type letters as in src/amqp/performatives.ts), written out again here from the spec. */
const PERFS: [number, string, string][] = [
  [P.OPEN, 'open', 'containerId:!S hostname:S maxFrameSize:U channelMax:H idleTimeOut:U outgoingLocales:Q incomingLocales:Q offeredCapabilities:Q desiredCapabilities:Q properties:M'],
  [P.BEGIN, 'begin', 'remoteChannel:H nextOutgoingId:!U incomingWindow:!U outgoingWindow:!U handleMax:U offeredCapabilities:Q desiredCapabilities:Q properties:M'],
  [P.ATTACH, 'attach', 'name:!S handle:!U role:!B sndSettleMode:Z rcvSettleMode:Z source:- target:- unsettled:- incompleteUnsettled:B initialDeliveryCount:U maxMessageSize:L offeredCapabilities:Q desiredCapabilities:Q properties:M'],
  [P.FLOW, 'flow', 'nextIncomingId:U incomingWindow:!U nextOutgoingId:!U outgoingWindow:!U handle:U deliveryCount:U linkCredit:U available:U drain:B echo:B properties:M'],
  [P.TRANSFER, 'transfer', 'handle:!U deliveryId:U deliveryTag:N messageFormat:U settled:B more:B rcvSettleMode:Z state:- resume:B aborted:B batchable:B'],
  [P.DISPOSITION, 'disposition', 'role:!B first:!U last:U settled:B state:- batchable:B'],
  [P.DETACH, 'detach', 'handle:!U closed:B error:E'],
  [P.END, 'end', 'error:E'],
  [P.CLOSE, 'close', 'error:E'],
  [P.SASL_MECHANISMS, 'sasl_mechanisms', 'saslServerMechanisms:!Q'],
  [P.SASL_INIT, 'sasl_init', 'mechanism:!Y initialResponse:N hostname:S'],
  [P.SASL_CHALLENGE, 'sasl_challenge', 'challenge:!N'],
  [P.SASL_RESPONSE, 'sasl_response', 'response:!N'],
  [P.SASL_OUTCOME, 'sasl_outcome', 'code:!Z additionalData:N'],
];

/** A random field value of type letter `t` (ours and what rhea's accessor gives back). */
function randomField(rng: Rng, t: string): [any, any] {
  const u = (max: number) => (rng.chance(0.3) ? rng.pick([0, 1, 255, 256, max].filter((x) => x <= max)) : rng.int(max + 1));
  switch (t) {
    case 'S': { const s = randomText(rng); return [s, s]; }
    case 'Y': { const s = randomText(rng, true); return [s, s]; }
    case 'B': { const b = rng.chance(0.5); return [b, b]; }
    case 'Z': { const n = u(255); return [n, n]; }
    case 'H': { const n = u(65535); return [n, n]; }
    case 'U': { const n = u(2 ** 32 - 1); return [n, n]; }
    case 'L': { const n = rng.chance(0.5) ? u(2 ** 32) : rng.int(2 ** 53); return [n, n]; }
    case 'N': { const b = rng.bytes(rng.chance(0.05) ? 300 : rng.int(20)); return [b, b]; }
    case 'Q': { const a = Array.from({ length: rng.range(1, 4) }, () => randomText(rng, true).slice(0, 100)); return [a, a]; } // rhea writes sym8 only here
    case 'M': { const o: any = {}; for (let i = rng.int(4); i--; ) o['k' + randomText(rng, true)] = randomText(rng); return [o, o]; }
    case 'E': { const c = 'amqp:' + randomText(rng, true), d = randomText(rng); return [{ type: P.ERROR, condition: c, description: d }, { condition: c, description: d }]; }
  }
  throw new Error(t);
}

/** A random performative: [code, rhea name, our object, rhea's field values by snake_case name]. */
function randomPerf(rng: Rng): [number, string, any, any] {
  const [code, name, spec] = rng.pick(PERFS), ours: any = {}, theirs: any = {};
  for (const f of spec.split(' ')) {
    const [k, t] = f.split(':');
    if (t.endsWith('-') || (!t.startsWith('!') && rng.chance(0.4))) continue;
    const [a, b] = randomField(rng, t.slice(-1));
    ours[k] = a;
    theirs[SNAKE(k)] = b;
  }
  return [code, name, ours, theirs];
}

/** Field values of our decoded object in rhea's terms. */
function asTheirs(p: any, spec: string): any {
  const o: any = {};
  for (const f of spec.split(' ')) {
    const [k, t] = f.split(':');
    if (t.endsWith('-') || p[k] == null) continue;
    o[SNAKE(k)] = t.endsWith('M') ? { ...p[k] } : t.endsWith('E') ? { condition: p[k].condition, description: p[k].description } : p[k];
  }
  return norm(o);
}

test(`differential: ${N} random performatives, our frames read by rhea`, () => {
  const rng = createRng();
  withSeed(rng, () => {
    for (let i = 0; i < N; i++) {
      const [code, name, ours, theirs] = randomPerf(rng), ch = rng.int(65536);
      const n = P.sizeFrame(code, ours), b = new Uint8Array(Math.max(0, n));
      assert.ok(n > 0, `#${i} ${name}: sizeFrame ${n} for ${JSON.stringify(ours)}`);
      assert.is(P.writeFrame(b, 0, ch, code, ours), n, `#${i} ${name}`);
      const f = rframes.read_frame(Buffer.from(b));
      assert.is(f.type, code >= 0x40 ? 1 : 0);
      assert.is(f.channel, code >= 0x40 ? 0 : ch);
      assert.is(f.performative.constructor.descriptor.numeric, code);
      const got: any = {};
      for (const k of Object.keys(theirs)) {
        let v = f.performative[k];
        if (k == 'error') v = { condition: v.condition, description: v.description };
        got[k] = v instanceof Buffer ? new Uint8Array(v) : Array.isArray(v) ? v : v && typeof v == 'object' ? { ...v } : v;
      }
      assert.equal(norm(got), norm(theirs), `#${i} ${name}`);
    }
    console.log(`  differential (our frames -> rhea): ${N} performatives, seed ${rng.seed}`);
  });
});

test(`differential: ${N} random performatives written by rhea, read by our reader in random chunks`, () => {
  const rng = createRng();
  withSeed(rng, () => {
    for (let done = 0; done < N; ) {
      const batch = Array.from({ length: Math.min(N - done, rng.range(1, 20)) }, () => randomPerf(rng));
      const bytes = Buffer.concat([Buffer.from('AMQP\0\x01\0\0', 'latin1'), ...batch.map(([code, name, , theirs]) => {
        const perf = rframes[name](theirs);
        return rframes.write_frame(code >= 0x40 ? rframes.sasl_frame(perf) : rframes.amqp_frame(7, perf));
      })]);
      const bodies: Uint8Array[] = [];
      const buf = new Uint8Array(8192);
      const r = createAmqpReader(buf, buf.length, PROTO_AMQP, (t, ch, len) => (bodies.push(buf.slice(0, len)), 0), (id) => (r.setMaxFrameSize(8192), 0));
      for (const c of randomChunks(rng, new Uint8Array(bytes))) assert.is(r.feed(c), 0);
      assert.is(bodies.length, batch.length);
      batch.forEach(([code, name, ours], k) => {
        const g = guarded(bodies[k]);
        const p = P.decodePerformative(g, AT, AT + bodies[k].length);
        assert.type(p, 'object', `#${done + k} ${name}: ${p}`);
        assert.is(p.type, code);
        const spec = PERFS.find((x) => x[0] == code)![2];
        assert.equal(asTheirs(p, spec), norm(asTheirs(ours, spec)), `#${done + k} ${name}`);
      });
      done += batch.length;
    }
    console.log(`  differential (rhea frames -> our reader): ${N} performatives, seed ${rng.seed}`);
  });
});

test(`differential: ${N} random messages both ways`, () => {
  const rng = createRng();
  withSeed(rng, () => {
    for (let i = 0; i < N; i++) {
      const props: any = {}, app: any = {}, ann: any = {};
      for (let k = rng.int(4); k--; ) app[randomText(rng)] = rng.chance(0.5) ? randomText(rng) : rng.chance(0.5);
      for (let k = rng.int(3); k--; ) ann['x-opt-' + randomText(rng, true)] = randomText(rng);
      if (rng.chance(0.5)) props.messageId = randomText(rng);
      if (rng.chance(0.5)) props.to = randomText(rng);
      if (rng.chance(0.5)) props.correlationId = randomText(rng);
      if (rng.chance(0.5)) props.contentType = randomText(rng, true);
      if (rng.chance(0.3)) props.creationTime = rng.int(2 ** 42);
      const data = rng.bytes(rng.chance(0.1) ? 400 : rng.int(64));
      const m: P.Message = { messageAnnotations: ann, applicationProperties: app, data };
      if (Object.keys(props).length) m.properties = props;
      if (rng.chance(0.3)) m.header = { durable: rng.chance(0.5), ttl: rng.int(100000) };
      // ours -> rhea
      const n = P.sizeMessage(m), b = new Uint8Array(n);
      assert.is(P.writeMessage(b, 0, m), n);
      const rm = rmessage.decode(Buffer.from(b));
      assert.equal(norm(new Uint8Array(rm.body.content)), norm(data), `#${i} data`);
      assert.equal(rm.application_properties || {}, app, `#${i} application-properties`);
      assert.equal(rm.message_annotations || {}, ann, `#${i} message-annotations`);
      if (props.to) assert.is(rm.to, props.to);
      if (props.messageId) assert.is(rm.message_id, props.messageId);
      if (props.creationTime) assert.is(rm.creation_time.getTime(), props.creationTime);
      if (m.header) assert.is(rm.ttl, m.header.ttl);
      // rhea -> ours
      const rb = rmessage.encode({
        body: rmessage.data_section(Buffer.from(data)), application_properties: app, message_annotations: ann,
        ...(props.to ? { to: props.to } : {}), ...(props.messageId ? { message_id: props.messageId } : {}),
        ...(props.correlationId ? { correlation_id: props.correlationId } : {}), ...(props.contentType ? { content_type: props.contentType } : {}),
        ...(props.creationTime ? { creation_time: new Date(props.creationTime) } : {}),
        ...(m.header ? { durable: m.header.durable, ttl: m.header.ttl } : {}),
      });
      const g = guarded(new Uint8Array(rb));
      const d = P.decodeMessage(g, AT, AT + rb.length);
      assert.type(d, 'object', `#${i}: ${d}`);
      assert.equal(norm(d.data), norm(data));
      const plain = (o: any) => Object.fromEntries(Object.entries(o || {}));
      if (Object.keys(app).length) assert.equal(plain(d.applicationProperties), app, `#${i} application-properties`);
      if (Object.keys(ann).length) assert.equal(plain(d.messageAnnotations), ann, `#${i} message-annotations`);
      for (const k of ['to', 'messageId', 'correlationId', 'contentType']) if (props[k]) assert.is(d.properties[k], props[k], `#${i} ${k}`);
      if (props.creationTime) assert.is(d.properties.creationTime, props.creationTime);
      if (m.header) assert.equal([d.header.durable, d.header.ttl], [m.header.durable, m.header.ttl]);
    }
    console.log(`  differential (messages both ways): ${N}, seed ${rng.seed}`);
  });
});

test.run();
