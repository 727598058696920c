// Resumable MQTT frame reader: bytes in any chunking (one at a time included) -> frames.
// A frame's body is assembled at the start of `buf` (capacity `cap`). A body larger than
// `cap` is handed over in parts of at most `cap` bytes, so nothing is ever dropped.
import { E_LENGTH } from "../errors";

/**
 * Called once per part: `hdr` is the fixed-header byte, `total` the remaining length,
 * `pos` where this part starts in the body; the part is buf[0..len). A negative return stops the reader.
 */
export type PartHandler = (hdr: number, total: number, pos: number, len: number) => number;

/**
 * Offered first a frame of at most 127 bytes whole in the chunk, its body chunk[at..at+len) (the header byte at
 * at - 2): 1 leaves it to the PartHandler (copied into the buffer), 0 took it, a negative code stops the reader.
 */
export type WholeHandler = (chunk: Uint8Array, at: number, len: number) => number;

export interface FrameReader {
  /** Feeds received bytes; returns 0, or the first negative code (the caller should close). */
  feed(chunk: Uint8Array): number;
  /** Forgets any partial frame (a new connection starts clean). */
  reset(): void;
}

/** Creates a reader assembling into buf[0..cap). */
export function createReader(buf: Uint8Array, cap: number, onPart: PartHandler, whole?: WholeHandler): FrameReader {
  // _s: 0 wants the header byte, 1 reads the remaining length, 2 reads the body
  var _s = 0, _hdr = 0, _total = 0, _mul = 1, _got = 0, _fill = 0;
  function reset() {
    _s = 0;
  }
  // Espruino runs through the text of a loop's body at each turn: the usual case, a whole frame of at most 127 bytes
  // in the chunk, takes one short turn; the others go byte by byte in step()
  function feed(chunk: Uint8Array): number {
    var i = 0, n = chunk.length, k: number, r: number;
    while (i < n) {
      if (!_s && (k = chunk[i + 1]) < 128 && k && i + 2 + k <= n && k <= cap) {
        if (!whole || (r = whole(chunk, i + 2, k)) > 0) buf.set(chunk.subarray(i + 2, i + 2 + k), 0), (r = onPart(chunk[i], k, 0, k));
        i += 2 + k;
        if (r < 0) return r;
      } else if ((i = step(chunk, i, n)) < 0) return i;
    }
    return 0;
  }
  /** One step from chunk[i]: a header byte, a byte of the remaining length or a part of the body; the new i, or a negative code. */
  function step(chunk: Uint8Array, i: number, n: number): number {
    var c: number, k: number, r: number;
    if (_s == 0) {
      _hdr = chunk[i++];
      _total = _got = _fill = 0;
      _mul = 1;
      _s = 1;
    } else if (_s == 1) {
      c = chunk[i++];
      _total += (c & 127) * _mul;
      if (c & 128) {
        // [MQTT-2.2.3] at most four bytes of remaining length
        if ((_mul *= 128) > 2097152) return (_s = 0), E_LENGTH;
      } else if (_total) _s = 2;
      else if ((_s = 0), (r = onPart(_hdr, 0, 0, 0)) < 0) return r;
    } else {
      k = _total - _got;
      if (k > cap - _fill) k = cap - _fill;
      if (k > n - i) k = n - i;
      buf.set(chunk.subarray(i, i + k), _fill);
      i += k;
      _fill += k;
      _got += k;
      if (_got == _total || _fill == cap) {
        if (_got == _total) _s = 0;
        k = _fill;
        _fill = 0;
        if ((r = onPart(_hdr, _total, _got - k, k)) < 0) return (_s = 0), r;
      }
    }
    return i;
  }
  return { feed: feed, reset: reset };
}
