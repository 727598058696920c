// Moddable store: the client's log (src/store.ts) in files of the Moddable `file` module (SPIFFS or littlefs on
// ESP32 and Pico, the host's file system in the simulator). The app passes the File class, so this module needs no
// manifest entry of its own:
//
//   import { File } from "file";                  // manifest: "$(MODDABLE)/modules/files/file/manifest.json"
//   import { fileStore } from "tinyhub/...";
//   createClient({ ..., store: fileStore(config.file.root + "outbox", { File }) });
//
// Not every file system renames over an existing file (SPIFFS refuses), so the log lives in two files, the slots
// `<path>0` and `<path>1`, each: [seq:4][~seq:4][log bytes...] (seq big-endian, ~seq its complement).
// - appends write at their offset in the current slot (the file module flushes each write);
// - a replace writes the other slot anew with a blank header (zeros: no slot), the new log after it, then the
//   header with the next sequence number (the commit), then deletes the old slot;
// - at start the slot with a whole header and the higher sequence number is the log; a slot without one (a cut
//   before the commit) is ignored: after a cut at any point the log is the old one or the new one.
// The file module of the Linux simulator writes ArrayBuffers only: there each write copies its bytes once; on ESP32
// (and wherever a view is taken) nothing is copied.
import { journal, Store, Journal, E_STORE } from "../../src/store";

/** The part of the `file` module's File class used here. */
export interface ModdableFile {
  read(type: typeof ArrayBuffer, count: number): ArrayBuffer;
  write(data: any): void;
  close(): void;
  readonly length: number;
  position: number;
}
export interface ModdableFileClass {
  new (path: string, write?: boolean): ModdableFile;
  delete(path: string): boolean;
  exists(path: string): boolean;
}

export interface FileStoreOptions {
  /** The File class of the `file` module. */
  File: ModdableFileClass;
  /** Most bytes the log may take before it is compacted (default 4x the outbox). */
  size?: number;
}

function u32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** The bytes of a log in two files, for journal(); fileStore() is the usual way in. */
export function fileBytes(path: string, o: FileStoreOptions): Store {
  var F = o.File,
    h = new Uint8Array(8),
    // the current slot (-1: none yet), its open file, its sequence number; the slot being written by a replace
    cur = -1,
    file: ModdableFile | null = null,
    seq = 0,
    next: ModdableFile | null = null,
    nk = 0,
    copy = false,
    k: number,
    v: number;

  /** The sequence number slot k was committed with, or -1 (no file, no header, a blank or torn one). */
  function committed(k: number): number {
    var f: ModdableFile | null = null, b: Uint8Array;
    try {
      if (!F.exists(path + k)) return -1;
      f = new F(path + k);
      if (f.length < 8) return -1;
      f.position = 0;
      b = new Uint8Array(f.read(ArrayBuffer, 8));
      return u32(b, 0) == ~u32(b, 4) >>> 0 ? u32(b, 0) : -1;
    } catch (e) {
      return -1;
    } finally {
      if (f) f.close();
    }
  }

  function put(f: ModdableFile, at: number, buf: Uint8Array, off: number, len: number) {
    var b = buf.subarray(off, off + len);
    f.position = at;
    if (!copy) {
      try {
        return f.write(b);
      } catch (e) {
        // a file module that takes ArrayBuffers only (the Linux simulator's): copies from now on
        copy = true;
      }
    }
    f.write(b.slice().buffer);
  }

  /** Writes slot k's header: its sequence number, or zeros (blank: not a log). */
  function header(f: ModdableFile, n: number) {
    for (var i = 0; i < 4; i++) (h[i] = n >>> (24 - 8 * i)), (h[i + 4] = n ? ~h[i] : 0);
    put(f, 0, h, 0, 8);
  }

  /** Starts slot k anew: deleted, created, a blank header. */
  function create(k: number): ModdableFile {
    var f: ModdableFile;
    if (F.exists(path + k)) F.delete(path + k);
    f = new F(path + k, true);
    header(f, 0);
    return f;
  }

  /** Makes slot k (its file f) the log: its header, then the old slot goes. */
  function commit(f: ModdableFile, k: number) {
    var old = cur;
    seq = (seq + 1) >>> 0 || 1;
    header(f, seq);
    if (file) file.close();
    file = f;
    cur = k;
    if (old >= 0 && old != k) F.delete(path + old);
  }

  for (k = 0; k < 2; k++) if ((v = committed(k)) >= 0 && (cur < 0 || v > seq)) (cur = k), (seq = v);

  return {
    read: function (pos, buf, off, len) {
      try {
        if (cur < 0) return 0;
        if (!file) file = new F(path + cur, true);
        if ((len = Math.min(len, file.length - 8 - pos)) <= 0) return 0;
        file.position = 8 + pos;
        buf.set(new Uint8Array(file.read(ArrayBuffer, len)), off);
        return len;
      } catch (e) {
        return E_STORE;
      }
    },
    append: function (pos, buf, off, len) {
      try {
        // the first log: an empty slot committed, then written to
        if (cur < 0) commit(create(0), 0);
        if (!file) file = new F(path + cur, true);
        put(file, 8 + pos, buf, off, len);
        return len;
      } catch (e) {
        return E_STORE;
      }
    },
    replace: function (pos, buf, off, len, last) {
      try {
        if (!pos) {
          if (next) next.close();
          next = null;
          next = create((nk = cur == 0 ? 1 : 0));
        }
        if (!next) return E_STORE;
        if (len) put(next, 8 + pos, buf, off, len);
        if (last) commit(next, nk), (next = null);
        return len;
      } catch (e) {
        return E_STORE;
      }
    },
    size: o.size,
  };
}

/** A client's store in the files `<path>0` and `<path>1`: `createClient({ ..., store: fileStore(path, { File }) })`. */
export function fileStore(path: string, o: FileStoreOptions): Journal {
  return journal(fileBytes(path, o));
}
