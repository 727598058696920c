import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  encodeConnect, encodePublish, encodeAck, encodeSubscribe, encodeUnsubscribe, encodeEmpty, sizeConnect, sizePublish, sizeSubscribe, sizeUnsubscribe,
  sizeFilter, sizeTopic, sizePayload, decodePublish, ConnectFields, Payload, PublishHeader, PUBACK, PUBREC, PUBREL, PUBCOMP, PINGREQ, DISCONNECT,
} from '../../src/mqtt/codec';
import { createReader } from '../../src/mqtt/reader';
import * as E from '../../src/errors';
import { u8, mstr, hex, canaryBuffer, trampled, untouched, AT } from '../helpers/bytes';
import { refParseOne, refGenerate, readAll, pick, Packet, Decoded } from '../helpers/mqtt';

// Every vector is an annotated byte array checked four ways, as mqtt-packet's test.js does:
//   generate  our encoder writes exactly these bytes (at an offset, canaries around them), or
//   parse     our reader + decoder read them back as the expected packet;
//   mirror    mqtt-packet parses our bytes to the expected packet, and its generate() gives our bytes;
//   stream    the same bytes fed one at a time give the same frame.
// Plus coreMQTT's too-small buffer: one byte short, every encoder returns E_BUFFER and writes nothing.

const buf = (s: string) => Buffer.from(s, 'utf8');

/** The frames a reader finds in `bytes` fed `step` bytes at a time: header byte, remaining length, body hex. */
function frames(bytes: Uint8Array, step: number): string[] {
  const b = new Uint8Array(bytes.length + 1), out: string[] = [];
  const r = createReader(b, b.length, (h, total, pos, len) => (out.push(`${h} ${total} ${pos} ${hex(b.subarray(0, len))}`), 0));
  for (let i = 0; i < bytes.length; i += step) assert.is(r.feed(bytes.subarray(i, i + step)), 0);
  return out;
}

/** The bytes an encoder writes at AT into an exact-size canary buffer, after checking the canaries and a one-byte-short buffer. */
function encodeChecked(enc: (b: Uint8Array, off: number) => number, n: number): Uint8Array {
  const b = canaryBuffer(n);
  assert.is(enc(b, AT), AT + n, 'returns the offset after the frame');
  assert.equal(trampled(b, AT, AT + n), [], 'canaries intact');
  const short = canaryBuffer(n - 1, 0);
  assert.is(enc(short, AT), E.E_BUFFER, 'one byte short: E_BUFFER');
  assert.ok(untouched(short), 'one byte short: nothing written');
  return b.subarray(AT, AT + n);
}

interface EncodeVector {
  name: string;
  bytes: Uint8Array;
  encode: (b: Uint8Array, off: number) => number;
  /** The size function's answer for the same fields, where there is one. */
  size?: () => number;
  /** The packet as mqtt-packet sees it (payloads as Buffers). */
  ref: Packet;
}

function encodeVector(v: EncodeVector) {
  test(`generate: ${v.name}`, () => {
    assert.is(hex(encodeChecked(v.encode, v.bytes.length)), hex(v.bytes));
    if (v.size) assert.is(v.size(), v.bytes.length, 'size agrees with encode');
  });
  test(`mirror: ${v.name}`, () => {
    assert.equal(refParseOne(v.bytes, v.ref), pick(v.ref, v.ref), 'mqtt-packet parses our bytes');
    assert.is(hex(refGenerate(v.ref)), hex(v.bytes), 'mqtt-packet generates the same bytes');
  });
  test(`stream: ${v.name}`, () => {
    const whole = frames(v.bytes, v.bytes.length);
    assert.equal(whole, [`${v.bytes[0]} ${v.bytes.length - (v.bytes[1] & 128 ? 3 : 2)} 0 ${hex(v.bytes.subarray(v.bytes[1] & 128 ? 3 : 2))}`]);
    assert.equal(frames(v.bytes, 1), whole, 'one byte at a time');
  });
}

interface DecodeVector {
  name: string;
  bytes: Uint8Array;
  /** What our reader + decoder give: a packet, or a negative code. */
  decoded: Decoded;
  /** The packet for mqtt-packet's generate(). */
  ref: Packet;
  /** Our encoder for the same packet, where the client also sends it. */
  encode?: (b: Uint8Array, off: number) => number;
}

