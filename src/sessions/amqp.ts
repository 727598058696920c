// The IoT Hub device client over AMQP 1.0 (src/amqp/client.ts below), the wire of the official Node SDK
// (azure-iot-device-amqp, azure-iot-amqp-base): SASL ANONYMOUS, then a SAS token put on the `$cbs` node (claims-based
// security) and renewed there on the live connection; telemetry, C2D, twin and methods each on their own links.
import { createAmqpClient, AmqpClient, AmqpClientOptions, ACCEPTED, REJECTED, RELEASED, SND_SETTLED } from "../amqp/client";
import { Message } from "../amqp/performatives";
// a decoded AMQP value as a plain one (the v of {t, v})
import { payload as val } from "../amqp/types";
import { Payload } from "../types";
import { utf8Read, jsonText } from "../platform";
import { E_ARGUMENT, E_TIMEOUT, E_ENDED, E_AMQP_UNAUTHORIZED, E_NOT_CONNECTED, E_TOO_LARGE, E_AMQP_DETACHED, E_OUTBOX_FULL } from "../errors";
import { E_CLOCK, E_HUB_STATUS, E_PROPERTY } from "../iothub/errors";
import { ConnectionInfo } from "../iothub/connstr";
import { devicePath } from "../iothub/topic";
import { sysWire } from "../iothub/sysprops";
import { MessageProperties } from "../iothub/telemetry";
import { Bag } from "../iothub/bag";
// the service API version the SDK announces on the twin and method links: MQTT's
import { hubConnectHost, HUB_API_VERSION as API } from "../iothub/mqtt";
import { EDGE, AMQP_CLIENT_ALL } from "../features";
import { connectionInfo, tokenSource } from "./credentials";
import { DeviceOptions, Device, callMethod } from "./device";

/** IoT Hub AMQP port (TLS); AMQP over WebSockets uses 443. */
export var HUB_AMQP_PORT = 5671;
/**
 * onMessage's answer (as over HTTPS): complete (also undefined), reject, abandon, settling with accepted, rejected,
 * released; or later, with complete/reject/abandon(lockToken) on this connection.
 */
export var C2D_COMPLETE = 0, C2D_REJECT = 1, C2D_ABANDON = 2, C2D_LATER = 3;

export interface AmqpDeviceOptions extends Omit<DeviceOptions, "onMessage" | "store" | "documentSize" | "keepalive"> {
  /**
   * A C2D message (or a module's input message); the answer settles it: C2D_REJECT, C2D_ABANDON, C2D_LATER (the
   * application settles it with complete/reject/abandon(lockToken) while this connection lasts), else complete. A
   * message larger than the receive region never comes here: onError(E_TOO_LARGE), and it is rejected.
   */
  onMessage?: (msg: { topic: string; payload: Uint8Array; properties: Bag; offset: number; total: number; lockToken: string }) => number | void;
  /** Ms of the AMQP idle-time-out announced (default 60000). */
  idleTimeout?: number;
  /** The connection to use instead of one of its own (a gateway's, src/sessions/gateway.ts; the Node build only: AMQP_CLIENT_ALL). */
  client?: (o: AmqpClientOptions) => AmqpClient;
}

export interface AmqpDevice extends Omit<Device, "mqtt" | "publish" | "subscribe" | "sendEvent"> {
  /** Telemetry: done(0) when the hub accepts it (its disposition). Returns the delivery id or a negative code. */
  sendEvent(payload: Payload, properties?: MessageProperties | null, done?: (err: number) => void): number;
  /**
   * Settles a message onMessage answered C2D_LATER for: completes it (accepted)... Returns 0 (done(0) once the
   * disposition is queued) or a negative code: E_AMQP_DETACHED for a message of a connection that has ended (the hub
   * delivers it again), E_ARGUMENT for a token this device did not give or already settled, E_NOT_CONNECTED,
   * E_OUTBOX_FULL (no room for the disposition now: the message stays unsettled; call again at onWritable).
   */
  complete(lockToken: string, done?: (err: number) => void): number;
  /** ...rejects it (rejected: dead-lettered, no redelivery)... */
  reject(lockToken: string, done?: (err: number) => void): number;
  /** ...or abandons it (released: delivered again). */
  abandon(lockToken: string, done?: (err: number) => void): number;
  /** The AMQP connection underneath. */
  amqp: AmqpClient;
}

interface Request { _done: (err: number, v?: any) => void; _timer: unknown }


function json(p: Uint8Array | null): any {
  var s = p && utf8Read(p, 0, p.length);
  try {
    return s ? JSON.parse(s) : null;
  } catch (e) {
    return s;
  }
}

