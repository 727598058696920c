// The MQTT session's outbox state, apart from I/O (as coreMQTT keeps core_mqtt_state.c apart from core_mqtt.c): what
// each record waits for, and the transitions an acknowledgement or a new connection makes. Pure code: no I/O, no
// timers, no callbacks; client.ts calls these and does the rest (writing, callbacks, the store's log).
//
// A record is [state byte][frame] (memory.ts); its kind is the frame's first byte, a PUBLISH's DUP and RETAIN aside (KIND):
//
//   kind         record          waits for   then
//   PUB1  0x32   QoS 1 PUBLISH   PUBACK      leaves
//   PUB2  0x34   QoS 2 PUBLISH   PUBREC      becomes its PUBREL, unsent [MQTT-4.3.3-1] (release: the same, for the store)
//   REL   0x62   PUBREL          PUBCOMP     leaves
//   SUB   0x82   SUBSCRIBE       SUBACK      leaves; a granted filter is kept (to subscribe again without a session)
//   UNSUB 0xa2   UNSUBSCRIBE     UNSUBACK    leaves; the filter is forgotten
//
// Every other record (QoS 0 PUBLISH, PUBACK, PUBREC, PUBCOMP, PINGREQ, DISCONNECT) leaves once written.
import { Outbox, recordSize, cut, SENT } from "../memory";
import { utf8Read } from "../platform";
import { QOS2 } from "../features";
import { E_SUBACK, E_UNKNOWN_ID } from "../errors";
import { encodeAck, PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK } from "./codec";

/** First bytes of the frames the client queues: packet type << 4 | flags (PUBREL, SUBSCRIBE, UNSUBSCRIBE: 0010). */
export var H_PUBLISH = 0x30, H_PUBACK = 0x40, H_PUBREL = 0x62, H_PUBCOMP = 0x70, H_SUBSCRIBE = 0x82, H_UNSUBSCRIBE = 0xa2, H_PINGREQ = 0xc0;

/** A PUBLISH's flags in its first byte [MQTT-3.3.1]: DUP, the QoS (two bits), RETAIN. */
export var DUP = 8, QOS_BITS = 6, RETAIN = 1;

/** The kinds of record that wait for an answer (their first byte masked by KIND). */
export var PUB1 = 0x32, PUB2 = 0x34, REL = H_PUBREL, SUB = H_SUBSCRIBE, UNSUB = H_UNSUBSCRIBE;

/** The mask that gives a record's kind: a PUBLISH's DUP and RETAIN off (no other first byte the client queues has those bits). */
export var KIND = 0xf6;

/** The first-byte bits set in the kinds that wait for an answer, and in no other record (QoS of a PUBLISH, flags 0010). */
export var WAITS = 6;

/**
 * The kind each acknowledgement answers, as the char code at its packet type - PUBACK: PUBACK (PUB1), PUBREC (PUB2), -,
 * PUBCOMP (REL), -, SUBACK (SUB), -, UNSUBACK (UNSUB); NaN, falsy, beyond. A string, not an array: Espruino keeps a
 * module-level array in a variable per element.
 */
export var ACKED = "\x32\x34\0\x62\0\x82\0\xa2";

/** The subscriptions a server granted, by filter: the QoS asked for (what a subscription made again asks). */
export type Subs = { [filter: string]: number };

/** The packet id of the record at `p` (PUBLISH: after the topic; others: first in the body). */
export function recordId(m: Outbox, p: number): number {
  var b = m._buf, q = recordSize(m, p, true);
  if (b[p + 1] >> 4 == H_PUBLISH >> 4) q += 2 + ((b[q] << 8) | b[q + 1]);
  return (b[q] << 8) | b[q + 1];
}

/** The first record whose first byte masked by `mask` is `hdr` and whose id is `id` (any id for 0); -1 if none. */
export function findRecord(m: Outbox, id: number, mask: number, hdr: number): number {
  for (var p = m._head; p < m._tail; p += recordSize(m, p)) if ((m._buf[p + 1] & mask) == hdr && (!id || recordId(m, p) == id)) return p;
  return -1;
}