function decodeVector(v: DecodeVector) {
  const expect = (d: Decoded[]) => d.map((x) => (typeof x == 'number' ? x : pick(x, v.decoded)));
  test(`parse: ${v.name}`, () => {
    const r = readAll([v.bytes]);
    assert.is(r.result, 0);
    assert.equal(expect(r.frames), [v.decoded]);
  });
  test(`generate (mqtt-packet): ${v.name}`, () => {
    assert.is(hex(refGenerate(v.ref)), hex(v.bytes));
  });
  if (v.encode) test(`mirror (our encoder): ${v.name}`, () => {
    assert.is(hex(encodeChecked(v.encode!, v.bytes.length)), hex(v.bytes));
  });
  test(`stream: ${v.name}`, () => {
    const chunks = Array.from(v.bytes, (_, i) => v.bytes.subarray(i, i + 1));
    assert.equal(expect(readAll(chunks).frames), [v.decoded], 'one byte at a time');
    const d = v.decoded;
    if (typeof d != 'number' && d.cmd == 'publish') {
      // a reader that holds only the PUBLISH header: the payload comes in parts, one byte each
      const cap = 2 + Buffer.byteLength(d.topic as string) + (d.qos ? 2 : 0);
      assert.equal(expect(readAll(chunks, cap).frames), [d], `capacity ${cap}`);
    }
  });
}

// ---------------------------------------------------------------- CONNECT [MQTT-3.1]

const connect = (c: ConnectFields) => ({ encode: (b: Uint8Array, o: number) => encodeConnect(b, o, c), size: () => sizeConnect(c) });
const CONNECT_REF = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4 } as const;

encodeVector({
  name: 'CONNECT clean, keepalive 60, client id "dev1"',
  ...connect({ clientId: 'dev1', keepalive: 60, clean: true }),
  bytes: u8(
    0x10, 16,            // CONNECT, remaining length 16
    mstr('MQTT'), 4,     // protocol name, level 4 [MQTT-3.1.2-1], [MQTT-3.1.2-2]
    0x02,                // connect flags: clean session
    0, 60,               // keep alive 60 s
    mstr('dev1')),       // client id
  ref: { ...CONNECT_REF, clientId: 'dev1', keepalive: 60, clean: true },
});

encodeVector({
  name: 'CONNECT persistent session, keepalive 0 (off)',
  ...connect({ clientId: 'c', keepalive: 0, clean: false }),
  bytes: u8(0x10, 13, mstr('MQTT'), 4, 0x00, 0, 0, mstr('c')),
  ref: { ...CONNECT_REF, clientId: 'c', keepalive: 0, clean: false },
});

encodeVector({
  name: 'CONNECT empty client id with clean session [MQTT-3.1.3-6], keepalive 65535',
  ...connect({ clientId: '', keepalive: 65535, clean: true }),
  bytes: u8(0x10, 12, mstr('MQTT'), 4, 0x02, 0xff, 0xff, 0, 0),
  ref: { ...CONNECT_REF, clientId: '', keepalive: 65535, clean: true },
});

encodeVector({
  name: 'CONNECT with will (QoS 1, retain), user name and password',
  ...connect({ clientId: 'd', keepalive: 30, clean: true, username: 'u', password: 'pw', will: { topic: 'w/t', payload: 'bye', qos: 1, retain: true } }),
  bytes: u8(
    0x10, 30,
    mstr('MQTT'), 4,
    0xee,                // user name | password | will retain | will QoS 1 | will | clean
    0, 30,
    mstr('d'),
    mstr('w/t'),         // will topic
    0, 3, 'bye',         // will message: two length bytes + bytes
    mstr('u'),           // user name
    0, 2, 'pw'),         // password: two length bytes + bytes
  ref: { ...CONNECT_REF, clientId: 'd', keepalive: 30, clean: true, username: 'u', password: buf('pw'), will: { topic: 'w/t', payload: buf('bye'), qos: 1, retain: true } },
});

encodeVector({
  name: 'CONNECT with will QoS 2 (binary message), UTF-8 client id, no user name',
  ...connect({ clientId: 'gerät-ü', keepalive: 10, clean: false, will: { topic: 'ä/€', payload: Uint8Array.of(0, 255), qos: 2 } }),
  bytes: u8(0x10, 33, mstr('MQTT'), 4, 0x14, 0, 10, mstr('gerät-ü'), mstr('ä/€'), 0, 2, 0, 255),
  ref: { ...CONNECT_REF, clientId: 'gerät-ü', keepalive: 10, clean: false, will: { topic: 'ä/€', payload: Buffer.of(0, 255), qos: 2, retain: false } },
});

encodeVector({
  name: 'CONNECT with user name only, then with a binary password',
  ...connect({ clientId: 'x', keepalive: 5, clean: true, username: 'user', password: Uint8Array.of(1, 2, 3) }),
  bytes: u8(0x10, 24, mstr('MQTT'), 4, 0xc2, 0, 5, mstr('x'), mstr('user'), 0, 3, 1, 2, 3),
  ref: { ...CONNECT_REF, clientId: 'x', keepalive: 5, clean: true, username: 'user', password: Buffer.of(1, 2, 3) },
});

