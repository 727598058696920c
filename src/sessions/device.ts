// The IoT Hub device client over MQTT: the MQTT session below, the hub's topics and tokens above.
import { Transport, Clock, TlsOptions, PayloadSource } from "../types";
import { createClient, Client, ReconnectOptions, MessageInfo } from "../mqtt/client";
import { Payload, sizePayload } from "../mqtt/codec";
import type { Journal } from "../store";
import { utf8Read, utf8Write, jsonText } from "../platform";
import { E_ARGUMENT, E_TIMEOUT, E_ENDED, E_BUSY, E_TOO_LARGE, E_OUTBOX_FULL } from "../errors";
import { E_CLOCK, E_HUB_QOS2, E_HUB_FILTER, E_HUB_SIZE, E_HUB_STATUS, E_TOKEN_EXPIRED } from "../iothub/errors";
import { ConnectionInfo } from "../iothub/connstr";
import { deviceResourceUri, Hmac } from "../iothub/sas";
import { connectionInfo, tokenSource, Token } from "./credentials";
import { hubClientId, hubConnectHost, hubUserName, USER_AGENT } from "../iothub/mqtt";
import { telemetryTopic, MessageProperties } from "../iothub/telemetry";
import { c2dFilter, parseC2DTopic } from "../iothub/c2d";
import { Bag } from "../iothub/bag";
import { TWIN_RES_FILTER, TWIN_DESIRED_FILTER, TWIN_DESIRED, TWIN_GET, TWIN_PATCH, parseTwinTopic } from "../iothub/twin";
import { METHODS_FILTER, parseMethodTopic, methodResponseTopic } from "../iothub/methods";
import { pnpCommand } from "../iothub/pnp";
import { EDGE } from "../features";
import { edgeInvoker, InvokeMethod } from "./edge";
import { HUB_D2C_MAX, HUB_KEEPALIVE, HUB_MQTT_PORT, HUB_METHOD_MAX } from "../iothub/limits";

/** A cloud-to-device message: `payload` is a view valid during the call (a chunk when `total` exceeds it). */
export interface C2DMessage { topic: string; payload: Uint8Array; properties: Bag; offset: number; total: number }

export type Respond = (status: number, payload?: unknown) => void;

