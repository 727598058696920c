// The MQTT 3.1.1 session: connect, keep-alive, packet ids, reconnect, resend, callbacks.
// The only MQTT file that does I/O, through an injected Transport and Clock; what the outbox's records wait for and
// how an acknowledgement or a new connection changes them is state.ts.
import { Transport, Clock, TlsOptions, TransportEvents, PayloadSource } from "../types";
import {
  E_OUTBOX_FULL, E_TOO_LARGE, E_NOT_CONNECTED, E_KEEPALIVE, E_CLOSED, E_PROTOCOL, E_TRANSPORT,
  E_ENDED, E_TIMEOUT, E_REFUSED_UNAVAILABLE, E_REFUSED_PROTOCOL, E_PACKET_TYPE, E_MALFORMED, E_QOS, E_ARGUMENT, E_SOURCE,
  E_UNKNOWN_ID,
} from "../errors";
import {
  Payload, Will, PublishHeader, ConnectFields, sizeConnect, encodeConnect, encodePublish, encodeAck, encodeSubscribe, encodeUnsubscribe, encodeEmpty, sizePublish, sizeTopic, frameSize,
  sizeSubscribe, sizeUnsubscribe, decodeConnack, decodeAck, decodeEmpty, decodePublish,
  PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT,
} from "./codec";
import { createReader } from "./reader";
import { createOutbox, recordSize, reserve, cut, compact, SENT } from "../memory";
import { recordId, acknowledge, prepareResend, forget, ACKED, Subs, DUP, QOS_BITS, WAITS } from "./state";
import { writeVarint } from "../bytes";
import { utf8Write, utf8Read } from "../platform";
import { QOS2, SOURCES, FAST } from "../features";
import type { Journal } from "../store";

/**
 * Bytes of the outbox a streamed message (a PayloadSource) takes beside its header (at most half the outbox): its
 * payload passes through them this many at a time.
 */
export var STREAM_CHUNK = 256;

/** Delivery details; `offset`/`total` locate a chunk of a message larger than the receive region. */
export interface MessageInfo { qos: number; retain: boolean; dup: boolean; offset: number; total: number }

export interface ReconnectOptions { min?: number; max?: number; jitter?: number }

export interface ClientOptions {
  host: string;
  port?: number;
  tls?: TlsOptions | null;
  clientId?: string;
  username?: string;
  password?: Payload;
  /** Seconds; 0 turns keep-alive off. Default 60. */
  keepalive?: number;
  /** Clean session (default true); false keeps the session on the server. */
  clean?: boolean;
  will?: Will | null;
  /** Bytes of the one buffer (default 2048, at least 256). */
  bufferSize?: number;
  /** The one buffer itself, when the caller holds it (a device sharing its memory between regions); bufferSize is then its length. */
  buffer?: Uint8Array;
  /** Bytes of it for receiving (default half). */
  rxSize?: number;
  /**
   * Keeps queued QoS 1/2 messages across a restart (a target's store, e.g. `fileStore(path)` on Node): they are
   * restored when the client is created and resent, DUP set, after the first CONNACK; a publish returns once its
   * message is stored. end() empties it.
   */
  store?: Journal | null;
  /** Backoff in ms with jitter (0..1); false turns reconnecting off. Default {min: 1000, max: 30000, jitter: 0.5}. */
  reconnect?: ReconnectOptions | false;
  transport: Transport;
  clock: Clock;
  onConnect?: (sessionPresent: boolean) => void;
  /** `payload` is a view into the buffer, valid only during the call: copy what you keep. */
  onMessage?: (topic: string, payload: Uint8Array, info: MessageInfo) => void;
  onClose?: (code: number) => void;
  onError?: (code: number) => void;
  /** Space is free again after publish/subscribe returned E_OUTBOX_FULL. */
  onWritable?: () => void;
}

export type Done = (err: number, granted?: number) => void;

