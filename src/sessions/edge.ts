// IoT Edge module-to-module direct methods: a module asks its Edge hub (GatewayHostName, HTTPS) to invoke a method on
// another module of the device, or on a device connected through the gateway, as the official SDKs' ModuleClient
// invokeMethod does: POST /twins/{deviceId}[/modules/{moduleId}]/methods with {methodName, payload,
// responseTimeoutInSeconds, connectTimeoutInSeconds}, the calling module's SAS token in Authorization and its
// identity in x-ms-edge-moduleId; the Edge hub answers 200 {status, payload} with the target's answer, or an error
// status with {message} (404: the target is not connected, 504: it did not answer in time). Node build only
// (features.ts EDGE): requests go one at a time over an HTTP client of their own, in their own buffer.
import type { Transport, Clock, TlsOptions } from "../types";
import type { ConnectionInfo } from "../iothub/connstr";
import { createHttpClient, HttpClient, HttpClientOptions } from "../http/client";
import { utf8Read, jsonText } from "../platform";
import { E_ARGUMENT, E_ENDED } from "../errors";
import { E_HUB_STATUS } from "../iothub/errors";
import { urlEncode } from "../iothub/url";
import { hubConnectHost, USER_AGENT } from "../iothub/mqtt";
import type { Token } from "./credentials";

/** api-version of the Edge hub's method API (as the Embedded and C SDKs send it; the Node SDK sends none). */
export var EDGE_METHOD_API_VERSION = "2018-06-28";
/** Seconds the target has to answer when responseTimeoutInSeconds is not given (the service's default). */
export var EDGE_METHOD_TIMEOUT = 30;

/** What to invoke: the method's name, its payload (any JSON value), and the seconds to wait. */
export interface MethodParams {
  methodName: string;
  payload?: unknown;
  /** Seconds the target has to answer (default 30). */
  responseTimeoutInSeconds?: number;
  /** Seconds the target has to connect (default 0: it must be connected). */
  connectTimeoutInSeconds?: number;
}

/** The target's answer: its status and payload (HTTP errors: the status, and the Edge hub's `{message}`). */
export interface MethodResult { status: number; payload: any }

/**
 * invokeMethod(deviceId, moduleId (null: the device itself), params, done): done(0, {status, payload}) with the
 * target's answer; done(E_HUB_STATUS, {status, payload}) with the Edge hub's error status (404 not connected, 504 no
 * answer in time, 401, 400) and body; done(code) for a transport error. Returns 0, or E_ARGUMENT.
 */
export type InvokeMethod = (deviceId: string, moduleId: string | null | undefined, params: MethodParams, done: (err: number, r?: MethodResult) => void) => number;

export interface EdgeOptions {
  /** The Edge hub's HTTPS port (default 443). */
  edgePort?: number;
  /** A transport for the HTTPS connection, not the one MQTT uses (the Node entry gives one). */
  edgeTransport?: Transport;
  tls?: TlsOptions | null;
  clock: Clock;
}

/**
 * invokeMethod for module `info` (E_ARGUMENT for a device: only modules may invoke), signing with `tokens`; and
 * the end of its connection (the device's end()): the call in progress and those waiting get E_ENDED.
 */
export function edgeInvoker(info: ConnectionInfo, o: EdgeOptions, tokens: () => Token | number): { _invoke: InvokeMethod; _end: () => void } {
  var q: (() => void)[] = [], busy = false, ending = false,
    ho: HttpClientOptions = {
      host: hubConnectHost(info), port: o.edgePort || 443, tls: o.tls === undefined ? {} : o.tls,
      transport: o.edgeTransport!, clock: o.clock,
    },
    http: HttpClient | undefined;

  function next() {
    busy = false;
    var f = q.shift();
    if (f) f();
  }

  function end() {
    ending = true;
    if (http) http.end();
    while (q.length) q.shift()!();
    ending = false;
  }

  function invoke(deviceId: string, moduleId: string | null | undefined, p: MethodParams, done: (err: number, r?: MethodResult) => void): number {
    if (!info.moduleId || !o.edgeTransport || !deviceId || !p || !p.methodName) return E_ARGUMENT;
    var path = "/twins/" + urlEncode(deviceId) + (moduleId ? "/modules/" + urlEncode(moduleId) : "") + "/methods?api-version=" + EDGE_METHOD_API_VERSION,
      rt = p.responseTimeoutInSeconds || EDGE_METHOD_TIMEOUT, ct = p.connectTimeoutInSeconds || 0,
      body = jsonText({ methodName: p.methodName, payload: p.payload === undefined ? null : p.payload, responseTimeoutInSeconds: rt, connectTimeoutInSeconds: ct }),
      got: number[] = [];

    function answered(err: number, status: number) {
      var s = utf8Read(new Uint8Array(got), 0, got.length) || "", r: any;
      next();
      if (err) return done(err);
      try {
        r = s ? JSON.parse(s) : null;
      } catch (e) {
        r = s;
      }
      if (status == 200 && r && typeof r == "object") done(0, { status: r.status, payload: r.payload === undefined ? null : r.payload });
      else done(E_HUB_STATUS, { status: status, payload: r });
    }

    function send() {
      var k: Token | number = ending ? E_ENDED : tokens(), e: number, h = ["User-Agent", USER_AGENT, "x-ms-edge-moduleId", info.deviceId + "/" + info.moduleId, "Content-Type", "application/json; charset=utf-8"];
      busy = true;
      if (typeof k == "number") {
        next();
        return done(k);
      }
      // the exchange may last as long as the target has to connect and answer, and a little more
      ho.timeout = (rt + ct + 5) * 1000;
      if (k._t) h.push("Authorization", k._t); // X.509: the TLS client certificate instead
      // made at the first call: a module that invokes nothing holds no second buffer
      if (!http) http = createHttpClient(ho);
      e = http.request("POST", path, h, body, {
        onBody: function (c) {
          for (var i = 0; i < c.length; i++) got.push(c[i]);
        },
      }, answered);
      if (e < 0) {
        next();
        done(e);
      }
    }

    if (busy) q.push(send);
    else send();
    return 0;
  }

  return { _invoke: invoke, _end: end };
}