/** The connection string, or its parts as fields (ConnectionInfo's: host, deviceId, moduleId, keys, x509, gatewayHostName). */
export interface DeviceOptions extends Partial<ConnectionInfo> {
  /** `HostName=...;DeviceId=...;SharedAccessKey=...` (or the parts as fields). */
  connectionString?: string;
  /** Plug and Play model id, sent in the user name. */
  modelId?: string;
  /** Appended to the client type the hub sees (`DeviceClientType=tinyhub/x.y.z {productInfo}`), as the official SDKs' productInfo. */
  productInfo?: string;
  port?: number;
  tls?: TlsOptions | null;
  /**
   * Bytes of the one buffer that holds every byte of the device's messages (default 2048): see "Memory" in the README.
   * Or the buffer itself (`buffer`), e.g. the one DPS registration used before.
   */
  bufferSize?: number;
  buffer?: Uint8Array;
  /** Bytes of the MQTT part for receiving (default half of it). */
  rxSize?: number;
  /**
   * Bytes kept at the start of the buffer for twin documents and method payloads larger than the receive region
   * (default 0: they must fit the receive region). The service's own limits are the ceiling: 128 KB (a method
   * payload; twin desired and reported are 32 KB each). A larger one is E_TOO_LARGE: a method answered 413, a twin
   * request done(E_TOO_LARGE), a desired patch reported by onError; the session goes on.
   */
  documentSize?: number;
  keepalive?: number;
  reconnect?: ReconnectOptions | false;
  /**
   * Keeps telemetry queued at QoS 1 across a power cut (a target's store: `fileStore(path)` on Node, `storageStore(name)`
   * on Espruino...): restored when the device is created, resent in order, DUP set, after the first connection;
   * sendEvent returns once its message is stored. Give each device its own.
   */
  store?: Journal | null;
  /** Seconds a generated SAS token lives (default 3600); it is renewed 300 s before expiry by reconnecting. */
  tokenLifetime?: number;
  /** Milliseconds before a twin request fails with E_TIMEOUT (default 30000). */
  requestTimeout?: number;
  transport: Transport;
  clock: Clock;
  /** Seconds since the epoch (default Date.now() / 1000): SAS expiry needs wall time. */
  time?: () => number;
  /** HMAC-SHA256; a target may pass native crypto. */
  hmac?: Hmac;
  onConnect?: () => void;
  onClose?: (code: number) => void;
  onError?: (code: number) => void;
  /** Room again after sendEvent (or a request) returned E_OUTBOX_FULL. */
  onWritable?: () => void;
  onMessage?: (msg: C2DMessage) => void;
  /**
   * IoT Edge module: a handler per input name (the Edge hub's routes decide what arrives on which input); an input
   * without one goes to onMessage. Node build only (features.ts EDGE).
   */
  inputs?: { [input: string]: (msg: C2DMessage) => void };
  /** IoT Edge module: the Edge hub's HTTPS port for invokeMethod (default 443). Node build only (features.ts EDGE). */
  edgePort?: number;
  /** IoT Edge module: a transport of its own for invokeMethod's HTTPS connection (the Node entry gives one). */
  edgeTransport?: Transport;
  /**
   * A desired-properties patch pushed by the hub; or, after each reconnect, the whole desired document (`whole`
   * true) when its $version is newer than the last seen (pushed, or in any getTwin answer): changes made while the
   * device was away.
   */
  onDesired?: (patch: any, version: number, whole?: boolean) => void;
  /** Every direct method; without it (or `methods[name]`, or a component's) a method is answered 501. */
  onMethod?: (name: string, payload: any, respond: Respond) => void;
  methods?: { [name: string]: (payload: any, respond: Respond) => void };
  /** Plug and Play component commands: `components.thermostat1.getMaxMinReport` answers "thermostat1*getMaxMinReport". */
  components?: { [component: string]: { [command: string]: (payload: any, respond: Respond) => void } };
}

export interface Device {
  connect(): void;
  /**
   * Telemetry at QoS 1: done(0) on PUBACK. Returns the packet id or a negative code. A PayloadSource payload is
   * streamed from the source (larger than the buffer; read again when sent again; not with a store).
   */
  sendEvent(payload: Payload | PayloadSource, properties?: MessageProperties | null, done?: (err: number) => void): number;
  /** done(err, twin) with twin = {desired, reported}. */
  getTwin(done: (err: number, twin?: any) => void): number;
  /** done(err, version) with the reported properties' new $version. */
  patchReported(patch: unknown, done?: (err: number, version?: number) => void): number;
  /** A raw publish under the hub's rules: QoS 2 is refused with E_HUB_QOS2 (the hub would close the connection). */
  publish(topic: string, payload: Payload, qos?: number, done?: (err: number) => void): number;
  /** A raw subscription under the hub's rules: only the device's own filters (C2D or inputs, twin, methods), else E_HUB_FILTER; QoS 2 asked as 1. */
  subscribe(filter: string, qos?: number, done?: (err: number, granted?: number) => void): number;
  end(done?: () => void): void;
  /** The MQTT client underneath. */
  mqtt: Client;
  /**
   * IoT Edge module: telemetry on output `output` (`$.on`), which the Edge hub's routes send to other modules'
   * inputs or upstream. Node build only (features.ts EDGE); elsewhere sendEvent with `{ $outputName: output }`.
   */
  sendOutputEvent?(output: string, payload: Payload | PayloadSource, properties?: MessageProperties | null, done?: (err: number) => void): number;
  /**
   * IoT Edge module: invokes a direct method on another module of the device (`moduleId`) or on a device connected
   * through the gateway (`moduleId` null) through the Edge hub's HTTPS API (src/sessions/edge.ts); done(0, {status,
   * payload}). Node build only (features.ts EDGE).
   */
  invokeMethod?: InvokeMethod;
}

interface Request { _done: (err: number, v?: any) => void; _timer: unknown }