encodeVector({
  name: 'CONNECT with user name and no password',
  ...connect({ clientId: 'x', keepalive: 5, clean: true, username: '' }),
  bytes: u8(0x10, 15, mstr('MQTT'), 4, 0x82, 0, 5, mstr('x'), mstr('')),
  ref: { ...CONNECT_REF, clientId: 'x', keepalive: 5, clean: true, username: '' },
});

// ---------------------------------------------------------------- PUBLISH [MQTT-3.3]: both directions

function publishVector(name: string, topic: string, payload: Payload, qos: number, retain: boolean, dup: boolean, id: number, bytes: Uint8Array) {
  const pl = typeof payload == 'string' ? buf(payload) : Buffer.from(payload);
  const ref: Packet = { cmd: 'publish', topic, payload: pl, qos, retain, dup, ...(qos ? { messageId: id } : {}) };
  const encode = (b: Uint8Array, o: number) => encodePublish(b, o, topic, payload, qos, retain, dup, id);
  encodeVector({ name, bytes, encode, size: () => sizePublish(topic, payload, qos), ref });
  decodeVector({ name, bytes, ref, decoded: { ...ref, payload: pl.toString('hex') } });
}

publishVector('PUBLISH QoS 0', 't', 'hi', 0, false, false, 0, u8(
  0x30, 5,               // PUBLISH, QoS 0, remaining length 5
  mstr('t'),             // topic
  'hi'));                // payload: the rest of the frame, no length [MQTT-3.3.3]
publishVector('PUBLISH QoS 1, retain', 'a/b', 'x', 1, true, false, 1, u8(0x33, 8, mstr('a/b'), 0, 1, 'x'));
publishVector('PUBLISH QoS 2, DUP', 'a/b', 'x', 2, false, true, 0xabcd, u8(0x3c, 8, mstr('a/b'), 0xab, 0xcd, 'x'));
publishVector('PUBLISH QoS 1, DUP and retain, id 65535', 'q', 'z', 1, true, true, 65535, u8(0x3b, 6, mstr('q'), 0xff, 0xff, 'z'));
publishVector('PUBLISH UTF-8 topic (2, 3, 4-byte), binary payload', 'ä/€/😀', Uint8Array.of(0, 1, 255), 0, false, false, 0,
  u8(0x30, 16, 0, 11, 0xc3, 0xa4, 0x2f, 0xe2, 0x82, 0xac, 0x2f, 0xf0, 0x9f, 0x98, 0x80, 0, 1, 255));
publishVector('PUBLISH string payload is UTF-8', 't', 'é€', 0, false, false, 0, u8(0x30, 8, mstr('t'), 0xc3, 0xa9, 0xe2, 0x82, 0xac));
publishVector('PUBLISH empty payload', 'e', '', 0, false, false, 0, u8(0x30, 3, mstr('e')));
publishVector('PUBLISH empty payload QoS 1', 'e', new Uint8Array(0), 1, false, false, 7, u8(0x32, 5, mstr('e'), 0, 7));
publishVector('PUBLISH 200-byte payload: 2-byte remaining length', 'big', new Uint8Array(200).fill(0x5a), 1, false, false, 2,
  u8(0x32, 0xcf, 0x01, mstr('big'), 0, 2, new Uint8Array(200).fill(0x5a)));

test('encode: DUP is never set on QoS 0 [MQTT-3.3.1-2]', () => {
  const b = new Uint8Array(8);
  assert.is(encodePublish(b, 0, 't', 'x', 0, false, true, 9), 6);
  assert.is(hex(b.subarray(0, 6)), hex(u8(0x30, 4, mstr('t'), 'x')));
});

// ---------------------------------------------------------------- PUBACK, PUBREC, PUBREL, PUBCOMP [MQTT-3.4..3.7]

for (const [type, cmd, byte1] of [[PUBACK, 'puback', 0x40], [PUBREC, 'pubrec', 0x50], [PUBREL, 'pubrel', 0x62], [PUBCOMP, 'pubcomp', 0x70]] as const) {
  for (const id of [1, 0x1234]) {
    const name = `${cmd.toUpperCase()} id ${id}${type == PUBREL ? ' (flags 0010 [MQTT-3.6.1-1])' : ''}`;
    const bytes = u8(byte1, 2, id >> 8, id & 255), ref = { cmd, messageId: id };
    const encode = (b: Uint8Array, o: number) => encodeAck(b, o, type, id);
    encodeVector({ name, bytes, encode, ref });
    decodeVector({ name, bytes, ref, decoded: ref });
  }
}

