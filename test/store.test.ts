import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { journal, adler32, Journal, E_STORE, E_STORE_BAD, E_STORE_FULL, ADD, DEL, REL } from '../src/store';
import { createOutbox, reserve, recordSize, cut, Outbox, SENT } from '../src/memory';
import { recordId, findRecord, acknowledge } from '../src/mqtt/state';
import { encodePublish, encodeSubscribe, sizePublish, sizeSubscribe, PUBREC } from '../src/mqtt/codec';
import { u8, hex } from './helpers/bytes';
import { createRng, withSeed } from './helpers/rng';
import { MemStore } from './helpers/memstore';

// The write-ahead log of src/store.ts, driven the way the client drives it: records reserved and encoded in the
// outbox, then logged; acknowledgements cut them and log a DEL; PUBREC turns a QoS 2 PUBLISH into its PUBREL.

const SPARE = 16;

/** A client-shaped outbox (512 bytes of 1024) and its log over `st`, loaded as the client does at creation. */
function open(st: MemStore, size = 1024, rx = 512) {
  const m = createOutbox(size, rx), j = journal(st);
  const loaded = j._load(m);
  return { m, j, loaded };
}

/** Queues and logs a PUBLISH as client.publish does; returns the journal's answer. */
function pub(m: Outbox, j: Journal, id: number, payload: string, qos = 1, topic = 't/' + id): number {
  const n = sizePublish(topic, payload, qos);
  const q = reserve(m, n, SPARE);
  assert.ok(q > 0, 'room for ' + id);
  const end = encodePublish(m._buf, q, topic, payload, qos, false, false, id);
  assert.is(end - q, n);
  const r = j._add(q, n);
  if (r < 0) m._tail = q - 1;
  return r;
}

/** PUBACK / PUBCOMP: the record with `id` leaves, then the DEL. */
function ack(m: Outbox, j: Journal, id: number): number {
  const p = findRecord(m, id, 0, 0);
  assert.ok(p >= 0, 'record ' + id);
  cut(m, p, recordSize(m, p));
  return j._del(id);
}

/** PUBREC: the QoS 2 PUBLISH becomes its PUBREL in place (as the client makes it: state.ts), then the REL. */
function rec(m: Outbox, j: Journal, id: number): number {
  assert.is(acknowledge(m, PUBREC, id, {}, 0), 0, 'QoS 2 record ' + id);
  return j._rel(id);
}

/** The outbox's records: "<state> <frame hex>". */
function records(m: Outbox): string[] {
  const out: string[] = [];
  for (let p = m._head; p < m._tail; p += recordSize(m, p)) out.push(m._buf[p] + ' ' + hex(m._buf.subarray(p + 1, p + recordSize(m, p))));
  return out;
}

/** The records, all marked as restored (SENT), as a reload must find them. */
const restored = (m: Outbox) => records(m).map((r) => SENT + r.slice(1));
const ids = (m: Outbox) => { const a: number[] = []; for (let p = m._head; p < m._tail; p += recordSize(m, p)) a.push(recordId(m, p)); return a; };

const be32 = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

// ---------------------------------------------------------------- entries

test('adler32: the RFC 1950 value of "Wikipedia" and of empty input; reduced on long input', () => {
  assert.is(adler32(u8('Wikipedia'), 0, 9), 0x11e60398);
  assert.is(adler32(u8(), 0, 0), 1);
  assert.is(adler32(u8('pedia'), 0, 5, adler32(u8('Wiki'), 0, 4)), 0x11e60398, 'continued from a seed');
  const big = new Uint8Array(100000).fill(255);
  // the same sums computed with BigInt, no reduction until the end
  let a = 1n, c = 0n;
  for (let i = 0; i < big.length; i++) { a += 255n; c += a; }
  assert.is(adler32(big, 0, big.length), Number((c % 65521n) * 65536n + (a % 65521n)));
});

test('ADD: [0x41][the PUBLISH frame][Adler-32 of both], one append of n + 5 bytes, the outbox unchanged', () => {
  const st = new MemStore(), { m, j, loaded } = open(st);
  assert.is(loaded, 0, 'an empty store loads cleanly');
  assert.is(pub(m, j, 7, 'hi'), 0);
  const frame = u8(0x32, 9, 0, 3, 't/7', 0, 7, 'hi');
  const body = u8(ADD, frame);
  assert.is(hex(st.data), hex(u8(body, be32(adler32(body, 0, body.length)))));
  assert.equal(st.calls, ['append 0 16']);
  assert.equal(records(m), ['0 ' + hex(frame)], 'state byte back to 0 (unsent), frame intact');
});

