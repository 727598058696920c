import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createOutbox, reserve, recordSize, Outbox, SENT } from '../../src/memory';
import {
  recordId, findRecord, acknowledge, prepareResend, forget, release, Subs, WAITS, KIND, PUB1, PUB2, REL, SUB, UNSUB,
  H_PUBLISH, H_PUBACK, H_PUBREL, H_PUBCOMP, H_SUBSCRIBE, H_UNSUBSCRIBE, H_PINGREQ, DUP, RETAIN,
} from '../../src/mqtt/state';
import {
  encodePublish, encodeAck, encodeSubscribe, encodeUnsubscribe, encodeEmpty, sizePublish, sizeSubscribe, sizeUnsubscribe,
  PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGREQ, DISCONNECT,
} from '../../src/mqtt/codec';
import { E_SUBACK, E_UNKNOWN_ID } from '../../src/errors';
import { hex } from '../helpers/bytes';

// The outbox's state transitions (src/mqtt/state.ts) from tables, without a transport or a client: each row gives the
// records before (a compact notation), the transition, the code it must return and the records after it.
//
// A record is written "[*]kind[+dup][+retain] id[ filter qos]": `*` for SENT, kind pub0/pub1/pub2 (PUBLISH QoS 0-2),
// rel (PUBREL), sub, unsub, puback, pubrec, pubcomp, ping, disc. E.g. "*pub1+dup 5", "sub 8 a/# 1", "ping".

/** Builds an outbox holding the records, encoded as the client encodes them. */
function outbox(records: string[]): Outbox {
  const m = createOutbox(1024, 256);
  for (const r of records) {
    const [head, id = '0', filter = 't/' + id, qos = '0'] = r.split(' ');
    const sent = head[0] == '*', [kind, ...flags] = head.replace('*', '').split('+');
    const n = +id, b = m._buf;
    let size: number, enc: (q: number) => number;
    if (kind.startsWith('pub') && kind.length == 4) {
      const q = +kind[3];
      size = sizePublish('t', 'x', q);
      enc = (o) => encodePublish(b, o, 't', 'x', q, flags.includes('retain'), flags.includes('dup'), n);
    } else if (kind == 'sub') (size = sizeSubscribe(filter, +qos)), (enc = (o) => encodeSubscribe(b, o, n, filter, +qos));
    else if (kind == 'unsub') (size = sizeUnsubscribe(filter)), (enc = (o) => encodeUnsubscribe(b, o, n, filter));
    else if (kind == 'ping' || kind == 'disc') (size = 2), (enc = (o) => encodeEmpty(b, o, kind == 'ping' ? PINGREQ : DISCONNECT));
    else {
      const t = { puback: PUBACK, pubrec: PUBREC, rel: PUBREL, pubcomp: PUBCOMP }[kind];
      assert.ok(t, 'kind ' + kind);
      (size = 4), (enc = (o) => encodeAck(b, o, t!, n));
    }
    const q = reserve(m, size, 0);
    assert.ok(q > 0);
    assert.is(enc(q), q + size, r);
    // a streamed QoS 0 message carries DUP as its marker (the encoder never sets it on QoS 0)
    if (flags.includes('dup')) b[q] |= DUP;
    if (sent) b[q - 1] = SENT;
  }
  return m;
}

const NAMES: { [h: number]: string } = { [H_PUBACK]: 'puback', [H_PUBACK + 16]: 'pubrec', [H_PUBREL]: 'rel', [H_PUBCOMP]: 'pubcomp', [H_SUBSCRIBE]: 'sub', [H_UNSUBSCRIBE]: 'unsub', [H_PINGREQ]: 'ping', [DISCONNECT << 4]: 'disc' };

/** The records in the notation above (a subscription's filter and QoS too). */
function records(m: Outbox): string[] {
  const out: string[] = [], b = m._buf;
  for (let p = m._head; p < m._tail; p += recordSize(m, p)) {
    const h = b[p + 1], s = b[p] == SENT ? '*' : b[p] == 0 ? '' : `state${b[p]}:`;
    if (h >> 4 == H_PUBLISH >> 4) {
      const q = (h >> 1) & 3;
      out.push(`${s}pub${q}${h & DUP ? '+dup' : ''}${h & RETAIN ? '+retain' : ''} ${q ? recordId(m, p) : 0}`);
    } else if (h == H_PINGREQ || h == DISCONNECT << 4) out.push(s + NAMES[h]);
    else {
      assert.ok(NAMES[h], 'a first byte the client queues: ' + h);
      let r = `${s}${NAMES[h]} ${recordId(m, p)}`;
      if (h == H_SUBSCRIBE || h == H_UNSUBSCRIBE) {
        const k = recordSize(m, p, true) + 2, len = (b[k] << 8) | b[k + 1], f = String.fromCharCode(...b.subarray(k + 2, k + 2 + len));
        r += ' ' + f + (h == H_SUBSCRIBE ? ' ' + b[k + 2 + len] : '');
      }
      out.push(r);
    }
  }
  return out;
}

