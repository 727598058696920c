// Queued QoS 1/2 messages kept across a restart: a write-ahead log over the bytes a target keeps (a file, flash),
// replayed into the outbox when the client is created. Pure code: the target's Store does the I/O.
//
// Why a log, and not the outbox region written as it is: a message costs one small append when queued and one when
// acknowledged (flash is written once per byte, never rewritten in place), and a power cut in the middle of a write
// tears only the entry being written, never one written before it. Entries, one after another from byte 0:
//
//   ADD  [0x41 'A'][frame][check:4]   a QoS 1/2 PUBLISH queued (or, after compaction, a PUBREL still awaiting
//                                     PUBCOMP): the encoded frame as the outbox holds it; it carries its own
//                                     length (the fixed header's remaining length) and its packet id
//   DEL  [0x44 'D'][id:2][check:4]    the record with this packet id left the outbox: acknowledged (PUBACK,
//                                     PUBCOMP), or forgotten by a reconnect that found no session
//   REL  [0x52 'R'][id:2][check:4]    the QoS 2 PUBLISH with this id became its PUBREL (PUBREC received)
//
// check: Adler-32 of the entry's kind byte and the bytes up to the check, big-endian. Replay applies the entries
// in order and stops at the first one that is not whole and right: nothing more to read, or an erased byte (0xFF)
// where a kind should be, ends the log cleanly; an unknown kind, a frame longer than the outbox or a wrong check ends
// it as damaged (the write a power cut tore, or corruption: E_STORE_BAD). Everything before that entry is applied,
// so a cut never loses or reorders a message whose append had returned.
//
// Compaction: when an append would take the log past its bound (the Store's `size`, else 4x the outbox), the log is
// rewritten as one ADD per live record, in order, through the Store's atomic replace (the target writes a new log
// and then switches to it: a temporary file renamed over the old one, or two slots with sequence numbers). The same
// happens at load when the log ended damaged (a flash cannot write over the torn bytes) or held more than the
// outbox (the oldest records are kept, up to the first that does not fit: E_STORE_FULL), and after a failed append.
//
// Memory: the replay reads each entry's frame straight into the outbox record it becomes and checks it there; the
// only other bytes are an 8-byte scratch for entry headers and DEL/REL entries. Nothing is sized by the log.
import { Outbox, reserve, recordSize, cut, SENT } from "./memory";
import { findRecord, release, QOS_BITS, H_PUBLISH, H_PUBREL } from "./mqtt/state";
import { readU16 } from "./bytes";

import { E_STORE, E_STORE_BAD, E_STORE_FULL } from "./errors";
export { E_STORE, E_STORE_BAD, E_STORE_FULL };

/**
 * Bytes a target keeps across a restart, for one client's log. Each call returns a count of bytes (>= 0) or a
 * negative number when it failed.
 */
export interface Store {
  /** Reads up to `len` bytes of the log at `pos` into `buf` at `off`; fewer (or 0) at its end. */
  read(pos: number, buf: Uint8Array, off: number, len: number): number;
  /**
   * Writes `len` bytes at `pos`, the log's end (bytes may lie there: what a failed write left); durable when it
   * returns, so a message whose publish returned survives a power cut.
   */
  append(pos: number, buf: Uint8Array, off: number, len: number): number;
  /**
   * Writes `len` bytes at `pos` of a new log that replaces the current one: the first call (pos 0) starts it, the
   * call with `last` set (len may be 0) makes it the log, atomically: after a cut at any point, the log is either
   * the old one whole or the new one whole.
   */
  replace(pos: number, buf: Uint8Array, off: number, len: number, last: boolean): number;
  /** Most bytes the log may take (a flash slot's size); default 4x the outbox. */
  size?: number;
}

/** What a client's `store` option takes: a log over a Store (`journal(store)`; the targets' stores make one). */
export interface Journal {
  /**
   * Replays the log into the (empty) outbox, restored records marked SENT; 0, E_STORE_BAD, E_STORE_FULL or E_STORE.
   * `report` hears about the failures of _del, _rel and _clear (the client's onError).
   */
  _load(m: Outbox, report?: (code: number) => void): number;
  /** Logs the record whose frame is at `q` (`n` bytes, the outbox's last record: 4 free bytes follow it); 0 or E_STORE. */
  _add(q: number, n: number): number;
  /** Logs that the record with packet id `id` left the outbox (already removed from it); 0 or E_STORE (reported too). */
  _del(id: number): number;
  /** Logs that the QoS 2 PUBLISH `id` became its PUBREL (already converted in the outbox); 0 or E_STORE (reported too). */
  _rel(id: number): number;
  /** Empties the log; 0 or E_STORE (reported too). */
  _clear(): number;
}

export var ADD = 0x41, DEL = 0x44, REL = 0x52;

/** Adler-32 of `len` bytes at `off`, continuing from `seed` (the value of the bytes before them) when given. */
export function adler32(b: Uint8Array, off: number, len: number, seed?: number): number {
  var a = seed ? seed % 65536 : 1, c = seed ? (seed - a) / 65536 : 0, end = off + len;
  while (off < end) {
    c += a += b[off++];
    // well below 2^53 when reduced every 4096 bytes
    if (!(off & 4095)) (a %= 65521), (c %= 65521);
  }
  return (c % 65521) * 65536 + (a % 65521);
}

function writeU32(b: Uint8Array, off: number, v: number) {
  b[off] = v / 16777216;
  b[off + 1] = v >> 16;
  b[off + 2] = v >> 8;
  b[off + 3] = v;
}

