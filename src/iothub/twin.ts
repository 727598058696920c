// Device twin over MQTT (IoT Hub MQTT support doc, "Retrieving a device twin's properties", "Update device
// twin's reported properties", "Receiving desired properties update notifications"; Embedded C az_iot_hub_client_twin.c).
import { urlEncode } from "./url";
import { topicQuery, decimal } from "./topic";
import { E_HUB_TOPIC } from "./errors";

/** Subscription filter for answers to GET and reported-property PATCH. */
export const TWIN_RES_FILTER = "$iothub/twin/res/#";

/** Subscription filter for desired-property updates. */
export const TWIN_DESIRED_FILTER = "$iothub/twin/PATCH/properties/desired/#";

/** parseTwinTopic kind: an answer to a request (GET: 200 and the twin; PATCH: 204 and $version). */
export const TWIN_RESPONSE = 1;

/** parseTwinTopic kind: a desired-property patch. */
export const TWIN_DESIRED = 2;

/** A parsed twin topic: status (200 for DESIRED), rid ("" for DESIRED), version (-1 when absent). */
export interface TwinTopic {
  kind: number;
  status: number;
  rid: string;
  version: number;
}

/** The twin GET and reported-property PATCH topics before their request id: followed by a number, the topic itself. */
export const TWIN_GET = "$iothub/twin/GET/?$rid=", TWIN_PATCH = "$iothub/twin/PATCH/properties/reported/?$rid=";

/** `$iothub/twin/GET/?$rid={rid}`: publish with an empty body to ask for the whole twin. */
export function twinGetTopic(rid: string | number): string {
  return TWIN_GET + urlEncode("" + rid);
}

/** `$iothub/twin/PATCH/properties/reported/?$rid={rid}`: publish a JSON patch of reported properties. */
export function twinPatchTopic(rid: string | number): string {
  return TWIN_PATCH + urlEncode("" + rid);
}

/**
 * `$iothub/twin/res/{status}/?$rid={rid}[&$version={n}]` -> RESPONSE, `$iothub/twin/PATCH/properties/desired/?$version={n}`
 * -> DESIRED (parameters in any order, extra ones ignored); E_HUB_TOPIC for anything else.
 */
export function parseTwinTopic(topic: string): TwinTopic | number {
  var r = topicQuery(topic, "$iothub/twin/res/"), q: any, s: number;
  if (typeof r != "number") {
    q = r[1];
    s = decimal(r[0]);
    if (s >= 0 && q.$rid != null) return { kind: TWIN_RESPONSE, status: s, rid: q.$rid, version: decimal(q.$version) };
  } else {
    r = topicQuery(topic, "$iothub/twin/PATCH/properties/");
    if (typeof r != "number" && r[0] == "desired" && (s = decimal(r[1].$version)) >= 0) {
      return { kind: TWIN_DESIRED, status: 200, rid: "", version: s };
    }
  }
  return E_HUB_TOPIC;
}
