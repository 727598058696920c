import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as E from '../../src/errors';
import { u8, mstr, hex } from '../helpers/bytes';
import { refGenerate, Packet } from '../helpers/mqtt';
import { ManualClock } from '../helpers/fake';
import { session, name } from '../helpers/session';

// The session layer against a fake transport and a manual clock: the test is the broker.

const CONNACK = (sp = 0, rc = 0) => u8(0x20, 2, sp, rc);
const PUBACK = (id: number) => u8(0x40, 2, id >> 8, id & 255);
const PUBREC = (id: number) => u8(0x50, 2, id >> 8, id & 255);
const PUBREL = (id: number) => u8(0x62, 2, id >> 8, id & 255);
const PUBCOMP = (id: number) => u8(0x70, 2, id >> 8, id & 255);
const SUBACK = (id: number, ...codes: number[]) => u8(0x90, 2 + codes.length, id >> 8, id & 255, codes);
const UNSUBACK = (id: number) => u8(0xb0, 2, id >> 8, id & 255);
const PINGRESP = u8(0xd0, 0);
/** An incoming PUBLISH made by the reference codec. */
const publish = (topic: string, payload: string | Uint8Array, qos = 0, messageId = 0, more: Partial<Packet> = {}) =>
  refGenerate({ cmd: 'publish', topic, payload: Buffer.from(payload as any), qos, messageId, dup: false, retain: false, ...more });
const cmds = (ps: Packet[]) => ps.map((p) => p.cmd + (p.messageId ? ' ' + p.messageId : '') + (p.dup ? ' dup' : ''));

// ---------------------------------------------------------------- connecting

test('connect: opens host:1883 without TLS and writes CONNECT (clean, keep alive 60, client id)', () => {
  const s = session();
  s.client.connect();
  assert.equal(s.t.opens.map((o) => [o.host, o.port, o.tls]), [['broker.local', 1883, null]]);
  assert.is(hex(s.t.written), hex(u8(0x10, 16, mstr('MQTT'), 4, 0x02, 0, 60, mstr('dev1'))));
  assert.is(s.client.connected(), false, 'not before CONNACK');
  s.t.send(CONNACK());
  assert.equal(s.events(), ['connect false']);
  assert.is(s.client.connected(), true);
});

test('connect: TLS defaults to port 8883; user name, password, will and persistent session go into CONNECT', () => {
  const tls = { servername: 'broker.local' };
  const s = session({ tls, port: 0, username: 'u', password: 'p', clean: false, keepalive: 0, will: { topic: 'w', payload: 'bye', qos: 1 } });
  s.client.connect();
  assert.equal(s.t.opens.map((o) => [o.port, o.tls]), [[8883, tls]]);
  const [c] = s.t.take();
  assert.equal([c.clean, c.keepalive, c.username, String(c.password), (c.will as any).topic, String((c.will as any).payload), (c.will as any).qos], [false, 0, 'u', 'p', 'w', 'bye', 1]);
  s.t.send(CONNACK(1));
  assert.equal(s.events(), ['connect true']);
});

const REFUSALS = ['E_REFUSED_PROTOCOL', 'E_REFUSED_ID', 'E_REFUSED_UNAVAILABLE', 'E_REFUSED_CREDENTIALS', 'E_REFUSED_AUTH'];

for (const rc of [1, 2, 4, 5, 6]) {
  const code = rc < 6 ? REFUSALS[rc - 1] : 'E_REFUSED';
  test(`[MQTT-3.2.2-5] CONNACK return code ${rc}: onError(${code}), closed, and no reconnect loop`, () => {
    const s = session();
    s.client.connect();
    s.t.send(CONNACK(0, rc));
    assert.equal(s.events(), [`error ${code}`, `close ${code}`]);
    assert.is(s.t.isOpen, false);
    assert.is(s.clock.pending(), 0, 'no timer left');
    s.clock.advance(3600e3);
    assert.is(s.t.opens.length, 1, 'never reopened by itself');
    s.client.connect(); // the application may try again (e.g. with a new password)
    assert.is(s.t.opens.length, 2);
  });
}

test('CONNACK return code 3 (server unavailable): onError, then retried after the backoff', () => {
  const s = session();
  s.client.connect();
  s.t.send(CONNACK(0, 3));
  assert.equal(s.events(), ['error E_REFUSED_UNAVAILABLE', 'close E_REFUSED_UNAVAILABLE']);
  s.clock.advance(1000);
  assert.is(s.t.opens.length, 2);
  s.t.send(CONNACK());
  assert.equal(s.events(), ['connect false']);
});

