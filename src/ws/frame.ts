// RFC 6455 §5 frames: header encoding, masking, and a resumable reader for a server's frames.
// Pure: no I/O, no allocation. The reader hands payload bytes over as ranges of the received
// chunk (a server's frames are never masked, §5.1), so nothing is copied.
import {
  E_WS_RESERVED, E_WS_OPCODE, E_WS_CONTROL, E_WS_MASKED, E_WS_LENGTH, E_WS_TOO_BIG, E_WS_FRAGMENT,
} from "../errors";

// opcodes (RFC 6455 §5.2, §11.8)
export const WS_CONTINUATION = 0;
export const WS_TEXT = 1;
export const WS_BINARY = 2;
export const WS_CLOSE = 8;
export const WS_PING = 9;
export const WS_PONG = 10;
/** FIN bit of a frame's first byte: the last frame of a message (RFC 6455 §5.2). */
export const WS_FIN = 0x80;

/** Bytes of the header of a frame with a `len`-byte payload, masking key included when `masked` (RFC 6455 §5.2). */
export function frameHeaderSize(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame header at `off`: `hdr` is the first byte (FIN | opcode), then the payload length in
 * its shortest form and, when `key` is given, key[ko..ko+4) as masking key (RFC 6455 §5.2). Returns the new offset.
 */
export function encodeFrameHeader(b: Uint8Array, off: number, hdr: number, len: number, key: Uint8Array | null, ko: number): number {
  var m = key ? 0x80 : 0, k = len < 126 ? 0 : len < 65536 ? 2 : 8, i: number;
  b[off++] = hdr;
  b[off++] = m | (k == 2 ? 126 : k ? 127 : len);
  // big-endian in 16 or 64 bits; below 2^53 the top bit of the 64-bit form is 0, as §5.2 requires
  for (i = off += k; k--; len = Math.floor(len / 256)) b[--i] = len & 255;
  if (key) for (i = 0; i < 4; i++) b[off++] = key[ko + i];
  return off;
}

/**
 * dst[d..d+len) = src[s..s+len) XOR the masking key key[ko..ko+4), from payload position `pos` on
 * (RFC 6455 §5.3): copies and masks in one pass, in place when src/s and dst/d are the same; twice restores.
 */
export function maskCopy(src: Uint8Array, s: number, dst: Uint8Array, d: number, len: number, key: Uint8Array, ko: number, pos: number): void {
  for (var i = 0; i < len; i++) dst[d + i] = src[s + i] ^ key[ko + ((pos + i) & 3)];
}

/**
 * A piece of a frame's payload: data[from..to) at offset `pos` of a `total`-byte payload; `hdr` is
 * the frame's first byte. A frame without payload gives one call with from == to. A negative return stops the reader.
 */
export type FrameHandler = (hdr: number, total: number, pos: number, data: Uint8Array, from: number, to: number) => number;

export interface FrameReader {
  /** Feeds received bytes; returns 0, or the first negative code (then reset() before feeding again). */
  feed(chunk: Uint8Array): number;
  /** Forgets any partial frame and message (a new connection starts clean). */
  reset(): void;
}

/** Creates a reader of a server's frames, refusing any frame longer than `max` bytes with E_WS_TOO_BIG. */
export function createFrameReader(max: number, onPart: FrameHandler): FrameReader {
  // _s: 0 wants the first byte, 1 the second, 2 reads _n bytes of extended length, 3 reads the payload
  var _s = 0, _hdr = 0, _n = 0, _len = 0, _pos = 0, _frag = false;

  /** The length is known: a payload to read, or an empty frame delivered now. */
  function begin(chunk: Uint8Array, i: number): number {
    if (_len > max) return E_WS_TOO_BIG;
    _pos = 0;
    _s = _len ? 3 : 0;
    return _len ? 0 : onPart(_hdr, 0, 0, chunk, i, i);
  }

  function feed(chunk: Uint8Array): number {
    var i = 0, n = chunk.length, c: number, k: number, r: number;
    while (i < n) {
      if (_s == 3) {
        k = _len - _pos;
        if (k > n - i) k = n - i;
        _pos += k;
        i += k;
        if (_pos == _len) _s = 0;
        if ((r = onPart(_hdr, _len, _pos - k, chunk, i - k, i)) < 0) return r;
        continue;
      }
      c = chunk[i++];
      if (_s == 0) {
        k = c & 15;
        // §5.2 RSV1-3 are 0 unless an extension says otherwise, and none is negotiated
        if (c & 0x70) return E_WS_RESERVED;
        // §5.2 opcodes 3-7 and 0xB-0xF are reserved
        if ((k > 2 && k < 8) || k > 10) return E_WS_OPCODE;
        if (k & 8) {
          // §5.5 control frames are never fragmented
          if (!(c & WS_FIN)) return E_WS_CONTROL;
        } else {
          // §5.4 a continuation only inside a fragmented message, a new message only outside one
          if (!k != _frag) return E_WS_FRAGMENT;
          _frag = !(c & WS_FIN);
        }
        _hdr = c;
        _s = 1;
      } else if (_s == 1) {
        // §5.1 a client closes the connection on a masked frame from the server
        if (c & 0x80) return E_WS_MASKED;
        _len = c & 127;
        // §5.5 control frames carry at most 125 bytes
        if (_hdr & 8 && _len > 125) return E_WS_CONTROL;
        if (_len > 125) {
          _n = _len == 126 ? 2 : 8;
          _len = 0;
          _s = 2;
        } else if ((r = begin(chunk, i)) < 0) return r;
      } else {
        // §5.2 the most significant bit of a 64-bit length is 0
        if (_n == 8 && c & 0x80) return E_WS_LENGTH;
        _len = _len * 256 + c;
        if (!--_n && (r = begin(chunk, i)) < 0) return r;
      }
    }
    return 0;
  }

  return {
    feed: feed,
    reset: function () {
      _s = 0;
      _frag = false;
    },
  };
}
