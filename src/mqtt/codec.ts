// MQTT 3.1.1 packet codec: size first, then encode into a caller's buffer at an offset.
// Encoders return the new offset or a negative error code; decoders read a frame body that
// the reader assembled (b[off..off+len)) and return a value >= 0 or a negative error code.
// (16-bit fields are read and written in place, not by readU16 and writeU16: fewer functions for Espruino to keep)
import { writeVarint } from "../bytes";
// (a string's UTF-8 length is utf8Write(null, 0, s), as utf8Length is on every platform: one function fewer in a bundle)
import { utf8Write, utf8Read } from "../platform";
import {
  E_BUFFER, E_MALFORMED, E_FLAGS, E_LENGTH, E_UTF8, E_TOPIC, E_PACKET_ID, E_QOS, E_REFUSED, E_TOO_LARGE, E_ARGUMENT,
} from "../errors";

export const CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, PUBREC = 5, PUBREL = 6, PUBCOMP = 7,
  SUBSCRIBE = 8, SUBACK = 9, UNSUBSCRIBE = 10, UNSUBACK = 11, PINGREQ = 12, PINGRESP = 13, DISCONNECT = 14;

import type { Payload } from "../types";
export type { Payload };

export interface Will { topic: string; payload: Payload; qos?: number; retain?: boolean }

export interface ConnectFields {
  clientId: string;
  username?: string;
  password?: Payload;
  keepalive: number;
  clean: boolean;
  will?: Will | null;
}

/** A decoded PUBLISH header; the payload follows at `hlen` bytes into the body. */
export interface PublishHeader { topic: string; qos: number; retain: boolean; dup: boolean; id: number; hlen: number }

/**
 * Bytes of a payload, or E_UTF8 for a string with a lone surrogate [MQTT-1.5.3-1]. Measured each time, nothing kept:
 * a module-level cache would keep a large payload alive after it was sent, shared by every client.
 */
export function sizePayload(p: Payload): number {
  var n = typeof p != "string" ? p.length : utf8Write(null, 0, p);
  return n < 0 ? E_UTF8 : n;
}

/**
 * Bytes of a length-prefixed field, a string as UTF-8 or bytes (will message, password) [MQTT-1.5.3]: at most 65,535.
 * `text`: a UTF-8 string field (client id, user name, topic), where U+0000 is refused too [MQTT-1.5.3-1], [MQTT-1.5.3-2].
 */
function sizeField(p: Payload, text?: boolean): number {
  var n = text && (p as string).indexOf("\0") >= 0 ? E_UTF8 : sizePayload(p);
  return n < 0 ? n : n > 65535 ? E_TOO_LARGE : n + 2;
}

function writeBytes(b: Uint8Array, off: number, p: Payload): number {
  if (typeof p == "string") return utf8Write(b, off, p);
  b.set(p, off);
  return off + p.length;
}

/** Writes a length-prefixed string or binary field (sized before with sizeField): the bytes, then their length before them. */
function writeField(b: Uint8Array, off: number, p: Payload): number {
  var e = writeBytes(b, off + 2, p);
  b[off] = (e - off - 2) >> 8;
  b[off + 1] = e - off - 2;
  return e;
}

/** Total frame bytes for a body of `n` bytes, or E_LENGTH past 268,435,455 [MQTT-2.2.3]. */
export function frameSize(n: number): number {
  return n < 0 ? n : n < 128 ? n + 2 : n < 16384 ? n + 3 : n < 2097152 ? n + 4 : n < 268435456 ? n + 5 : E_LENGTH;
}

/** Writes a fixed header for a body of `n` bytes after checking the whole frame fits; returns the body offset. */
function head(b: Uint8Array, off: number, byte1: number, n: number): number {
  var t = frameSize(n);
  if (t < 0) return t;
  if (off + t > b.length) return E_BUFFER;
  b[off] = byte1;
  return writeVarint(b, off + 1, n);
}

// the last topic name checked and its size: telemetry repeats its topic, and a publish sizes it, then encodes it
var lastT: string | undefined, lastS = E_TOPIC;

