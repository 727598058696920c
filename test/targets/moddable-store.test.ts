// The Moddable store (targets/moddable/store.ts) against a model of the `file` module as modules/files/file/lin
// implements it (Moddable SDK 8.2.3): new File(path, true) opens "rb+" or creates "wb+", write() takes ArrayBuffers
// only (a view throws, as xsmcToArrayBuffer does there; ESP32's takes views), read past the end throws, position
// is settable. Power cuts after any number of file calls: the log is then the one before or after the operation
// cut. (The real runtime: to be run by the Moddable tests; this checks the logic and types.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileStore, fileBytes, ModdableFile } from '../../targets/moddable/store';
import { E_STORE } from '../../src/store';
import { createOutbox, reserve, recordSize, cut, Outbox } from '../../src/memory';
import { recordId, findRecord } from '../../src/mqtt/state';
import { encodePublish, sizePublish } from '../../src/mqtt/codec';

class Cut extends Error {}

/** The files, and a budget of changing calls before the power goes. */
class Disk {
  files = new Map<string, Uint8Array>();
  budget = Infinity;
  dead = false;
  calls = 0;
  viewsTaken = false;
  spend() {
    this.calls++;
    if (this.dead || this.budget-- <= 0) {
      this.dead = true;
      throw new Cut('power cut');
    }
  }
}

function fileClass(disk: Disk) {
  class File implements ModdableFile {
    position = 0;
    private closed = false;
    constructor(private path: string, write?: boolean) {
      if (!disk.files.has(path)) {
        if (!write) throw new Error('file not found');
        disk.spend();
        disk.files.set(path, new Uint8Array(0));
      }
    }
    private get data() {
      if (this.closed) throw new Error('closed');
      return disk.files.get(this.path)!;
    }
    get length() { return this.data.length; }
    read(_type: typeof ArrayBuffer, count: number): ArrayBuffer {
      const d = this.data;
      if (this.position >= d.length) throw new Error('read past end of file');
      const n = Math.min(count, d.length - this.position);
      const out = d.slice(this.position, this.position + n);
      this.position += n;
      return out.buffer;
    }
    write(data: ArrayBuffer | ArrayBufferView) {
      if (!(data instanceof ArrayBuffer) && !disk.viewsTaken) throw new TypeError('this is no ArrayBuffer instance');
      const b = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      disk.spend();
      let d = this.data;
      if (this.position + b.length > d.length) { const g = new Uint8Array(this.position + b.length); g.set(d); d = g; }
      d.set(b, this.position);
      disk.files.set(this.path, d);
      this.position += b.length;
    }
    close() { this.closed = true; }
    static delete(path: string) { disk.spend(); return disk.files.delete(path); }
    static exists(path: string) { return disk.files.has(path); }
  }
  return File;
}

function pub(m: Outbox, j: any, id: number, payload: string) {
  const n = sizePublish('t', payload, 1), q = reserve(m, n, 16);
  encodePublish(m._buf, q, 't', payload, 1, false, false, id);
  const r = j._add(q, n);
  if (r < 0) m._tail = q - 1;
  return r;
}
function ack(m: Outbox, j: any, id: number) {
  const p = findRecord(m, id, 0, 0);
  cut(m, p, recordSize(m, p));
  return j._del(id);
}
const ids = (m: Outbox) => { const a: number[] = []; for (let p = m._head; p < m._tail; p += recordSize(m, p)) a.push(recordId(m, p)); return a; };
function load(disk: Disk, size = 256) {
  const m = createOutbox(1024, 512), j = fileStore('/mod/ob', { File: fileClass(disk), size });
  return { m, j, code: j._load(m) };
}

test('slots: the first append commits /mod/ob0 (seq 1), a compaction writes /mod/ob1 (seq 2) and deletes ob0; reloads', () => {
  const disk = new Disk(), a = load(disk);
  assert.equal([...disk.files.keys()], []);
  assert.is(pub(a.m, a.j, 1, 'hello'), 0);
  assert.equal([...disk.files.keys()], ['/mod/ob0']);
  assert.equal([...disk.files.get('/mod/ob0')!.subarray(0, 8)], [0, 0, 0, 1, 255, 255, 255, 254]);
  let id = 1;
  while (disk.files.has('/mod/ob0')) { ack(a.m, a.j, id); pub(a.m, a.j, ++id, 'message ' + id); }
  assert.equal([...disk.files.keys()], ['/mod/ob1']);
  assert.equal([...disk.files.get('/mod/ob1')!.subarray(0, 8)], [0, 0, 0, 2, 255, 255, 255, 253]);
  const b = load(disk);
  assert.is(b.code, 0);
  assert.equal(ids(b.m), [id]);
});

test('a power cut after any number of file calls, through appends and compactions: the log before or after the cut operation', () => {
  const ops: ((m: Outbox, j: any) => number)[] = [];
  for (let i = 1; i <= 40; i++) {
    ops.push((m, j) => pub(m, j, i, 'payload ' + i));
    if (i > 2) ops.push((m, j) => ack(m, j, i - 2));
  }
  const ref: string[] = [], whole = new Disk(), w = load(whole);
  for (const op of ops) { assert.is(op(w.m, w.j), 0); ref.push(JSON.stringify(ids(w.m))); }
  let cuts = 0;
  for (let budget = 0; budget <= whole.calls; budget++) {
    const disk = new Disk();
    disk.budget = budget;
    const a = load(disk);
    let k = 0;
    for (; k < ops.length; k++) {
      const r = ops[k](a.m, a.j);
      if (disk.dead) break;
      assert.is(r, 0);
    }
    if (disk.dead) cuts++;
    disk.budget = Infinity;
    disk.dead = false;
    const b = load(disk), got = JSON.stringify(ids(b.m));
    const before = k ? ref[k - 1] : '[]', after = ref[Math.min(k, ops.length - 1)];
    assert.ok(got == before || got == after, `power cut after ${budget} file calls, in operation ${k}: restored ${got}, expected ${before} or ${after}`);
  }
  assert.ok(cuts > 100, 'cuts: ' + cuts);
});

test('writes: ArrayBuffer copies where views are refused (the Linux simulator), the views themselves where taken', () => {
  for (const views of [false, true]) {
    const disk = new Disk();
    disk.viewsTaken = views;
    const a = load(disk);
    for (let i = 1; i <= 30; i++) { assert.is(pub(a.m, a.j, i, 'x' + i), 0); if (i > 1) ack(a.m, a.j, i - 1); }
    assert.equal(ids(load(disk).m), [30]);
  }
});

test('a blank or torn header is not a log; failures are E_STORE', () => {
  const disk = new Disk(), a = load(disk);
  pub(a.m, a.j, 1, 'one');
  disk.files.set('/mod/ob1', Uint8Array.of(0, 0, 0, 9, 255, 255, 0, 0, 1, 2, 3));
  assert.equal(ids(load(disk).m), [1]);
  disk.files.set('/mod/ob1', Uint8Array.of(0, 0));
  assert.equal(ids(load(disk).m), [1]);
  const io = fileBytes('/mod/zz', { File: fileClass(disk) }), b = new Uint8Array(4);
  assert.is(io.read(0, b, 0, 4), 0, 'no slot: an empty log');
  disk.dead = true;
  assert.is(io.append(0, b, 0, 4), E_STORE);
  assert.is(io.replace(0, b, 0, 4, true), E_STORE);
  assert.is(io.replace(4, b, 0, 4, true), E_STORE, 'no replace started');
});

test.run();
