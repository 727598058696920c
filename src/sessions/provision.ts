// DPS registration over MQTT: register, poll the operation honouring retry-after, hand back the assignment.
import { Transport, Clock, TlsOptions } from "../types";
import { createClient, Client, ClientOptions } from "../mqtt/client";
import { utf8Read } from "../platform";
import { E_TIMEOUT } from "../errors";
import { E_DPS_FAILED, E_HUB_STATUS, E_CLOCK } from "../iothub/errors";
import { dpsResourceUri, Hmac } from "../iothub/sas";
export { deriveDeviceKey as deriveKey } from "../iothub/sas";
import { tokenSource } from "./credentials";
import type { ConnectionInfo } from "../iothub/connstr";
import { dpsUserName, DPS_GLOBAL_HOST } from "../iothub/mqtt";
import { DPS_RES_FILTER, dpsRegisterTopic, dpsPollTopic, dpsRegisterBody, parseDpsTopic, parseDpsResponse, DpsResponse } from "../iothub/dps";
import { DPS_RETRY_AFTER, HUB_MQTT_PORT } from "../iothub/limits";
import { pnpPayload } from "../iothub/pnp";

export interface ProvisionOptions {
  idScope: string;
  registrationId: string;
  /**
   * The individual enrollment's symmetric key (base64), or for an enrollment group the device's key that
   * `deriveKey(groupKey, registrationId)` makes. None for X.509: `tls.cert` and `tls.key` authenticate, and
   * the registration id is the certificate's CN.
   */
  symmetricKey?: string;
  /** Default global.azure-devices-provisioning.net. */
  host?: string;
  port?: number;
  tls?: TlsOptions | null;
  /** Sent as the registration's custom payload. */
  payload?: unknown;
  /** Plug and Play model id, sent in the registration payload (`{"modelId": ...}`, beside the custom payload's fields). */
  modelId?: string;
  /** Bytes of the one buffer (default 2048), or the buffer itself (which the device may use after). */
  bufferSize?: number;
  buffer?: Uint8Array;
  /** Milliseconds for the whole registration (default 60000). */
  timeout?: number;
  transport: Transport;
  clock: Clock;
  time?: () => number;
  hmac?: Hmac;
  /** E_CLOCK (once) while the wall clock is not set: the registration waits for it. */
  onError?: (code: number) => void;
}

export interface Provisioned {
  assignedHub: string;
  deviceId: string;
  /** Ready for createDevice: `HostName={assignedHub};DeviceId={deviceId};SharedAccessKey={symmetricKey}` (X.509: `;x509=true`). */
  connectionString: string;
}

/**
 * One DPS answer to a registration with `key` (X.509: none), over MQTT or HTTPS: its status, retry-after seconds (0
 * when absent) and parsed body. Returns the milliseconds to wait before asking again (202 or "assigning": for the
 * operation; 429, throttled: the same request), else 0 after finish with E_HUB_STATUS (another error status), the
 * body's error (bad JSON), E_DPS_FAILED (not assigned) or the assignment.
 */
export function dpsAnswer(key: string | undefined, status: number, retry: number, r: DpsResponse | number, finish: (err: number, r?: Provisioned) => void): number {
  if (status == 429 || (status < 300 && (typeof r == "number" || r.status == "assigning"))) return (retry || DPS_RETRY_AFTER) * 1000;
  if (status > 299) finish(E_HUB_STATUS);
  else if (typeof r == "number") finish(r);
  else if (r.status != "assigned") finish(E_DPS_FAILED);
  else
    finish(0, {
      assignedHub: r.assignedHub,
      deviceId: r.deviceId,
      connectionString: "HostName=" + r.assignedHub + ";DeviceId=" + r.deviceId + (key ? ";SharedAccessKey=" + key : ";x509=true"),
    });
  return 0;
}

/** Registers with DPS, then done(0, {assignedHub, deviceId, connectionString}) or done(code). */
export function provision(o: ProvisionOptions, done: (err: number, r?: Provisioned) => void): void {
  var clock = o.clock, rid = 0, poll: unknown, finished = false, client: Client, limit: unknown, told = false, op = "",
    tokens = tokenSource({ sharedAccessKey: o.symmetricKey, sharedAccessKeyName: "registration" } as ConnectionInfo, dpsResourceUri(o.idScope, o.registrationId), o),
    reg = dpsRegisterBody(o.registrationId, o.modelId ? pnpPayload(o.payload, o.modelId) : o.payload);

  function finish(err: number, r?: Provisioned) {
    if (finished) return;
    finished = true;
    clock.clear(limit);
    clock.clear(poll);
    client.end();
    done(err, r);
  }

  function send(topic: string, body: string) {
    var e = client.publish(topic, body, 0);
    if (e < 0) finish(e);
  }

  /** The operation's status once DPS named it, else the registration (again: after a 429, or on a new connection). */
  function ask() {
    if (op) send(dpsPollTopic(++rid, op), "");
    else send(dpsRegisterTopic(++rid), reg);
  }

  /** Connects with a token signed now; while the wall clock is not set, tries again each second (E_CLOCK, once). */
  function start() {
    var k = tokens();
    if (k === E_CLOCK) {
      if (!told && o.onError) o.onError(k);
      told = true;
      poll = clock.set(start, 1000);
      return;
    }
    if (typeof k == "number") return finish(k);
    mqtt.password = k._t || undefined; // X.509: no password
    client.connect();
  }

  var mqtt: ClientOptions = {
    host: o.host || DPS_GLOBAL_HOST,
    port: o.port || HUB_MQTT_PORT,
    tls: o.tls === undefined ? {} : o.tls,
    clientId: o.registrationId,
    username: dpsUserName(o.idScope, o.registrationId),
    password: undefined as string | undefined,
    bufferSize: o.bufferSize,
    buffer: o.buffer,
    reconnect: { min: 1000, max: 5000 },
    transport: o.transport,
    clock: clock,
    onConnect: function () {
      // (re)connected: register anew, the previous connection's poll no longer due
      clock.clear(poll);
      op = "";
      client.subscribe(DPS_RES_FILTER, 1, function (e) {
        if (e) return finish(e);
        ask();
      });
    },
    onError: function (e) {
      // a refused CONNECT (wrong key, unknown enrollment) is final
      if (e > -20 && e < -10) finish(e);
    },
    onMessage: function (topic, p) {
      var t = parseDpsTopic(topic), r = parseDpsResponse(utf8Read(p, 0, p.length) || ""), ms: number;
      if (typeof t == "number" || +t.rid != rid) return;
      if (typeof r != "number" && r.operationId) op = r.operationId;
      if ((ms = dpsAnswer(o.symmetricKey, t.status, t.retryAfter, r, finish))) poll = clock.set(ask, ms);
    },
  };
  limit = clock.set(function () {
    finish(E_TIMEOUT);
  }, o.timeout || 60000);
  client = createClient(mqtt);
  start();
}
