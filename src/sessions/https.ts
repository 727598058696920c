// The IoT Hub device client over HTTPS (IoT Hub device REST API): telemetry, batches, and cloud-to-device
// messages by polling, with complete/reject/abandon. Twin and direct methods need MQTT: E_HTTP_UNSUPPORTED.
//
// Requests go one at a time, in order, over one kept-alive connection (src/http/client.ts), each with a SAS
// token in Authorization, signed anew when within TOKEN_RENEW_BEFORE of its expiry. A 429 or 503 holds the
// queue for the answer's Retry-After, then sends the same request again (HUB_HTTP_RETRIES times at most).
// Polling: connect() polls once, then every pollInterval seconds (default 25 minutes, the service's guidance;
// a shorter interval reports E_HUB_POLL_FAST once through onError, a warning: everything keeps working); after a
// message the hub is asked again at once until it answers 204, except after an abandon. Each message is settled
// by onMessage's return value (C2D_COMPLETE by default); C2D_LATER leaves it to complete/reject/abandon(lockToken).
import type { C2DMessage, DeviceOptions } from "./device";
import type { MessageProperties } from "../iothub/telemetry";
import type { Payload } from "../mqtt/codec";
import type { Bag } from "../iothub/bag";
import { createHttpClient, HttpHandler } from "../http/client";
import { sizeRequest } from "../http/request";
import { utf8Length, utf8Write, jsonText, base64Encode } from "../platform";
import { E_ARGUMENT, E_ENDED, E_NOT_CONNECTED, E_OUTBOX_FULL } from "../errors";
import { E_HTTP_UNSUPPORTED, E_HUB_POLL_FAST, E_HUB_SIZE, E_HUB_STATUS, E_PROPERTY, E_CLOCK } from "../iothub/errors";
import { ConnectionInfo } from "../iothub/connstr";
import { deviceResourceUri } from "../iothub/sas";
import { connectionInfo, tokenSource, Token } from "./credentials";
import { urlEncode } from "../iothub/url";
import { hubConnectHost, USER_AGENT } from "../iothub/mqtt";
import { HUB_D2C_MAX } from "../iothub/limits";
import { propertyHeaders, headerProperty } from "../iothub/httpheaders";

/** api-version of the device endpoints (IoT Hub REST, as the Node SDK sends it). */
export const HUB_HTTP_API_VERSION = "2020-03-13";
/** Default seconds between cloud-to-device polls: 25 minutes, the service's guidance; shorter warns once (E_HUB_POLL_FAST). */
export const HUB_POLL_INTERVAL = 1500;
/** Seconds to wait after a 429 or 503 whose Retry-After is missing or unreadable. */
export const HUB_RETRY_AFTER = 10;
/** Times a throttled (429, 503) request is sent again, each after its Retry-After, before it fails with E_HUB_STATUS. */
export const HUB_HTTP_RETRIES = 3;
/** Application requests (telemetry, settlements) waiting at most, by default: one more is E_OUTBOX_FULL, then onWritable. */
export const HUB_HTTP_QUEUE = 8;

/** onMessage's answer, as the Embedded C SDK's disposition: complete (also undefined), reject, abandon, or settle later with complete/reject/abandon(lockToken). */
export const C2D_COMPLETE = 0, C2D_REJECT = 1, C2D_ABANDON = 2, C2D_LATER = 3;

/** A C2D message over HTTPS: C2DMessage (topic ""; total -1 while unknown) with the lock token (the ETag, unquoted). */
export interface HttpC2DMessage extends C2DMessage { lockToken: string }

/** DeviceOptions (port default 443; requestTimeout per HTTP exchange), plus the poll interval; MQTT-only options are ignored. */
export interface HttpDeviceOptions extends Omit<DeviceOptions, "onMessage"> {
  /** Seconds between C2D polls (default 1500 = 25 minutes); the hub is asked again at once after each message. */
  pollInterval?: number;
  /**
   * Requests waiting at most (default HUB_HTTP_QUEUE, 8): sendEvent, sendEventBatch, complete, reject and abandon
   * answer E_OUTBOX_FULL beyond it, and onWritable follows when one is done. Each holds its payload (a reference).
   */
  queueLength?: number;
  /**
   * One call per message with the whole payload (a view valid during the call) when it fits the free part of the
   * buffer, else one call per piece (offset, total). The return value of the last call settles it: undefined or
   * C2D_COMPLETE completes it, C2D_REJECT, C2D_ABANDON, or C2D_LATER (the application settles it within the hub's
   * one-minute lock). A throw abandons it.
   */
  onMessage?: (msg: HttpC2DMessage) => number | void;
}

