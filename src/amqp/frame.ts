// AMQP 1.0 framing (Part 2 §2.2, §2.3; Part 5 §5.3.1): the protocol headers, the 8-byte frame header, and a
// resumable frame reader: bytes in any chunking (one at a time included) -> whole frame bodies at the start of
// the caller's buffer. The max-frame-size is negotiated, so a frame is never handed over in parts: a larger one
// is refused with E_AMQP_FRAME_SIZE.
import { E_BUFFER, E_AMQP_FRAME_SIZE, E_AMQP_FRAME, E_AMQP_HEADER } from "../errors";
import { putN, readN } from "./types";

/** Frame types (§2.3.1, §5.3.1) and protocol ids of the protocol header (§2.2, §5.3.2). */
export var FRAME_AMQP = 0, FRAME_SASL = 1, PROTO_AMQP = 0, PROTO_SASL = 3;
/** Bytes of a frame header with no extended header (doff 2), and the largest frame before open is agreed (MIN-MAX-FRAME-SIZE, §2.7.1). */
export var FRAME_HEADER = 8, MIN_MAX_FRAME_SIZE = 512;

/** The protocol header "AMQP" id 1 0 0 (§2.2: id 0 AMQP, 3 SASL). */
function protocolHeader(id: number): number[] {
  return [0x41, 0x4d, 0x51, 0x50, id, 1, 0, 0];
}

/** Writes the protocol header `id`; returns the new offset or E_BUFFER. */
export function writeProtocolHeader(b: Uint8Array, off: number, id: number): number {
  if (off + 8 > b.length) return E_BUFFER;
  b.set(protocolHeader(id), off);
  return off + 8;
}

/** Writes a frame header (§2.3.1): SIZE of the whole frame, DOFF 2, TYPE, CHANNEL (0 for SASL, §5.3.1); returns the body offset or E_BUFFER. */
export function writeFrameHeader(b: Uint8Array, off: number, size: number, type: number, channel: number): number {
  if (off + size > b.length || size < 8) return E_BUFFER;
  putN(b, off, size, 4);
  b[off + 4] = 2;
  b[off + 5] = type;
  return putN(b, off + 6, channel, 2);
}

/**
 * Called once per frame: its type (FRAME_AMQP or FRAME_SASL), channel, and body buf[0..len) (len 0: an empty
 * frame, the heartbeat of §2.4.5). A negative return stops the reader.
 */
export type FrameHandler = (type: number, channel: number, len: number) => number;
/** Called when the protocol header arrives, with its id; a negative return stops the reader. */
export type HeaderHandler = (id: number) => number;

export interface AmqpReader {
  /** Feeds received bytes; returns 0, or the first negative code (the connection must close; the reader stays stopped until reset). */
  feed(chunk: Uint8Array): number;
  /** Expects the protocol header `id` next (a new connection, or the AMQP header after SASL); the limit goes back to 512 bytes. */
  reset(id: number): void;
  /** Sets the largest frame accepted (the max-frame-size this side sent in open), at most the buffer's capacity. */
  setMaxFrameSize(n: number): void;
}

/** Creates a reader assembling frame bodies into buf[0..cap); it first expects the protocol header `id`. */
export function createAmqpReader(buf: Uint8Array, cap: number, id: number, onFrame: FrameHandler, onHeader: HeaderHandler): AmqpReader {
  // _s: 0 reads the protocol header, 1 the frame header (both into buf[0..8)), 2 skips the extended header,
  // 3 reads the body; _err: the code that stopped the reader
  var _s = 0, _id = id, _max = MIN_MAX_FRAME_SIZE, _got = 0, _need = 0, _skip = 0, _type = 0, _ch = 0, _err = 0;

  // function expressions, not declarations: Espruino does not hoist declarations (tools/bundle-rules.js)
  var reset = function (id: number) {
    _s = _got = _err = 0;
    _id = id;
    _max = MIN_MAX_FRAME_SIZE;
  };

  /** Parses the 8 header bytes in buf: 0 or a negative code. */
  var header = function (): number {
    var size: number, doff: number, h: number[], i: number;
    if (!_s) {
      // "AMQP", the id expected, version 1.0.0 (§2.2)
      for (h = protocolHeader(_id), i = 0; i < 8; i++) if (buf[i] != h[i]) return E_AMQP_HEADER;
      _s = 1;
      return onHeader(_id);
    }
    size = readN(buf, 0, 4);
    doff = buf[4] * 4;
    _type = buf[5];
    _ch = readN(buf, 6, 2);
    if (size < 8 || size > _max) return E_AMQP_FRAME_SIZE; // §2.3.1, §2.7.1
    if (doff < 8 || doff > size || _type > FRAME_SASL) return E_AMQP_FRAME; // §2.3.1: DOFF at least 2; §5.3.1
    _skip = doff - 8; // the extended header is ignored (§2.3.1)
    _need = size - doff;
    if (_need > cap) return E_AMQP_FRAME_SIZE;
    _s = 2;
    return 0;
  };

  var feed = function (chunk: Uint8Array): number {
    var i = 0, n = chunk.length, k: number, r: number;
    if (_err) return _err;
    while (i < n || (_s > 1 && !_skip && _got == _need)) {
      if (_s < 2) {
        buf[_got++] = chunk[i++];
        if (_got < 8) continue;
        _got = 0;
        if ((r = header()) < 0) return (_err = r);
      } else if (_skip) {
        k = n - i < _skip ? n - i : _skip;
        i += k;
        _skip -= k;
      } else if (_got < _need) {
        k = _need - _got;
        if (k > n - i) k = n - i;
        buf.set(chunk.subarray(i, i + k), _got);
        i += k;
        _got += k;
      } else {
        k = _got;
        _s = 1;
        _got = 0;
        if ((r = onFrame(_type, _ch, k)) < 0) return (_err = r);
      }
    }
    return 0;
  };

  var setMaxFrameSize = function (n: number) {
    _max = n < cap + 8 ? n : cap + 8;
  };

  return { feed: feed, reset: reset, setMaxFrameSize: setMaxFrameSize };
}
