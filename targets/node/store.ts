// Node.js store: the client's log (src/store.ts) in a file.
//
//   append   a positional write at the log's end (pwrite), then fdatasync: a message whose publish returned is on
//            the disk, not only in the page cache (sync: false skips the sync: it then survives the process
//            being killed, not the machine losing power)
//   replace  the new log written to <path>.tmp, fsync, rename over <path>, fsync of the directory: after a cut at
//            any point, <path> is the old log or the new one, whole (rename(2) is atomic)
//   read     a positional read (pread)
import { openSync, readSync, writeSync, fsyncSync, fdatasyncSync, closeSync, renameSync, constants } from "node:fs";
import { dirname } from "node:path";
import { journal, Store, Journal, E_STORE } from "../../src/store";

export interface FileStoreOptions {
  /** Sync each write to the disk before it returns (default true). */
  sync?: boolean;
  /** Most bytes the log may take before it is compacted (default 4x the outbox). */
  size?: number;
}

/** The bytes of a log file, for journal(); fileStore() is the usual way in. */
export function fileBytes(path: string, o: FileStoreOptions = {}): Store {
  var fd = -1, tmp = -1, sync = o.sync !== false;

  function log(): number {
    if (fd < 0) fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    return fd;
  }

  function put(f: number, buf: Uint8Array, off: number, len: number, pos: number) {
    for (var n = 0; n < len; ) n += writeSync(f, buf, off + n, len - n, pos + n);
  }

  return {
    read(pos, buf, off, len) {
      try {
        return len ? readSync(log(), buf, off, len, pos) : 0;
      } catch (e) {
        return E_STORE;
      }
    },
    append(pos, buf, off, len) {
      try {
        put(log(), buf, off, len, pos);
        if (sync) fdatasyncSync(fd);
        return len;
      } catch (e) {
        return E_STORE;
      }
    },
    replace(pos, buf, off, len, last) {
      var d: number;
      try {
        if (!pos) {
          if (tmp >= 0) closeSync(tmp);
          tmp = -1;
          tmp = openSync(path + ".tmp", "w", 0o600);
        }
        if (tmp < 0) return E_STORE;
        put(tmp, buf, off, len, pos);
        if (last) {
          if (sync) fsyncSync(tmp);
          closeSync(tmp);
          tmp = -1;
          renameSync(path + ".tmp", path);
          if (fd >= 0) closeSync(fd);
          fd = -1;
          if (sync) {
            d = openSync(dirname(path), "r");
            try {
              fsyncSync(d);
            } finally {
              closeSync(d);
            }
          }
        }
        return len;
      } catch (e) {
        return E_STORE;
      }
    },
    size: o.size,
  };
}

/**
 * A client's store in the file at `path` (created when missing): `createClient({ ..., store: fileStore(path) })`.
 * One file per client; its directory must exist. `<path>.tmp` is used while the log is compacted.
 */
export function fileStore(path: string, o?: FileStoreOptions): Journal {
  return journal(fileBytes(path, o));
}
