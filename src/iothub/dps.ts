// Device Provisioning Service over MQTT (DPS docs, "Use MQTT without an SDK"; Embedded C
// az_iot_provisioning_client.c; Node SDK provisioning/transport/mqtt).
import { urlEncode } from "./url";
import { jsonText } from "../platform";
import { topicQuery, decimal } from "./topic";
import { E_HUB_TOPIC, E_HUB_JSON } from "./errors";

/** Subscription filter for DPS answers. */
export const DPS_RES_FILTER = "$dps/registrations/res/#";

/** `$dps/registrations/PUT/iotdps-register/?$rid={rid}`: publish dpsRegisterBody here. */
export function dpsRegisterTopic(rid: string | number): string {
  return "$dps/registrations/PUT/iotdps-register/?$rid=" + urlEncode("" + rid);
}

/** `$dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={operationId}`: publish an empty body to poll. */
export function dpsPollTopic(rid: string | number, operationId: string): string {
  return "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=" + urlEncode("" + rid) + "&operationId=" + urlEncode(operationId);
}

/** `{"registrationId":...,"payload":...}`; `payload` any JSON value (e.g. `{modelId}`), left out when undefined. */
export function dpsRegisterBody(registrationId: string, payload?: unknown): string {
  var o: any = { registrationId: registrationId };
  if (payload !== undefined) o.payload = payload;
  return jsonText(o);
}

/** `$dps/registrations/res/{status}/?$rid={rid}[&retry-after={s}]` -> { status, rid, retryAfter } (0 when absent); E_HUB_TOPIC otherwise. */
export function parseDpsTopic(topic: string): { status: number; rid: string; retryAfter: number } | number {
  var r = topicQuery(topic, "$dps/registrations/res/"), s: number;
  if (typeof r == "number" || (s = decimal(r[0])) < 0 || r[1].$rid == null) return E_HUB_TOPIC;
  return { status: s, rid: r[1].$rid as string, retryAfter: Math.max(0, decimal(r[1]["retry-after"])) };
}

/** A DPS answer; errorCode (e.g. 401002) and message only when the service sent them. */
export interface DpsResponse {
  operationId: string;
  status: string; // "assigning", "assigned", "failed", "unassigned", "disabled"
  assignedHub: string;
  deviceId: string;
  errorCode?: number;
  message?: string;
}

function str(x: any): string {
  return typeof x == "string" ? x : "";
}

/**
 * Reads operationId, status and registrationState.{assignedHub, deviceId, errorCode, errorMessage}, or an error
 * answer's errorCode and message (status then "failed"); E_HUB_JSON for bad JSON or neither. Never throws.
 */
export function parseDpsResponse(json: string): DpsResponse | number {
  var o: any, s: any, r: DpsResponse, c: any, m: any;
  try {
    o = JSON.parse(json);
  } catch (e) {
    return E_HUB_JSON;
  }
  if (!o || typeof o != "object") return E_HUB_JSON;
  s = o.registrationState || {};
  r = { operationId: str(o.operationId), status: str(o.status), assignedHub: str(s.assignedHub), deviceId: str(s.deviceId) };
  c = o.errorCode || s.errorCode;
  m = str(o.message) || str(s.errorMessage);
  if (typeof c == "number") r.errorCode = c;
  if (m) r.message = m;
  if (!r.operationId || !r.status) {
    if (!c && !m) return E_HUB_JSON;
    r.status = "failed";
  }
  return r;
}