// ---------------------------------------------------------------- SUBSCRIBE, UNSUBSCRIBE [MQTT-3.8], [MQTT-3.10]

encodeVector({
  name: 'SUBSCRIBE one filter, QoS 1 (flags 0010 [MQTT-3.8.1-1])',
  encode: (b, o) => encodeSubscribe(b, o, 10, 'a/+/c', 1),
  size: () => sizeSubscribe('a/+/c', 1),
  bytes: u8(
    0x82, 10,            // SUBSCRIBE, flags 0010
    0, 10,               // packet id
    mstr('a/+/c'),       // topic filter
    1),                  // requested QoS
  ref: { cmd: 'subscribe', messageId: 10, subscriptions: [{ topic: 'a/+/c', qos: 1 }] },
});

encodeVector({
  name: 'SUBSCRIBE "#" QoS 2, UTF-8 filter QoS 0',
  encode: (b, o) => encodeSubscribe(b, o, 0xffff, '€/#', 0),
  size: () => sizeSubscribe('€/#', 0),
  bytes: u8(0x82, 10, 0xff, 0xff, mstr('€/#'), 0),
  ref: { cmd: 'subscribe', messageId: 0xffff, subscriptions: [{ topic: '€/#', qos: 0 }] },
});

encodeVector({
  name: 'UNSUBSCRIBE one filter (flags 0010 [MQTT-3.10.1-1])',
  encode: (b, o) => encodeUnsubscribe(b, o, 3, 'a/#'),
  size: () => sizeUnsubscribe('a/#'),
  bytes: u8(0xa2, 7, 0, 3, mstr('a/#')),
  ref: { cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['a/#'] },
});

// ---------------------------------------------------------------- PINGREQ, DISCONNECT [MQTT-3.12], [MQTT-3.14]

encodeVector({ name: 'PINGREQ', encode: (b, o) => encodeEmpty(b, o, PINGREQ), bytes: u8(0xc0, 0), ref: { cmd: 'pingreq' } });
encodeVector({ name: 'DISCONNECT', encode: (b, o) => encodeEmpty(b, o, DISCONNECT), bytes: u8(0xe0, 0), ref: { cmd: 'disconnect' } });

// ---------------------------------------------------------------- what only the client receives

decodeVector({ name: 'CONNACK accepted, no session', bytes: u8(0x20, 2, 0, 0), ref: { cmd: 'connack', sessionPresent: false, returnCode: 0 }, decoded: { cmd: 'connack', sessionPresent: false } });
decodeVector({ name: 'CONNACK accepted, session present', bytes: u8(0x20, 2, 1, 0), ref: { cmd: 'connack', sessionPresent: true, returnCode: 0 }, decoded: { cmd: 'connack', sessionPresent: true } });
const REFUSED = [E.E_REFUSED_PROTOCOL, E.E_REFUSED_ID, E.E_REFUSED_UNAVAILABLE, E.E_REFUSED_CREDENTIALS, E.E_REFUSED_AUTH];
const REFUSED_NAMES = ['unacceptable protocol version', 'identifier rejected', 'server unavailable', 'bad user name or password', 'not authorized'];
for (let rc = 1; rc <= 5; rc++)
  decodeVector({ name: `CONNACK return code ${rc} (${REFUSED_NAMES[rc - 1]}) is E_REFUSED_* [MQTT-3.2.2.3]`, bytes: u8(0x20, 2, 0, rc), ref: { cmd: 'connack', sessionPresent: false, returnCode: rc }, decoded: REFUSED[rc - 1] });
for (const rc of [6, 0x80, 0xff])
  decodeVector({ name: `CONNACK return code ${rc} (reserved) is E_REFUSED`, bytes: u8(0x20, 2, 0, rc), ref: { cmd: 'connack', sessionPresent: false, returnCode: rc }, decoded: E.E_REFUSED });

decodeVector({
  name: 'SUBACK with return codes 0, 1, 2 and 0x80 (failure) [MQTT-3.9.3]',
  bytes: u8(
    0x90, 6,             // SUBACK, remaining length 6
    0, 5,                // packet id
    0, 1, 2, 0x80),      // one return code per filter
  ref: { cmd: 'suback', messageId: 5, granted: [0, 1, 2, 0x80] },
  decoded: { cmd: 'suback', messageId: 5, granted: [0, 1, 2, 0x80] },
});
decodeVector({ name: 'UNSUBACK', bytes: u8(0xb0, 2, 0x01, 0x02), ref: { cmd: 'unsuback', messageId: 0x102 }, decoded: { cmd: 'unsuback', messageId: 0x102 } });
decodeVector({ name: 'PINGRESP', bytes: u8(0xd0, 0), ref: { cmd: 'pingresp' }, decoded: { cmd: 'pingresp' } });

