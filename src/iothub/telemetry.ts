// Device-to-cloud messages (IoT Hub MQTT support doc, "Sending device-to-cloud messages").
import { urlEncode } from "./url";
import { sysWire } from "./sysprops";
import { devicePath } from "./topic";
import { E_PROPERTY } from "./errors";
import { E_UTF8 } from "../errors";
import { utf8Write } from "../platform";

/**
 * Message properties, one flat object: application properties by name; system properties by a "$" name:
 * $messageId ($.mid), $correlationId ($.cid), $userId ($.uid), $to ($.to), $expiry ($.exp), $contentType ($.ct),
 * $contentEncoding ($.ce), $creationTime ($.ctime), $component ($.sub), $outputName ($.on). Undefined values are skipped.
 */
export type MessageProperties = { [name: string]: string | number | boolean | undefined };

/**
 * `devices/{deviceId}[/modules/{moduleId}]/messages/events/{bag}`, every key and value percent-encoded (so no
 * "/", "&", "=", "#", "+" or "?" gets in), in the object's order; E_PROPERTY for an empty name, a "$" name
 * not listed above, or a value not a string, finite number or boolean.
 */
export function telemetryTopic(deviceId: string, moduleId?: string | null, props?: MessageProperties | null): string | number {
  var t = devicePath(deviceId, moduleId) + "/messages/events/", n = 0, k: string, v: any, w: string;
  // (for-in over null throws in Espruino)
  for (k in props || {}) {
    v = props![k];
    if (v === undefined) continue;
    w = k.charAt(0) == "$" ? /*@__INLINE__*/ sysWire(k) : urlEncode(k); // inlined: one function fewer for Espruino to keep
    if (!w || !(typeof v == "string" || typeof v == "boolean" || (typeof v == "number" && isFinite(v)))) return E_PROPERTY;
    // text only: a lone surrogate, or an Espruino binary string that is not UTF-8, would reach the hub as other characters
    if (utf8Write(null, 0, k) < 0 || utf8Write(null, 0, (v = "" + v)) < 0) return E_UTF8;
    t += (n++ ? "&" : "") + w + "=" + urlEncode(v);
  }
  return t;
}