/** A random hex id: the links' channel correlation id (the SDK: a UUID). */
function rand(): string {
  return (Math.random() * 4294967296).toString(16);
}

/** Creates an IoT Hub device (or module) client over AMQP; a negative code for bad options. */
export function createAmqpDevice(o: AmqpDeviceOptions): AmqpDevice | number {
  var c = connectionInfo(o),
    clock = o.clock,
    info: ConnectionInfo,
    base: string,
    uri: string,
    tokens: any,
    reqs: { [rid: string]: Request } = {},
    rid = 0,
    timer: unknown,
    // link handles: $cbs sender and receiver, events, C2D, twin sender and receiver, methods sender and receiver
    L: number[] = [],
    // links still attaching, the connection's state: 0 down, 1 authenticating, 2 up; ended by the application
    pend = 0,
    up = 0,
    ended = false,
    // why the session stopped (a refused or expired token)
    fin = 0,
    retry = 1000,
    dver = -1,
    connects = 0,
    // the connection (its number) and the delivery-ids of the C2D messages onMessage answered C2D_LATER for, by lock token
    gen = 0,
    locks: { [tok: string]: number } = {},
    // settlements and flows the outbox had no room for, in order: delivery-id, outcome or ~link, credit, ... (owed())
    owe: number[] = [],
    a: AmqpClient;
  if (typeof c == "number") return c;
  info = c;
  base = "/" + devicePath(info.deviceId, info.moduleId);
  uri = info.host + base;
  tokens = tokenSource(info, uri, o);

  function err(code: number) {
    if (o.onError) o.onError(code);
  }

  /** Puts a token on $cbs (the SDK's put-token); the answer comes on the $cbs receiver. */
  function putToken() {
    var k = tokens();
    clock.clear(timer);
    if (k === E_CLOCK) return (timer = clock.set(putToken, 1000));
    if (typeof k == "number") return stop(k);
    if (k._s) timer = clock.set(putToken, k._s * 1000);
    // X.509: no token (the TLS client certificate authenticates)
    if (!k._t) return authed();
    a.send(L[0], {
      applicationProperties: { operation: "put-token", type: "servicebus.windows.net:sastoken", name: uri },
      properties: { messageId: "t" + ++rid, to: "$cbs", replyTo: "cbs" },
      value: k._t,
    });
  }

  /** The token is accepted: the first time, the device's links. */
  function authed() {
    var cid = rand(), p: any, i: number, n: string;
    if (up > 1) return;
    up = 2;
    pend = 1;
    link(2, false, base + "/messages/events");
    if (o.onMessage || (EDGE && o.inputs)) link(3, true, base + (info.moduleId ? "/messages/events" : "/messages/devicebound"));
    // the twin's sender and receiver (4, 5), the methods' (6, 7; with a handler), each pair with its channel correlation id
    for (i = 4; i < (o.onMethod || o.methods || o.components ? 8 : 6); i += 2) {
      n = i < 6 ? "twin" : "methods";
      p = { "com.microsoft:channel-correlation-id": n + ":" + cid, "com.microsoft:api-version": API };
      n = base + (i < 6 ? "/twin" : "/methods/devicebound");
      link(i, false, n, { properties: p, sndSettleMode: i < 6 ? SND_SETTLED : 0 });
      link(i + 1, true, n, { properties: p });
    }
    attached(0);
  }

  /** Attaches link `i` (a receiver with credit); a refusal ends the connection. */
  function link(i: number, rcv: boolean, addr: string, opt?: any) {
    opt = opt || {};
    opt.credit = 4;
    pend++;
    L[i] = a.attach((rcv ? "r" : "s") + i + addr, rcv, addr, opt, attached);
  }

  /** A link answered: when all have, the device is connected (desired updates asked for first). */
  function attached(e: number) {
    if (e) return err(e), a.end();
    if (--pend) return;
    if (up == 1) return putToken();
    if (o.onDesired) {
      request("PUT", "/notifications/twin/properties/desired", " ", function () {});
      if (connects) request("GET", "", "", resync);
    }
    connects++;
    retry = 1000;
    if (o.onConnect) o.onConnect();
  }

  function connect() {
    clock.clear(timer);
    up = 0;
    a.connect();
  }

  function stop(code: number) {
    err((fin = code));
    ended = true;
    a.end();
  }

  /** Ends request `r` if it is still waiting: done(err, v). */
  function settle(r: string, e: number, v?: any) {
    var q = reqs[r];
    if (!q) return;
    delete reqs[r];
    clock.clear(q._timer);
    q._done(e, v);
  }

  /** A twin request (the SDK's): annotations operation and resource, the correlation id its rid, a data body. */
  function request(op: string, res: string, body: string, done: (e: number, v?: any) => void): number {
    var r = "" + (rid = (rid % 1e9) + 1), m: Message = { messageAnnotations: { operation: op }, properties: { correlationId: r }, data: body }, n: number;
    if (res) m.messageAnnotations.resource = res;
    if (up < 2 || pend) return E_NOT_CONNECTED;
    if ((n = a.send(L[4], m)) < 0) return n;
    reqs[r] = {
      _done: done,
      _timer: clock.set(function () {
        settle(r, E_TIMEOUT);
      }, o.requestTimeout || 30000),
    };
    return rid;
  }

  function seen(twin: any): boolean {
    var v = twin && twin.desired && twin.desired.$version;
    return v > dver ? ((dver = v), true) : false;
  }

  function resync(e: number, twin?: any) {
    if (!e && seen(twin)) o.onDesired!(twin.desired, dver, true);
  }

  /** A method request: answered on the methods sender with its correlation id (as it came: a UUID or a string) and IoThub-status. */
  function method(m: any, p: Uint8Array | null, big: boolean) {
    var cid = m.properties && m.properties.correlationId;
    // the UUID is a view into the receive buffer: copied before the buffer is reused
    if (cid && cid.v instanceof Uint8Array) cid = { t: cid.t, v: new Uint8Array(cid.v) };
    function respond(status: number, body?: string) {
      if (a.send(L[6], { properties: { correlationId: cid }, applicationProperties: { "IoThub-status": status | 0 }, data: body || "" }) < 0) err(E_NOT_CONNECTED);
    }
    // a request larger than the receive region: 413, the handler not called
    if (big) respond(413);
    else callMethod(o as any, val(m.applicationProperties && m.applicationProperties["IoThub-methodname"]), json(p), respond);
  }

  /** A C2D (or input) message: its properties as over MQTT (application ones by name, system ones by a "$" name). */
  function c2d(m: any, p: Uint8Array | null, id: number): number | void {
    var props: Bag = {}, k: string, s = m.properties || {}, ap = m.applicationProperties || {}, h: any, r: any, inp: string | null = null, tok = gen + "." + id;
    for (k in ap) props[k] = ap[k] == null ? null : "" + val(ap[k]);
    for (k in s) if (s[k] != null && sysWire("$" + k)) props["$" + k] = "" + val(s[k]);
    if (s.absoluteExpiryTime != null) props.$expiry = "" + s.absoluteExpiryTime;
    // a module's input (IoT Edge)
    if (EDGE && (inp = m.messageAnnotations && val(m.messageAnnotations["x-opt-input-name"]))) props.$inputName = inp;
    h = (EDGE && o.inputs && inp && o.inputs[inp]) || o.onMessage;
    p = p || new Uint8Array(0);
    try {
      r = h && h({ topic: "", payload: p, properties: props, offset: 0, total: p.length, lockToken: tok });
    } catch (e) {
      r = C2D_ABANDON;
    }
    // its outcome (to settle), or none: the application settles it later
    if (r != C2D_LATER) return outcome(r);
    if (id >= 0) locks[tok] = id;
  }

  /**
   * Settles delivery `x` with outcome `y`, or for `x` < 0 gives link ~x the credit `y`; when the outbox has no room
   * (or something is owed already, to keep the order) it is owed until onWritable. A lost flow would stop the link for
   * good once the hub has spent its credit; a lost outcome leaves the message unsettled.
   */
  function owed(x: number, y: number) {
    if (owe.length || (x < 0 ? a.flow(~x, y) : a.settle(x, y)) == E_OUTBOX_FULL) owe.push(x, y);
  }

  function outcome(r: any): number {
    return r == C2D_REJECT ? REJECTED : r == C2D_ABANDON ? RELEASED : ACCEPTED;
  }

  /** The application settles a message it answered C2D_LATER for. */
  function later(r: number, tok: string, done?: (err: number) => void): number {
    var id = locks[tok], e: number;
    if (id == null) e = +tok.split(".")[0] < gen ? E_AMQP_DETACHED : E_ARGUMENT;
    else if (up < 2) e = E_NOT_CONNECTED;
    else if ((e = a.settle(id, outcome(r))) >= 0) delete locks[tok];
    if (done) done(e);
    return e;
  }

  a = ((AMQP_CLIENT_ALL && o.client) || createAmqpClient)({
    host: hubConnectHost(info),
    hostname: info.host,
    port: o.port || HUB_AMQP_PORT,
    tls: o.tls === undefined ? {} : o.tls,
    containerId: info.deviceId,
    sasl: { mechanism: "ANONYMOUS" },
    idleTimeout: o.idleTimeout,
    bufferSize: o.bufferSize,
    buffer: o.buffer,
    rxSize: o.rxSize,
    transport: o.transport,
    clock: clock,
    onOpen: function () {
      up = pend = 1;
      L = [];
      // delivery-ids are the connection's: what was owed the hub delivers again
      owe = [];
      link(0, false, "$cbs");
      link(1, true, "$cbs");
      attached(0);
    },
    onMessage: function (h, p, m, id) {
      var ap = m.applicationProperties, ma = m.messageAnnotations, cid = val(m.properties && m.properties.correlationId), s: number, v: any, r: number | void = ACCEPTED;
      if (h == L[1]) {
        // the put-token answer: status-code 200, else the token was refused
        s = val(ap && ap["status-code"]);
        if (s == 200) authed();
        else stop(E_AMQP_UNAUTHORIZED);
      } else if (h == L[5]) {
        v = json(p);
        // a document larger than the receive region (id -2, onError has had E_TOO_LARGE): its request gets E_TOO_LARGE
        if (id == -2) settle(cid, E_TOO_LARGE);
        else if (cid == null) {
          // a desired-properties patch pushed by the hub
          if (v && v.$version > dver) dver = v.$version;
          if (o.onDesired) o.onDesired(v, v && v.$version);
        } else {
          s = val(ma && ma.status);
          if (s < 200 || s > 299) settle(cid, E_HUB_STATUS, s);
          else settle(cid, 0, s == 204 ? val(ma.version) : v);
        }
      } else if (h == L[7]) method(m, p, id == -2);
      else if (h == L[3]) {
        if (id != -2) r = c2d(m, p, id);
      } else return;
      // settled: C2D as onMessage answered, the others accepted (autoaccept, as the SDK's $cbs, twin and method
      // receivers); the link's credit given again; either owed (behind what is owed already) while the outbox has no
      // room: none is dropped.
      if (id >= 0 && r) owed(id, r);
      owed(~h, 4);
    },
    onDetach: function (h, e) {
      // a link the hub closed: the connection goes and comes again
      err(e || E_ENDED);
      a.end();
    },
    onError: err,
    onWritable: function () {
      // what is owed first, in order (taken out first: a settle that frees room can call this again), then the application's
      var q = owe, i = 0;
      owe = [];
      for (; i < q.length; i += 2) owed(q[i], q[i + 1]);
      if (o.onWritable) o.onWritable();
    },
    onClose: function (e) {
      var r: string, d = retry;
      clock.clear(timer);
      up = 0;
      e = e || fin;
      // the messages onMessage left to later are the hub's again: their tokens are of a past connection now
      locks = {};
      gen++;
      for (r in reqs) settle(r, e || E_ENDED);
      if (o.onClose) o.onClose(e);
      if (ended || o.reconnect === false) return;
      retry = retry < 60000 ? retry * 2 : retry;
      timer = clock.set(connect, d);
    },
  });

  return {
    amqp: a,
    connect: function () {
      ended = false;
      fin = 0;
      connect();
    },
    sendEvent: function (payload, props, done) {
      var m: Message = { properties: {}, applicationProperties: {}, data: payload == null ? "" : payload }, k: string, v: any, f: string;
      if (typeof payload == "object" && payload && !(payload instanceof Uint8Array)) return E_ARGUMENT;
      for (k in props || {}) {
        v = props![k];
        if (v === undefined) continue;
        if (!(typeof v == "string" || typeof v == "boolean" || (typeof v == "number" && isFinite(v))) || !k) return E_PROPERTY;
        if (k.charAt(0) != "$") m.applicationProperties[k] = v;
        else if (!sysWire(k)) return E_PROPERTY;
        // system properties (the SDK's AmqpMessage.fromMessage): the properties section, but for these three
        else if ((f = k.substr(1)) == "outputName") m.applicationProperties["iothub-outputname"] = v;
        else if (f == "component") m.messageAnnotations = { "dt-subject": v };
        else {
          // the times are timestamps: ms since the epoch, or a date string
          if (f == "expiry" || f == "creationTime") {
            if ((v = typeof v == "number" ? v : Date.parse("" + v)) != v) return E_PROPERTY;
          } else v = "" + v;
          m.properties[f == "expiry" ? "absoluteExpiryTime" : f] = v;
        }
      }
      return up < 2 || pend ? E_NOT_CONNECTED : a.send(L[2], m, done);
    },
    getTwin: function (done) {
      return request("GET", "", "", function (e, twin) {
        seen(twin);
        done(e, twin);
      });
    },
    patchReported: function (patch, done) {
      return request("PATCH", "/properties/reported", jsonText(patch), done || function () {});
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
    end: function (done) {
      var r: string;
      ended = true;
      clock.clear(timer);
      for (r in reqs) settle(r, E_ENDED);
      a.end(done);
    },
  };
}
