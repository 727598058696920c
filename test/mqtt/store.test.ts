import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as E from '../../src/errors';
import { journal, E_STORE, E_STORE_BAD, E_STORE_FULL } from '../../src/store';
import { u8, hex } from '../helpers/bytes';
import { Packet } from '../helpers/mqtt';
import { session, name } from '../helpers/session';
import { MemStore } from '../helpers/memstore';

// The client with a `store`: queued QoS 1/2 messages are logged as they are queued and acknowledged, restored when
// a client is created over the same store (a restart), and resent after CONNACK, in order, DUP set.

const PUBACK = (id: number) => u8(0x40, 2, id >> 8, id & 255);
const PUBREC = (id: number) => u8(0x50, 2, id >> 8, id & 255);
const PUBCOMP = (id: number) => u8(0x70, 2, id >> 8, id & 255);
const SUBACK = (id: number, code: number) => u8(0x90, 3, id >> 8, id & 255, code);
const UNSUBACK = (id: number) => u8(0xb0, 2, id >> 8, id & 255);
const sent = (ps: Packet[]) => ps.map((p: any) => p.cmd + (p.messageId ? ' ' + p.messageId : '') + (p.dup ? ' dup' : '') + (p.payload && p.payload.length ? ' ' + p.payload.toString() : ''));
const codes = (log: string[]) => log.filter((l) => l.startsWith('error'));

/** A client over `st` (a restart is a new client over st.restart()). */
function device(st: MemStore, opts = {}) {
  return session({ store: journal(st), clean: false, ...opts });
}

test('publish QoS 1/2 logs an ADD before it returns; QoS 0, SUBSCRIBE and acks are not logged', () => {
  const st = new MemStore(), s = device(st);
  s.up();
  s.client.publish('t', 'zero', 0);
  assert.equal(st.calls, [], 'QoS 0: nothing');
  s.client.subscribe('f', 1);
  assert.equal(st.calls, []);
  const id = s.client.publish('t', 'one', 1);
  assert.equal(st.calls, [`append 0 ${5 + 2 + 3 + 2 + 3}`]);
  s.t.send(u8(0x32, 7, 0, 1, 'x', 0, 9, 'in'));
  assert.equal(st.calls.length, 1, 'an incoming QoS 1 PUBLISH and its PUBACK: nothing');
  s.t.send(PUBACK(id));
  assert.equal(st.calls.slice(1), [`append ${st.data.length - 7} 7`], 'DEL at PUBACK');
  s.t.send(SUBACK(2, 1));
  s.client.unsubscribe('f');
  s.t.send(UNSUBACK(4));
  assert.equal(st.calls.length, 2, 'SUBACK and UNSUBACK: nothing');
});

test('restart: stored messages come back in order, are resent after CONNACK with DUP set, before new ones', () => {
  const st = new MemStore(), a = device(st);
  a.up();
  const ids = [a.client.publish('t', 'm1', 1), a.client.publish('t', 'm2', 2), a.client.publish('t', 'm3', 1)];
  a.t.send(PUBACK(ids[0]));
  assert.equal(ids, [1, 2, 3]);
  // the power goes: a new client over what the store holds
  const st2 = st.restart(), b = device(st2);
  assert.is(b.client.publish('t', 'm4', 1), 1, 'ids still in flight are not reused: 1 was acknowledged');
  b.client.connect();
  assert.equal(sent(b.t.take()), ['connect'], 'nothing before CONNACK');
  b.t.send(u8(0x20, 2, 1, 0));
  assert.equal(sent(b.t.take()), ['publish 2 dup m2', 'publish 3 dup m3', 'publish 1 m4']);
  b.t.send(PUBREC(2));
  assert.equal(sent(b.t.take()), ['pubrel 2']);
  b.t.send(PUBCOMP(2));
  b.t.send(PUBACK(3));
  b.t.send(PUBACK(1));
  assert.equal(codes(b.events()), [], 'restored messages have no done callback: their acks are silent');
  const c = device(st2.restart());
  c.up();
  assert.equal(sent(c.t.take()), [], 'all acknowledged: nothing comes back');
});

test('restart: a QoS 2 message that got PUBREC comes back as its PUBREL (REL), which a session completes', () => {
  const st = new MemStore(), a = device(st);
  a.up();
  const id = a.client.publish('t', 'two', 2);
  a.t.send(PUBREC(id));
  const st2 = st.restart(), b = device(st2);
  b.up(true);
  assert.equal(sent(b.t.take()), [`pubrel ${id}`]);
  b.t.send(PUBCOMP(id));
  const c = device(st2.restart());
  c.up(true);
  assert.equal(sent(c.t.take()), []);
});

