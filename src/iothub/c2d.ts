// Cloud-to-device messages (IoT Hub MQTT support doc, "Receiving cloud-to-device messages"); for a
// module, the IoT Edge input messages the Node SDK receives (devices/{id}/modules/{mid}/inputs/{input}/{bag}).
import { propertyBagParse, Bag } from "./bag";
import { devicePath } from "./topic";
import { E_HUB_TOPIC } from "./errors";

// the topic up to the bag (a module's, up to the input name)
function c2dPrefix(deviceId: string, moduleId?: string | null): string {
  return devicePath(deviceId, moduleId) + (moduleId ? "/inputs/" : "/messages/devicebound/");
}

/** Subscription filter: `devices/{deviceId}/messages/devicebound/#`, for a module `devices/{deviceId}/modules/{moduleId}/inputs/#`. */
export function c2dFilter(deviceId: string, moduleId?: string | null): string {
  return c2dPrefix(deviceId, moduleId) + "#";
}


/**
 * The properties of a C2D (or module input) message from its topic, as propertyBagParse gives them, with
 * the input name as "$inputName" for a module; E_HUB_TOPIC if the topic is not this device's C2D topic, E_PROPERTY for a bad bag.
 */
export function parseC2DTopic(topic: string, deviceId: string, moduleId?: string | null): Bag | number {
  var p = c2dPrefix(deviceId, moduleId), s: string, i = 0, r: Bag | number;
  if (topic.indexOf(p) != 0) return E_HUB_TOPIC;
  s = topic.substr(p.length);
  if (moduleId) {
    i = s.indexOf("/");
    if (i < 1) return E_HUB_TOPIC;
  }
  r = propertyBagParse(s.substr(moduleId ? i + 1 : 0));
  if (typeof r != "number" && i) r.$inputName = s.substr(0, i);
  return r;
}