/**
 * A device: the Device the application holds, its state in internal fields (renamed by the minifier). The work is
 * done by module-level functions taking it (`d`), the methods take it as `this`: Moddable preloads the bundle, so
 * those are made once, in flash; only the few small closures the MQTT client and the timers call are made per device
 * (XS copies the byte code of each function made at run time into its chunk heap).
 */
interface HubDevice extends Device {
  _o: DeviceOptions;
  _clock: Clock;
  _reqs: { [rid: string]: Request };
  _rid: number;
  _renew: unknown;
  // the last desired-properties $version seen (a push or any GET's answer), and the connects so far
  _dver: number;
  _connects: number;
  // the document region, at the start of the one buffer
  _doc: Uint8Array;
  // the document being joined is too large for its room: its chunks are skipped
  _over: boolean;
  // method responses that met a full outbox: topic, body, ... sent first when room frees (at most LATE of them)
  _late: string[];
  _info: ConnectionInfo;
  _tokens: () => Token | number;
  _id: string;
  _mid: string | undefined;
  // this device's C2D filter (made once: one use of c2dFilter, which the bundle then does not keep as a function)
  _c2d: string;
  // the MQTT client's options: the password is set before each connection
  _mo: { password: string | undefined };
  _edge?: ReturnType<typeof edgeInvoker>;
}

// method responses kept while the outbox is full (the hub waits for each up to the invocation's timeout)
var LATE = 4;

// The Espruino build moves the functions from here to "espruino: end" into createDevice (tools/build-plugins.js
// closuresOf): there a module-level function costs its variables for as long as the bundle is loaded, a function made
// at run time only while a device lives. Moddable keeps them here (made once, in flash).
// espruino: begin

/** The JSON value of `s`; `s` itself when it is not JSON, null when empty. */
function json(s: string): any {
  try {
    return s ? JSON.parse(s) : null;
  } catch (e) {
    return s;
  }
}

function err(d: HubDevice, code: number) {
  if (d._o.onError) d._o.onError(code);
}

/**
 * The password for the next connection: a token signed now (its renewal scheduled), the fixed one (its expiry
 * watched), undefined (X.509), or a negative code. Both timers fire on the clock: a renewal reconnects with a
 * new token, a fixed token's end is final (E_TOKEN_EXPIRED), an unset wall clock is waited for (E_CLOCK).
 */
function password(d: HubDevice): string | undefined | number {
  var k = d._tokens();
  d._clock.clear(d._renew);
  if (typeof k == "number") return k;
  if (k._s)
    d._renew = d._clock.set(function () {
      refresh(d);
    }, k._s * 1000);
  return k._t || undefined;
}

/** Reconnects with a fresh password (the token renewal). */
function refresh(d: HubDevice) {
  var p = password(d);
  if (p === E_CLOCK)
    d._renew = d._clock.set(function () {
      refresh(d);
    }, 1000);
  else if (typeof p == "number") stop(d, p);
  else {
    d._mo.password = p;
    d.mqtt.reconnect();
  }
}

/** Connects once a password can be made; while the wall clock is not set, tries again each second (E_CLOCK, once). */
function connect(d: HubDevice, waited?: boolean) {
  var p = password(d);
  if (p === E_CLOCK) {
    if (!waited) err(d, p);
    d._renew = d._clock.set(function () {
      connect(d, true);
    }, 1000);
    return;
  }
  if (typeof p == "number") return err(d, p);
  d._mo.password = p;
  d.mqtt.connect();
}

function stop(d: HubDevice, code: number) {
  err(d, code);
  d.mqtt.end();
}

/** Ends the request `r` if it is still waiting: done(err, v). */
function settle(d: HubDevice, r: string, err: number, v?: any) {
  var q = d._reqs[r];
  if (!q) return;
  delete d._reqs[r];
  d._clock.clear(q._timer);
  q._done(err, v);
}