// ---------------------------------------------------------------- malformed input: the decoders say why

const DECODE_ERRORS: [string, Uint8Array, number][] = [
  ['[MQTT-2.2.2-2] PUBACK with flags 0001', u8(0x41, 2, 0, 1), E.E_FLAGS],
  ['[MQTT-2.2.2-2] PUBREC with flags 1000', u8(0x58, 2, 0, 1), E.E_FLAGS],
  ['[MQTT-2.2.2-2] [MQTT-3.6.1-1] PUBREL with flags 0000', u8(0x60, 2, 0, 1), E.E_FLAGS],
  ['[MQTT-2.2.2-2] PUBREL with flags 0011', u8(0x63, 2, 0, 1), E.E_FLAGS],
  ['[MQTT-2.2.2-2] PUBCOMP with flags 0010', u8(0x72, 2, 0, 1), E.E_FLAGS],
  ['[MQTT-2.2.2-2] SUBACK with flags 0010', u8(0x92, 3, 0, 1, 0), E.E_FLAGS],
  ['[MQTT-2.2.2-2] UNSUBACK with flags 0010', u8(0xb2, 2, 0, 1), E.E_FLAGS],
  ['[MQTT-2.2.2-2] PINGRESP with flags 0001', u8(0xd1, 0), E.E_FLAGS],
  ['[MQTT-2.2.2-2] CONNACK with flags 0001', u8(0x21, 2, 0, 0), E.E_FLAGS],
  ['§3.2.2.1 CONNACK acknowledge flags bits 7-1 reserved (0x02)', u8(0x20, 2, 2, 0), E.E_MALFORMED],
  ['§3.2.2.1 CONNACK acknowledge flags bits 7-1 reserved (0x80)', u8(0x20, 2, 0x81, 0), E.E_MALFORMED],
  ['§3.2 CONNACK remaining length 3', u8(0x20, 3, 0, 0, 0), E.E_MALFORMED],
  ['§3.2 CONNACK remaining length 1', u8(0x20, 1, 0), E.E_MALFORMED],
  ['§3.2 CONNACK remaining length 0', u8(0x20, 0), E.E_MALFORMED],
  ['§3.4 PUBACK remaining length 3', u8(0x40, 3, 0, 1, 0), E.E_MALFORMED],
  ['§3.4 PUBACK remaining length 1', u8(0x40, 1, 1), E.E_MALFORMED],
  ['§3.4 PUBACK remaining length 0', u8(0x40, 0), E.E_MALFORMED],
  ['§3.12 PINGRESP remaining length 1', u8(0xd0, 1, 0), E.E_MALFORMED],
  ['[MQTT-3.9.3-2] SUBACK return code 3', u8(0x90, 3, 0, 1, 3), E.E_MALFORMED],
  ['[MQTT-3.9.3-2] SUBACK return code 0x81 after a good one', u8(0x90, 4, 0, 1, 0, 0x81), E.E_MALFORMED],
  ['§3.9.3 SUBACK without return codes', u8(0x90, 2, 0, 1), E.E_MALFORMED],
  ['[MQTT-2.3.1-1] PUBACK packet id 0', u8(0x40, 2, 0, 0), E.E_PACKET_ID],
  ['[MQTT-2.3.1-1] PUBREL packet id 0', u8(0x62, 2, 0, 0), E.E_PACKET_ID],
  ['[MQTT-2.3.1-1] SUBACK packet id 0', u8(0x90, 3, 0, 0, 1), E.E_PACKET_ID],
  ['[MQTT-2.3.1-1] PUBLISH QoS 1 packet id 0', u8(0x32, 5, mstr('t'), 0, 0), E.E_PACKET_ID],
  ['[MQTT-3.3.1-4] PUBLISH QoS 3', u8(0x36, 5, mstr('t'), 0, 1), E.E_FLAGS],
  ['[MQTT-3.3.1-2] PUBLISH DUP with QoS 0', u8(0x38, 3, mstr('t')), E.E_FLAGS],
  ['[MQTT-3.3.2-2] PUBLISH topic with "+"', u8(0x30, 5, mstr('a/+')), E.E_TOPIC],
  ['[MQTT-3.3.2-2] PUBLISH topic "#"', u8(0x30, 3, mstr('#')), E.E_TOPIC],
  ['[MQTT-4.7.3-1] PUBLISH empty topic', u8(0x30, 3, mstr(''), 'x'), E.E_TOPIC],
  ['[MQTT-1.5.3-1] PUBLISH topic overlong UTF-8 (C0 80)', u8(0x30, 4, 0, 2, 0xc0, 0x80), E.E_UTF8],
  ['[MQTT-1.5.3-1] PUBLISH topic with a UTF-16 surrogate (ED A0 80)', u8(0x30, 5, 0, 3, 0xed, 0xa0, 0x80), E.E_UTF8],
  ['[MQTT-1.5.3-1] PUBLISH topic truncated UTF-8', u8(0x30, 5, 0, 2, 0x61, 0xe2, 'x'), E.E_UTF8],
  ['[MQTT-1.5.3-2] PUBLISH topic with U+0000', u8(0x30, 5, 0, 3, 0x61, 0, 0x62), E.E_UTF8],
  ['§3.3.2 PUBLISH topic longer than the frame', u8(0x30, 4, 0, 5, 'ab'), E.E_MALFORMED],
  ['§3.3.2 PUBLISH QoS 1 without room for the packet id', u8(0x32, 4, mstr('ab')), E.E_MALFORMED],
  ['§3.3 PUBLISH of one byte', u8(0x30, 1, 0), E.E_MALFORMED],
  ['§3.3 PUBLISH of zero bytes', u8(0x30, 0), E.E_MALFORMED],
];