test('no CONNACK within half the keep alive: closed with E_TIMEOUT, then reconnect', () => {
  const s = session({ keepalive: 10 });
  s.client.connect();
  s.clock.advance(4999);
  assert.is(s.t.isOpen, true);
  s.clock.advance(2500);
  assert.equal(s.events(), ['close E_TIMEOUT']);
  s.clock.advance(1000);
  assert.is(s.t.opens.length, 2);
});

test('a first packet that is not CONNACK: E_PROTOCOL, closed', () => {
  const s = session();
  s.client.connect();
  s.t.send(PINGRESP);
  assert.equal(s.events().slice(-1), ['close E_PROTOCOL']);
  assert.is(s.t.isOpen, false);
});

test('the peer closes: onClose(E_CLOSED), reconnect after the backoff', () => {
  const s = session();
  s.up();
  s.events();
  s.t.drop(0);
  assert.equal(s.events(), ['close E_CLOSED']);
  s.clock.advance(1000);
  assert.is(s.t.opens.length, 2);
});

test('a write error: closed with E_TRANSPORT', () => {
  const s = session();
  s.up();
  s.events();
  s.t.mode = 'fail';
  assert.is(s.client.publish('t', 'x'), 0);
  assert.equal(s.events(), ['close E_TRANSPORT']);
  assert.is(s.t.isOpen, false);
});

// ---------------------------------------------------------------- publishing [MQTT-4.3]

test('publish QoS 0: returns 0, written at once, done(0) at once', () => {
  const s = session();
  s.up();
  let done = -1;
  assert.is(s.client.publish('t', 'hi', 0, false, (e) => (done = e)), 0);
  assert.is(hex(s.t.writes[s.t.writes.length - 1]), hex(u8(0x30, 5, mstr('t'), 'hi')));
  assert.is(done, 0);
});

test('publish QoS 1: PUBLISH with a packet id; done(0) on PUBACK [MQTT-4.3.2-1]', () => {
  const s = session();
  s.up();
  const done: number[] = [];
  const id = s.client.publish('a/b', Uint8Array.of(1, 2), 1, true, (e) => done.push(e));
  assert.is(id, 1);
  assert.is(hex(s.t.writes[s.t.writes.length - 1]), hex(u8(0x33, 9, mstr('a/b'), 0, 1, 1, 2)));
  assert.equal(done, []);
  s.t.send(PUBACK(2));
  assert.equal(done, [], 'another id acknowledges nothing');
  s.t.send(PUBACK(1));
  assert.equal(done, [0]);
  s.t.send(PUBACK(1));
  assert.equal(done, [0], 'a second PUBACK is ignored');
});

test('publish QoS 2: PUBLISH, PUBREC -> PUBREL, PUBCOMP -> done(0) [MQTT-4.3.3-1]', () => {
  const s = session();
  s.up();
  const done: number[] = [];
  const id = s.client.publish('t', 'x', 2, false, (e) => done.push(e));
  assert.equal(cmds(s.t.take()), [`publish ${id}`]);
  s.t.send(PUBREC(id));
  assert.is(hex(s.t.writes[s.t.writes.length - 1]), hex(u8(0x62, 2, 0, id)), 'PUBREL with flags 0010');
  assert.equal(done, []);
  s.t.send(PUBCOMP(id));
  assert.equal(done, [0]);
  assert.equal(s.events(), ['connect false']);
});

test('PUBREC for a message we no longer hold still gets its PUBREL [MQTT-4.3.3]', () => {
  const s = session();
  s.up();
  s.t.take();
  s.t.send(PUBREC(77));
  assert.equal(cmds(s.t.take()), ['pubrel 77']);
});

test('acknowledgements the outbox does not hold (unknown id, or the wrong kind for the id) are ignored: no callback, no error, nothing written, still connected', () => {
  const s = session();
  s.up();
  const done: string[] = [];
  const p1 = s.client.publish('t', 'x', 1, false, (e) => done.push('p1 ' + e));
  const p2 = s.client.publish('t', 'y', 2, false, (e) => done.push('p2 ' + e));
  const sb = s.client.subscribe('a/#', 1, (e, g) => done.push(`sub ${e} ${g}`));
  s.t.take();
  // E_UNKNOWN_ID from state.ts stays inside the client
  for (const ack of [PUBACK(p2), PUBCOMP(p1), PUBCOMP(p2), SUBACK(p1, 1), UNSUBACK(sb), PUBACK(sb), SUBACK(99, 0), UNSUBACK(98), PUBCOMP(97)]) s.t.send(ack);
  assert.equal(done, []);
  assert.equal(s.t.take(), []);
  assert.equal(s.events(), ['connect false']);
  assert.ok(s.client.connected());
  s.t.send(PUBACK(p1));
  s.t.send(SUBACK(sb, 1));
  assert.equal(done, [`p1 0`, `sub 0 1`], 'the records are there for their own acknowledgements');
});