test('DEL and REL: [kind][id:2][Adler-32 of the three], appended at the end', () => {
  const st = new MemStore(), { m, j } = open(st);
  pub(m, j, 0x0102, 'a', 2);
  pub(m, j, 0x0203, 'b', 1);
  const at = st.data.length;
  assert.is(rec(m, j, 0x0102), 0);
  assert.is(ack(m, j, 0x0203), 0);
  const rel = u8(REL, 1, 2), del = u8(DEL, 2, 3);
  assert.is(hex(st.data.subarray(at)), hex(u8(rel, be32(adler32(rel, 0, 3)), del, be32(adler32(del, 0, 3)))));
  assert.equal(st.calls.slice(2), [`append ${at} 7`, `append ${at + 7} 7`]);
});

// ---------------------------------------------------------------- replay

test('replay: ADDs restored in order, marked SENT; DEL removes; REL turns a QoS 2 PUBLISH into its PUBREL', () => {
  const st = new MemStore(), a = open(st);
  for (let id = 1; id <= 6; id++) pub(a.m, a.j, id, 'payload ' + id, id == 3 || id == 5 ? 2 : 1);
  ack(a.m, a.j, 2);
  rec(a.m, a.j, 3);
  ack(a.m, a.j, 1);
  rec(a.m, a.j, 5);
  ack(a.m, a.j, 5); // PUBCOMP
  const b = open(st.restart());
  assert.is(b.loaded, 0);
  assert.equal(ids(b.m), [3, 4, 6]);
  assert.equal(restored(b.m), restored(a.m), 'the same records, frames byte for byte');
  assert.is(hex(b.m._buf.subarray(b.m._head + 1, b.m._head + 5)), hex(u8(0x62, 2, 0, 3)), 'id 3 is a PUBREL now');
});

test('replay: a packet id used again after its DEL is a new message; a DEL of an unknown id is ignored', () => {
  const st = new MemStore(), a = open(st);
  pub(a.m, a.j, 9, 'first');
  ack(a.m, a.j, 9);
  pub(a.m, a.j, 9, 'second');
  a.j._del(77);
  const b = open(st.restart());
  assert.is(b.loaded, 0);
  assert.equal(restored(b.m), restored(a.m));
  assert.ok(restored(b.m)[0].endsWith(hex(u8('second'))));
});

test('replay: the log continues after a reload (appends at its end), and reloads again the same', () => {
  const st = new MemStore(), a = open(st);
  pub(a.m, a.j, 1, 'one');
  pub(a.m, a.j, 2, 'two');
  const st2 = st.restart();
  const d = open(st2);
  assert.equal(ids(d.m), [1, 2]);
  ack(d.m, d.j, 1);
  pub(d.m, d.j, 3, 'three');
  assert.is(st2.replaces, 0, 'a clean log is not rewritten at load');
  assert.equal(st2.calls, [`append ${st.data.length} 7`, `append ${st.data.length + 7} ${5 + sizePublish('t/3', 'three', 1)}`]);
  const e = open(st2.restart());
  assert.equal(ids(e.m), [2, 3]);
  assert.equal(restored(e.m), restored(d.m));
});

test('replay: erased flash (0xFF) after the last entry is a clean end', () => {
  const st = new MemStore(), a = open(st);
  pub(a.m, a.j, 1, 'x');
  const flash = new MemStore(u8(st.data, new Uint8Array(64).fill(0xff)));
  const b = open(flash);
  assert.is(b.loaded, 0);
  assert.equal(ids(b.m), [1]);
  assert.is(flash.replaces, 0);
});

test('replay: only what fits in the outbox: the oldest records kept, E_STORE_FULL, the log rewritten with them', () => {
  const st = new MemStore(), a = open(st, 2048, 0);
  for (let id = 1; id <= 20; id++) pub(a.m, a.j, id, 'x'.repeat(60));
  const small = st.restart();
  const b = open(small, 600, 0);
  assert.is(b.loaded, E_STORE_FULL);
  const kept = ids(b.m);
  assert.ok(kept.length >= 6 && kept.length < 20, `some kept (${kept.length})`);
  assert.equal(kept, kept.map((_, i) => i + 1), 'a prefix: the oldest');
  assert.is(small.replaces, 1);
  const c = open(small.restart(), 600, 0);
  assert.is(c.loaded, 0);
  assert.equal(ids(c.m), kept);
});

// ---------------------------------------------------------------- compaction