/** One message of a batch. */
export interface HttpMessage { payload: Payload; properties?: MessageProperties | null }

/** done(err, status): err 0 on a 2xx answer; E_HUB_STATUS with the status for another; a transport code and 0. */
export type HttpDeviceDone = (err: number, status?: number) => void;

export interface HttpDevice {
  /** Starts polling for C2D messages (with onMessage); onConnect follows the first answer, or at once without onMessage. */
  connect(): void;
  /**
   * POST one message, properties as headers (256 KB with them, else E_HUB_SIZE; E_PROPERTY for a bad one). Returns 0
   * (queued) or a negative code. A Uint8Array payload is read when its turn comes: leave it unchanged until done.
   */
  sendEvent(payload: Payload, properties?: MessageProperties | null, done?: HttpDeviceDone): number;
  /** POST several messages in one request (application/vnd.microsoft.iothub.json, 256 KB in all). */
  sendEventBatch(messages: HttpMessage[], done?: HttpDeviceDone): number;
  /** Settles a message onMessage answered C2D_LATER for: completes (removes) it... */
  complete(lockToken: string, done?: HttpDeviceDone): number;
  /** ...rejects it (dead-lettered, no redelivery)... */
  reject(lockToken: string, done?: HttpDeviceDone): number;
  /** ...or abandons it (delivered again later). */
  abandon(lockToken: string, done?: HttpDeviceDone): number;
  /** Polls for C2D messages now (nothing without onMessage). */
  poll(): void;
  /** E_HTTP_UNSUPPORTED: twin and methods are MQTT-only. */
  getTwin(done: (err: number, twin?: any) => void): number;
  /** E_HTTP_UNSUPPORTED. */
  patchReported(patch: unknown, done?: (err: number, version?: number) => void): number;
  /** E_HTTP_UNSUPPORTED: no raw MQTT over HTTPS. */
  publish(topic: string, payload: Payload, qos?: number, done?: (err: number) => void): number;
  /** E_HTTP_UNSUPPORTED. */
  subscribe(filter: string, qos?: number, done?: (err: number, granted?: number) => void): number;
  /** Stops polling and closes the connection; queued requests get E_ENDED. */
  end(done?: () => void): void;
}

// a queued request
interface Op { _m: string; _p: string; _h: string[]; _b: Payload | null; _d?: HttpDeviceDone | null; _poll: boolean; _n: number }

function unsupported(): number {
  return E_HTTP_UNSUPPORTED;
}

