// The AMQP 1.0 connection (Part 2): protocol headers, SASL (Part 5: ANONYMOUS, PLAIN), open, one session, links,
// transfers within the peer's credit, dispositions, idle-time-out heartbeats. The only AMQP file that does I/O,
// through an injected Transport and Clock, in one fixed buffer: the receive region (whole frame bodies, the
// max-frame-size announced) then the outbox (frames queued for the transport). One connection: no reconnect here
// (the layer above reconnects and attaches again).
import { Transport, Clock, TlsOptions, TransportEvents } from "../types";
import {
  E_OUTBOX_FULL, E_TOO_LARGE, E_NOT_CONNECTED, E_BUSY, E_CLOSED, E_PROTOCOL, E_TRANSPORT, E_ENDED, E_TIMEOUT, E_ARGUMENT, E_AMQP_SASL,
  E_AMQP_UNAUTHORIZED, E_AMQP_NOT_FOUND, E_AMQP_ERROR, E_AMQP_REJECTED, E_AMQP_RELEASED, E_AMQP_IDLE, E_AMQP_DETACHED,
} from "../errors";
import { createAmqpReader, writeProtocolHeader, writeFrameHeader, FRAME_SASL, PROTO_AMQP, PROTO_SASL, FRAME_HEADER } from "./frame";
import {
  writeFrame, sizeFrame, decodePerformative, decodeMessage, decodedTo, Message, OPEN, BEGIN, ATTACH, FLOW, TRANSFER, DISPOSITION,
  DETACH, END, CLOSE, ERROR, ACCEPTED, REJECTED, RELEASED, MODIFIED, SOURCE, TARGET, SASL_MECHANISMS, SASL_INIT, SASL_OUTCOME,
} from "./performatives";
import { readN, putN } from "./types";
import { moveBytes } from "../bytes";
import { AMQP_CLIENT_ALL } from "../features";

export { ACCEPTED, REJECTED, RELEASED };

/** Settle modes of a sender (§2.8.2): the peer settles (unsettled), pre-settled, or either per message. */
export var SND_UNSETTLED = 0, SND_SETTLED = 1, SND_MIXED = 2;

export interface SaslOptions {
  /** "ANONYMOUS" (IoT Hub then takes a token on $cbs) or "PLAIN" (a SAS token as the password; not in the device bundles, src/features.ts AMQP_CLIENT_ALL). */
  mechanism: string;
  username?: string;
  password?: string;
}

export interface AmqpClientOptions {
  host: string;
  port?: number;
  tls?: TlsOptions | null;
  /** Our container-id in open (§2.7.1); default "tinyhub". */
  containerId?: string;
  /** The hostname in open and sasl-init; default host. */
  hostname?: string;
  /** SASL (Part 5); null or absent: none, the AMQP header at once (the device bundles: always SASL). */
  sasl?: SaslOptions | null;
  /** Ms: the idle-time-out announced in open; the connection closes with E_AMQP_IDLE after so long without a frame. 0: none. Default 60000. */
  idleTimeout?: number;
  /** Ms to get the peer's begin after connect(), else E_TIMEOUT. Default 30000. */
  timeout?: number;
  /** Links at most (handle-max + 1). Default 8 (always 8 in the device bundles: src/features.ts AMQP_CLIENT_ALL). */
  maxLinks?: number;
  /** Bytes of the one buffer (default 4096, at least 1024). */
  bufferSize?: number;
  buffer?: Uint8Array;
  /** Bytes of it for receiving: the max-frame-size announced less 8 (default half). */
  rxSize?: number;
  transport: Transport;
  clock: Clock;
  /** The session is up: links may be attached. */
  onOpen?: () => void;
  /**
   * A message on receiver link `handle`: `payload` the data body (a view into the buffer, valid only during the call,
   * null for another body), `msg` its sections (decoded, valid during the call), `id` its delivery-id for settle(), -1
   * when the peer sent it settled, -2 when it is larger than the receive region (onError has had E_TOO_LARGE; `msg` has
   * the sections its first frame holds, no body; the client rejects it once its last frame has passed).
   */
  onMessage?: (handle: number, payload: Uint8Array | null, msg: any, id: number) => void;
  /** The peer detached link `handle` (err 0, or the code of its error); the handle is free again. */
  onDetach?: (handle: number, err: number) => void;
  /** The connection ended: 0 after end(), else why. */
  onClose?: (code: number) => void;
  onError?: (code: number) => void;
  /** Credit or room came after send() returned E_OUTBOX_FULL. */
  onWritable?: () => void;
}