/** A twin request on `topic` (TWIN_GET or TWIN_PATCH) and its request id (decimal digits: nothing to escape). */
function request(d: HubDevice, topic: string, body: string, done: (err: number, v?: any) => void): number {
  var r = "" + (d._rid = (d._rid % 1e9) + 1), n: number;
  n = d.mqtt.publish(topic + r, body, 0);
  if (n < 0) return n;
  d._reqs[r] = {
    _done: done,
    _timer: d._clock.set(function () {
      settle(d, r, E_TIMEOUT);
    }, d._o.requestTimeout || 30000),
  };
  return d._rid;
}

/** The desired $version of a twin the application got; true when it is newer than any seen before. */
function seen(d: HubDevice, twin: any): boolean {
  var v = twin && twin.desired && twin.desired.$version;
  return v > d._dver ? ((d._dver = v), true) : false;
}

/** Sends a method response (QoS 0); one that meets a full outbox waits for room, in order, up to LATE of them. */
function reply(d: HubDevice, status: number, r: string, body: string) {
  var topic = methodResponseTopic(status, r), late = d._late, n = late.length ? E_OUTBOX_FULL : d.mqtt.publish(topic, body, 0);
  if (n != E_OUTBOX_FULL) {
    if (n < 0) err(d, E_BUSY);
  } else if (late.length < LATE * 2) late.push(topic, body);
  else err(d, E_BUSY);
}

/** Room again: waiting method responses go first; true when none is left. */
function flushLate(d: HubDevice): boolean {
  var n: number, late = d._late;
  while (late.length) {
    n = d.mqtt.publish(late[0], late[1], 0);
    if (n == E_OUTBOX_FULL) return false;
    if (n < 0) err(d, E_BUSY);
    late.splice(0, 2);
  }
  return true;
}

/** A document larger than the document region: the request or method it belongs to fails by name, the session goes on. */
function tooLarge(d: HubDevice, topic: string) {
  var t = parseTwinTopic(topic), mt = parseMethodTopic(topic);
  err(d, E_TOO_LARGE);
  if (typeof t != "number" && t.kind != TWIN_DESIRED) settle(d, t.rid, E_TOO_LARGE);
  if (typeof mt != "number") reply(d, 413, mt.rid, jsonText({ message: "payload larger than this device's documentSize" }));
}

/**
 * One whole twin or method message: topic, payload (its text read, then parsed, once here: one use each of the
 * helpers, which the Espruino bundle then does not keep as functions); large payloads arrive in chunks and are
 * joined in the document region first.
 */
function onWhole(d: HubDevice, topic: string, p: Uint8Array) {
  var o = d._o, t = parseTwinTopic(topic), mt: { name: string; rid: string } | number, r: string, v = /*@__INLINE__*/ json(utf8Read(p, 0, p.length) || "");
  if (typeof t != "number") {
    if (t.kind == TWIN_DESIRED) {
      if (t.version > d._dver) d._dver = t.version;
      if (o.onDesired) o.onDesired(v, t.version);
    } else if (t.status < 200 || t.status > 299) settle(d, t.rid, E_HUB_STATUS, t.status);
    else settle(d, t.rid, 0, t.status == 204 ? t.version : v);
    return;
  }
  mt = parseMethodTopic(topic);
  if (typeof mt == "number") return;
  r = mt.rid;
  // the application's handler (and its response) on the next tick, not under the receive path: on Moddable that
  // path is deep (the transport's callbacks, TLS), and a handler that publishes from there needed 316 stack slots
  d._clock.set(function () {
    callMethod(o, (mt as { name: string }).name, v, function (status, body) {
      reply(d, status, r, body);
    });
  }, 0);
}

/**
 * What the MQTT client received: a C2D message to the application, else a twin or method message (whole, or a chunk
 * of one larger than the receive region, joined in the document region or refused whole: its first chunk tells its
 * size, which the peer chose: nothing is allocated for it).
 */