for (const [name, bytes, code] of DECODE_ERRORS) {
  test(`decode error: ${name} -> ${code}`, () => {
    assert.equal(readAll([bytes]).frames, [code]);
    assert.equal(readAll(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))).frames, [code], 'one byte at a time');
  });
}

test('[MQTT-2.2.3] a fifth remaining-length byte: the reader stops with E_LENGTH', () => {
  const r = readAll([u8(0x30, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 1, 'x')]);
  assert.is(r.result, E.E_LENGTH);
  assert.equal(r.frames, []);
});

// ---------------------------------------------------------------- invalid fields: encoders refuse and write nothing

const b64 = () => canaryBuffer(64);
const ENCODE_ERRORS: [string, (b: Uint8Array, off: number) => number, number][] = [
  ['[MQTT-3.3.2-2] PUBLISH topic with "+"', (b, o) => encodePublish(b, o, 'a/+', 'x', 0, false, false, 0), E.E_TOPIC],
  ['[MQTT-3.3.2-2] PUBLISH topic with "#"', (b, o) => encodePublish(b, o, 'a/#', 'x', 1, false, false, 1), E.E_TOPIC],
  ['[MQTT-4.7.3-1] PUBLISH empty topic', (b, o) => encodePublish(b, o, '', 'x', 0, false, false, 0), E.E_TOPIC],
  ['[MQTT-1.5.3-2] PUBLISH topic with U+0000', (b, o) => encodePublish(b, o, 'a\u0000', 'x', 0, false, false, 0), E.E_UTF8],
  ['[MQTT-1.5.3-1] PUBLISH topic with a lone surrogate', (b, o) => encodePublish(b, o, 'a\ud800', 'x', 0, false, false, 0), E.E_UTF8],
  ['[MQTT-1.5.3-1] PUBLISH payload string with a lone surrogate', (b, o) => encodePublish(b, o, 't', 'x\udc00y', 0, false, false, 0), E.E_UTF8],
  ['[MQTT-3.3.1-4] PUBLISH QoS 3', (b, o) => encodePublish(b, o, 't', 'x', 3, false, false, 1), E.E_QOS],
  ['[MQTT-3.3.1-4] PUBLISH QoS -1', (b, o) => encodePublish(b, o, 't', 'x', -1, false, false, 1), E.E_QOS],
  ['[MQTT-2.3.1-1] PUBLISH QoS 1 packet id 0', (b, o) => encodePublish(b, o, 't', 'x', 1, false, false, 0), E.E_PACKET_ID],
  ['[MQTT-2.3.1-1] PUBLISH QoS 2 packet id 65536', (b, o) => encodePublish(b, o, 't', 'x', 2, false, false, 65536), E.E_PACKET_ID],
  ['[MQTT-1.5.3] PUBLISH topic over 65,535 bytes', (b, o) => encodePublish(b, o, 'é'.repeat(32768), '', 0, false, false, 0), E.E_TOO_LARGE],
  ['[MQTT-2.2.3] PUBLISH over 268,435,455 bytes', (b, o) => encodePublish(b, o, 't', { length: 268435453 } as Uint8Array, 0, false, false, 0), E.E_LENGTH],
  ['[MQTT-2.3.1-1] PUBACK packet id 0', (b, o) => encodeAck(b, o, PUBACK, 0), E.E_PACKET_ID],
  ['[MQTT-2.3.1-1] PUBREL packet id 65536', (b, o) => encodeAck(b, o, PUBREL, 65536), E.E_PACKET_ID],
  ['[MQTT-2.3.1-1] SUBSCRIBE packet id 0', (b, o) => encodeSubscribe(b, o, 0, 'a', 0), E.E_PACKET_ID],
  ['[MQTT-3.8.3-4] SUBSCRIBE QoS 3', (b, o) => encodeSubscribe(b, o, 1, 'a', 3), E.E_QOS],
  ['[MQTT-1.5.3-2] SUBSCRIBE filter with U+0000', (b, o) => encodeSubscribe(b, o, 1, 'a\u0000', 0), E.E_UTF8],
  ['[MQTT-3.1.2-22] CONNECT password without user name', (b, o) => encodeConnect(b, o, { clientId: 'c', keepalive: 0, clean: true, password: 'p' }), E.E_ARGUMENT],
  ['[MQTT-3.1.3-7] CONNECT empty client id without clean session', (b, o) => encodeConnect(b, o, { clientId: '', keepalive: 0, clean: false }), E.E_ARGUMENT],
  ['§3.1.2.10 CONNECT keep alive 65536', (b, o) => encodeConnect(b, o, { clientId: 'c', keepalive: 65536, clean: true }), E.E_ARGUMENT],
  ['§3.1.2.10 CONNECT keep alive -1', (b, o) => encodeConnect(b, o, { clientId: 'c', keepalive: -1, clean: true }), E.E_ARGUMENT],
  ['[MQTT-1.5.3-2] CONNECT client id with U+0000', (b, o) => encodeConnect(b, o, { clientId: 'c\u0000', keepalive: 0, clean: true }), E.E_UTF8],
  ['[MQTT-1.5.3-1] CONNECT user name with a lone surrogate', (b, o) => encodeConnect(b, o, { clientId: 'c', keepalive: 0, clean: true, username: '\udbff' }), E.E_UTF8],
  ['[MQTT-1.5.3-1] CONNECT password string with a lone surrogate', (b, o) => encodeConnect(b, o, { clientId: 'c', keepalive: 0, clean: true, username: 'u', password: '\ud800' }), E.E_UTF8],
  ['[MQTT-1.5.3] CONNECT password over 65,535 bytes', (b, o) => encodeConnect(b, o, { clientId: 'c', keepalive: 0, clean: true, username: 'u', password: new Uint8Array(65536) }), E.E_TOO_LARGE],
  ['[MQTT-1.5.3] CONNECT will message over 65,535 bytes', (b, o) => encodeConnect(b, o, { clientId: 'c', keepalive: 0, clean: true, will: { topic: 'w', payload: 'x'.repeat(65536) } }), E.E_TOO_LARGE],
  ['[MQTT-1.5.3-1] CONNECT will message with a lone surrogate', (b, o) => encodeConnect(b, o, { clientId: 'c', keepalive: 0, clean: true, will: { topic: 'w', payload: '\udfff' } }), E.E_UTF8],
  ['[MQTT-3.1.3-10] CONNECT will topic with a wildcard', (b, o) => encodeConnect(b, o, { clientId: 'c', keepalive: 0, clean: true, will: { topic: 'w/#', payload: '' } }), E.E_TOPIC],
  ['[MQTT-3.1.2-14] CONNECT will QoS 3', (b, o) => encodeConnect(b, o, { clientId: 'c', keepalive: 0, clean: true, will: { topic: 'w', payload: '', qos: 3 } }), E.E_QOS],
];