test('packet ids: 1, 2, 3 ... wrap after 65535 to 1 and skip ids still in flight [MQTT-2.3.1-2]', () => {
  const s = session();
  s.up();
  assert.is(s.client.publish('t', '', 1), 1); // stays unacknowledged
  for (let id = 2; id <= 65535; id++) {
    assert.is(s.client.publish('t', '', 1), id);
    s.t.send(PUBACK(id));
  }
  assert.is(s.client.publish('t', '', 1), 2, '1 is still in flight');
});

test('publish refuses bad arguments with the codec\'s code and queues nothing', () => {
  const s = session();
  s.up();
  const n = s.t.writes.length;
  assert.is(s.client.publish('a/+', 'x'), E.E_TOPIC);
  assert.is(s.client.publish('', 'x'), E.E_TOPIC);
  assert.is(s.client.publish('t', 'x', 3), E.E_QOS);
  assert.is(s.client.publish('t', '\ud800', 1), E.E_UTF8);
  assert.is(s.t.writes.length, n);
});

// ---------------------------------------------------------------- receiving

test('incoming QoS 0: delivered with topic, payload and flags; nothing sent back', () => {
  const s = session();
  s.up();
  s.t.take();
  s.t.send(publish('ä/€', 'hello', 0, 0, { retain: true }));
  assert.equal(s.messages, [{ topic: 'ä/€', payload: Buffer.from('hello').toString('hex'), info: { qos: 0, retain: true, dup: false, offset: 0, total: 5 } }]);
  assert.equal(s.t.take(), []);
});

test('incoming QoS 1: PUBACK after the application has the message [MQTT-4.3.2-2]', () => {
  const s = session({ onMessage: () => assert.equal(s.t.take(), [], 'no PUBACK before delivery') });
  s.up();
  s.t.take();
  s.t.send(publish('t', 'x', 1, 300));
  assert.equal(cmds(s.t.take()), ['puback 300']);
});

test('incoming QoS 2: delivered once even if resent with DUP before PUBREL; PUBCOMP on PUBREL [MQTT-4.3.3-2]', () => {
  const s = session();
  s.up();
  s.t.take();
  s.t.send(publish('t', 'one', 2, 7));
  assert.equal(cmds(s.t.take()), ['pubrec 7']);
  s.t.send(publish('t', 'one', 2, 7, { dup: true }));
  assert.equal(cmds(s.t.take()), ['pubrec 7'], 'PUBREC again');
  assert.is(s.messages.length, 1, 'not delivered twice');
  s.t.send(PUBREL(7));
  assert.equal(cmds(s.t.take()), ['pubcomp 7']);
  s.t.send(publish('t', 'two', 2, 7));
  assert.is(s.messages.length, 2, 'after PUBREL the id is free for a new message');
  assert.is(s.messages[1].payload, Buffer.from('two').toString('hex'));
});

test('incoming QoS 2 duplicate across a reconnect with session present: still delivered once', () => {
  const s = session({ clean: false });
  s.up();
  s.t.send(publish('t', 'x', 2, 9));
  s.t.drop(0);
  s.clock.advance(1000);
  s.up(true);
  s.t.send(publish('t', 'x', 2, 9, { dup: true }));
  assert.is(s.messages.length, 1);
  assert.equal(cmds(s.t.take()).slice(-1), ['pubrec 9']);
});

// ---------------------------------------------------------------- subscribing [MQTT-3.8], [MQTT-3.10]

test('subscribe: SUBSCRIBE bytes, done(0, granted QoS) on SUBACK', () => {
  const s = session();
  s.up();
  const got: number[][] = [];
  const id = s.client.subscribe('a/+', 2, (e, g) => got.push([e, g!]));
  assert.is(hex(s.t.writes[s.t.writes.length - 1]), hex(u8(0x82, 8, 0, id, mstr('a/+'), 2)));
  s.t.send(SUBACK(id, 1));
  assert.equal(got, [[0, 1]], 'the server may grant less');
});

test('subscribe refused (0x80): done(E_SUBACK, 0x80); without a callback onError(E_SUBACK)', () => {
  const s = session();
  s.up();
  const got: number[][] = [];
  const id = s.client.subscribe('secret/#', 0, (e, g) => got.push([e, g!]));
  s.t.send(SUBACK(id, 0x80));
  assert.equal(got, [[E.E_SUBACK, 0x80]]);
  const id2 = s.client.subscribe('other', 0);
  s.t.send(SUBACK(id2, 0x80));
  assert.equal(s.events().slice(-1), ['error E_SUBACK']);
});

test('subscribe: a bad filter is refused with E_TOPIC and nothing is sent', () => {
  const s = session();
  s.up();
  const n = s.t.writes.length;
  for (const f of ['a/#/b', 'a#', '+a', '']) assert.is(s.client.subscribe(f, 0), E.E_TOPIC, f);
  assert.is(s.client.subscribe('a', 3), E.E_QOS);
  assert.is(s.t.writes.length, n);
});