function received(d: HubDevice, topic: string, p: Uint8Array, mi: MessageInfo) {
  var o = d._o, props = parseC2DTopic(topic, d._id, d._mid), h: ((msg: C2DMessage) => void) | undefined;
  if (typeof props != "number") {
    h = (EDGE && o.inputs && props.$inputName && o.inputs[props.$inputName]) || o.onMessage;
    if (h) h({ topic: topic, payload: p, properties: props, offset: mi.offset, total: mi.total });
    return;
  }
  if (mi.total == p.length) return onWhole(d, topic, p);
  if (!mi.offset && (d._over = mi.total > d._doc.length)) tooLarge(d, topic);
  if (d._over) return;
  d._doc.set(p, mi.offset);
  if (mi.offset + p.length == mi.total) onWhole(d, topic, d._doc.subarray(0, mi.total));
}

/**
 * Connected: the service pushes desired changes only while the device is connected, and says to GET the twin after
 * every reconnect: what changed while it was away comes to onDesired as the whole desired document (the first
 * connect leaves the GET to the application).
 */
function connected(d: HubDevice) {
  var o = d._o;
  if (o.onDesired && d._connects++)
    request(d, TWIN_GET, "", function (e, twin) {
      if (!e && seen(d, twin)) o.onDesired!(twin.desired, d._dver, true);
    });
  if (o.onConnect) o.onConnect();
}

/** Closed: the hub closes the connection when its token expires; a fixed one that has ends the session by name rather than in a reconnect the hub refuses. */
function closed(d: HubDevice, code: number) {
  if (d._o.onClose) d._o.onClose(code);
  if (code && d._info.sharedAccessSignature && d._tokens() === E_TOKEN_EXPIRED) {
    d._clock.clear(d._renew);
    stop(d, E_TOKEN_EXPIRED);
  }
}

// The Device's methods (`this`: the device)

/**
 * Subscribes within the hub's rules: a device may subscribe to its own topics only (the service documents no count
 * limit); QoS 2 is granted as 1 anyway.
 */
function subscribe(this: HubDevice, filter: string, qos?: number, done?: (err: number, granted?: number) => void): number {
  if (filter != this._c2d && filter != TWIN_RES_FILTER && filter != TWIN_DESIRED_FILTER && filter != METHODS_FILTER) return E_HUB_FILTER;
  return this.mqtt.subscribe(filter, qos == 2 ? 1 : qos || 0, done);
}

function connectMethod(this: HubDevice) {
  connect(this);
}

function sendEvent(this: HubDevice, payload: Payload | PayloadSource, props?: MessageProperties | null, done?: (err: number) => void): number {
  var t = telemetryTopic(this._id, this._mid, props);
  if (typeof t == "number") return t;
  // IoT Hub counts the body plus property names and values
  if ((typeof payload == "object" && !(payload instanceof Uint8Array) ? payload.size : sizePayload(payload)) + utf8Write(null, 0, t) > HUB_D2C_MAX) return E_HUB_SIZE;
  return this.mqtt.publish(t, payload, 1, false, done);
}

function getTwin(this: HubDevice, done: (err: number, twin?: any) => void): number {
  var d = this;
  return request(d, TWIN_GET, "", function (e, twin) {
    seen(d, twin);
    done(e, twin);
  });
}

function patchReported(this: HubDevice, patch: unknown, done?: (err: number, version?: number) => void): number {
  return request(this, TWIN_PATCH, jsonText(patch), done || function () {});
}

function publish(this: HubDevice, topic: string, payload: Payload, qos?: number, done?: (err: number) => void): number {
  return qos == 2 ? E_HUB_QOS2 : this.mqtt.publish(topic, payload, qos, false, done);
}

function end(this: HubDevice, done?: () => void) {
  var r: string;
  this._clock.clear(this._renew);
  for (r in this._reqs) settle(this, r, E_ENDED);
  if (EDGE && this._edge) this._edge._end();
  this.mqtt.end(done);
}
// espruino: end