/** Creates an IoT Hub device (or module: telemetry only) client over HTTPS; a negative code for bad options (E_HTTP_UNSUPPORTED with onDesired/onMethod/methods). */
export function createHttpDevice(o: HttpDeviceOptions): HttpDevice | number {
  var c = connectionInfo(o),
    clock = o.clock,
    time = o.time || function () { return Date.now() / 1000; },
    interval = o.pollInterval || HUB_POLL_INTERVAL,
    q: Op[] = [],
    cur: Op | null = null,
    held = false,
    ended = false,
    warned = false,
    clockTold = false,
    wantW = false,
    max = o.queueLength || HUB_HTTP_QUEUE,
    connecting = false,
    polling = false,
    pollTimer: unknown,
    holdTimer: unknown,
    token = "",
    renewAt = 0,
    retryAfter = "",
    // the client type the hub sees, as on MQTT (DeviceClientType): the library, then the application's productInfo
    agent = USER_AGENT + (o.productInfo ? " " + o.productInfo : ""),
    // the C2D message being received: properties, lock token, Content-Length, bytes so far, streamed?, disposition
    props: Bag = {},
    lock = "",
    total = -1,
    got = 0,
    spill = false,
    disp: any,
    info: ConnectionInfo,
    base: string,
    http: ReturnType<typeof createHttpClient>,
    hh: HttpHandler,
    tokens: () => Token | number;
  if (typeof c == "number") return c;
  info = c;
  tokens = tokenSource(info, deviceResourceUri(info.host, info.deviceId, info.moduleId), o);
  if (o.onDesired || o.onMethod || o.methods) return E_HTTP_UNSUPPORTED;
  base = "/devices/" + urlEncode(info.deviceId) + (info.moduleId ? "/modules/" + urlEncode(info.moduleId) : "") + "/messages/";
  http = createHttpClient({
    host: hubConnectHost(info),
    port: o.port || 443,
    tls: o.tls === undefined ? {} : o.tls,
    bufferSize: o.bufferSize,
    buffer: o.buffer,
    rxSize: o.rxSize,
    timeout: o.requestTimeout,
    transport: o.transport,
    clock: clock,
  });

  function report(code: number) {
    if (o.onError) o.onError(code);
  }

  /** The Authorization value: a token signed anew when the last nears its expiry, the fixed one, or "" (X.509). */
  function auth(): string | number {
    var now = time(), k: Token | number;
    if (now >= renewAt || !token) {
      k = tokens();
      if (typeof k == "number") return k;
      token = k._t;
      renewAt = k._s ? now + k._s : info.sharedAccessKey ? 0 : 1 / 0;
    }
    return token;
  }

  /** Holds the queue for `s` seconds (Retry-After, or an unset wall clock), then runs it again. */
  function hold(s: number) {
    held = true;
    holdTimer = clock.set(function () {
      held = false;
      run();
    }, s * 1000);
  }

  function queue(m: string, path: string, query: string, h: string[], body: Payload | null, d?: HttpDeviceDone | null, poll?: boolean): number {
    if (ended) return E_NOT_CONNECTED;
    q.push({ _m: m, _p: base + path + "?api-version=" + HUB_HTTP_API_VERSION + query, _h: h, _b: body, _d: d, _poll: !!poll, _n: 0 });
    run();
    return 0;
  }

  /** Sends the next queued request unless one is in flight or the hub asked us to wait. */
  function run() {
    var op: Op, t: string | number;
    while (!cur && !held && !ended && (op = q[0])) {
      t = auth();
      // no token while the wall clock is not set: the queue waits, told once (=== : Espruino throws when a string of
      // 64 characters or more, as a token is, is compared with a number by ==)
      if (t === E_CLOCK) {
        if (!clockTold) report(E_CLOCK);
        clockTold = true;
        return hold(1);
      }
      if (typeof t == "string") {
        cur = op;
        retryAfter = lock = "";
        if (op._poll) {
          props = {};
          total = -1;
          got = 0;
          spill = false;
          disp = undefined;
        }
        t = http.request(op._m, op._p, (t ? ["User-Agent", agent, "Authorization", t] : ["User-Agent", agent]).concat(op._h), op._b, hh, answer);
        if (t >= 0) return;
        cur = null;
      }
      q.shift();
      settled(op, t, 0);
    }
  }

  function answer(err: number, status: number) {
    var op = cur!, s: number;
    cur = null;
    if (!err && (status == 429 || status == 503) && op._n++ < HUB_HTTP_RETRIES) {
      // RFC 7231 §7.1.3: Retry-After is delay-seconds or an HTTP-date; the request waits at the head of the queue
      s = /^[0-9]+$/.test(retryAfter) ? +retryAfter : Date.parse(retryAfter) / 1000 - time();
      return hold(s > 0 ? s : s <= 0 ? 0 : HUB_RETRY_AFTER);
    }
    q.shift();
    if (!err && (status < 200 || status > 299)) err = E_HUB_STATUS;
    if (!err && connecting) up();
    settled(op, err, status);
    run();
  }

  function up() {
    connecting = false;
    if (o.onConnect) o.onConnect();
  }

  function settled(op: Op, err: number, status: number) {
    if (op._poll) polled(err, status);
    else if (op._d) op._d(err, status);
    else if (err && !ended) report(err); // a request without a callback, dropped by end(): the application asked for it
    if (wantW && q.length < max) {
      wantW = false;
      if (o.onWritable) o.onWritable();
    }
  }

  /** True (and onWritable owed) when the application's requests fill the queue. */
  function full(): boolean {
    return q.length >= max && (wantW = true);
  }

  /** One onMessage call; its answer is kept: the last one settles the message. */
  function message(p: Uint8Array, offset: number) {
    try {
      disp = o.onMessage!({ topic: "", payload: p, properties: props, offset: offset, total: total, lockToken: lock });
    } catch (e) {
      disp = C2D_ABANDON;
    }
  }

  function polled(err: number, status: number) {
    var sp = http.scratch;
    polling = false;
    if (ended) return;
    if (err || status != 200 || !lock) {
      if (err) report(err);
      return schedule();
    }
    // the whole message, or the end of a streamed one whose length was not announced
    if (!spill || total < 0) {
      total = got;
      message(sp.subarray(0, spill ? 0 : got), spill ? got : 0);
    }
    if (disp != C2D_LATER) settle(disp == C2D_REJECT || disp == C2D_ABANDON ? disp : C2D_COMPLETE, lock);
    // the service may hold more: ask again at once, unless this one was abandoned (it would come straight back)
    if (disp == C2D_ABANDON) schedule();
    else poll();
  }

  function schedule() {
    clock.clear(pollTimer);
    pollTimer = clock.set(poll, interval * 1000);
  }

  function poll() {
    clock.clear(pollTimer);
    if (!polling && o.onMessage && !ended) {
      polling = true;
      queue("GET", "deviceBound", "", [], null, null, true);
    }
  }

  function settle(k: number, tok: string, d?: HttpDeviceDone): number {
    // complete: DELETE .../deviceBound/{lockToken}; reject: the same with &reject; abandon: POST .../{lockToken}/abandon
    return queue(k == C2D_ABANDON ? "POST" : "DELETE", "deviceBound/" + urlEncode(tok) + (k == C2D_ABANDON ? "/abandon" : ""),
      k == C2D_REJECT ? "&reject" : "", ["If-Match", tok], k == C2D_ABANDON ? "" : null, d);
  }

  /** The application settles a message it answered C2D_LATER for. */
  function later(k: number, tok: string, d?: HttpDeviceDone): number {
    return full() ? E_OUTBOX_FULL : settle(k, tok, d);
  }

  function bytes(p: Payload): Uint8Array {
    var b: Uint8Array;
    if (typeof p != "string") return p;
    utf8Write(b = new Uint8Array(utf8Length(p)), 0, p);
    return b;
  }

  hh = {
    onHeader: function (n, v) {
      var k: string | null;
      if (n == "retry-after") retryAfter = v;
      if (!cur || !cur._poll) return;
      if (n == "etag") lock = v.replace(/"/g, "");
      else if (n == "content-length") total = +v;
      else if ((k = headerProperty(n)) != null) props[k] = v;
    },
    onBody: function (chunk) {
      // a message's body is gathered in the buffer's free part while it fits; a larger one is handed on in pieces
      var sp = http.scratch;
      if (!cur || !cur._poll || !lock) return;
      if (!spill && got + chunk.length <= sp.length) {
        sp.set(chunk, got);
        got += chunk.length;
        return;
      }
      if (!spill && got) message(sp.subarray(0, got), 0);
      spill = true;
      message(chunk, got);
      got += chunk.length;
    },
  };

  return {
    connect: function () {
      ended = false;
      connecting = true;
      if (interval < HUB_POLL_INTERVAL && !warned) {
        warned = true;
        report(E_HUB_POLL_FAST);
      }
      if (o.onMessage) poll();
      else clock.set(up, 0);
    },
    sendEvent: function (payload, properties, done) {
      var h = propertyHeaders(properties), n: number;
      if (typeof h == "number") return h;
      // a name or value that cannot be a header is refused now
      n = sizeRequest("POST", "/", h, 0);
      if (n < 0) return E_PROPERTY;
      // IoT Hub counts the body plus property names and values (counted here with their header framing)
      if ((typeof payload == "string" ? utf8Length(payload) : payload.length) + n > HUB_D2C_MAX) return E_HUB_SIZE;
      return full() ? E_OUTBOX_FULL : queue("POST", "events", "", h, payload, done);
    },
    sendEventBatch: function (list, done) {
      var a: any[] = [], i = 0, h: string[] | number, p: { [k: string]: string }, j: number, s: string;
      if (full()) return E_OUTBOX_FULL;
      for (; i < list.length; i++) {
        h = propertyHeaders(list[i].properties);
        if (typeof h == "number") return h;
        for (p = {}, j = 0; j < h.length; j += 2) p[h[j]] = h[j + 1];
        a.push({ body: base64Encode(bytes(list[i].payload)), properties: p });
      }
      s = jsonText(a);
      if (utf8Length(s) > HUB_D2C_MAX) return E_HUB_SIZE;
      return queue("POST", "events", "", ["Content-Type", "application/vnd.microsoft.iothub.json"], s, done);
    },
    complete: function (t, d) {
      return later(C2D_COMPLETE, t, d);
    },
    reject: function (t, d) {
      return later(C2D_REJECT, t, d);
    },
    abandon: function (t, d) {
      return later(C2D_ABANDON, t, d);
    },
    poll: poll,
    getTwin: unsupported,
    patchReported: unsupported,
    publish: unsupported,
    subscribe: unsupported,
    end: function (done) {
      var op: Op | undefined;
      ended = true;
      held = false;
      clock.clear(pollTimer);
      clock.clear(holdTimer);
      http.end();
      while ((op = q.shift())) settled(op, E_ENDED, 0);
      if (done) done();
    },
  };
}