function readU32(b: Uint8Array, off: number): number {
  return b[off] * 16777216 + readU16(b, off + 1) * 256 + b[off + 3];
}

/** True for the first byte of a record the log keeps: a QoS 1/2 PUBLISH or a PUBREL. */
function kept(h: number): boolean {
  return (h >> 4 == H_PUBLISH >> 4 && (h & QOS_BITS) > 0 && (h & QOS_BITS) < QOS_BITS) || h == H_PUBREL;
}

/** The client's log over `st`. */
export function journal(st: Store): Journal {
  var s = new Uint8Array(8),
    m: Outbox,
    // the log's end, and whether it must be rewritten before the next append (it ended damaged, or a write failed)
    end = 0,
    dirty = false,
    bound = 0,
    rep: ((code: number) => void) | undefined;

  function failed(): number {
    dirty = true;
    return E_STORE;
  }

  /** Rewrites the log as one ADD per live record, in order; each record's state byte stands in for the kind meanwhile. */
  function compact(): number {
    var b = m._buf, p = m._head, pos = 0, n: number, t: number, r = 0;
    for (; p < m._tail && r >= 0; p += n + 1) {
      n = recordSize(m, p) - 1;
      if (!kept(b[p + 1])) continue;
      t = b[p];
      b[p] = ADD;
      writeU32(s, 0, adler32(b, p, n + 1));
      r = st.replace(pos, b, p, n + 1, false);
      b[p] = t;
      if (r >= 0) r = st.replace(pos + n + 1, s, 0, 4, false);
      pos += n + 5;
    }
    if (r < 0 || st.replace(pos, s, 0, 0, true) < 0) return failed();
    end = pos;
    dirty = false;
    return 0;
  }

  /** A DEL or REL entry, appended (or a compaction instead, the outbox holding the change already); a failure is reported. */
  function small(kind: number, id: number): number {
    s[0] = kind;
    s[1] = id >> 8;
    s[2] = id;
    writeU32(s, 3, adler32(s, 0, 3));
    return said(dirty || end + 7 > bound ? compact() : st.append(end, s, 0, 7) < 0 ? failed() : ((end += 7), 0));
  }

  function said(r: number): number {
    if (r < 0 && rep) rep(r);
    return r;
  }

  return {
    _load: function (o, report) {
      var b = o._buf, q = 0, n: number, k: number, i: number, len: number, mul: number, v: number, code = 0, clean = false;
      m = o;
      rep = report;
      bound = st.size || 4 * (b.length - o._start);
      for (;;) {
        if ((n = st.read(end, s, 0, 7)) < 0) return failed();
        // nothing more, or erased flash: the log's clean end
        for (k = 0xff, i = 0; i < n; i++) k &= s[i];
        if ((clean = k == 0xff)) break;
        k = s[0];
        if (k == DEL || k == REL) {
          if (n < 7 || readU32(s, 3) != adler32(s, 0, 3)) break;
          q = findRecord(o, (v = readU16(s, 1)), 0, 0);
          end += 7;
          if (q < 0) continue;
          // REL: the PUBLISH becomes its PUBREL, as the client makes it at PUBREC
          if (k == REL) b[release(o, q, v)] = SENT;
          else cut(o, q, recordSize(o, q));
          continue;
        }
        if (k != ADD || !kept(s[1])) break;
        // the frame's length from its fixed header: the remaining length, 1 to 4 bytes
        for (len = 0, mul = 1, i = 2; i < n && i < 6; i++, mul *= 128) {
          len += (s[i] & 127) * mul;
          if (!(s[i] & 128)) break;
        }
        if (i >= n || i >= 6 || (len += i) + 1 > b.length - o._start) break;
        if ((q = reserve(o, len, 0)) < 0) {
          // more than the outbox holds: the oldest stay (this one checked 8 bytes at a time: it may be damaged)
          for (v = adler32(s, 0, 1), i = 0; i < len && st.read(end + 1 + i, s, 0, (mul = Math.min(8, len - i))) == mul; i += mul) v = adler32(s, 0, mul, v);
          if (i == len && st.read(end + 1 + len, s, 0, 4) == 4 && readU32(s, 0) == v) code = E_STORE_FULL;
          break;
        }
        b[q - 1] = ADD;
        if (st.read(end + 1, b, q, len) != len || st.read(end + 1 + len, s, 0, 4) != 4 || readU32(s, 0) != adler32(b, q - 1, len + 1)) {
          o._tail = q - 1;
          break;
        }
        b[q - 1] = SENT;
        end += len + 5;
      }
      // anything but a clean end: ignored from there on, and the log rewritten without it
      if (!clean && !code) code = E_STORE_BAD;
      if (code || end > bound) return compact() || code;
      return 0;
    },
    _add: function (q, n) {
      var b = m._buf, t = b[q - 1], r: number;
      if (dirty || end + n + 5 > bound) return compact();
      // the state byte stands in for the kind and the check goes in the free bytes after the record: one append
      b[q - 1] = ADD;
      writeU32(b, q + n, adler32(b, q - 1, n + 1));
      r = st.append(end, b, q - 1, n + 5);
      b[q - 1] = t;
      if (r < 0) return failed();
      end += n + 5;
      return 0;
    },
    _del: function (id) {
      return small(DEL, id);
    },
    _rel: function (id) {
      return small(REL, id);
    },
    _clear: function () {
      end = 0;
      dirty = false;
      return said(st.replace(0, s, 0, 0, true) < 0 ? failed() : 0);
    },
  };
}
