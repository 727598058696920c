// The Espruino store (targets/espruino/store.ts) against a model of Storage with flash rules, as jsflash.c has them
// (Espruino 2v29): a write at offset 0 creates the file (anew, unless it is the same size and still erased), a write
// elsewhere needs erased bytes (else "File already written with different data"), unwritten bytes read 0xFF. Power
// cuts are modelled by stopping after any number of Storage calls: the log must then be the old one or the new one.
// The real interpreter runs it in test/engines/espruino-store.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { storageBytes, storageStore, EspruinoStorage } from '../../targets/espruino/store';
import { journal, E_STORE } from '../../src/store';
import { createOutbox, reserve, recordSize, cut, Outbox } from '../../src/memory';
import { recordId, findRecord } from '../../src/mqtt/state';
import { encodePublish, sizePublish } from '../../src/mqtt/codec';

(globalThis as any).E = {
  toUint8Array: (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0)),
};

class Cut extends Error {}

/** Storage with flash rules; `budget` Storage calls that change flash before the power goes (Cut thrown). */
class FlashStorage implements EspruinoStorage {
  files = new Map<string, Uint8Array>();
  writes = 0;
  erases = 0;
  budget = Infinity;
  flashBytes = 0;
  /** The power is gone: every later call fails too. */
  dead = false;
  private spend() {
    if (this.dead || this.budget-- <= 0) {
      this.dead = true;
      throw new Cut('power cut');
    }
  }
  read(name: string, offset = 0, length?: number) {
    const f = this.files.get(name);
    if (!f) return undefined;
    const b = f.subarray(offset, length == null ? f.length : offset + length);
    return String.fromCharCode(...b);
  }
  write(name: string, data: string | Uint8Array, offset = 0, size?: number) {
    const bytes = typeof data == 'string' ? Uint8Array.from(data, (c) => c.charCodeAt(0)) : Uint8Array.from(data);
    this.spend();
    this.writes++;
    let f = this.files.get(name);
    if (!offset && (!f || f.length != (size || bytes.length) || f.some((x) => x != 0xff))) {
      f = new Uint8Array(size || bytes.length).fill(0xff);
      this.files.set(name, f);
      this.flashBytes += f.length;
    }
    if (!f) throw new Error('Unable to find or create file');
    if (offset + bytes.length > f.length) throw new Error('Too much data for file size');
    if (f.subarray(offset, offset + bytes.length).some((x) => x != 0xff)) throw new Error('File already written with different data');
    f.set(bytes, offset);
    return true;
  }
  erase(name: string) {
    this.spend();
    this.erases++;
    this.files.delete(name);
  }
}

function pub(m: Outbox, j: ReturnType<typeof journal>, id: number, payload: string) {
  const n = sizePublish('t', payload, 1), q = reserve(m, n, 16);
  encodePublish(m._buf, q, 't', payload, 1, false, false, id);
  const r = j._add(q, n);
  if (r < 0) m._tail = q - 1;
  return r;
}
function ack(m: Outbox, j: ReturnType<typeof journal>, id: number) {
  const p = findRecord(m, id, 0, 0);
  cut(m, p, recordSize(m, p));
  return j._del(id);
}
const ids = (m: Outbox) => { const a: number[] = []; for (let p = m._head; p < m._tail; p += recordSize(m, p)) a.push(recordId(m, p)); return a; };
function load(fs: FlashStorage, size = 512) {
  const m = createOutbox(1024, 512), j = storageStore('ob', { storage: fs, size });
  return { m, j, code: j._load(m) };
}

test('two slots: the first append commits slot 0 (seq 1 at byte 1), compaction moves to slot 1 (seq 2) and erases slot 0', () => {
  const fs = new FlashStorage(), a = load(fs);
  assert.equal([...fs.files.keys()], [], 'nothing written before the first message');
  assert.is(pub(a.m, a.j, 1, 'hello'), 0);
  assert.equal([...fs.files.keys()], ['ob0']);
  assert.equal([...fs.files.get('ob0')!.subarray(0, 9)], [255, 0, 0, 0, 1, 255, 255, 255, 254]);
  let id = 1;
  while (fs.files.has('ob0')) { ack(a.m, a.j, id); pub(a.m, a.j, ++id, 'message ' + id); }
  assert.equal([...fs.files.keys()], ['ob1']);
  assert.equal([...fs.files.get('ob1')!.subarray(0, 9)], [255, 0, 0, 0, 2, 255, 255, 255, 253]);
  const b = load(fs);
  assert.is(b.code, 0);
  assert.equal(ids(b.m), [id]);
});

