// The fixed buffer: one Uint8Array allocated once, cut into two regions.
//
//   [0, rx)      receive region: incoming frames are assembled here (and CONNECT is built here,
//                since nothing is received before it is sent)
//   [rx, size)   outbox: a queue of records, each one state byte (0 unsent, SENT) + one encoded frame.
//                This file reads only a frame's fixed header (its size); what a record is and what
//                it waits for is the MQTT session's state (src/mqtt/state.ts).
//
// The records lie in order between `_head` and `_tail`, so a resend after reconnect is in order.
// Removing the first record (the usual case: acknowledgements come in order) only moves `_head`;
// removing another one closes the gap behind it. The room before `_head` is reclaimed by moving
// the records back to the start when a reservation does not fit at the tail.

export const SENT = 1;

/** Fields start with `_` so the embedded builds shorten their names. */
export interface Outbox {
  _buf: Uint8Array;
  /** Start of the outbox (= size of the receive region). */
  _start: number;
  /** The first record. */
  _head: number;
  /** End of the used part. */
  _tail: number;
}

/** The outbox over `buf` (given, or allocated with `size` bytes: the only allocation the client makes for messages). */
export function createOutbox(size: number, rx: number, buf?: Uint8Array): Outbox {
  return { _buf: buf || new Uint8Array(size), _start: rx, _head: rx, _tail: rx };
}

/**
 * Bytes of the record at `p` (state byte + frame); with `body`, the offset of its body (after the fixed header)
 * instead. One function for both: Espruino keeps each function in variables for as long as the bundle is loaded.
 */
export function recordSize(m: Outbox, p: number, body?: boolean): number {
  var b = m._buf, q = p + 2, n = 0, mul = 1;
  do n += (b[q] & 127) * mul, mul *= 128; while (b[q++] & 128);
  return body ? q : q - p + n;
}

// Records move with one `set` of an overlapping subarray towards the start, as src/bytes.ts moveBytes (which says why
// that is right in every engine), written in place: one function fewer for Espruino to keep in its variables.

/** Moves the records back to the start of the outbox (record offsets change). */
export function compact(m: Outbox): void {
  m._buf.set(m._buf.subarray(m._head, m._tail), m._start);
  m._tail -= m._head - m._start;
  m._head = m._start;
}

/**
 * Reserves a record of `n` frame bytes at the tail, keeping `spare` bytes free; returns the frame
 * offset or -1. When the tail lacks room it compacts first: record offsets taken before are then stale.
 */
export function reserve(m: Outbox, n: number, spare: number): number {
  var last = m._buf.length - 1 - n - spare, p: number;
  if (m._tail > last) compact(m);
  if ((p = m._tail) > last) return -1;
  m._buf[p] = 0;
  m._tail = p + 1 + n;
  return p + 1;
}

/**
 * Removes `n` bytes at `p`; returns where the bytes that followed them are now. At the head this
 * moves nothing (the head moves); elsewhere the gap closes behind `p` and the records before it stay.
 */
export function cut(m: Outbox, p: number, n: number): number {
  if (p == m._head) m._head = p += n;
  else m._buf.set(m._buf.subarray(p + n, (m._tail -= n) + n), p);
  return p;
}