/** Validates a topic name: not empty, no wildcards [MQTT-4.7.3-1], [MQTT-3.3.2-2]. Returns its string size. */
export function sizeTopic(t: string): number {
  if (t !== lastT) (lastS = /[+#]/.test(t) || !t ? E_TOPIC : sizeField(t, true)), (lastT = t);
  return lastS;
}

/** Validates a topic filter [MQTT-4.7.1-2], [MQTT-4.7.1-3]: '#' last and alone in its level, '+' alone in its level. */
export function sizeFilter(f: string): number {
  // a wildcard with anything but "/" beside it, or "#" before a "/"
  return /[^\/][+#]|[+#][^\/]|#\//.test(f) || !f ? E_TOPIC : sizeField(f, true);
}

// (QoS 0, 1 or 2, not 3, -1, 1.5 or NaN: q >>> 0 === q && q < 3, written where checked, as sizes are added where
// summed: each small function costs Espruino variables for as long as the bundle is loaded)

function connectBody(c: ConnectFields): number {
  var w = c.will, q = w ? w.qos || 0 : 0, i: number, t = 0, p = 0, u = 0, s = 0;
  // [MQTT-3.1.3-7] an empty client id needs a clean session; [MQTT-3.1.2-22] no password without a user name
  if ((!c.clientId && !c.clean) || (c.password != null && c.username == null) || !(c.keepalive >= 0 && c.keepalive < 65536)) return E_ARGUMENT;
  i = sizeField(c.clientId, true);
  if (w) (t = sizeTopic(w.topic)), (p = q >>> 0 === q && q < 3 ? sizeField(w.payload) : E_QOS);
  if (c.username != null) u = sizeField(c.username, true);
  if (c.password != null) s = sizeField(c.password);
  // the first negative code, in field order, or the sum
  return i < 0 ? i : t < 0 ? t : p < 0 ? p : u < 0 ? u : s < 0 ? s : 10 + i + t + p + u + s;
}

/** Frame bytes of a CONNECT, or a negative code for an invalid field [MQTT-3.1]. */
export function sizeConnect(c: ConnectFields): number {
  return frameSize(connectBody(c));
}

/** Encodes a CONNECT at `off` [MQTT-3.1]: protocol name "MQTT", level 4. */
export function encodeConnect(b: Uint8Array, off: number, c: ConnectFields): number {
  var w = c.will, f = 0;
  if ((off = head(b, off, CONNECT << 4, connectBody(c))) < 0) return off;
  if (c.clean) f |= 2;
  if (w) f |= 4 | ((w.qos || 0) << 3) | (w.retain ? 32 : 0);
  if (c.password != null) f |= 64;
  if (c.username != null) f |= 128;
  off = writeField(b, off, "MQTT");
  b[off++] = 4;
  b[off++] = f;
  b[off++] = c.keepalive >> 8;
  b[off++] = c.keepalive;
  off = writeField(b, off, c.clientId);
  if (w) off = writeField(b, writeField(b, off, w.topic), w.payload);
  if (c.username != null) off = writeField(b, off, c.username);
  if (c.password != null) off = writeField(b, off, c.password);
  return off;
}

/**
 * Frame bytes of a PUBLISH, or a negative code [MQTT-3.3]; `id` (default 1) is checked for QoS 1 and 2 [MQTT-2.3.1-1].
 * One function: Espruino pays for each call, and for each character of code it runs through.
 */
export function sizePublish(topic: string, payload: Payload, qos: number, id?: number): number {
  var k = topic === lastT ? lastS : sizeTopic(topic), n = typeof payload != "string" ? payload.length : utf8Write(null, 0, payload);
  if (!(qos >>> 0 === qos && qos < 3)) return E_QOS; // [MQTT-3.3.1-4]
  if (qos && !((id = id == null ? 1 : id) > 0 && id < 65536)) return E_PACKET_ID;
  // frameSize, inline
  return k < 0 ? k : n < 0 ? E_UTF8 : (n += k + (qos ? 2 : 0)) < 128 ? n + 2 : frameSize(n);
}

/**
 * Encodes a PUBLISH [MQTT-3.3]; `id` is ignored for QoS 0, and DUP is never set for QoS 0 [MQTT-3.3.1-2]. `n`, when
 * given, is the frame size sizePublish gave for these fields (and a valid id): they are not sized again.
 */
export function encodePublish(b: Uint8Array, off: number, topic: string, payload: Payload, qos: number, retain: boolean, dup: boolean, id: number, n?: number): number {
  var e: number;
  if (!n) n = sizePublish(topic, payload, qos, id);
  if (n < 0) return n;
  if (off + n > b.length) return E_BUFFER;
  b[off] = (PUBLISH << 4) | (dup && qos ? 8 : 0) | (qos << 1) | (retain ? 1 : 0);
  // the body: the frame less its first byte and the remaining length's 1 to 4 bytes (one: inline)
  if (n < 130) (b[off + 1] = n - 2), (off += 2);
  else off = writeVarint(b, off + 1, n - (n < 16387 ? 3 : n < 2097156 ? 4 : 5));
  e = utf8Write(b, off + 2, topic);
  b[off] = (e - off - 2) >> 8;
  b[off + 1] = e - off - 2;
  if (qos) (b[e++] = id >> 8), (b[e++] = id);
  if (typeof payload == "string") return utf8Write(b, e, payload);
  b.set(payload, e);
  return e + payload.length;
}

/** Encodes PUBACK, PUBREC, PUBREL or PUBCOMP (4 bytes); PUBREL carries flags 0010 [MQTT-3.6.1-1]. */
export function encodeAck(b: Uint8Array, off: number, type: number, id: number): number {
  if (!(id > 0 && id < 65536)) return E_PACKET_ID;
  if ((off = head(b, off, (type << 4) | (type == PUBREL ? 2 : 0), 2)) < 0) return off;
  b[off] = id >> 8;
  b[off + 1] = id;
  return off + 2;
}


/** Frame bytes of a SUBSCRIBE with one filter [MQTT-3.8]. */
export function sizeSubscribe(filter: string, qos: number): number {
  return subFrame(null, 0, 1, filter, true, qos);
}

/** Frame bytes of an UNSUBSCRIBE with one filter [MQTT-3.10]. */
export function sizeUnsubscribe(filter: string): number {
  return subFrame(null, 0, 1, filter, false, 0);
}

/** Encodes a SUBSCRIBE (flags 0010 [MQTT-3.8.1-1]) with one filter. */
export function encodeSubscribe(b: Uint8Array, off: number, id: number, filter: string, qos: number): number {
  return subFrame(b, off, id, filter, true, qos);
}

/** Encodes an UNSUBSCRIBE (flags 0010 [MQTT-3.10.1-1]) with one filter. */
export function encodeUnsubscribe(b: Uint8Array, off: number, id: number, filter: string): number {
  return subFrame(b, off, id, filter, false, 0);
}

/** A SUBSCRIBE (`sub`) or UNSUBSCRIBE with one filter encoded at `off`, or with `b` null its frame size (one function for both: fewer for Espruino to keep). */
function subFrame(b: Uint8Array | null, off: number, id: number, filter: string, sub: boolean, qos: number): number {
  var k = sizeFilter(filter);
  if (sub && !(qos >>> 0 === qos && qos < 3)) return E_QOS; // [MQTT-3.8.3-4]
  if (!(id > 0 && id < 65536)) return E_PACKET_ID;
  k = k < 0 ? k : k + (sub ? 3 : 2);
  if (!b) return frameSize(k);
  if ((off = head(b, off, sub ? 0x82 : 0xa2, k)) < 0) return off;
  b[off++] = id >> 8;
  b[off++] = id;
  off = writeField(b, off, filter);
  if (sub) b[off++] = qos;
  return off;
}

/** Encodes a packet without a body: PINGREQ or DISCONNECT [MQTT-3.12], [MQTT-3.14]. */
export function encodeEmpty(b: Uint8Array, off: number, type: number): number {
  return head(b, off, type << 4, 0);
}

/** Reads a CONNACK [MQTT-3.2]: 0 or 1 (session present), or the refusal as E_REFUSED_* (return codes 1-5). */
export function decodeConnack(b: Uint8Array, off: number, len: number, hdr: number): number {
  var rc: number;
  if (hdr != CONNACK << 4) return E_FLAGS;
  if (len != 2 || b[off] & 0xfe) return E_MALFORMED; // [MQTT-3.2.2-1] reserved bits
  rc = b[off + 1];
  return rc ? (rc < 6 ? -10 - rc : E_REFUSED) : b[off];
}

/**
 * Reads the packet id of PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK (and the head of a SUBACK):
 * flags must be 0 (PUBREL 0010) [MQTT-2.2.2-2], the id non-zero [MQTT-2.3.1-1].
 * SUBACK return codes must be 0, 1, 2 or 0x80 [MQTT-3.9.3-2].
 */
export function decodeAck(b: Uint8Array, off: number, len: number, hdr: number): number {
  var t = hdr >> 4, id: number, i = off + 2;
  if ((hdr & 15) != (t == PUBREL ? 2 : 0)) return E_FLAGS;
  if (t == SUBACK ? len < 3 : len != 2) return E_MALFORMED;
  id = (b[off] << 8) | b[off + 1];
  for (; i < off + len; i++) if (b[i] > 2 && b[i] != 0x80) return E_MALFORMED;
  return id ? id : E_PACKET_ID;
}

/** Reads a PINGRESP [MQTT-3.13]: 0, or a negative code. */
export function decodeEmpty(len: number, hdr: number): number {
  return hdr & 15 ? E_FLAGS : len ? E_MALFORMED : 0;
}

// the last topic received, when it was ASCII
var lastIn: string | undefined;

/**
 * Reads a PUBLISH header from the first `len` bytes of its body into `p` [MQTT-3.3]; returns
 * the payload's offset in the body. QoS 3 and DUP on QoS 0 are malformed [MQTT-3.3.1-4], [MQTT-3.3.1-2].
 */
export function decodePublish(b: Uint8Array, off: number, len: number, hdr: number, p: PublishHeader): number {
  var q = (hdr >> 1) & 3, tl: number, h: number, t: string | null;
  if (q == 3 || (!q && hdr & 8)) return E_FLAGS;
  if (len < 2) return E_MALFORMED;
  tl = (b[off] << 8) | b[off + 1];
  h = tl + (q ? 4 : 2);
  if (h > len) return E_MALFORMED;
  // the same topic as the last one comes back as that string, checked before
  if ((t = utf8Read(b, off + 2, tl, true, lastIn)) == null) return E_UTF8;
  if (t !== lastIn) {
    if (/[+#]/.test(t) || !t) return E_TOPIC;
    // only an ASCII topic has as many characters as bytes
    if (t.length == tl) lastIn = t;
  }
  p.topic = t;
  p.qos = q;
  p.dup = !!(hdr & 8);
  p.retain = !!(hdr & 1);
  p.id = q ? (b[off + tl + 2] << 8) | b[off + tl + 3] : 0;
  p.hlen = h;
  return q && !p.id ? E_PACKET_ID : h;
}