test('the notation reads back what it builds', () => {
  const all = ['*pub1+dup+retain 5', 'pub0 0', 'pub0+dup 0', '*pub2 6', 'rel 7', '*sub 8 a/# 1', 'unsub 9 b/+', 'puback 1', 'pubrec 2', 'pubcomp 3', 'ping', 'disc'];
  assert.equal(records(outbox(all)), all);
});

test('WAITS: set in the first byte of exactly the records that wait for an answer', () => {
  // every first byte the client queues: PUBLISH with each QoS, DUP and RETAIN; the acks; PINGREQ; DISCONNECT
  const waits: number[] = [], rest: number[] = [];
  for (let f = 0; f < 16; f++) if (((f >> 1) & 3) < 3) (((f >> 1) & 3) ? waits : rest).push(H_PUBLISH | f);
  waits.push(H_PUBREL, H_SUBSCRIBE, H_UNSUBSCRIBE);
  rest.push(H_PUBACK, PUBREC << 4, H_PUBCOMP, H_PINGREQ, DISCONNECT << 4);
  for (const h of waits) assert.ok(h & WAITS, h.toString(16));
  for (const h of rest) assert.not.ok(h & WAITS, h.toString(16));
  // and the kinds under their mask
  assert.equal([0x32, 0x3b, 0x34, 0x3d].map((h) => h & KIND), [PUB1, PUB1, PUB2, PUB2]);
  assert.equal([REL, SUB, UNSUB], [0x62, 0x82, 0xa2]);
});

test('recordId: after the topic for PUBLISH, first in the body for the others', () => {
  const m = createOutbox(256, 0), b = m._buf;
  const a = reserve(m, 2 + 2 + 5 + 2 + 1, 0);
  encodePublish(b, a, 'a/€', 'x', 1, false, false, 0x1234);
  const r = reserve(m, 4, 0);
  encodeAck(b, r, PUBREL, 0xbeef);
  const s = reserve(m, 2 + 2 + 5 + 1, 0);
  encodeSubscribe(b, s, 7, 'x/#', 1);
  assert.equal([recordId(m, a - 1), recordId(m, r - 1), recordId(m, s - 1)], [0x1234, 0xbeef, 7]);
});

test('findRecord: first byte under a mask and id (0: any id); -1 otherwise', () => {
  const m = outbox(['*pub1+dup+retain 5', 'pub2 5', 'rel 6', 'rel 7']);
  const at = (i: number) => { let p = m._head; while (i--) p += recordSize(m, p); return p; };
  const rows: [number, number, number, number][] = [
    [5, KIND, PUB1, 0], // DUP and RETAIN masked off
    [5, KIND, PUB2, 1], // the same id, the other kind
    [6, KIND, PUB1, -1],
    [0, 0xff, REL, 2], // any id: the first
    [7, 0xff, REL, 3],
    [5, 0xff, REL, -1],
    [7, 0, 0, 3], // any kind (the store's replay)
  ];
  for (const [id, mask, kind, i] of rows) assert.is(findRecord(m, id, mask, kind), i < 0 ? -1 : at(i), `${id} ${mask} ${kind}`);
});

// acknowledge: every kind of record that waits, against every acknowledgement, with its own id and another one.
// The expected outcome of the right id, by record kind then ack: what the record becomes ('-' it leaves, '=' no
// record matches: E_UNKNOWN_ID, nothing changes).
const ACKS: [string, number][] = [['PUBACK', PUBACK], ['PUBREC', PUBREC], ['PUBCOMP', PUBCOMP], ['SUBACK', SUBACK], ['UNSUBACK', UNSUBACK]];
const MATRIX: { [kind: string]: string[] } = {
  //                   PUBACK  PUBREC    PUBCOMP SUBACK UNSUBACK
  '*pub1 5':          ['-',    '=',      '=',    '=',   '='],
  '*pub1+dup+retain 5': ['-',  '=',      '=',    '=',   '='],
  '*pub2 5':          ['=',    'rel 5',  '=',    '=',   '='],
  'pub2+dup 5':       ['=',    'rel 5',  '=',    '=',   '='],
  '*rel 5':           ['=',    '=',      '-',    '=',   '='],
  '*sub 5 a/+ 1':     ['=',    '=',      '=',    '-',   '='],
  '*unsub 5 a/+':     ['=',    '=',      '=',    '=',   '-'],
  // the transient records are never acknowledged
  'pub0 0':           ['=',    '=',      '=',    '=',   '='],
  'puback 5':         ['=',    '=',      '=',    '=',   '='],
  'pubrec 5':         ['=',    '=',      '=',    '=',   '='],
  'pubcomp 5':        ['=',    '=',      '=',    '=',   '='],
};