export interface LinkOptions {
  /** Link properties (§2.7.3), symbol keys: {"com.microsoft:api-version": "2020-09-30"}. */
  properties?: any;
  /** A sender's settle mode: SND_UNSETTLED (default), SND_SETTLED or SND_MIXED (SND_UNSETTLED in the device bundles). */
  sndSettleMode?: number;
  /** A receiver's initial credit (default 0: grant it with flow()). */
  credit?: number;
  /** The source and target as composites, instead of {address} and {} (filters, capabilities...; not in the device bundles). */
  source?: any;
  target?: any;
}

export type Done = (err: number) => void;

export interface AmqpClient {
  connect(): void;
  /**
   * Attaches a link (§2.6.3): a receiver when `receiver`, on node `address`; returns its handle or a negative code (E_BUSY: maxLinks in use).
   * done(0) when the peer attaches, or the code of the error it detaches with.
   */
  attach(name: string, receiver: boolean, address: string, opt?: LinkOptions | null, done?: Done): number;
  /** Detaches (closes) link `handle`; done when the peer answers. Unsettled sends get E_AMQP_DETACHED. (Not in the device bundles: src/features.ts AMQP_CLIENT_ALL.) */
  detach(handle: number, done?: Done): number;
  /**
   * Sends message `m` on sender link `handle` (one frame, within the peer's credit and session window); returns its
   * delivery-id or a negative code (E_OUTBOX_FULL: no credit or no room now, wait for onWritable). done(0) when
   * accepted (at once if pre-settled), E_AMQP_REJECTED, E_AMQP_RELEASED, or the code that ended the link.
   */
  send(handle: number, m: Message, done?: Done): number;
  /** Sets the credit of receiver link `handle` to `credit` messages (§2.6.7). */
  flow(handle: number, credit: number): number;
  /** Settles received delivery `id` (§2.6.12): ACCEPTED, REJECTED (with an error composite if given, but in the device bundles) or RELEASED. */
  settle(id: number, outcome: number, error?: any): number;
  /** Closes (§2.4.3): pending callbacks get E_ENDED; done once the peer's close comes (or after a second). */
  end(done?: () => void): void;
  /** The session is up. */
  connected(): boolean;
  /** The credit the peer gives sender link `handle` now (-1 no such link). (Not in the device bundles.) */
  credit(handle: number): number;
  /** The error composite of the peer's last close, end or detach ({condition, description, info}), or null. (Not in the device bundles.) */
  remoteError(): any;
}

// connection states
var IDLE = 0, SASL = 1, OPENING = 2, UP = 3, CLOSING = 4;
// outbox bytes only control frames (flow, disposition, detach, close, heartbeats) may take
var SPARE = 96;
// a session window large enough never to need widening by a device (§2.5.6)
var WINDOW = 0x7fffffff;

interface Link {
  _name: string;
  _rcv: boolean;
  // the peer's handle (-1 until its attach), our delivery-count, the credit (the peer's for a sender, ours for a receiver)
  _peer: number;
  _count: number;
  _credit: number;
  _mode: number;
  // 1 attaching, 2 attached, 3 detaching
  _st: number;
  _done: Done | null;
}

