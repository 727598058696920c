// DPS registration over HTTPS (the service's REST API): PUT {idScope}/registrations/{id}/register, then GET
// .../operations/{operationId} after each retry-after until the device is assigned. For networks that let only
// 443 out; the same options and answer as provision() over MQTT, on the HTTP client in the same one buffer.
import { createHttpClient } from "../http/client";
import { utf8Read } from "../platform";
import { E_TIMEOUT, E_REFUSED_CREDENTIALS } from "../errors";
import { E_CLOCK } from "../iothub/errors";
import { dpsResourceUri } from "../iothub/sas";
import { urlEncode } from "../iothub/url";
import { tokenSource } from "./credentials";
import type { ConnectionInfo } from "../iothub/connstr";
import { DPS_GLOBAL_HOST } from "../iothub/mqtt";
import { dpsRegisterBody, parseDpsResponse } from "../iothub/dps";
import { pnpPayload } from "../iothub/pnp";
import { dpsAnswer, ProvisionOptions, Provisioned } from "./provision";

/** The DPS REST API version (the service's current one for device registration). */
export var DPS_HTTP_API_VERSION = "2021-06-01";

/**
 * Registers with DPS over HTTPS, then done(0, {assignedHub, deviceId, connectionString}) or done(code):
 * E_REFUSED_CREDENTIALS for 401/403 (wrong key, no enrollment), E_HUB_STATUS for another error status,
 * E_DPS_FAILED when DPS ends the registration without assigning, E_TIMEOUT after `timeout` ms (default 60000).
 */
export function provisionHttp(o: ProvisionOptions, done: (err: number, r?: Provisioned) => void): void {
  var clock = o.clock, finished = false, told = false, wait: unknown, op = "", retry = 0, got: number[] = [],
    tokens = tokenSource({ sharedAccessKey: o.symmetricKey, sharedAccessKeyName: "registration" } as ConnectionInfo, dpsResourceUri(o.idScope, o.registrationId), o),
    base = "/" + urlEncode(o.idScope) + "/registrations/" + urlEncode(o.registrationId),
    body = dpsRegisterBody(o.registrationId, o.modelId ? pnpPayload(o.payload, o.modelId) : o.payload),
    http = createHttpClient({
      host: o.host || DPS_GLOBAL_HOST, port: o.port, tls: o.tls === undefined ? {} : o.tls,
      bufferSize: o.bufferSize, buffer: o.buffer, transport: o.transport, clock: clock,
    }),
    limit = clock.set(function () {
      finish(E_TIMEOUT);
    }, o.timeout || 60000);

  function finish(err: number, r?: Provisioned) {
    if (finished) return;
    finished = true;
    clock.clear(limit);
    clock.clear(wait);
    http.end();
    done(err, r);
  }

  /** The register PUT (no operation yet) or the status GET, with a token signed now; waits for the wall clock. */
  function send() {
    var k = tokens(), h: string[] = ["Accept", "application/json"], e: number;
    if (k === E_CLOCK) {
      if (!told && o.onError) o.onError(k);
      told = true;
      wait = clock.set(send, 1000);
      return;
    }
    if (typeof k == "number") return finish(k);
    if (k._t) h.push("Authorization", k._t); // X.509: the TLS client certificate instead
    if (!op) h.push("Content-Type", "application/json; charset=utf-8");
    got = [];
    retry = 0;
    e = http.request(op ? "GET" : "PUT", base + (op ? "/operations/" + urlEncode(op) : "/register") + "?api-version=" + DPS_HTTP_API_VERSION, h, op ? null : body, {
      onHeader: function (n, v) {
        if (n == "retry-after") retry = +v || 0;
      },
      onBody: function (c) {
        for (var i = 0; i < c.length; i++) got.push(c[i]);
      },
    }, answered);
    if (e < 0) finish(e);
  }

  function answered(err: number, status: number) {
    if (err) return finish(err);
    if (status == 401 || status == 403) return finish(E_REFUSED_CREDENTIALS);
    var r = parseDpsResponse(utf8Read(new Uint8Array(got), 0, got.length) || ""), ms: number;
    if (typeof r != "number" && r.operationId) op = r.operationId;
    if ((ms = dpsAnswer(o.symmetricKey, status, retry, r, finish))) wait = clock.set(send, ms);
  }

  send();
}