test('restart without a session at the server: a stored PUBREL is complete (forgotten), its DEL logged', () => {
  const st = new MemStore(), a = device(st);
  a.up();
  const id = a.client.publish('t', 'two', 2);
  a.client.publish('t', 'one', 1);
  a.t.send(PUBREC(id));
  const st2 = st.restart(), b = device(st2);
  b.up(false);
  assert.equal(sent(b.t.take()), ['publish 2 dup one']);
  const c = device(st2.restart());
  c.up(false);
  assert.equal(sent(c.t.take()), ['publish 2 dup one'], 'the PUBREL is gone from the store too');
});

test('the same client keeps logging across reconnects; a 1,000-message run leaves an empty log', () => {
  const st = new MemStore(), s = device(st, { bufferSize: 1024 });
  s.up();
  for (let i = 0; i < 1000; i++) {
    const id = s.client.publish('t/' + (i % 3), 'message ' + i, 1 + (i % 2));
    assert.ok(id > 0);
    if (i % 97 == 0) {
      s.t.drop();
      s.clock.advance(2000);
      s.up(true);
    }
    for (const p of s.t.take() as any[]) {
      if (p.cmd == 'publish' && p.qos == 1) s.t.send(PUBACK(p.messageId!));
      if (p.cmd == 'publish' && p.qos == 2) s.t.send(PUBREC(p.messageId!));
      if (p.cmd == 'pubrel') s.t.send(PUBCOMP(p.messageId!));
    }
    for (const p of s.t.take() as any[]) if (p.cmd == 'pubrel') s.t.send(PUBCOMP(p.messageId!));
  }
  assert.ok(st.replaces > 10, 'compacted as it went: ' + st.replaces);
  assert.ok(st.data.length <= 4 * 512, 'within the bound');
  const b = device(st.restart());
  b.up();
  assert.equal(sent(b.t.take()), []);
});

test('end(): queued messages abandoned with E_ENDED, the store emptied', () => {
  const st = new MemStore(), a = device(st);
  a.up();
  const done: number[] = [];
  a.client.publish('t', 'x', 1, false, (e) => done.push(e));
  a.client.end();
  assert.equal(done, [E.E_ENDED]);
  assert.is(st.data.length, 0);
  const b = device(st.restart());
  b.up();
  assert.equal(sent(b.t.take()), []);
});

test('a store that fails: publish returns E_STORE and queues nothing; a failed DEL or clear is reported', () => {
  const st = new MemStore(), s = device(st);
  s.up();
  s.events();
  st.failAppend = true;
  let called = 0;
  assert.is(s.client.publish('t', 'lost', 1, false, () => called++), E_STORE);
  assert.equal(sent(s.t.take()), [], 'not sent');
  st.failAppend = false;
  const id = s.client.publish('t', 'kept', 1);
  assert.ok(id > 0);
  assert.equal(sent(s.t.take()), [`publish ${id} kept`]);
  st.failAppend = st.failReplace = true;
  s.t.send(PUBACK(id));
  assert.equal(s.events(), [`error ${name(E_STORE)}`], 'the DEL failed: reported, the message done all the same');
  s.client.end();
  assert.equal(codes(s.events()), [`error ${name(E_STORE)}`], 'end(): emptying the store failed');
  assert.is(called, 0);
});

test('a damaged or overfull store: what loaded is restored, and the error reported at the first connect()', () => {
  const st = new MemStore(), a = device(st);
  a.up();
  a.client.publish('t', 'one', 1);
  a.client.publish('t', 'two', 1);
  const torn = st.restart(st.data.length - 3);
  const b = device(torn);
  assert.equal(b.events(), [], 'nothing reported inside createClient');
  b.client.connect();
  assert.equal(codes(b.events()), [`error ${name(E_STORE_BAD)}`]);
  b.t.send(u8(0x20, 2, 0, 0));
  assert.equal(sent(b.t.take()), ['connect', 'publish 1 dup one'], 'the torn second message is gone, the first is whole');
  b.t.drop();
  b.client.connect();
  assert.equal(codes(b.events()), [], 'once');

  const big = new MemStore();
  const c = device(big, { bufferSize: 4096 });
  for (let i = 0; i < 30; i++) c.client.publish('t', 'x'.repeat(40), 1);
  const d = device(big.restart(), { bufferSize: 512 });
  d.client.connect();
  assert.equal(codes(d.events()), [`error ${name(E_STORE_FULL)}`]);
});

test.run();