test('unsubscribe: UNSUBSCRIBE bytes, done(0) on UNSUBACK', () => {
  const s = session();
  s.up();
  let done = -1;
  const id = s.client.unsubscribe('a/#', (e) => (done = e));
  assert.is(hex(s.t.writes[s.t.writes.length - 1]), hex(u8(0xa2, 7, 0, id, mstr('a/#'))));
  s.t.send(UNSUBACK(id));
  assert.is(done, 0);
});

// ---------------------------------------------------------------- keep alive [MQTT-3.1.2-23], [MQTT-3.1.2-24]

test('keep alive: PINGREQ after idle time, none while answered; the link stays up for an hour', () => {
  const s = session({ keepalive: 10 });
  s.up();
  s.t.take();
  let pings = 0;
  for (let ms = 0; ms < 3600e3; ms += 250) {
    s.clock.advance(250);
    for (const p of s.t.take()) {
      assert.is(p.cmd, 'pingreq');
      pings++;
      s.t.send(PINGRESP);
    }
  }
  assert.equal(s.events(), ['connect false'], 'never closed');
  assert.ok(pings >= 360 && pings <= 720, `one PINGREQ per 5-10 s, got ${pings} in an hour`);
});

test('[MQTT-3.1.2-23] keep alive: the client sends something at least once per keep alive even while receiving', () => {
  const s = session({ keepalive: 10 });
  s.up();
  s.t.take();
  let last = 0;
  for (let ms = 0; ms < 120e3; ms += 1000) {
    s.clock.advance(1000);
    s.t.send(publish('t', 'x')); // the server talks all the time; the client has nothing to say
    if (s.t.take().length) {
      assert.ok(s.clock.t - last <= 10000, `gap ${s.clock.t - last} ms`);
      last = s.clock.t;
      s.t.send(PINGRESP);
    }
  }
  assert.ok(120e3 - last <= 10000);
});

for (const phase of [0, 1, 1249, 2499]) {
  test(`keep alive: no PINGRESP -> E_KEEPALIVE within 1.5 x keep alive of the last byte, then reconnect (CONNACK ${phase} ms into a tick)`, () => {
    const s = session({ keepalive: 10 });
    s.client.connect();
    s.clock.advance(phase);
    s.t.send(CONNACK());
    const lastRx = s.clock.t;
    let pinged = -1;
    while (s.t.isOpen && s.clock.t < lastRx + 60e3) {
      s.clock.advance(1);
      if (pinged < 0 && s.t.take().length) pinged = s.clock.t;
    }
    assert.equal(s.events(), ['connect false', 'close E_KEEPALIVE']);
    assert.ok(pinged > 0 && pinged - lastRx <= 10000, `PINGREQ ${pinged - lastRx} ms after the last byte`);
    assert.ok(s.clock.t - lastRx <= 15000, `closed ${s.clock.t - lastRx} ms after the last byte`);
    assert.ok(s.clock.t - pinged >= 5000, 'the PINGRESP had half a keep alive to come');
    s.clock.advance(1000);
    assert.is(s.t.opens.length, 2, 'reconnects');
  });
}

test('keep alive works across a wrap of the clock at 2^32', () => {
  const s = session({ keepalive: 10 }, new ManualClock(2 ** 32 - 7000));
  s.up();
  for (let ms = 0; ms < 60e3; ms += 100) {
    s.clock.advance(100);
    if (s.t.take().length) s.t.send(PINGRESP);
  }
  assert.equal(s.events(), ['connect false']);
  assert.ok(s.clock.now() < 2 ** 32 - 7000, 'the clock wrapped');
});

test('keep alive 0: no PINGREQ ever, the link is not closed by the client', () => {
  const s = session({ keepalive: 0 });
  s.up();
  s.t.take();
  s.clock.advance(3600e3);
  assert.equal(s.t.take(), []);
  assert.equal(s.events(), ['connect false']);
});

// ---------------------------------------------------------------- reconnecting

/** Times between a failure and the next open, with Math.random fixed to `r`. */
function backoff(r: number, opts: object | undefined, n: number): number[] {
  const random = Math.random;
  Math.random = () => r;
  try {
    const s = session(opts ? { reconnect: opts } : {});
    s.client.connect();
    const gaps: number[] = [];
    for (let i = 0; i < n; i++) {
      const at = s.clock.t;
      s.t.drop(E.E_TRANSPORT);
      const before = s.t.opens.length;
      for (let k = 0; s.t.opens.length == before && k < 1e5; k++) s.clock.advance(1);
      gaps.push(s.clock.t - at);
    }
    return gaps;
  } finally {
    Math.random = random;
  }
}