for (const [kind, outcomes] of Object.entries(MATRIX)) {
  test(`acknowledge: a "${kind}" record, between two others, against each acknowledgement (its id, then another)`, () => {
    ACKS.forEach(([name, t], i) => {
      const before = ['*pub1 1', kind, 'pub1 9'];
      for (const id of [5, 6]) {
        const m = outbox(before), subs: Subs = {};
        const code = acknowledge(m, t, id, subs, t == SUBACK ? 1 : 0);
        const want = id == 6 ? '=' : outcomes[i];
        assert.is(code, want == '=' ? E_UNKNOWN_ID : 0, `${name} ${id}`);
        assert.equal(records(m), want == '=' ? before : want == '-' ? [before[0], before[2]] : [before[0], want, before[2]], `${name} ${id}`);
      }
    });
  });
}

test('acknowledge: the first record (the usual order) leaves by moving the head; the PUBREL of a head PUBLISH stays first', () => {
  let m = outbox(['*pub1 1', '*pub1 2']);
  const second = m._head + recordSize(m, m._head), tail = m._tail;
  assert.is(acknowledge(m, PUBACK, 1, {}, 0), 0);
  assert.equal([m._head, m._tail], [second, tail]);
  m = outbox(['*pub2 3', '*pub1 4']);
  assert.is(acknowledge(m, PUBREC, 3, {}, 0), 0);
  assert.equal(records(m), ['rel 3', '*pub1 4']);
  assert.is(hex(m._buf.subarray(m._head, m._head + 5)), '00 62 02 00 03');
});

test('acknowledge: a duplicate acknowledgement finds nothing the second time', () => {
  const rows: [string[], number, number, string[], string[]][] = [
    // records, ack, id, after the first, after the second (unchanged: E_UNKNOWN_ID)
    [['*pub1 5', 'pub1 6'], PUBACK, 5, ['pub1 6'], ['pub1 6']],
    [['*pub2 5'], PUBREC, 5, ['rel 5'], ['rel 5']],
    [['*rel 5'], PUBCOMP, 5, [], []],
    [['*sub 5 a 0'], SUBACK, 5, [], []],
    [['*unsub 5 a'], UNSUBACK, 5, [], []],
  ];
  for (const [before, t, id, once, twice] of rows) {
    const m = outbox(before);
    assert.is(acknowledge(m, t, id, {}, 0), 0);
    assert.equal(records(m), once);
    assert.is(acknowledge(m, t, id, {}, 0), E_UNKNOWN_ID, before[0]);
    assert.equal(records(m), twice);
  }
});

test('acknowledge: of two records of a kind, the one with the id', () => {
  const m = outbox(['*pub1 5', '*pub1 6', '*pub1 7']);
  assert.is(acknowledge(m, PUBACK, 6, {}, 0), 0);
  assert.equal(records(m), ['*pub1 5', '*pub1 7']);
  assert.is(acknowledge(m, PUBACK, 7, {}, 0), 0);
  assert.equal(records(m), ['*pub1 5']);
});

test('acknowledge: SUBACK and UNSUBACK keep the granted filters (the QoS asked for), a refusal gives E_SUBACK', () => {
  const rows: [string, number, number, Subs, number, Subs][] = [
    // record, ack, return code g, subs before, code, subs after
    ['*sub 5 a/# 2', SUBACK, 0, {}, 0, { 'a/#': 2 }], // granted lower than asked: the QoS asked for is kept
    ['*sub 5 a/# 1', SUBACK, 1, { b: 0 }, 0, { b: 0, 'a/#': 1 }],
    ['*sub 5 a/# 0', SUBACK, 2, { 'a/#': 1 }, 0, { 'a/#': 0 }], // asked again with another QoS
    ['*sub 5 a/# 1', SUBACK, 0x80, { b: 0 }, E_SUBACK, { b: 0 }], // refused: the record leaves, nothing kept
    ['*sub 5 a/# 1', SUBACK, 0x80, { 'a/#': 1 }, E_SUBACK, { 'a/#': 1 }], // a refused second ask keeps the first grant
    ['*unsub 5 a/#', UNSUBACK, 0, { 'a/#': 1, b: 0 }, 0, { b: 0 }],
    ['*unsub 5 c', UNSUBACK, 0, { b: 0 }, 0, { b: 0 }],
    ['*sub 6 a/# 1', SUBACK, 0, {}, E_UNKNOWN_ID, {}], // not this id (5): nothing kept
  ];
  for (const [rec, t, g, subs, code, after] of rows) {
    const m = outbox([rec]);
    assert.is(acknowledge(m, t, 5, subs, g), code, rec + ' ' + g);
    assert.equal(subs, after, rec + ' ' + g);
    assert.equal(records(m), code == E_UNKNOWN_ID ? [rec] : []);
  }
});