/**
 * The QoS 2 PUBLISH at `p` (packet `id`) becomes its PUBREL in its last 5 bytes, unsent, as acknowledge() makes it at
 * PUBREC [MQTT-4.3.3-1] (the store's replay of a REL entry). Returns where the PUBREL is now (as cut() moves records).
 */
export function release(m: Outbox, p: number, id: number): number {
  p = cut(m, p, recordSize(m, p) - 5);
  m._buf[p] = 0;
  encodeAck(m._buf, p + 1, PUBREL, id);
  return p;
}

/**
 * An acknowledgement of type `t` (PUBACK, PUBREC, PUBCOMP, SUBACK or UNSUBACK) for packet `id` arrived: the record it
 * answers leaves the outbox, or, for PUBREC, becomes its PUBREL. A SUBACK's return code `g` (0-2 granted, 0x80 refused)
 * keeps the filter in `subs` when granted; an UNSUBACK removes it. Returns 0, E_SUBACK (refused: the record left all
 * the same) or E_UNKNOWN_ID (no record of that kind has that id: the outbox is unchanged).
 */
export function acknowledge(m: Outbox, t: number, id: number, subs: Subs, g: number): number {
  var b = m._buf, q = findRecord(m, id, KIND, ACKED.charCodeAt(t - PUBACK)), n: number, k: number, f: string;
  if (q < 0) return E_UNKNOWN_ID;
  n = recordSize(m, q);
  if (t > PUBCOMP) {
    k = recordSize(m, q, true) + 2;
    f = utf8Read(b, k + 2, (b[k] << 8) | b[k + 1]) as string;
    if (t == UNSUBACK) delete subs[f];
    else if (g < 3) subs[f] = b[q + n - 1];
  }
  // PUBREC: the PUBLISH becomes its PUBREL in its last 5 bytes, unsent, kept until PUBCOMP [MQTT-4.3.3-1]
  if (QOS2 && t == PUBREC) (b[(q = cut(m, q, n - 5))] = 0), encodeAck(b, q + 1, PUBREL, id);
  else cut(m, q, n);
  return g == 0x80 ? E_SUBACK : 0;
}

/**
 * A new connection's CONNACK came, `session` 1 when the server kept the session: the outbox is made ready to be sent
 * again in order [MQTT-4.4.0-1]. The acks and pings queued for the connection that ended leave (the server sends again
 * what still needs an answer); every record is unsent again, a PUBLISH that went out before with DUP set [MQTT-3.3.1-1]
 * (one never sent goes as new). Without a session the server has forgotten the messages it acknowledged with PUBREC:
 * their PUBRELs are marked SENT (not to be written) until forget() removes them.
 */
export function prepareResend(m: Outbox, session: number): void {
  var b = m._buf, q = m._head, h: number, n: number;
  while (q < m._tail) {
    h = b[q + 1];
    n = recordSize(m, q);
    // PINGREQ, PUBACK, PUBREC, PUBCOMP (the types from 4 to 7, 0x40-0x7f, but PUBREL) leave: the next record is at q
    // (or the head moved to it)
    if (h == H_PINGREQ || (h >> 6 == H_PUBACK >> 6 && h != H_PUBREL)) q = cut(m, q, n);
    else {
      if (b[q] && h >> 4 == H_PUBLISH >> 4 && h & QOS_BITS) b[q + 1] |= DUP;
      b[q] = QOS2 && !session && h == H_PUBREL ? SENT : 0;
      q += n;
    }
  }
}

/** Without a session: removes the first PUBREL and returns its packet id (its message is complete); 0 when none is left. */
export function forget(m: Outbox): number {
  var q = findRecord(m, 0, KIND, REL), id: number;
  if (q < 0) return 0;
  // a PUBREL record: state, 0x62, 2, id (5 bytes)
  id = (m._buf[q + 3] << 8) | m._buf[q + 4];
  cut(m, q, 5);
  return id;
}