export interface Client {
  /** Opens the connection; the client then stays connected (reconnecting) until end(). */
  connect(): void;
  /**
   * Queues a message: returns the packet id (QoS 1/2), 0 (QoS 0) or a negative code (nothing queued). A payload
   * given as a PayloadSource (QoS 0 or 1, no store) is read STREAM_CHUNK bytes at a time as it is written, so it
   * may be larger than the buffer; it is read again when a QoS 1 message is sent again.
   */
  publish(topic: string, payload: Payload | PayloadSource, qos?: number, retain?: boolean, done?: Done): number;
  /** Subscribes one filter; done(err, grantedQos). Once granted, it is re-subscribed after a reconnect without session. */
  subscribe(filter: string, qos?: number, done?: Done): number;
  unsubscribe(filter: string, done?: Done): number;
  /** Drops the connection and reconnects now, keeping queued messages (e.g. to present a new password). */
  reconnect(): void;
  /** Sends DISCONNECT and closes; pending callbacks get E_ENDED. */
  end(done?: () => void): void;
  /** True between CONNACK and the connection's end. */
  connected(): boolean;
}

// connection states, in order of progress
var ENDED = 0, IDLE = 1, OPENING = 2, CONNACK_WAIT = 3, UP = 4;
// outbox bytes an application packet leaves free, for the acks and pings the client queues itself
var SPARE = 16;

