// Espruino store: the client's log (src/store.ts) in Storage, the board's flash file system.
//
// Flash is written once per byte and erased a page at a time: a Storage file is written at an offset only where it is
// still erased, and a write at offset 0 always creates the file anew. So the log lives in two Storage files of one
// fixed size, the slots `<name>0` and `<name>1`:
//
//   [0xFF][seq:4][~seq:4][log bytes ... erased (0xFF) ...]       seq big-endian, ~seq its complement
//
// - byte 0 is the one written when the file is created (0xFF: it stays erased); offset 0 is never written again;
// - appends write at their offset in the current slot (erased bytes: the log's clean end for the replay);
// - a replace creates the other slot, writes the new log into it, then its sequence number (the commit: the next
//   one, with its complement), then erases the old slot;
// - at start the slot with a whole sequence number (it and its complement) and the higher one is the log; a slot
//   whose number is erased or torn (a cut before the commit) is ignored, so a cut at any point leaves the old log or
//   the new one.
//
// The file size is fixed (option `size`, default 4096 bytes: 4x the outbox of a 2048-byte client); the log may fill
// it, then it is compacted. Storage reclaims erased files itself when it runs out of room (its compaction).
import { journal, Store, Journal, E_STORE } from "../../src/store";

/** The part of require("Storage") used here. */
export interface EspruinoStorage {
  read(name: string, offset?: number, length?: number): string | undefined;
  write(name: string, data: string | Uint8Array, offset?: number, size?: number): boolean;
  erase(name: string): void;
}

export interface StorageStoreOptions {
  /** Bytes of each of the two Storage files (default 4096); the log may take all but 9 of them. */
  size?: number;
  /** The Storage module (default require("Storage")). */
  storage?: EspruinoStorage;
}

declare function require(module: "Storage"): EspruinoStorage;

function u32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** The bytes of a log in Storage, for journal(); storageStore() is the usual way in. */
export function storageBytes(name: string, o?: StorageStoreOptions): Store {
  var size = (o && o.size) || 4096,
    end = size - 9,
    fs = (o && o.storage) || require("Storage"),
    t = new Uint8Array(8),
    // the current slot (-1: none yet) and its sequence number
    cur = -1,
    seq = 0,
    k: number,
    v: number;

  /** The sequence number slot k was committed with, or -1 when it has none (erased, torn, missing). */
  function committed(k: number): number {
    var s = fs.read(name + k, 1, 8), b: Uint8Array;
    if (!s || s.length != 8) return -1;
    b = E.toUint8Array(s);
    return u32(b, 0) == ~u32(b, 4) >>> 0 ? u32(b, 0) : -1;
  }

  /** Creates slot k anew, erased (its byte 0 written as 0xFF: creating a file takes data at offset 0). */
  function create(k: number) {
    fs.write(name + k, "\xff", 0, size);
  }

  /** Makes slot k the log: its sequence number, then the old slot goes. */
  function commit(k: number) {
    seq = (seq + 1) >>> 0;
    for (var i = 0; i < 4; i++) (t[i] = seq >>> (24 - 8 * i)), (t[i + 4] = ~t[i]);
    if (!fs.write(name + k, t, 1)) throw 0;
    if (cur >= 0 && cur != k) fs.erase(name + cur);
    cur = k;
  }

  function write(k: number, pos: number, buf: Uint8Array, off: number, len: number): number {
    if (pos + len > end) return E_STORE;
    if (len && !fs.write(name + k, buf.subarray(off, off + len), 9 + pos)) throw 0;
    return len;
  }

  for (k = 0; k < 2; k++) if ((v = committed(k)) >= 0 && (cur < 0 || v > seq)) (cur = k), (seq = v);

  return {
    read: function (pos, buf, off, len) {
      var s: string | undefined;
      if (cur < 0 || (len = Math.min(len, end - pos)) <= 0) return 0;
      s = fs.read(name + cur, 9 + pos, len);
      if (s == null) return E_STORE;
      buf.set(E.toUint8Array(s), off);
      return s.length;
    },
    append: function (pos, buf, off, len) {
      try {
        // the first log: an empty slot committed, then written to
        if (cur < 0) create(0), commit(0);
        return write(cur, pos, buf, off, len);
      } catch (e) {
        return E_STORE;
      }
    },
    replace: function (pos, buf, off, len, last) {
      var k = cur == 0 ? 1 : 0, r: number;
      try {
        if (!pos) create(k);
        r = write(k, pos, buf, off, len);
        if (r >= 0 && last) commit(k);
        return r;
      } catch (e) {
        return E_STORE;
      }
    },
    size: end,
  };
}

/**
 * A client's store in Storage, in the files `<name>0` and `<name>1` (name: at most 27 characters):
 * `createClient({ ..., store: storageStore("outbox") })`.
 */
export function storageStore(name: string, o?: StorageStoreOptions): Journal {
  return journal(storageBytes(name, o));
}
