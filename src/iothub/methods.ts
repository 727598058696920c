// Direct methods (IoT Hub MQTT support doc, "Respond to a direct method"; Embedded C az_iot_hub_client_methods.c).
import { urlEncode } from "./url";
import { topicQuery } from "./topic";
import { E_HUB_TOPIC } from "./errors";

/** Subscription filter for method requests. */
export const METHODS_FILTER = "$iothub/methods/POST/#";

/** `$iothub/methods/POST/{name}/?$rid={rid}` -> { name, rid } (name as sent, rid percent-decoded); E_HUB_TOPIC otherwise. */
export function parseMethodTopic(topic: string): { name: string; rid: string } | number {
  var r = topicQuery(topic, "$iothub/methods/POST/"), rid: string | null;
  if (typeof r == "number" || !(rid = r[1].$rid)) return E_HUB_TOPIC;
  return { name: r[0], rid: rid };
}

/** `$iothub/methods/res/{status}/?$rid={rid}`: publish the method's JSON result here. */
export function methodResponseTopic(status: number, rid: string): string {
  return "$iothub/methods/res/" + (status | 0) + "/?$rid=" + urlEncode(rid);
}