for (const [name, encode, code] of ENCODE_ERRORS) {
  test(`encode error: ${name} -> ${code}`, () => {
    const b = b64();
    assert.is(encode(b, AT), code);
    assert.ok(untouched(b), 'nothing written');
  });
}

test('size functions give the same codes as the encoders', () => {
  assert.is(sizePublish('a/+', 'x', 0), E.E_TOPIC);
  assert.is(sizePublish('t', 'x', 3), E.E_QOS);
  assert.is(sizePublish('t', '\ud800', 0), E.E_UTF8);
  assert.is(sizeSubscribe('a#', 0), E.E_TOPIC);
  assert.is(sizeSubscribe('a', 3), E.E_QOS);
  assert.is(sizeSubscribe('a', -1), E.E_QOS, 'no UNSUBSCRIBE by another name');
  assert.is(sizeConnect({ clientId: '', keepalive: 0, clean: false }), E.E_ARGUMENT);
});

// ---------------------------------------------------------------- topic names and filters [MQTT-4.7]

test('[MQTT-4.7.1-2] [MQTT-4.7.1-3] topic filters: wildcards only as whole levels, "#" last', () => {
  for (const f of ['#', '+', 'a/+/b', '+/+', '/#', 'a/#', '+/#', '/', 'a//b', '+/', '/+', 'a/b', '€/+/😀'])
    assert.ok(sizeFilter(f) > 0, `good: ${f}`);
  for (const f of ['a/#/b', 'a#', 'a+', '+a', '', '#/a', '##', '++', 'a/b#', 'a/+b', 'a/b+/c', '#+', '+#'])
    assert.is(sizeFilter(f), E.E_TOPIC, `bad: ${f}`);
  for (const f of ['a/#/b', 'a#', '', '+a'])
    assert.is(encodeSubscribe(new Uint8Array(32), 0, 1, f, 0), E.E_TOPIC, `encode refuses: ${f}`);
});