/** Creates a client; nothing happens until connect(). */
export function createClient(o: ClientOptions): Client {
  var size = o.buffer ? o.buffer.length : o.bufferSize || 2048,
    rx = o.rxSize || size >> 1,
    m = createOutbox(size, rx, o.buffer),
    b = m._buf,
    clock = o.clock,
    tr = o.transport,
    js = o.store,
    // what loading the store said (reported at the first connect(), once the application holds the client)
    loaded = 0,
    ka = (o.keepalive == null ? 60 : o.keepalive) * 1000,
    wait = (ka || 20000) >> 1,
    st = IDLE,
    cbs: { [id: number]: Done | null } = {},
    // streamed messages: QoS 1 sources by packet id, QoS 0 ones in order (their records carry DUP, never sent on
    // QoS 0); how many there are; the part of the first one's frame written (-2 none, -1 fixed header, >= 0 payload)
    srcs: { [id: number]: PayloadSource } = {},
    src0: PayloadSource[] = [],
    streams = 0,
    sp = -2,
    // a streamed record's scratch: STREAM_CHUNK bytes, or half the outbox when that is less; what sizes it (any
    // such bytes: they are not sent), made once
    ck = Math.min(STREAM_CHUNK, (size - rx) >> 1),
    sv: Uint8Array | undefined,
    subs: Subs = {},
    in2: number[] = [],
    pend: string[] = [],
    nextId = 0,
    tick: unknown,
    retry: unknown,
    conn = 0,
    attempts = 0,
    lastRx = 0,
    lastTx = 0,
    waitAt = 0,
    waiting = false,
    stop = false,
    wantW = false,
    skip = false,
    // CONNECT is still to write (the transport said "try later")
    hello = false,
    // where the packet id of a PUBLISH whose topic did not fit starts in its frame, -1 when none is awaited
    idAt = -1,
    // the outbox's tail when a flush last left every record written, else -1: a PUBLISH queued right there is
    // written alone, without walking the records in flight (hundreds in a burst at QoS 1)
    sentTail = -1,
    // filled in by each PUBLISH's first part, before anything reads them
    p = {} as PublishHeader,
    info = {} as MessageInfo,
    // The hot paths, short for Espruino (which runs through the text of every function a message passes through):
    // a QoS 0 PUBLISH to `ft`, whose frame's header and topic lie at the start of the empty outbox, its payload
    // going at `fp`; a QoS 0 PUBLISH received whole to `li`, the last topic received (ASCII, checked), with `i0`
    ft: string | null = null,
    fp = 0,
    // the longest payload (in characters) the QoS 0 path takes: 4 bytes each at most, SPARE left
    fl = 0,
    // the topic of the last QoS 0 message the general path queued
    lt: string | null = null,
    // where the QoS 0 path's frame starts (after the state byte of a record at the start of the outbox)
    q0 = rx + 1,
    li: string | null = null,
    i0 = { qos: 0, retain: false, dup: false, offset: 0, total: 0 } as MessageInfo,
    // written since the keep-alive last looked (the QoS 0 path does not read the clock)
    tx = false,
    reader = createReader(b, rx, onPart, FAST ? whole : undefined),
    ev: TransportEvents = {
      onOpen: function () {
        st = CONNACK_WAIT;
        sendConnect();
      },
      onData: function (chunk: Uint8Array) {
        var c = conn, r: number;
        // once per chunk, not per packet
        lastRx = clock.now();
        r = reader.feed(chunk);
        // a malformed or unexpected packet on this connection (not one a callback already closed or replaced)
        if (r < 0 && c == conn && st >= CONNACK_WAIT) fail(r);
      },
      onWritable: function () {
        if (hello) sendConnect();
        else flush();
      },
      onClose: function (err: number) {
        closed(err || E_CLOSED);
      },
    };

  // the messages a store kept: in the outbox before anything else, their ids taken
  if (js) {
    loaded = js._load(m, error);
    for (var q = m._head; q < m._tail; q += recordSize(m, q)) cbs[recordId(m, q)] = null;
  }

  /**
   * Builds and writes CONNECT: in the receive region or, when larger, after the queued records (never over them).
   * A transport that answers "try later" (0) gets it again, built anew, at onWritable: the bytes are not kept, since
   * a publish meanwhile may take the room after the records.
   */
  function sendConnect() {
    var c: ConnectFields = {
        clientId: o.clientId || "",
        username: o.username,
        password: o.password,
        keepalive: ka / 1000,
        clean: o.clean !== false,
        will: o.will,
      },
      n = sizeConnect(c),
      q = n > rx ? (compact(m), (ft = null), m._tail) : 0;
    if (n > 0 && q + n > size) n = E_TOO_LARGE;
    if (n > 0) n = encodeConnect(b, q, c) - q;
    if (n < 0) return fail(n, true);
    if ((n = tr.write(b, q, n)) < 0) return drop(E_TRANSPORT);
    // still to write: the open timeout keeps running meanwhile
    if (!(hello = !n)) lastTx = waitAt = clock.now();
    waiting = true;
  }

  function elapsed(t: number): number {
    return (clock.now() - t) >>> 0;
  }

  function error(code: number) {
    if (o.onError) o.onError(code);
  }

  /** An error the application hears about; `final` stops reconnecting (refused credentials and the like). */
  function fail(code: number, final?: boolean) {
    error(code);
    if (final) stop = true;
    drop(code);
  }

  function call(id: number, err: number, g?: number) {
    var f = cbs[id];
    delete cbs[id];
    if (SOURCES && streams && srcs[id]) delete srcs[id], streams--;
    if (f) f(err, g);
    else if (err) error(err);
  }

  function newId(): number {
    do nextId = (nextId % 65535) + 1; while (nextId in cbs);
    return nextId;
  }

  /** Queues a control packet: an ack, PINGREQ or DISCONNECT. */
  function control(type: number, id: number) {
    var q = reserve(m, id ? 4 : 2, 0);
    ft = null;
    if (q < 0) return drop(E_OUTBOX_FULL);
    if (id) encodeAck(b, q, type, id);
    else encodeEmpty(b, q, type);
  }

  /** Writes every unsent record in order (from `from` when the records before it are known written); transient records leave the outbox once written. */
  function flush(from?: number) {
    var q = from || m._head, n: number, r: number, freed = false, wrote = false;
    while (st == UP && q < m._tail) {
      n = recordSize(m, q);
      if (!b[q]) {
        r = SOURCES && streams && streamOf(q) ? pour(q, n) : tr.write(b, q + 1, n - 1);
        if (!r) break;
        if (r < 0) return drop(r == E_SOURCE ? r : E_TRANSPORT);
        wrote = true;
        // a record that waits for its answer stays (state.ts)
        if (b[q + 1] & WAITS) b[q] = SENT;
        else {
          // (cut, inline for the usual case: the first record leaves)
          if (q == m._head) m._head = q += n;
          else q = cut(m, q, n);
          freed = true;
          continue;
        }
      }
      q += n;
    }
    if (wrote) lastTx = clock.now();
    sentTail = q < m._tail ? -1 : q;
    if (freed && (pend.length || wantW)) writable();
  }

  /** The source of the record at `q` when it is a streamed message. */
  function streamOf(q: number): PayloadSource | null {
    var h = b[q + 1];
    if (h >> 4 != PUBLISH) return null;
    return h & QOS_BITS ? srcs[recordId(m, q)] || null : h & DUP ? src0[0] : null;
  }

  /**
   * Writes the streamed record at `q` (`n` bytes: the PUBLISH header, then `ck` bytes of scratch) as the
   * frame it stands for: the fixed header with the whole length, the topic and packet id, then the payload read into
   * the scratch a chunk at a time. Returns as Transport.write: n - 1 when all of it went, 0 to go on later, < 0.
   */
  function pour(q: number, n: number): number {
    var s = streamOf(q)!, x = q + n - ck, v = recordSize(m, q, true), k: number, r: number, h = b[q + 1];
    for (;;) {
      if (sp == -2) {
        // the QoS 0 marker (DUP) comes off; a QoS 1 resend keeps its DUP
        b[x] = h & QOS_BITS ? h : h & ~DUP;
        r = tr.write(b, x, (k = writeVarint(b, x + 1, x - v + s.size) - x));
      } else if (sp == -1) r = tr.write(b, v, (k = x - v));
      else if (sp < s.size) {
        k = s.read(sp, b, x, Math.min(ck, s.size - sp));
        if (!(k > 0)) return unstream(q, n);
        r = tr.write(b, x, k);
      } else {
        sp = -2;
        if (!(h & QOS_BITS)) src0.shift(), streams--;
        return n - 1;
      }
      if (r <= 0) return r;
      lastTx = clock.now();
      sp = sp < 0 ? sp + 1 : sp + k;
    }
  }

  /** A source that failed mid-message: the message is dropped by name, and the connection, whose frame is cut. */
  function unstream(q: number, n: number): number {
    var id = b[q + 1] & QOS_BITS ? recordId(m, q) : 0;
    if (!id) src0.shift(), streams--;
    cut(m, q, n);
    sp = -2;
    if (id) call(id, E_SOURCE);
    else error(E_SOURCE);
    return E_SOURCE;
  }

  /**
   * Queues a streamed message: its header and STREAM_CHUNK bytes of scratch in the outbox (the scratch stands in for
   * the payload, which the source gives as it is written). QoS 0 or 1, and not with a store: after a restart the source
   * would be gone.
   */
  function stream(topic: string, s: PayloadSource, qos: number, retain: boolean, done?: Done): number {
    var scratch = sv || (sv = b.subarray(0, ck)), n = sizePublish(topic, scratch, qos), q: number, id = 0;
    if (qos > 1 || js || !(s.size >= 0) || typeof s.read != "function") return E_ARGUMENT;
    q = room(n);
    if (q < 0) return q;
    if (qos) id = newId();
    encodePublish(b, q, topic, scratch, qos, retain, false, id, n);
    // the whole frame's length (the body less the scratch, plus the source) must be one MQTT can carry
    if (frameSize(q + n - recordSize(m, q - 1, true) - ck + s.size) < 0) return (m._tail = q - 1), E_TOO_LARGE;
    if (qos) (srcs[id] = s), (cbs[id] = done || null);
    else (b[q] |= DUP), src0.push(s);
    streams++;
    if (!qos && done) done(0);
    flush();
    return id;
  }

  function writable() {
    if (pend.length) resub();
    if (wantW) {
      wantW = false;
      if (o.onWritable) o.onWritable();
    }
  }

  /** Reserves `n` frame bytes for an application packet, or says why not. */
  function room(n: number): number {
    var q: number;
    // the outbox changes: the QoS 0 path's header is gone
    ft = null;
    if (st == ENDED) return E_NOT_CONNECTED;
    if (n < 0) return n;
    if (n + 1 + SPARE > size - rx) return E_TOO_LARGE;
    if ((q = reserve(m, n, SPARE)) < 0) {
      wantW = true;
      return E_OUTBOX_FULL;
    }
    return q;
  }

  /** Closes the transport ourselves; the transport reports nothing after close(). */
  function drop(err: number) {
    if (st >= OPENING) {
      tr.close();
      closed(err);
    }
  }

  function closed(err: number) {
    var r = o.reconnect, d: number;
    if (st < OPENING) return;
    st = IDLE;
    ft = li = null;
    // a streamed message cut off mid-frame starts again on the next connection
    sp = -2;
    waiting = false;
    clock.clear(tick);
    if (o.onClose) o.onClose(err);
    if (r !== false && !stop) {
      r = r || {};
      d = Math.min(r.max || 30000, (r.min || 1000) * Math.pow(2, attempts++));
      retry = clock.set(open, d * (1 - (r.jitter == null ? 0.5 : r.jitter) * Math.random()));
    }
  }

  function open() {
    if (st != IDLE) return;
    st = OPENING;
    conn++;
    reader.reset();
    idAt = -1;
    hello = false;
    skip = false;
    waitAt = clock.now();
    waiting = true;
    tick = clock.set(onTick, wait >> 1);
    tr.open(o.host, o.port || (o.tls ? 8883 : 1883), o.tls || null, ev);
  }

  /** Keep-alive [MQTT-3.1.2-24]: ping after half the keep-alive without input; no answer within another half: dead. */
  function onTick() {
    if (waiting && elapsed(waitAt) >= wait) return drop(st == UP ? E_KEEPALIVE : E_TIMEOUT);
    tick = clock.set(onTick, wait >> 1);
    // a write of the QoS 0 path counts from this tick, up to a tick (a quarter keep-alive) late: hence a ping after half
    // a keep-alive (plus a tick) without a write, not three quarters, still within the keep-alive [MQTT-3.1.2-23]
    if (FAST && tx) (tx = false), (lastTx = clock.now());
    if (st == UP && ka && !waiting && (elapsed(lastRx) >= wait || elapsed(lastTx) >= wait)) {
      control(PINGREQ, 0);
      waiting = true;
      waitAt = clock.now();
      flush();
    }
  }

  function onConnack(sp: number) {
    var h: number, f: string;
    if (QOS2 && !sp) in2 = [];
    st = UP;
    sentTail = -1;
    waiting = false;
    attempts = 0;
    // resend in order, DUP set [MQTT-4.4.0-1], [MQTT-3.3.1-1]
    prepareResend(m, sp);
    // no session: each PUBREL's message is complete; done callbacks may publish and so move the records, hence one
    // record at a time
    while (QOS2 && !sp && (h = forget(m))) {
      if (js) js._del(h);
      call(h, 0);
    }
    if (!sp) {
      pend = [];
      for (f in subs) pend.push(f);
    }
    resub();
    if (o.onConnect) o.onConnect(!!sp);
    flush();
  }

  /**
   * The QoS 0 path of the reader (its WholeHandler): a PUBLISH whole in the chunk, without DUP or RETAIN, to the topic
   * of the last one (`li`, null unless connected with onMessage), goes to onMessage from the chunk. 1: not such a one.
   */
  function whole(c: Uint8Array, at: number, len: number): number {
    var k = (c[at] << 8) | c[at + 1];
    if (c[at - 2] == 0x30 && li && k + 2 <= len && utf8Read(c, at + 2, k, true, li) === li) {
      i0.total = len - k - 2;
      o.onMessage!(li, c.subarray(at + k + 2, at + len), i0);
      // (closed meanwhile: the rest of the chunk is not for this connection)
      return li ? 0 : E_CLOSED;
    }
    return 1;
  }

  // Espruino runs through the text of every function it calls: the path of a PUBLISH is kept short, the rest is elsewhere
  function onPart(hdr: number, total: number, pos: number, len: number): number {
    var r: number, k: number;
    if (st < CONNACK_WAIT) return E_CLOSED;
    if (hdr >> 4 != PUBLISH || st == CONNACK_WAIT) return /*#__NOINLINE__*/ onOther(hdr, total, len);
    if (!pos) {
      r = /*#__NOINLINE__*/ decodePublish(b, 0, len, hdr, p);
      if (((skip = r < 0) || p.qos == 2) && (r = /*#__NOINLINE__*/ odd(r, hdr, total, len)) < 0) return r;
      info.qos = p.qos;
      info.retain = p.retain;
      info.dup = p.dup;
      info.total = total - p.hlen;
      // an ASCII topic (as many characters as bytes): the QoS 0 path's next
      if (FAST && !skip && p.topic.length + (p.qos ? 4 : 2) == p.hlen && o.onMessage) li = p.topic;
    }
    if (!skip && o.onMessage) {
      r = pos ? 0 : p.hlen;
      info.offset = pos + r - p.hlen;
      o.onMessage(p.topic, b.subarray(r, len), info);
      if (st != UP) return E_CLOSED;
    }
    for (k = idAt; k >= 0 && k < idAt + 2; k++) if (k >= pos && k < pos + len) p.id = (p.id << 8) | b[k - pos];
    if (pos + len == total) {
      idAt = -1;
      if (p.qos) {
        // acknowledged once the application has had it [MQTT-4.3.2-2], [MQTT-4.3.3-2]
        if (QOS2 && p.qos == 2 && in2.indexOf(p.id) < 0) in2.push(p.id);
        control(p.qos == 1 ? PUBACK : PUBREC, p.id);
        flush();
      }
    }
    return 0;
  }

  /** The rare cases of a PUBLISH's first part: a header decodePublish refused (`r`, `skip` set), or QoS 2. */
  function odd(r: number, hdr: number, total: number, len: number): number {
    if (skip) {
      if (len < total && r == E_MALFORMED) {
        // a topic too long for the receive region cannot be read: reported and skipped, the connection stays;
        // still acknowledged, or the server would resend it for ever [MQTT-4.3.2-2]: its packet id, after the
        // topic, is read as the frame streams by (idAt: where it starts)
        p.qos = (hdr >> 1) & 3;
        p.id = 0;
        idAt = ((b[0] << 8) | b[1]) + 2;
        error(E_TOO_LARGE);
      } else return r;
    }
    // QoS 2 delivered once: a PUBLISH whose id awaits PUBREL is a duplicate [MQTT-4.3.3-2]; a build without
    // QoS 2 (IoT Hub, which grants at most 1) cannot take one
    if (p.qos == 2) {
      if (!QOS2) return E_PROTOCOL;
      if (in2.indexOf(p.id) >= 0) skip = true;
    }
    return 0;
  }

  /** Every packet but PUBLISH, and CONNACK first. */
  function onOther(hdr: number, total: number, len: number): number {
    var t = hdr >> 4, r: number, q: number, k: number;
    if (st == CONNACK_WAIT) {
      if (t != 2) return E_PROTOCOL;
      r = decodeConnack(b, 0, len, hdr);
      if (r < 0) {
        // [MQTT-3.2.2-5] a refusal (1-5, or above) closes for good but "server unavailable"; a malformed CONNACK is retried
        fail(r, r <= E_REFUSED_PROTOCOL && r != E_REFUSED_UNAVAILABLE);
        return 0;
      }
      onConnack(r);
      return 0;
    }
    if (len < total) return E_TOO_LARGE;
    if (t == PINGRESP) {
      waiting = false;
      return decodeEmpty(len, hdr);
    }
    // a client receives PUBREL and the acknowledgements of the records it sends, nothing else (no QoS 2: no
    // PUBREC, PUBREL or PUBCOMP either)
    if (QOS2 ? t != PUBREL && !ACKED.charCodeAt(t - PUBACK) : t != PUBACK && t != SUBACK && t != UNSUBACK) return E_PACKET_TYPE;
    if ((r = decodeAck(b, 0, len, hdr)) < 0) return r;
    if (QOS2 && t == PUBREL) {
      if ((q = in2.indexOf(r)) >= 0) in2.splice(q, 1);
      control(PUBCOMP, r);
      flush();
      return 0;
    }
    // the record this answers leaves (a PUBLISH QoS 2 becomes its PUBREL) or, unknown, is ignored
    k = t == SUBACK ? b[2] : 0;
    if ((q = acknowledge(m, t, r, subs, k)) == E_UNKNOWN_ID) {
      // [MQTT-4.3.3] a PUBREC for a message we no longer hold still gets its PUBREL
      if (QOS2 && t == PUBREC) control(PUBREL, r), flush();
      return 0;
    }
    if (QOS2 && t == PUBREC) {
      if (js) js._rel(r);
      flush();
      writable();
      return 0;
    }
    if (js && t < SUBACK) js._del(r);
    writable();
    call(r, q, k);
    return 0;
  }

  /** Re-subscribes the filters a reconnect without session lost, as far as the outbox has room; the rest wait for free space. */
  function resub() {
    var f: string | undefined;
    while ((f = pend.shift()) != null) {
      if (f in subs && sendSub(f, subs[f], null) < 0) {
        pend.unshift(f);
        return;
      }
    }
  }

  /** Queues a SUBSCRIBE, or an UNSUBSCRIBE when `qos` is -1; returns its packet id or a negative code. */
  function sendSub(filter: string, qos: number, done: Done | null | undefined): number {
    var q = room(qos < 0 ? sizeUnsubscribe(filter) : sizeSubscribe(filter, qos)), id: number;
    if (q < 0) return q;
    if (qos < 0) encodeUnsubscribe(b, q, (id = newId()), filter);
    else encodeSubscribe(b, q, (id = newId()), filter, qos);
    cbs[id] = done || null;
    flush();
    return id;
  }

  /** The QoS 0 path's frame was not written: the connection drops (`r` < 0), or it waits as an unsent record ("try later"). */
  function unwritten(r: number) {
    if (r < 0) return drop(E_TRANSPORT);
    b[q0 - 1] = 0;
    m._head = q0 - 1;
    m._tail = q0 + b[q0 + 1] + 2;
    sentTail = -1;
    ft = null;
  }

  /** Queues a message (Client.publish), the QoS 0 path aside. */
  function pub(topic: string, payload: Payload | PayloadSource, qos: number | undefined, retain: boolean | undefined, done: Done | undefined): number {
    var h: number, n: number, q: number, id = 0, r: number;
    // a second QoS 0 message to one topic starts the empty outbox again at its start, where the QoS 0 path then finds its
    // header (other messages follow the last one, as before)
    if (FAST && !qos && topic === lt && m._head == m._tail) m._head = m._tail = sentTail = m._start;
    // a compaction in room() moves the records (and so the tail) back by what the head moves
    h = m._head;
    if (typeof payload == "object" && !(payload instanceof Uint8Array)) return SOURCES ? stream(topic, payload, qos || 0, !!retain, done) : E_ARGUMENT;
    n = !QOS2 && qos == 2 ? E_QOS : sizePublish(topic, payload, (qos = qos == null ? 0 : qos));
    q = room(n);
    if (q < 0) return q;
    if (qos) id = newId();
    // sized once: n passed on
    r = /*#__NOINLINE__*/ encodePublish(b, q, topic, payload, qos, !!retain, false, id, n) - q;
    // a QoS 0 frame of one length byte at the start: the QoS 0 path's next header, while nothing else is queued
    if (FAST && !qos) lt = topic;
    if (FAST && !qos && q == q0 && n < 130 && st == UP) (ft = topic), (fl = (size - (fp = q + 2 + sizeTopic(topic)) - SPARE) >> 2);
    // stored before publish returns; nothing queued when the store fails
    if (qos && js && (r = js._add(q, r)) < 0) return (m._tail = q - 1), r;
    if (qos) cbs[id] = done || null;
    if (!qos && done) done(0);
    flush(q - 1 == sentTail - h + m._head ? q - 1 : 0);
    // (unless written: the outbox is not empty)
    if (FAST && m._head != m._tail) ft = null;
    return id;
  }

  return {
    connect: function () {
      if (st == ENDED) st = IDLE;
      stop = false;
      if (loaded) error(loaded), (loaded = 0);
      clock.clear(retry);
      open();
    },
    publish: function (topic, payload, qos, retain, done) {
      var q = q0, e: number;
      // the QoS 0 path: to the topic of the last frame at the start of the empty outbox, connected, a string payload
      // that takes at most the outbox less SPARE (4 bytes a character at most): written at once, where it lies
      // (ft is null unless connected with the outbox empty)
      if (FAST && topic === ft && !(qos || done) && typeof payload == "string" && payload.length < fl && (e = utf8Write(b, fp, payload)) - q < 130 && e >= fp) {
        b[q] = retain ? 0x31 : 0x30;
        b[q + 1] = e - q - 2;
        if ((e = tr.write(b, q, e - q)) > 0) tx = true;
        else /*#__NOINLINE__*/ unwritten(e);
        return 0;
      }
      return /*#__NOINLINE__*/ pub(topic, payload, qos, retain, done);
    },
    subscribe: function (filter, qos, done) {
      return sendSub(filter, qos == null ? 0 : qos, done);
    },
    unsubscribe: function (filter, done) {
      var r = sendSub(filter, -1, done);
      if (r > 0) delete subs[filter];
      return r;
    },
    reconnect: function () {
      drop(E_CLOSED);
      clock.clear(retry);
      if (!stop) open();
    },
    end: function (done) {
      var id: string;
      stop = true;
      clock.clear(retry);
      if (st == UP) {
        control(DISCONNECT, 0);
        flush();
      }
      drop(0);
      st = ENDED;
      m._head = m._tail = m._start;
      if (js) js._clear();
      for (id in cbs) call(+id, E_ENDED);
      src0 = [];
      streams = 0;
      in2 = [];
      if (done) done();
    },
    connected: function () {
      return st == UP;
    },
  };
}
