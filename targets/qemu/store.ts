// QEMU board store: the client's log (src/store.ts) in a host file the firmware reaches through ARM semihosting
// (natives.d.ts: __fileRead, __fileWrite, __fileRename), the board's stand-in for flash. Each native call opens,
// works and closes, so what a call wrote is in the host's file when it returns: killing QEMU (the board's power
// cut) keeps it. A replace writes `<path>.tmp` and renames it over `<path>` (the host's rename: atomic).

/// <reference path="./natives.d.ts" />
import { journal, Store, Journal } from "../../src/store";

/** The Store over the host file `path` (absolute: semihosting resolves a relative one from QEMU's directory). */
export function hostFile(path: string, size?: number): Store {
  var tmp = path + ".tmp";
  return {
    read: function (pos, buf, off, len) {
      return __fileRead(path, pos, buf, off, len);
    },
    append: function (pos, buf, off, len) {
      return __fileWrite(path, pos, buf, off, len, false);
    },
    replace: function (pos, buf, off, len, last) {
      var r = __fileWrite(tmp, pos, buf, off, len, !pos);
      return r < 0 || !last ? r : __fileRename(tmp, path) < 0 ? -1 : r;
    },
    size: size,
  };
}

/** The client's store (its `store` option) in the host file `path`. */
export function hostFileStore(path: string, size?: number): Journal {
  return journal(hostFile(path, size));
}