/** Creates the client; nothing happens until connect(). */
export function createAmqpClient(o: AmqpClientOptions): AmqpClient {
  var size = o.buffer ? o.buffer.length : o.bufferSize || 4096,
    b = o.buffer || new Uint8Array(size),
    rx = o.rxSize || size >> 1,
    // the hostname in open and sasl-init, ms to get the peer's begin
    // (the device builds' session gives the hostname, the port and the container id: src/features.ts AMQP_CLIENT_ALL)
    host = AMQP_CLIENT_ALL ? o.hostname || o.host : o.hostname,
    timeout = o.timeout || 30000,
    // the delivery tag of the transfer written: its delivery-id
    tag = new Uint8Array(4),
    tr = o.transport,
    clock = o.clock,
    idle = o.idleTimeout == null ? 60000 : o.idleTimeout,
    maxLinks = (AMQP_CLIENT_ALL && o.maxLinks) || 8,
    st = IDLE,
    // the outbox: frames from head to tail
    head = rx,
    tail = rx,
    links: (Link | null)[] = [],
    // the peer's handles -> ours
    peers: number[] = [],
    // done callbacks of unsettled sends by delivery-id, and their links
    cbs: { [id: number]: Done | null } = {},
    cbl: { [id: number]: number } = {},
    // session: our next transfer-id (= delivery-id, one frame per delivery), the peer's next, its channel, its incoming window
    outNext = 0,
    inNext = 0,
    rch = -1,
    rwin = 0,
    // the peer's max-frame-size, its idle-time-out
    rmax = 512,
    ridle = 0,
    lastRx = 0,
    lastTx = 0,
    openAt = 0,
    tick: unknown,
    wantW = false,
    // a multi-frame delivery being skipped (too large for the receive region): its delivery-id, else -1
    skip = -1,
    rerr: any = null,
    // what onClose will say once the closing the peer began ends
    why = 0,
    // links attached by a peer's attach with no terminus, done not yet called
    pend = 0,
    endDone: (() => void) | null = null,
    conn = 0,
    // reused: the performative read, the frames written
    pf: any = {},
    // (their other fields set at each use)
    tf: any = { messageFormat: 0, deliveryTag: tag },
    fl: any = { incomingWindow: WINDOW, outgoingWindow: WINDOW },
    dp: any = { role: true, settled: true },
    st0: any = { type: 0 },
    reader = createAmqpReader(b, rx, PROTO_SASL, onFrame, onHeader),
    ev: TransportEvents = {
      onOpen: function () {
        lastRx = clock.now();
        hello();
      },
      onData: function (chunk: Uint8Array) {
        var c = conn, r: number;
        lastRx = clock.now();
        r = reader.feed(chunk);
        if (r < 0 && c == conn && st != IDLE) fail(r);
      },
      onWritable: flush,
      onClose: function (err: number) {
        // the transport failing (a TLS handshake, a reset) is an error the application hears, not only a close
        if (err && st != IDLE && st != CLOSING) error(err);
        closed(why || (st == CLOSING ? 0 : err || E_CLOSED));
      },
    };

  function elapsed(t: number): number {
    return (clock.now() - t) >>> 0;
  }

  function error(code: number) {
    if (o.onError) o.onError(code);
  }

  /** The code of a peer's error composite (§2.8.15), remembered for remoteError(); 0 for none. */
  function code(e: any): number {
    if (!e || e.type != ERROR) return 0;
    if (AMQP_CLIENT_ALL) rerr = e;
    return e.condition == "amqp:unauthorized-access" ? E_AMQP_UNAUTHORIZED : e.condition == "amqp:not-found" ? E_AMQP_NOT_FOUND : E_AMQP_ERROR;
  }

  /** The protocol header(s) after the transport opened: SASL's, or AMQP's with open and begin pipelined (§2.4.1). */
  function hello() {
    if (!AMQP_CLIENT_ALL || o.sasl) header(SASL, PROTO_SASL), flush();
    else amqp();
  }

  /** Enters state `s`, queueing the protocol header `id` and expecting the peer's; false when there is no room. */
  function header(s: number, id: number): boolean {
    var q = room(8, 0);
    st = s;
    reader.reset(id);
    if (q < 0) return false;
    tail = writeProtocolHeader(b, q, id);
    return true;
  }

  function amqp() {
    if (!header(OPENING, PROTO_AMQP)) return;
    // the frames we take are whole frame bodies in the receive region (§2.7.1)
    reader.setMaxFrameSize(rx + FRAME_HEADER);
    frame(0, OPEN, {
      containerId: AMQP_CLIENT_ALL ? o.containerId || "tinyhub" : o.containerId, hostname: host, maxFrameSize: rx + FRAME_HEADER, channelMax: 0,
      idleTimeOut: idle || null,
    });
    frame(0, BEGIN, { nextOutgoingId: 0, incomingWindow: WINDOW, outgoingWindow: WINDOW, handleMax: maxLinks - 1 });
    flush();
  }

  /**
   * Room for `n` bytes at the outbox's tail (moving the unsent frames to its start when that makes room), keeping
   * `spare` bytes free: the offset, or E_OUTBOX_FULL (wantW set) or E_TOO_LARGE.
   */
  function room(n: number, spare: number): number {
    if (n + spare > size - rx) return E_TOO_LARGE;
    if (tail + n + spare > size && head > rx) {
      moveBytes(b, rx, head, tail - head);
      tail -= head - rx;
      head = rx;
    }
    if (tail + n + spare > size) return (wantW = true), E_OUTBOX_FULL;
    return tail;
  }

  /** Queues a frame the connection itself needs; no room even in the spare bytes drops the connection. */
  function frame(ch: number, c: number, x: any): number {
    var n = sizeFrame(c, x), q = room(n, 0);
    if (n < 0 || q < 0) return fail(n < 0 ? n : E_OUTBOX_FULL), -1;
    tail = writeFrame(b, q, ch, c, x);
    return 0;
  }

  /** Hands the queued frames to the transport, each whole, as far as it takes them. */
  function flush() {
    var n: number, r: number, freed = false;
    while (head < tail && st != IDLE) {
      // a protocol header is 8 bytes; a frame says its size
      n = b[head] == 0x41 ? 8 : readN(b, head, 4);
      r = tr.write(b, head, n);
      if (!r) break;
      if (r < 0) return fail(E_TRANSPORT);
      head += n;
      freed = true;
      lastTx = clock.now();
    }
    if (head == tail) head = tail = rx;
    if (freed) writable();
  }

  function writable() {
    if (wantW && st == UP) {
      wantW = false;
      if (o.onWritable) o.onWritable();
    }
  }

  /** Closes with `err`: a close frame naming it when the connection is open, then the transport. */
  function fail(err: number) {
    var s = st, x: any;
    if (s == IDLE || s == CLOSING && err == E_OUTBOX_FULL) return;
    st = CLOSING;
    if (s == UP && err != E_TRANSPORT && err != E_AMQP_IDLE) {
      // what the peer did wrong (§2.8.15, §2.8.19), best effort: the transport goes at once
      x = { error: { type: ERROR, condition: err == E_PROTOCOL ? "amqp:not-allowed" : err <= -78 && err >= -80 ? "amqp:connection:framing-error" : "amqp:decode-error" } };
      // (no room: frame() fails again, which does nothing now)
      frame(0, CLOSE, x);
      flush();
    }
    error(err);
    tr.close();
    closed(err);
  }

  function closed(err: number) {
    var id: string, i: number, d = endDone;
    if (st == IDLE) return;
    st = IDLE;
    conn++;
    clock.clear(tick);
    head = tail = rx;
    for (i = 0; i < links.length; i++) if (links[i]) unlink(i, err || E_ENDED, true);
    for (id in cbs) call(+id, err || E_ENDED);
    endDone = null;
    if (o.onClose) o.onClose(err);
    if (d) d();
  }

  function call(id: number, err: number) {
    var f = cbs[id];
    if (!(id in cbs)) return;
    delete cbs[id];
    delete cbl[id];
    if (f) f(err);
    else if (err) error(err);
  }

  /** Frees link `h`: its unsettled sends get `err` (E_AMQP_DETACHED when 0), a pending attach or detach its code. */
  function unlink(h: number, err: number, quiet?: boolean) {
    var l = links[h]!, id: string, d = l._done;
    links[h] = null;
    if (l._peer >= 0) peers[l._peer] = -1;
    for (id in cbl) if (cbl[id as any] == h) call(+id, err || E_AMQP_DETACHED);
    l._done = null;
    if (d) d(err);
    else if (!quiet && o.onDetach) o.onDetach(h, err);
  }

  /** Tells the links the peer attached (and did not detach at once) that they are up. */
  function attached() {
    var i: number, l: Link | null, d: Done | null;
    for (pend = 0, i = 0; i < links.length; i++) if ((l = links[i]) && l._st == 2 && (d = l._done)) (l._done = null), d(0);
  }

  /** Idle-time-out (§2.4.5): ours closes a silent connection, the peer's gets an empty frame within half of it. */
  function onTick() {
    var p = period();
    if (st < UP ? elapsed(openAt) >= timeout : idle && elapsed(lastRx) >= idle) return fail(st < UP ? E_TIMEOUT : E_AMQP_IDLE);
    if (st == UP && ridle && elapsed(lastTx) + p >= ridle >> 1 && head == tail) {
      // an empty frame: 8 bytes, DOFF 2, type 0, channel 0 (§2.3.1), in the empty outbox
      tail = writeFrameHeader(b, tail, 8, 0, 0);
      flush();
    }
    tick = clock.set(onTick, p);
  }

  /** How often onTick runs: a quarter of the shortest idle-time-out (the open timeout before). */
  function period(): number {
    var p = st < UP ? timeout : 0x7fffffff;
    if (idle && idle < p) p = idle;
    if (st == UP && ridle && ridle < p) p = ridle;
    return p >> 2 || 1;
  }

  function onHeader(id: number): number {
    return 0;
  }

  function onFrame(type: number, ch: number, len: number): number {
    var x: any, i: number, h: number, l: Link | null, r: number, d: Done | null, mine: boolean;
    if (st == IDLE) return E_CLOSED; // closed by a callback or a failed write: the rest of the chunk is not for us
    if (!len) return pend && attached(), 0; // a heartbeat (§2.4.5)
    x = decodePerformative(b, 0, len, pf);
    if (typeof x == "number") return x;
    i = x.type;
    if (pend && i != DETACH) attached();
    if ((type == FRAME_SASL) != (st == SASL)) return E_PROTOCOL;
    if (st == SASL) return sasl(x);
    // the peer's frames of our session come on its channel (§2.5.1), once it began; open and close on 0
    if (i != OPEN && i != CLOSE && i != BEGIN && ch != rch) return E_PROTOCOL;
    // the link of a detach, flow or transfer: the peer's handle -> ours
    h = peers[x.handle];
    l = h >= 0 ? links[h] : null;
    switch (i) {
      case OPEN:
        if (st != OPENING || rmax) return E_PROTOCOL;
        rmax = x.maxFrameSize == null ? 0xffffffff : x.maxFrameSize;
        if (rmax < 512) return E_PROTOCOL;
        ridle = x.idleTimeOut || 0;
        return 0;
      case BEGIN:
        if (st != OPENING || !rmax || x.remoteChannel !== 0) return E_PROTOCOL;
        rch = ch;
        inNext = x.nextOutgoingId;
        rwin = x.incomingWindow;
        st = UP;
        clock.clear(tick);
        tick = clock.set(onTick, period());
        if (o.onOpen) o.onOpen();
        return 0;
      case CLOSE:
        r = code(x.error);
        if (st != CLOSING) frame(0, CLOSE, {}), flush();
        if (r) error(r);
        tr.close();
        closed(r || why || (st == CLOSING ? 0 : E_CLOSED));
        return 0;
      case END:
        // one session: its end ends the connection
        r = code(x.error);
        if (st != CLOSING) {
          why = r || E_CLOSED;
          frame(0, END, {});
          frame(0, CLOSE, {});
          st = CLOSING;
          flush();
        }
        if (r) error(r);
        return 0;
      case ATTACH:
        h = x.handle;
        // the answer to ours, matched by name and role (§2.6.3)
        for (i = 0; i < links.length; i++) if ((l = links[i]) && l._name == x.name && l._rcv != x.role && l._peer < 0) break;
        // a handle over the handle-max we announced (§2.7.2), or in use
        if (i == links.length || h >= maxLinks || peers[h] >= 0) return E_PROTOCOL;
        l = links[i]!;
        l._peer = h;
        peers[h] = i;
        if (l._rcv) l._count = x.initialDeliveryCount || 0;
        // (detached by us before the answer: only where detach() is, AMQP_CLIENT_ALL)
        if (AMQP_CLIENT_ALL && l._st != 1) return 0;
        l._st = 2;
        if (l._rcv && l._credit) credit(i, l), flush();
        // a refusal is an attach with a null terminus, then a detach with the error (§2.6.3); some peers (rhea) leave
        // the terminus out when they accept too: then the next frame says which, or a second of silence
        if (l._rcv ? x.source : x.target) (d = l._done), (l._done = null), d && d(0);
        else if (!pend++) clock.set(attached, 1000);
        return 0;
      case DETACH:
        if (!l) return E_PROTOCOL;
        r = code(x.error);
        mine = AMQP_CLIENT_ALL && l._st == 3; // the answer to ours
        if (!mine) frame(0, DETACH, { handle: h, closed: true });
        flush();
        unlink(h, r || (mine ? 0 : E_AMQP_DETACHED));
        if (pend) attached();
        return 0;
      case FLOW:
        if (x.nextIncomingId != null) rwin = (x.nextIncomingId + x.incomingWindow - outNext) >>> 0;
        if (x.handle == null) return 0;
        if (!l) return E_PROTOCOL;
        if (!l._rcv) {
          // the sender's credit: delivery-count(rcv) + link-credit(rcv) - delivery-count(snd) (§2.6.7)
          l._credit = ((x.deliveryCount == null ? 0 : x.deliveryCount) + x.linkCredit - l._count) | 0;
          if (x.drain && l._credit > 0) {
            // nothing waits to be sent here: the credit is used up (§2.6.7)
            l._count = (l._count + l._credit) >>> 0;
            l._credit = 0;
            credit(h, l, true);
          } else if (x.echo) credit(h, l);
          if (l._credit > 0) writable();
        } else {
          // the sender may have used credit up (drain): ours shrinks by what its delivery-count moved (§2.6.7)
          if (x.deliveryCount != null) (l._credit -= (x.deliveryCount - l._count) | 0), (l._count = x.deliveryCount);
          if (x.echo) credit(h, l);
        }
        flush();
        return 0;
      case TRANSFER:
        return transfer(x, len, h, l);
      case DISPOSITION:
        // the peer as a sender settling what we received: nothing to do (we settle first, §3.8.2)
        if (!x.role) return 0;
        r = !x.state ? 0 : x.state.type == ACCEPTED ? 0 : x.state.type == REJECTED ? E_AMQP_REJECTED : x.state.type == RELEASED || x.state.type == MODIFIED ? E_AMQP_RELEASED : 1;
        // a state that is not an outcome (received, §3.4.1) settles nothing
        if (r == 1 || (!x.settled && !x.state)) return 0;
        h = x.last == null ? x.first : x.last;
        for (i = x.first; i <= h; i++) call(i, r);
        return 0;
    }
    return E_PROTOCOL;
  }

  /** A transfer (§2.7.5) on a receiver link: within our credit, one frame per message, to onMessage. */
  function transfer(x: any, len: number, h: number, l: Link | null): number {
    var id: number, m: any, k: number;
    if (!l || !l._rcv) return E_PROTOCOL;
    inNext = (inNext + 1) >>> 0;
    id = x.deliveryId;
    // the rest of a delivery too large for us, or its next frame (§2.6.14: the delivery-id only on the first)
    if (skip >= 0 || (id == null && x.more)) {
      if (!x.more) {
        if (!x.settled && !x.aborted) dispose(skip, REJECTED, null);
        skip = -1;
      }
      return 0;
    }
    if (id == null) return E_PROTOCOL;
    if (l._credit <= 0) return E_PROTOCOL; // over the credit we gave (§2.6.7: amqp:link:transfer-limit-exceeded)
    l._credit--;
    l._count = (l._count + 1) >>> 0;
    m = {};
    k = decodedTo();
    if (x.more) {
      // larger than the receive region: skipped to its end and rejected there; what its first frame holds goes up (id -2)
      skip = id;
      error(E_TOO_LARGE);
      decodeMessage(b, k, len, m);
      if (o.onMessage) o.onMessage(h, null, m, -2);
      return 0;
    }
    if (typeof (m = decodeMessage(b, k, len, m)) == "number") return m;
    if (o.onMessage) o.onMessage(h, m.data instanceof Uint8Array ? m.data : null, m, x.settled ? -1 : id);
    return 0;
  }

  /** Settles delivery `id` (§2.7.6): a disposition with the outcome (and a rejection's error, if any). */
  function dispose(id: number, outcome: number, err: any) {
    dp.first = id;
    st0.type = outcome;
    st0.error = err || null;
    dp.state = st0;
    frame(0, DISPOSITION, dp);
    flush();
  }

  /** SASL (§5.3.2): mechanisms -> init, then the outcome. */
  function sasl(x: any): number {
    var s = o.sasl!, i = x.type;
    if (i == SASL_MECHANISMS) {
      if (x.saslServerMechanisms.indexOf(s.mechanism) < 0) return E_AMQP_SASL;
      // PLAIN (RFC 4616): authzid NUL authcid NUL password; ANONYMOUS (RFC 4505): an optional trace, none here
      frame(0, SASL_INIT, { mechanism: s.mechanism, initialResponse: AMQP_CLIENT_ALL && s.mechanism == "PLAIN" ? "\0" + (s.username || "") + "\0" + (s.password || "") : null, hostname: host });
      flush();
      return 0;
    }
    if (i != SASL_OUTCOME || x.code) return E_AMQP_SASL;
    amqp();
    return 0;
  }

  /** Sends the flow of link `h` (§2.7.4): the session's state, the link's delivery-count and credit. */
  function credit(h: number, l: Link, drain?: boolean) {
    fl.nextIncomingId = inNext;
    fl.nextOutgoingId = outNext;
    fl.handle = h;
    fl.deliveryCount = l._count;
    fl.linkCredit = l._credit > 0 ? l._credit : 0;
    // a sender's answer to a drain says drain too (§2.7.4)
    fl.drain = !!drain;
    frame(0, FLOW, fl);
  }

  /** The link `h` in state attached, or null. */
  function link(h: number): Link | null {
    var l = h >= 0 ? links[h] : null;
    return l && l._st == 2 ? l : null;
  }

  var api = {
    connect: function () {
      if (st != IDLE) return;
      st = OPENING;
      rmax = ridle = 0;
      rch = -1;
      rerr = null;
      why = 0;
      pend = 0;
      skip = -1;
      outNext = 0;
      peers = [];
      openAt = lastRx = lastTx = clock.now();
      tick = clock.set(onTick, period());
      tr.open(o.host, AMQP_CLIENT_ALL ? o.port || (o.tls ? 5671 : 5672) : o.port!, o.tls || null, ev);
    },
    attach: function (name, receiver, address, opt, done) {
      var h: number, n: any, k: number;
      opt = opt || {};
      if (st != UP) return E_NOT_CONNECTED;
      for (h = 0; h < maxLinks && links[h]; h++);
      if (h == maxLinks) return E_BUSY;
      n = {
        name: name, handle: h, role: !!receiver, sndSettleMode: receiver ? null : opt.sndSettleMode || 0, rcvSettleMode: 0,
        source: (AMQP_CLIENT_ALL && opt.source) || { type: SOURCE, address: receiver ? address : null },
        target: (AMQP_CLIENT_ALL && opt.target) || { type: TARGET, address: receiver ? null : address },
        initialDeliveryCount: receiver ? null : 0, properties: opt.properties,
      };
      if ((k = sizeFrame(ATTACH, n)) < 0 || (k = room(k, SPARE)) < 0) return k;
      tail = writeFrame(b, k, 0, ATTACH, n);
      links[h] = { _name: name, _rcv: !!receiver, _peer: -1, _count: 0, _credit: receiver ? opt.credit || 0 : 0, _mode: opt.sndSettleMode || 0, _st: 1, _done: done || null };
      flush();
      return h;
    },
    send: function (h, m, done) {
      var l = link(h), n: number, q: number, id = outNext, pre: boolean;
      if (st != UP) return E_NOT_CONNECTED;
      if (!l || l._rcv) return E_ARGUMENT;
      pre = l._mode == SND_SETTLED || (AMQP_CLIENT_ALL && l._mode == SND_MIXED && !done);
      putN(tag, 0, id, 4);
      tf.handle = h;
      tf.deliveryId = id;
      tf.settled = pre;
      if ((n = sizeFrame(TRANSFER, tf, m)) < 0) return n;
      if (n > rmax) return E_TOO_LARGE;
      if (l._credit <= 0 || !rwin) return (wantW = true), E_OUTBOX_FULL;
      if ((q = room(n, SPARE)) < 0) return q;
      tail = writeFrame(b, q, 0, TRANSFER, tf, m);
      outNext = (outNext + 1) >>> 0;
      rwin--;
      l._credit--;
      l._count = (l._count + 1) >>> 0;
      if (!pre) (cbs[id] = done || null), (cbl[id] = h);
      flush();
      if (pre && done) done(0);
      return id;
    },
    flow: function (h, n) {
      var l = link(h);
      if (st != UP) return E_NOT_CONNECTED;
      if (!l || !l._rcv || !(n >= 0)) return E_ARGUMENT;
      if (room(48, 0) < 0) return E_OUTBOX_FULL;
      l._credit = n;
      credit(h, l);
      flush();
      return 0;
    },
    settle: function (id, outcome, err) {
      if (st != UP) return E_NOT_CONNECTED;
      if (outcome != ACCEPTED && outcome != REJECTED && outcome != RELEASED) return E_ARGUMENT;
      if (!AMQP_CLIENT_ALL) err = null;
      if (room(48 + (err ? sizeFrame(ERROR, err) : 0), 0) < 0) return E_OUTBOX_FULL;
      dispose(id, outcome, outcome == REJECTED ? err : null);
      return 0;
    },
    end: function (done) {
      var s = st;
      if (s == IDLE || s == CLOSING) {
        if (done) done();
        return;
      }
      endDone = done || null;
      if (s == UP) {
        st = CLOSING;
        frame(0, CLOSE, {});
        flush();
        // the peer's close, or a second
        clock.clear(tick);
        tick = clock.set(function () {
          tr.close();
          closed(0);
        }, 1000);
      } else {
        tr.close();
        closed(0);
      }
    },
    connected: function () {
      return st == UP;
    },
  } as AmqpClient;
  if (AMQP_CLIENT_ALL) {
    api.detach = function (h, done) {
      var l = h >= 0 ? links[h] : null;
      if (!l || l._st == 3) return E_ARGUMENT;
      if (st != UP) return E_NOT_CONNECTED;
      if (room(32, 0) < 0) return E_OUTBOX_FULL;
      frame(0, DETACH, { handle: h, closed: true });
      l._st = 3;
      l._done = done || null;
      flush();
      return 0;
    };
    api.credit = function (h) {
      var l = link(h);
      return l ? l._credit : -1;
    };
    api.remoteError = function () {
      return rerr;
    };
  }
  return api;
}
