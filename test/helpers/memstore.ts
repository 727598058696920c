// A Store in memory for the log's and the client's tests: positional writes like pwrite (bytes past the written
// ones stay), replace as a second buffer switched in at `last`, failures and "power cuts" on demand, and a record
// of every call.
import type { Store } from '../../src/store';

export class MemStore implements Store {
  /** The log as it would be found after a restart. */
  data: Uint8Array = new Uint8Array(0);
  /** The new log a replace is writing, until its last call. */
  pending: Uint8Array | null = null as Uint8Array | null;
  size?: number;
  /** Calls, as "append pos len", "replace pos len [last]", "read pos len". */
  calls: string[] = [];
  reads = 0;
  /** Make the next appends / replaces / reads fail (returning -1) while true. */
  failAppend = false;
  failReplace = false;
  failRead = false;
  /** Bytes appended in all, and appends made. */
  appended = 0;
  appends = 0;
  replaces = 0;

  constructor(init?: ArrayLike<number>, size?: number) {
    if (init) this.data = Uint8Array.from(init);
    if (size) this.size = size;
  }

  private static put(to: Uint8Array, pos: number, b: Uint8Array): Uint8Array {
    const out = to.length >= pos + b.length ? to.slice() : new Uint8Array(pos + b.length);
    if (out !== to && out.length > to.length) out.set(to);
    out.set(b, pos);
    return out;
  }

  read(pos: number, buf: Uint8Array, off: number, len: number): number {
    this.reads++;
    if (this.failRead) return -1;
    const n = Math.max(0, Math.min(len, this.data.length - pos));
    buf.set(this.data.subarray(pos, pos + n), off);
    return n;
  }

  append(pos: number, buf: Uint8Array, off: number, len: number): number {
    this.calls.push(`append ${pos} ${len}`);
    if (this.failAppend) return -1;
    if (pos > this.data.length) throw new Error(`append at ${pos} past the log's end ${this.data.length}`);
    this.data = MemStore.put(this.data, pos, buf.slice(off, off + len));
    this.appended += len;
    this.appends++;
    return len;
  }

  replace(pos: number, buf: Uint8Array, off: number, len: number, last: boolean): number {
    this.calls.push(`replace ${pos} ${len}${last ? ' last' : ''}`);
    if (this.failReplace) return -1;
    if (pos == 0) this.pending = new Uint8Array(0);
    if (!this.pending || pos != this.pending.length) throw new Error(`replace at ${pos}: not the new log's end (${this.pending && this.pending.length})`);
    this.pending = MemStore.put(this.pending, pos, buf.slice(off, off + len));
    if (last) {
      this.data = this.pending;
      this.pending = null;
      this.replaces++;
    }
    return len;
  }

  /** A copy of what would be found after a restart: the log, with only `keep` bytes of it when given (a cut write). */
  restart(keep = this.data.length): MemStore {
    return new MemStore(this.data.subarray(0, keep), this.size);
  }
}