// prepareResend: the records before, then after a CONNACK with a session and without one.
const RESEND: [string, string[], string[], string[]][] = [
  [
    'acks and pings leave; sent PUBLISH QoS 1/2 get DUP; everything unsent again; without a session PUBRELs are marked',
    ['*pub1 1', 'puback 7', 'pub1 2', 'pubrec 8', '*rel 3', 'pubcomp 9', 'ping', '*pub2 4', 'pub0 0', '*sub 5 a 1', 'unsub 6 b'],
    ['pub1+dup 1', 'pub1 2', 'rel 3', 'pub2+dup 4', 'pub0 0', 'sub 5 a 1', 'unsub 6 b'],
    ['pub1+dup 1', 'pub1 2', '*rel 3', 'pub2+dup 4', 'pub0 0', 'sub 5 a 1', 'unsub 6 b'],
  ],
  ['transients first, and one after another', ['puback 1', 'ping', 'pubrec 2', '*pub1 3'], ['pub1+dup 3'], ['pub1+dup 3']],
  ['transients last', ['*pub1 3', 'pubcomp 1', 'ping'], ['pub1+dup 3'], ['pub1+dup 3']],
  ['only transients: empty', ['ping', 'puback 4'], [], []],
  ['empty', [], [], []],
  ['a resent message keeps its DUP and RETAIN', ['*pub1+dup+retain 1', 'pub2+retain 2'], ['pub1+dup+retain 1', 'pub2+retain 2'], ['pub1+dup+retain 1', 'pub2+retain 2']],
  ['QoS 0 never gets DUP; a streamed one keeps its marker', ['pub0 0', 'pub0+dup 0', 'pub0+retain 0'], ['pub0 0', 'pub0+dup 0', 'pub0+retain 0'], ['pub0 0', 'pub0+dup 0', 'pub0+retain 0']],
  ['PUBRELs, sent or not', ['rel 1', '*rel 2', '*pub1 3'], ['rel 1', 'rel 2', 'pub1+dup 3'], ['*rel 1', '*rel 2', 'pub1+dup 3']],
  ['DISCONNECT stays (end() empties the outbox after it)', ['disc'], ['disc'], ['disc']],
];

for (const [what, before, session, none] of RESEND) {
  test(`prepareResend: ${what}`, () => {
    for (const [sp, want] of [[1, session], [0, none]] as [number, string[]][]) {
      const m = outbox(before);
      assert.is(prepareResend(m, sp), undefined);
      assert.equal(records(m), want, `session ${sp}`);
      // a second connection finds the outbox as the first left it, but for the DUP flags gained (idempotent)
      prepareResend(m, sp);
      assert.equal(records(m), want, `again, session ${sp}`);
    }
  });
}

test('forget: without a session, each PUBREL leaves in order, its id returned; then 0', () => {
  const m = outbox(['*pub1 1', '*rel 2', 'pub0 0', '*rel 3', 'sub 4 a 0']);
  prepareResend(m, 0);
  assert.equal(records(m), ['pub1+dup 1', '*rel 2', 'pub0 0', '*rel 3', 'sub 4 a 0']);
  assert.is(forget(m), 2);
  assert.equal(records(m), ['pub1+dup 1', 'pub0 0', '*rel 3', 'sub 4 a 0']);
  assert.is(forget(m), 3);
  assert.equal(records(m), ['pub1+dup 1', 'pub0 0', 'sub 4 a 0']);
  assert.is(forget(m), 0);
  assert.equal(records(m), ['pub1+dup 1', 'pub0 0', 'sub 4 a 0']);
  assert.is(forget(outbox([])), 0);
});

test('release: a QoS 2 PUBLISH becomes its PUBREL in its last 5 bytes (first: the head moves; else the next records move back)', () => {
  for (const before of [['*pub2 7', 'pub1 8'], ['pub1 6', '*pub2+dup+retain 7', 'pub1 8']]) {
    const m = outbox(before), p = findRecord(m, 7, KIND, PUB2), end = p + recordSize(m, p), next = hex(m._buf.subarray(end, m._tail));
    const q = release(m, p, 7);
    assert.is(q, p == m._start ? end - 5 : p);
    assert.is(hex(m._buf.subarray(q, q + 5)), '00 62 02 00 07');
    assert.is(hex(m._buf.subarray(q + 5, m._tail)), next, 'the next records, the same bytes right after it');
    assert.equal(records(m), before.map((r) => (r.endsWith(' 7') ? 'rel 7' : r)));
  }
});

test.run();