test('compaction: past the bound (4x the outbox) the log is replaced by one ADD per live record, in order', () => {
  const st = new MemStore(), a = open(st, 512, 256); // outbox 256 bytes: bound 1024
  let id = 0;
  for (let round = 0; round < 120; round++) {
    pub(a.m, a.j, ++id, 'message ' + id, id % 3 == 0 ? 2 : 1);
    while (ids(a.m).length > 3) {
      const first = ids(a.m)[0];
      // a QoS 2 PUBLISH gets PUBREC first (REL), a QoS 1 PUBLISH or a PUBREL its PUBACK or PUBCOMP (DEL)
      if (a.m._buf[findRecord(a.m, first, 0, 0) + 1] == 0x34) rec(a.m, a.j, first);
      else ack(a.m, a.j, first);
    }
    assert.ok(st.data.length <= 1024, 'never past the bound: ' + st.data.length);
    const b = open(st.restart(), 512, 256);
    assert.is(b.loaded, 0);
    assert.equal(restored(b.m), restored(a.m), 'a reload at any point gives the live records');
  }
  assert.ok(st.replaces >= 3, 'compacted several times: ' + st.replaces);
  // right after a compaction the log is exactly the live records
  a.j._clear();
  pub(a.m, a.j, 900, 'a');
  assert.is(st.data.length, 5 + sizePublish('t/900', 'a', 1));
});

test('compaction: transient records (SUBSCRIBE, acks, QoS 0) are not logged; the Store size sets the bound', () => {
  const st = new MemStore(undefined, 100), a = open(st);
  // a SUBSCRIBE and a QoS 0 PUBLISH sit between the logged records
  pub(a.m, a.j, 1, 'a');
  let q = reserve(a.m, sizeSubscribe('f/#', 1), SPARE);
  encodeSubscribe(a.m._buf, q, 50, 'f/#', 1);
  q = reserve(a.m, sizePublish('z', 'q0', 0), SPARE);
  encodePublish(a.m._buf, q, 'z', 'q0', 0, false, false, 0);
  pub(a.m, a.j, 2, 'b');
  for (let i = 0; i < 10; i++) { pub(a.m, a.j, 3, 'c'); ack(a.m, a.j, 3); }
  assert.ok(st.replaces > 0);
  assert.ok(st.data.length <= 100);
  const b = open(st.restart());
  assert.equal(ids(b.m), [1, 2]);
});

test('end: _clear empties the log (a replace with nothing)', () => {
  const st = new MemStore(), a = open(st);
  pub(a.m, a.j, 1, 'a');
  assert.is(a.j._clear(), 0);
  assert.is(st.data.length, 0);
  pub(a.m, a.j, 2, 'b');
  a.m._head = a.m._tail = a.m._start;
  assert.equal(ids(open(st.restart()).m), [2], 'appends start again at 0');
});

// ---------------------------------------------------------------- torn writes, corruption

/** A log of `n` mixed entries and the live ids after each entry's end offset. */
function history(seed: number) {
  const rng = createRng(seed);
  const st = new MemStore(), a = open(st, 4096, 1024);
  const marks: { end: number; recs: string[] }[] = [{ end: 0, recs: [] }];
  let id = 0;
  const live: number[] = [];
  for (let i = 0; i < 60; i++) {
    const k = rng.int(10);
    if (k < 5 || !live.length) {
      const qos = rng.chance(0.3) ? 2 : 1;
      pub(a.m, a.j, ++id, 'p'.repeat(rng.int(150)) + id, qos);
      live.push(id);
    } else {
      const x = live[k < 8 ? 0 : rng.int(live.length)];
      const p = findRecord(a.m, x, 0, 0);
      if (a.m._buf[p + 1] == 0x34) rec(a.m, a.j, x);
      else (ack(a.m, a.j, x), live.splice(live.indexOf(x), 1));
    }
    marks.push({ end: st.data.length, recs: restored(a.m) });
  }
  assert.is(st.replaces, 0, 'no compaction in the history');
  return { st, marks };
}

test('torn write: the log cut at EVERY offset of its last entry loads the entries before it, E_STORE_BAD, rewritten', () => {
  const { st, marks } = history(1);
  const prev = marks[marks.length - 2], last = marks[marks.length - 1];
  for (let keep = prev.end; keep <= last.end; keep++) {
    const cutStore = st.restart(keep);
    const b = open(cutStore, 4096, 1024);
    const whole = keep == last.end;
    assert.equal(restored(b.m), whole ? last.recs : prev.recs, `cut at ${keep}`);
    assert.is(b.loaded, keep == prev.end || whole ? 0 : E_STORE_BAD, `cut at ${keep}: ${b.loaded}`);
    // what comes next lands after the good entries: a reload sees it
    pub(b.m, b.j, 60000, 'after the cut');
    const c = open(cutStore.restart(), 4096, 1024);
    assert.is(c.loaded, 0, `reload after the cut at ${keep}`);
    assert.equal(restored(c.m), restored(b.m));
  }
});