test('reconnect backoff: doubles from 1 s to at most 30 s; full delay when the jitter draws 0', () => {
  assert.equal(backoff(0, undefined, 8), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

test('reconnect backoff: jitter 0.5 takes off at most half', () => {
  assert.equal(backoff(0.999999, undefined, 6), [501, 1001, 2001, 4001, 8001, 15001]);
});

test('reconnect backoff: own min, max and jitter; real randomness stays within [d(1 - jitter), d]', () => {
  assert.equal(backoff(0, { min: 100, max: 500, jitter: 0 }, 5), [100, 200, 400, 500, 500]);
  for (let i = 0; i < 20; i++) {
    const gaps = backoff(Math.random(), { min: 1000, max: 8000, jitter: 0.3 }, 5);
    [1000, 2000, 4000, 8000, 8000].forEach((d, k) => assert.ok(gaps[k] >= d * 0.7 && gaps[k] <= d + 1, `${gaps[k]} for ${d}`));
  }
});

test('reconnect backoff starts again at min after a successful CONNACK', () => {
  const s = session();
  s.client.connect();
  s.t.drop(E.E_TRANSPORT);
  s.clock.advance(1000);
  s.t.drop(E.E_TRANSPORT);
  s.clock.advance(2000);
  s.t.send(CONNACK());
  s.t.drop(0);
  const at = s.clock.t;
  s.clock.advance(1000);
  assert.is(s.t.opens.length, 4);
  assert.ok(s.t.opens[3].at - at <= 1000);
});

test('reconnect: false -> after a close nothing is reopened and no timer is left', () => {
  const s = session({ reconnect: false });
  s.up();
  s.t.drop(0);
  assert.equal(s.events(), ['connect false', 'close E_CLOSED']);
  assert.is(s.clock.pending(), 0);
  s.clock.advance(3600e3);
  assert.is(s.t.opens.length, 1);
});

test('reconnect(): drops the link and opens a new one at once, keeping queued messages', () => {
  const s = session();
  s.up();
  const id = s.client.publish('t', 'x', 1);
  s.client.reconnect();
  assert.is(s.t.opens.length, 2);
  s.up(true);
  assert.equal(cmds(s.t.take()), [`publish ${id} dup`]);
});

test('reconnect() called from onMessage: the new connection is not closed by the rest of the old chunk', () => {
  let once = true;
  const s = session({ onMessage: () => once && ((once = false), s.client.reconnect()) });
  s.up();
  s.t.send(u8(publish('t', 'x'), publish('t', 'y')));
  assert.is(s.t.opens.length, 2);
  assert.is(s.t.isOpen, true, 'the new connection stays open');
  s.t.send(CONNACK());
  assert.equal(s.events(), ['connect false', 'close E_CLOSED', 'connect false']);
});

test('end() called from onMessage: closed once, no error, no reconnect', () => {
  const s = session({ onMessage: () => s.client.end() });
  s.up();
  s.t.send(u8(publish('t', 'x'), publish('t', 'y')));
  assert.equal(s.events(), ['connect false', 'close 0']);
  s.clock.advance(3600e3);
  assert.is(s.t.opens.length, 1);
});

test('[MQTT-4.4.0-1] session present: unacknowledged QoS 1/2 resent in order with DUP, PUBREL resent after PUBREC', () => {
  const s = session({ clean: false });
  s.up();
  const a = s.client.publish('t', 'a', 1), b = s.client.publish('t', 'b', 2), c = s.client.publish('t', 'c', 1);
  s.client.publish('t', 'zero', 0);
  s.t.send(PUBREC(b));
  assert.equal(cmds(s.t.take()), [`publish ${a}`, `publish ${b}`, `publish ${c}`, 'publish', `pubrel ${b}`]);
  s.t.drop(0);
  s.clock.advance(1000);
  s.up(true);
  const again = s.t.take();
  assert.equal(cmds(again), [`publish ${a} dup`, `pubrel ${b}`, `publish ${c} dup`], 'QoS 0 is not resent');
  assert.equal(again.map((p) => String(p.payload)), ['a', 'null', 'c']);
  assert.is(s.t.writes[1][0], 0x3a, 'after CONNECT: DUP set in the stored frame [MQTT-3.3.1-1]');
  s.t.send(PUBACK(a));
  s.t.send(PUBCOMP(b));
  s.t.send(PUBACK(c));
  s.t.drop(0);
  s.clock.advance(1000);
  s.up(true);
  assert.equal(s.t.take(), [], 'nothing left to resend');
});

test('no session present: all filters re-subscribed (not refused or unsubscribed ones), QoS 1 resent', () => {
  const s = session();
  s.up();
  s.t.send(SUBACK(s.client.subscribe('a/#', 1), 1));
  s.t.send(SUBACK(s.client.subscribe('b', 2), 2));
  s.t.send(SUBACK(s.client.subscribe('no', 0), 0x80));
  s.t.send(UNSUBACK(s.client.unsubscribe('b')));
  const id = s.client.publish('t', 'x', 1);
  s.t.take();
  s.t.drop(0);
  s.clock.advance(1000);
  s.up(false);
  const again = s.t.take();
  assert.equal(cmds(again), [`publish ${id} dup`, `subscribe ${again[1].messageId}`]);
  assert.equal(again[1].subscriptions, [{ topic: 'a/#', qos: 1 }]);
});

test('no session present: a QoS 2 message already PUBRECed is complete (the server forgot it), done(0)', () => {
  const s = session();
  s.up();
  const done: number[] = [];
  const id = s.client.publish('t', 'x', 2, false, (e) => done.push(e));
  s.t.send(PUBREC(id));
  s.t.drop(0);
  s.clock.advance(1000);
  s.t.take();
  s.up(false);
  assert.equal(done, [0]);
  assert.equal(s.t.take(), []);
});

test('no session present: done callbacks of forgotten QoS 2 messages may publish (and move the records); order kept', () => {
  const s = session({ bufferSize: 256 });
  s.up();
  const done: string[] = [];
  let late = 0;
  const w = s.client.publish('t', 'w', 1);
  const a = s.client.publish('t', 'a', 2, false, (e) => {
    done.push(`a ${e}`);
    // 80 bytes fit only once the records before the head's free room are moved back to the start
    late = s.client.publish('t', new Uint8Array(80), 1);
  });
  const b = s.client.publish('t', 'b', 1);
  const c = s.client.publish('t', 'c', 2, false, (e) => done.push(`c ${e}`));
  s.t.send(PUBACK(w));
  s.t.send(PUBREC(a));
  s.t.send(PUBREC(c));
  s.t.take();
  s.t.drop(0);
  s.clock.advance(1000);
  s.t.take();
  s.up(false);
  assert.equal(done, ['a 0', 'c 0']);
  assert.ok(late > 0, `the late publish was queued (${late})`);
  assert.equal(cmds(s.t.take()), [`publish ${b} dup`, `publish ${late}`]);
  s.t.send(PUBACK(b));
  s.t.send(PUBACK(late));
  s.t.drop(0);
  s.clock.advance(1000);
  s.up(true);
  assert.equal(s.t.take(), [], 'nothing left');
});

// ---------------------------------------------------------------- the fixed buffer

test('outbox full: publish returns E_OUTBOX_FULL (-20); onWritable fires when a PUBACK frees space', () => {
  const s = session({ bufferSize: 512 });
  s.up();
  const ids: number[] = [];
  let r: number;
  while ((r = s.client.publish('t', new Uint8Array(50), 1)) > 0) ids.push(r);
  assert.is(r, -20);
  assert.is(r, E.E_OUTBOX_FULL);
  assert.ok(ids.length >= 3, `${ids.length} messages held`);
  assert.equal(s.events(), ['connect false']);
  s.t.send(PUBACK(ids[0]));
  assert.equal(s.events(), ['writable']);
  assert.ok(s.client.publish('t', new Uint8Array(50), 1) > 0);
});

test('backpressure: write() returns 0, QoS 0 messages wait in the outbox, onWritable when they are out', () => {
  const s = session({ bufferSize: 512 });
  s.up();
  s.t.take();
  s.t.mode = 'block';
  let n = 0, r: number;
  while ((r = s.client.publish('t', 'm' + n, 0)) == 0) n++;
  assert.is(r, E.E_OUTBOX_FULL);
  assert.equal(s.t.take(), []);
  s.t.writable();
  assert.equal(s.t.take().map((p) => String(p.payload)), Array.from({ length: n }, (_, i) => 'm' + i), 'all of them, in order');
  assert.equal(s.events(), ['connect false', 'writable']);
});

test('a message that can never fit the outbox: E_TOO_LARGE (-21), at once, nothing queued', () => {
  const s = session({ bufferSize: 512 });
  s.up();
  const n = s.t.writes.length;
  assert.is(s.client.publish('t', new Uint8Array(300), 0), E.E_TOO_LARGE);
  assert.is(s.client.publish('t', new Uint8Array(300), 1), -21);
  assert.is(s.t.writes.length, n);
  assert.ok(s.client.publish('t', new Uint8Array(200), 1) > 0, 'a smaller one still fits');
});

test('an incoming PUBLISH larger than the receive region is streamed in chunks; QoS 1 acked once, at the end', () => {
  const s = session({ bufferSize: 512 });
  s.up();
  s.t.take();
  const payload = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);
  const frame = publish('big/one', payload, 1, 42);
  for (const step of [0, 1, 100]) {
    s.messages.length = 0;
    s.t.send(frame, step);
    let joined = '';
    for (const m of s.messages) {
      assert.is(m.topic, 'big/one');
      assert.equal([m.info.qos, m.info.total, m.info.offset], [1, 1000, joined.length / 2]);
      joined += m.payload;
    }
    assert.ok(s.messages.length >= 4, `${s.messages.length} chunks`);
    assert.is(joined, Buffer.from(payload).toString('hex'), `chunking ${step}`);
    assert.equal(cmds(s.t.take()), ['puback 42'], 'one PUBACK after the last chunk');
  }
  s.t.send(publish('small', 'ok', 0));
  assert.equal(s.messages.slice(-1).map((m) => [m.topic, m.info.offset, m.info.total]), [['small', 0, 2]]);
  assert.equal(s.events(), ['connect false'], 'the connection survived');
});

test('an incoming PUBLISH whose topic does not fit the receive region: onError(E_TOO_LARGE), skipped, still connected', () => {
  const s = session({ bufferSize: 512 });
  s.up();
  s.t.send(publish('x'.repeat(300), 'p', 0));
  s.t.send(publish('next', 'ok'));
  assert.equal(s.events(), ['connect false', 'error E_TOO_LARGE']);
  assert.equal(s.messages.map((m) => m.topic), ['next']);
});

test('a QoS 1 or 2 PUBLISH whose topic does not fit is still acknowledged with its id (else the broker resends it for ever), any chunking', () => {
  for (const step of [0, 1, 7, 300]) {
    const s = session({ bufferSize: 512 });
    s.up();
    s.t.take();
    s.t.send(publish('x'.repeat(300), 'payload', 1, 0x1234), step);
    s.t.send(publish('y'.repeat(300), 'payload', 2, 0xbeef), step);
    assert.equal(cmds(s.t.take()), ['puback 4660', 'pubrec 48879'], `chunking ${step}`);
    s.t.send(PUBREL(0xbeef));
    assert.equal(cmds(s.t.take()), ['pubcomp 48879']);
    // a topic that ends where the id starts at a chunk edge, and a payload whose first bytes must not be taken for an id
    s.t.send(publish('z'.repeat(254), new Uint8Array([9, 9, 9]), 1, 7), step);
    s.t.send(publish('next', 'ok', 1, 8), step);
    assert.equal(cmds(s.t.take()), ['puback 7', 'puback 8'], `chunking ${step}`);
    assert.equal(s.events(), ['connect false', 'error E_TOO_LARGE', 'error E_TOO_LARGE', 'error E_TOO_LARGE']);
    assert.equal(s.messages.map((m) => m.topic), ['next']);
  }
});

test('a buffer given by the caller is the one buffer: messages wait in it, in its outbox half', () => {
  const mine = new Uint8Array(600);
  const s = session({ buffer: mine, bufferSize: 99999 });
  const id = s.client.publish('t/given', 'in your buffer', 1);
  assert.ok(id > 0);
  assert.ok(Buffer.from(mine.subarray(300)).includes(Buffer.from('in your buffer')), 'the record is in the outbox region of the given array');
  assert.is(s.client.publish('t', new Uint8Array(300), 1), E.E_TOO_LARGE, 'its length is the size: 300 bytes of outbox, not bufferSize');
});

test('bufferSize 512: connect, subscribe, publish and receive QoS 0/1/2', () => {
  const s = session({ bufferSize: 512 });
  s.up();
  const got: number[] = [];
  s.t.send(SUBACK(s.client.subscribe('dev/#', 1, (e, g) => got.push(e, g!)), 1));
  for (const qos of [0, 1, 2]) {
    const id = s.client.publish('dev/x', new Uint8Array(200).fill(qos), qos, false, (e) => got.push(e));
    if (qos == 1) s.t.send(PUBACK(id));
    if (qos == 2) s.t.send(PUBREC(id)), s.t.send(PUBCOMP(id));
    s.t.send(publish('dev/x', new Uint8Array(200).fill(qos), qos, 100 + qos));
    if (qos == 2) s.t.send(PUBREL(102));
  }
  assert.equal(got, [0, 1, 0, 0, 0]);
  assert.equal(s.messages.map((m) => [m.info.qos, m.payload.length / 2]), [[0, 200], [1, 200], [2, 200]]);
  assert.equal(cmds(s.t.take()).filter((c) => !c.startsWith('publish') && !c.startsWith('subscribe')), ['puback 101', 'pubrel 3', 'pubrec 102', 'pubcomp 102']);
});

test('a CONNECT larger than the receive region is built after the queued messages, never over them', () => {
  const s = session({ bufferSize: 512, rxSize: 128, username: 'u', password: 'p'.repeat(200) });
  const id = s.client.publish('queued/before/connect', 'payload', 1);
  assert.ok(id > 0);
  s.client.connect();
  const [c] = s.t.take();
  assert.equal([c.cmd, String(c.password).length], ['connect', 200]);
  s.t.send(CONNACK());
  assert.equal(s.t.take().map((p) => [p.cmd, p.topic, String(p.payload)]), [['publish', 'queued/before/connect', 'payload']]);
});

test('a CONNECT that fits nowhere in the buffer: onError(E_TOO_LARGE), closed, not retried', () => {
  const s = session({ bufferSize: 512, username: 'u', password: 'p'.repeat(600) });
  s.client.connect();
  assert.equal(s.events(), ['error E_TOO_LARGE', 'close E_TOO_LARGE']);
  assert.is(s.t.written.length, 0);
  s.clock.advance(3600e3);
  assert.is(s.t.opens.length, 1);
});

// ---------------------------------------------------------------- ending

test('end(): DISCONNECT, closed, pending callbacks get E_ENDED, no reconnect, publish refused', () => {
  const s = session();
  s.up();
  s.t.take();
  const done: string[] = [];
  s.client.publish('t', 'x', 1, false, (e) => done.push('pub ' + name(e)));
  s.client.subscribe('s', 0, (e) => done.push('sub ' + name(e)));
  let ended = false;
  s.client.end(() => (ended = true));
  assert.equal(cmds(s.t.take()).slice(-1), ['disconnect']);
  assert.is(hex(s.t.writes[s.t.writes.length - 1]), 'e0 00');
  assert.is(s.t.isOpen, false);
  assert.ok(ended);
  assert.equal(done.sort(), ['pub E_ENDED', 'sub E_ENDED']);
  assert.equal(s.events(), ['connect false', 'close 0']);
  assert.is(s.client.connected(), false);
  assert.is(s.client.publish('t', 'x'), E.E_NOT_CONNECTED);
  s.clock.advance(3600e3);
  assert.is(s.t.opens.length, 1);
  assert.is(s.clock.pending(), 0);
  s.client.connect();
  s.up();
  assert.is(s.client.connected(), true, 'connect() after end() starts again');
});

test('end() while waiting to reconnect: no reconnect, callbacks get E_ENDED', () => {
  const s = session();
  s.up();
  const done: number[] = [];
  s.client.publish('t', 'x', 1, false, (e) => done.push(e));
  s.t.drop(0);
  s.client.end();
  assert.equal(done, [E.E_ENDED]);
  s.clock.advance(3600e3);
  assert.is(s.t.opens.length, 1);
});

// ---------------------------------------------------------------- a broken server

const MALFORMED: [string, Uint8Array, string][] = [
  ['PUBACK with flags 0001 [MQTT-2.2.2-2]', u8(0x41, 2, 0, 1), 'E_FLAGS'],
  ['PUBLISH to a wildcard topic [MQTT-3.3.2-2]', u8(0x30, 5, mstr('a/#')), 'E_TOPIC'],
  ['PUBLISH with ill-formed UTF-8 [MQTT-1.5.3-1]', u8(0x30, 4, 0, 2, 0xc0, 0x80), 'E_UTF8'],
  ['PUBLISH QoS 3 [MQTT-3.3.1-4]', u8(0x36, 5, mstr('t'), 0, 1), 'E_FLAGS'],
  ['SUBACK return code 3 [MQTT-3.9.3-2]', u8(0x90, 3, 0, 1, 3), 'E_MALFORMED'],
  ['a second CONNACK', CONNACK(), 'E_PACKET_TYPE'],
  ['SUBSCRIBE sent to a client', u8(0x82, 6, 0, 1, mstr('a'), 0), 'E_PACKET_TYPE'],
  ['reserved packet type 15', u8(0xf0, 0), 'E_PACKET_TYPE'],
  ['a fifth remaining-length byte [MQTT-2.2.3]', u8(0x30, 0xff, 0xff, 0xff, 0xff, 0x7f), 'E_LENGTH'],
];

for (const [what, bytes, code] of MALFORMED) {
  test(`malformed input (${what}): onError(${code}), closed, reconnected, and the next session works`, () => {
    const s = session();
    s.up();
    s.t.send(bytes);
    assert.equal(s.events(), ['connect false', `error ${code}`, `close ${code}`]);
    assert.is(s.t.isOpen, false);
    s.clock.advance(1000);
    s.up();
    const id = s.client.publish('t', 'x', 1);
    s.t.send(PUBACK(id));
    s.t.send(publish('t', 'in'));
    assert.equal(s.events(), ['connect false']);
    assert.is(s.messages.length, 1);
  });
}

test.run();