/** Creates an IoT Hub device (or module) client; returns it, or a negative code for bad options. */
export function createDevice(o: DeviceOptions): Device | number {
  var c = connectionInfo(o),
    // the one buffer: the document region, then the MQTT client's (receive region, outbox)
    mem = o.buffer || new Uint8Array(o.bufferSize || 2048),
    docs = o.documentSize || 0,
    info: ConnectionInfo,
    id: string,
    mid: string | undefined,
    d: HubDevice,
    mo: any;
  // espruino: here
  if (typeof c == "number") return c;
  // the document region within the service's limit, and room for MQTT beside it
  if (docs > HUB_METHOD_MAX || mem.length - docs < 512) return E_ARGUMENT;
  info = c;
  id = info.deviceId;
  mid = info.moduleId;
  mo = {
    host: /*@__INLINE__*/ hubConnectHost(info),
    port: o.port || HUB_MQTT_PORT,
    tls: o.tls === undefined ? {} : o.tls,
    clientId: /*@__INLINE__*/ hubClientId(info),
    username: hubUserName(info.host, id, mid, o.productInfo ? USER_AGENT + " " + o.productInfo : null, o.modelId),
    password: undefined as string | undefined,
    keepalive: o.keepalive || HUB_KEEPALIVE,
    clean: false,
    buffer: mem.subarray(docs),
    rxSize: o.rxSize,
    reconnect: o.reconnect,
    store: o.store,
    transport: o.transport,
    clock: o.clock,
    onConnect: function () {
      connected(d);
    },
    onClose: function (code: number) {
      closed(d, code);
    },
    onError: function (code: number) {
      err(d, code);
    },
    onWritable: function () {
      if (flushLate(d) && o.onWritable) o.onWritable();
    },
    onMessage: function (topic: string, p: Uint8Array, mi: MessageInfo) {
      received(d, topic, p, mi);
    },
  };
  d = {
    mqtt: createClient(mo),
    connect: connectMethod,
    sendEvent: sendEvent,
    getTwin: getTwin,
    patchReported: patchReported,
    publish: publish,
    subscribe: subscribe,
    end: end,
    _o: o,
    _clock: o.clock,
    _reqs: {},
    _rid: 0,
    _renew: undefined,
    _dver: -1,
    _connects: 0,
    _doc: mem.subarray(0, docs),
    _over: false,
    _late: [],
    _info: info,
    _tokens: tokenSource(info, deviceResourceUri(info.host, id, mid), o),
    _id: id,
    _mid: mid,
    _c2d: c2dFilter(id, mid),
    _mo: mo,
  };
  // subscriptions for what the application listens to, queued before any request so the hub has them
  // before the first answer is due; twin answers always (at most 4 of the hub's 5)
  if (o.onMessage || (EDGE && o.inputs)) d.subscribe(d._c2d, 1);
  d.subscribe(TWIN_RES_FILTER);
  if (o.onDesired) d.subscribe(TWIN_DESIRED_FILTER);
  if (o.onMethod || o.methods || o.components) d.subscribe(METHODS_FILTER);
  if (EDGE) d.invokeMethod = (d._edge = edgeInvoker(info, o, d._tokens))._invoke;
  if (EDGE)
    d.sendOutputEvent = function (output, payload, props, done) {
      var p: MessageProperties = {}, k: string;
      for (k in props) p[k] = (props as MessageProperties)[k];
      p.$outputName = output;
      return d.sendEvent(payload, p, done);
    };
  return d;
}

/**
 * Runs direct method `name` (over MQTT or AMQP): its handler in `methods` by the whole name, else a component's command
 * ("component*command"), else onMethod, else 501; a handler that throws answers 500. `answer` gets the first response
 * only, its body as JSON text ("" for none).
 */
export function callMethod(o: DeviceOptions, name: string, payload: any, answer: (status: number, body: string) => void) {
  var h = o.methods && o.methods[name], p: [string, string], done = false;
  if (!h && o.components) {
    p = pnpCommand(name);
    h = o.components[p[0]] && o.components[p[0]][p[1]];
  }
  function respond(status: number, body?: unknown) {
    if (done) return;
    done = true;
    answer(status, body === undefined ? "" : jsonText(body));
  }
  try {
    if (h) h(payload, respond);
    else if (o.onMethod) o.onMethod(name, payload, respond);
    else respond(501, { message: "method not implemented: " + name });
  } catch (e) {
    respond(500, { message: "" + e });
  }
}