test('torn write: the log cut at every offset of the whole history loses nothing whose entry was complete', () => {
  const { st, marks } = history(2);
  let j = 0;
  for (let keep = 0; keep <= st.data.length; keep++) {
    while (j + 1 < marks.length && marks[j + 1].end <= keep) j++;
    const b = open(st.restart(keep), 4096, 1024);
    assert.equal(restored(b.m), marks[j].recs, `cut at ${keep}`);
  }
});

test('torn write on flash: the rest of the entry erased (0xFF) is still a damaged entry, not data', () => {
  const { st, marks } = history(3);
  const prev = marks[marks.length - 2];
  for (let keep = prev.end + 1; keep < st.data.length; keep++) {
    const flash = new MemStore(u8(st.data.subarray(0, keep), new Uint8Array(st.data.length - keep + 16).fill(0xff)));
    const b = open(flash, 4096, 1024);
    assert.is(b.loaded, E_STORE_BAD, `cut at ${keep}`);
    assert.equal(restored(b.m), prev.recs);
    assert.is(flash.replaces, 1, 'rewritten: flash cannot write over the torn bytes');
  }
});

test('corruption: any byte changed is detected; the records before the damaged entry are exact, none invented', () => {
  const rng = createRng();
  withSeed(rng, () => {
    const { st, marks } = history(4);
    for (let trial = 0; trial < 400; trial++) {
      const at = rng.int(st.data.length);
      const bad = st.data.slice();
      bad[at] ^= 1 + rng.int(255);
      const b = open(new MemStore(bad), 4096, 1024);
      // the entry holding `at`: its start is the last mark at or before it
      let j = 0;
      while (j + 1 < marks.length && marks[j + 1].end <= at) j++;
      assert.is(b.loaded, E_STORE_BAD, `byte ${at} changed: detected`);
      assert.equal(restored(b.m), marks[j].recs, `byte ${at} changed: the records before its entry`);
    }
  });
});

test('corruption: random garbage as a log never throws and never yields a record that was not written', () => {
  const rng = createRng();
  withSeed(rng, () => {
    for (let trial = 0; trial < 300; trial++) {
      const junk = rng.bytes(rng.int(300));
      if (rng.chance(0.5) && junk.length) junk[0] = rng.pick([ADD, DEL, REL]);
      const b = open(new MemStore(junk), 1024, 512);
      assert.equal(records(b.m), [], 'nothing restored from garbage');
      assert.ok(b.loaded == 0 || b.loaded == E_STORE_BAD);
    }
  });
});

// ---------------------------------------------------------------- failures

test('failures: a failed append is E_STORE and the next change rewrites the log first (the failed bytes may be torn)', () => {
  const st = new MemStore(), a = open(st);
  pub(a.m, a.j, 1, 'a');
  st.failAppend = true;
  assert.is(pub(a.m, a.j, 2, 'b'), E_STORE, 'not stored: the client does not queue it');
  st.failAppend = false;
  // as if the failed append had left half an entry behind
  st.data = u8(st.data, ADD, 0x32, 9);
  assert.is(pub(a.m, a.j, 3, 'c'), 0);
  assert.is(st.replaces, 1, 'rewritten instead of appended');
  assert.equal(ids(open(st.restart()).m), [1, 3]);
  assert.is(ack(a.m, a.j, 1), 0);
  assert.equal(st.calls[st.calls.length - 1], `append ${st.data.length - 7} 7`, 'appending again');
});

test('failures: a failed replace or read is E_STORE; _clear and DEL report it', () => {
  const st = new MemStore(), a = open(st);
  pub(a.m, a.j, 1, 'a');
  st.failReplace = true;
  assert.is(a.j._clear(), E_STORE);
  st.failAppend = true;
  assert.is(ack(a.m, a.j, 1), E_STORE, 'dirty: a compaction is tried, and fails');
  st.failReplace = st.failAppend = false;
  assert.is(a.j._del(5), 0, 'the next change rewrites the log');
  assert.equal(ids(open(st.restart()).m), []);
  const r = new MemStore(st.data);
  r.failRead = true;
  assert.is(open(r).loaded, E_STORE);
});

test('memory: loading a large log reads entry by entry, each frame straight into the outbox', () => {
  const st = new MemStore(), a = open(st, 8192, 0);
  for (let id = 1; id <= 100; id++) { pub(a.m, a.j, id, 'x'.repeat(50)); if (id > 3) ack(a.m, a.j, id - 3); }
  const again = st.restart();
  const b = open(again, 8192, 0);
  assert.equal(ids(b.m), [98, 99, 100]);
  assert.ok(again.reads <= 3 * 197 + 1, `${again.reads} reads for 197 entries`);
});

test.run();