test('a power cut after any number of Storage calls, through appends and compactions: the log before or after the cut operation', () => {
  const ops: ((m: Outbox, j: any) => number)[] = [];
  for (let i = 1; i <= 40; i++) {
    ops.push((m, j) => pub(m, j, i, 'payload ' + i));
    if (i > 2) ops.push((m, j) => ack(m, j, i - 2));
  }
  // the live ids after each operation, without cuts
  const ref: string[] = [], whole = new FlashStorage(), w = load(whole, 256);
  for (const op of ops) { assert.is(op(w.m, w.j), 0); ref.push(JSON.stringify(ids(w.m))); }
  assert.ok(whole.erases >= 4, 'several compactions in the run: ' + whole.erases);
  let cuts = 0;
  for (let budget = 0; budget <= whole.writes + whole.erases; budget++) {
    const fs = new FlashStorage();
    fs.budget = budget;
    const a = load(fs, 256);
    let k = 0;
    for (; k < ops.length; k++) {
      const r = ops[k](a.m, a.j);
      if (fs.dead) break;
      assert.is(r, 0);
    }
    if (fs.dead) cuts++;
    fs.budget = Infinity;
    fs.dead = false;
    const b = load(fs, 256), got = JSON.stringify(ids(b.m));
    const before = k ? ref[k - 1] : '[]', after = ref[Math.min(k, ops.length - 1)];
    assert.ok(got == before || got == after, `power cut after ${budget} Storage calls, in operation ${k}: restored ${got}, expected ${before} or ${after}`);
    assert.is(b.code, 0, 'flash torn only where erased: a clean load');
  }
  assert.ok(cuts > 100, 'cuts: ' + cuts);
});

test('a slot with a torn or missing trailer is not the log; the committed one is', () => {
  const fs = new FlashStorage(), a = load(fs);
  pub(a.m, a.j, 1, 'one');
  // a replace that stopped before its commit: slot 1 holds bytes but no sequence number
  fs.write('ob1', '\xff', 0, 512);
  fs.write('ob1', 'junk', 9);
  let b = load(fs);
  assert.equal(ids(b.m), [1]);
  // a torn commit: half the number written
  fs.write('ob1', '\x00\x00\x00\x09', 1);
  b = load(fs);
  assert.equal(ids(b.m), [1]);
});

test('a full slot: an append past it compacts; a log that cannot fit fails with E_STORE', () => {
  const fs = new FlashStorage(), a = load(fs, 64);
  assert.is(pub(a.m, a.j, 1, 'x'.repeat(10)), 0);
  assert.is(pub(a.m, a.j, 2, 'x'.repeat(10)), 0);
  assert.is(pub(a.m, a.j, 3, 'x'.repeat(10)), E_STORE, 'three do not fit in 55 bytes');
  ack(a.m, a.j, 1);
  assert.is(pub(a.m, a.j, 3, 'x'.repeat(10)), 0);
  assert.equal(ids(load(fs, 64).m), [2, 3]);
});

test('reads past the slot return nothing; a missing file reads as an empty log', () => {
  const fs = new FlashStorage(), io = storageBytes('zz', { storage: fs, size: 64 }), b = new Uint8Array(8);
  assert.is(io.read(0, b, 0, 8), 0);
  assert.is(io.append(0, Uint8Array.of(1, 2), 0, 2), 2);
  assert.is(io.read(0, b, 0, 8), 8);
  assert.equal([...b], [1, 2, 255, 255, 255, 255, 255, 255]);
  assert.is(io.read(55, b, 0, 8), 0, 'past the slot');
  assert.is(io.read(50, b, 0, 8), 5, 'up to its end');
  assert.is(io.append(54, Uint8Array.of(1, 2), 0, 2), E_STORE);
});

test.run();