test('[MQTT-4.7.3-1] [MQTT-3.3.2-2] topic names: not empty, no wildcards; "/" and spaces are fine', () => {
  for (const t of ['a', '/', 'a/b', ' ', 'a b', '$SYS/x', '€']) assert.ok(sizeTopic(t) > 0, `good: ${t}`);
  for (const t of ['', '+', '#', 'a/+', 'a/#', 'a+b']) assert.is(sizeTopic(t), E.E_TOPIC, `bad: ${t}`);
});

// ---------------------------------------------------------------- the last topic is remembered (telemetry repeats it)

test('sizeTopic/sizePayload remember the last string: repeats give the same answer, every other string is checked afresh', () => {
  for (const [t, want] of [['a/b', 5], ['a/b', 5], ['a/+', E.E_TOPIC], ['a/+', E.E_TOPIC], ['a/b', 5], ['', E.E_TOPIC], ['€', 5], ['€', 5], ['a\0', E.E_UTF8], ['a\0', E.E_UTF8], ['t', 3]] as const)
    assert.is(sizeTopic(t), want, t);
  for (const [p, want] of [['xy', 2], ['xy', 2], ['\ud800', E.E_UTF8], ['\ud800', E.E_UTF8], ['é', 2], [u8(1, 2, 3), 3], ['é', 2]] as const)
    assert.is(sizePayload(p), want, String(p));
  const b = new Uint8Array(32);
  assert.is(encodePublish(b, 0, 'a/b', 'x', 0, false, false, 0), 8);
  assert.is(encodePublish(b, 0, 'a/#', 'x', 0, false, false, 0), E.E_TOPIC, 'after a good topic, a bad one of the same length');
  assert.is(encodePublish(b, 0, 'a/b', 'x', 0, false, false, 0), 8);
});

test('decodePublish remembers the last ASCII topic: the same bytes give the same string; other bytes are decoded and checked', () => {
  const p = {} as PublishHeader;
  const dec = (...topic: number[]) => {
    const b = u8(0, topic.length, topic, 'x');
    const r = decodePublish(b, 0, b.length, 0x30, p);
    return r < 0 ? r : p.topic;
  };
  const ascii = (s: string) => Array.from(buf(s));
  assert.is(dec(...ascii('a/b')), 'a/b');
  assert.is(dec(...ascii('a/b')), 'a/b', 'again');
  assert.is(dec(...ascii('a/+')), E.E_TOPIC, 'same length, a wildcard');
  assert.is(dec(...ascii('a/b')), 'a/b');
  assert.is(dec(0x61, 0, 0x62), E.E_UTF8, 'same length, U+0000');
  assert.is(dec(0x61, 0x2f, 0xe2), E.E_UTF8, 'same length, truncated UTF-8');
  assert.is(dec(...ascii('é/')), 'é/', 'same byte length, not ASCII');
  assert.is(dec(...ascii('é/')), 'é/', 'again (not remembered, decoded again)');
  assert.is(dec(0xc3, 0xa9, 0x2f), 'é/');
  assert.is(dec(), E.E_TOPIC, 'empty');
  assert.is(dec(...ascii('a/b')), 'a/b');
  assert.is(dec(...ascii('a/bc')), 'a/bc', 'longer');
  assert.is(dec(...ascii('a/')), 'a/', 'shorter');
  assert.is(dec(0x41), 'A');
  assert.is(dec(0), E.E_UTF8, 'one byte U+0000');
  assert.is(dec(0xc4, 0x80), '\u0100');
  assert.is(dec(0), E.E_UTF8, 'still refused after U+0100');
});

test.run();
