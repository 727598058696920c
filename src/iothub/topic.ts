// Helpers shared by the topic parsers.
import { propertyBagParse, Bag } from "./bag";
import { E_HUB_TOPIC } from "./errors";

/** Splits `{prefix}{segment}/?{query}` into [segment, parsed query]; E_HUB_TOPIC if it does not match, E_PROPERTY for a bad query. */
export function topicQuery(topic: string, prefix: string): [string, Bag] | number {
  var s: string, i: number, q: Bag | number;
  if (topic.indexOf(prefix) != 0) return E_HUB_TOPIC;
  s = topic.substr(prefix.length);
  i = s.indexOf("/?");
  if (i < 1 || s.lastIndexOf("/", i - 1) >= 0) return E_HUB_TOPIC;
  q = propertyBagParse(s.substr(i + 2));
  return typeof q == "number" ? q : [s.substr(0, i), q];
}

/** A decimal integer of 1 to 15 digits, or -1 (null and anything else included). */
export function decimal(s: string | null | undefined): number {
  return s != null && s.length < 16 && /^[0-9]+$/.test(s) ? +s : -1;
}

/** `devices/{deviceId}` or `devices/{deviceId}/modules/{moduleId}` (IoT Hub MQTT support doc). */
export function devicePath(deviceId: string, moduleId?: string | null): string {
  return "devices/" + deviceId + (moduleId ? "/modules/" + moduleId : "");
}
