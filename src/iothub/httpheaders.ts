// IoT Hub message properties as HTTP headers (IoT Hub REST "Send Device Event" and "Receive Device Bound
// Notification"; Node SDK azure-iot-device-http): `iothub-app-{name}` and one `iothub-*` header per system property.
import { E_PROPERTY } from "./errors";
import type { MessageProperties } from "./telemetry";

var APP = "iothub-app-";
// a character that is not an RFC 7230 tchar (header names); not printable ASCII (header values here)
var NOT_TOKEN = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/, NOT_TEXT = /[^ -~]/;
// the "$" properties with a header of their own, `iothub-{name lower-cased}` ($creationTime: iothub-creationtimeutc)
var SYS = " messageId correlationId userId to expiry contentType contentEncoding creationTime ";

// header name for a "$" name, "" for one that has none over HTTP
function sysHeader(name: string): string {
  var k = name.substr(1);
  return k && SYS.indexOf(" " + k + " ") >= 0 ? "iothub-" + k.toLowerCase() + (k == "creationTime" ? "utc" : "") : "";
}

/**
 * Headers (alternating name, value) for a MessageProperties object, in its order: application properties as
 * `iothub-app-{name}`, $messageId as `iothub-messageid` and likewise $correlationId, $userId, $to, $expiry,
 * $contentType, $contentEncoding, $creationTime (`iothub-creationtimeutc`); undefined values skipped. E_PROPERTY
 * for an empty name, another "$" name, or a value not a string, finite number or boolean; and for what a header
 * cannot carry as text: a name that is not an RFC 7230 token, a value outside printable ASCII (HTTP has no
 * character set for header values, the service documents none, and Node refuses anything past Latin-1: refused
 * by name rather than sent to arrive garbled).
 */
export function propertyHeaders(props?: MessageProperties | null): string[] | number {
  var h: string[] = [], k: string, v: any, w: string;
  // (for-in over null throws in Espruino)
  for (k in props || {}) {
    v = props![k];
    if (v === undefined) continue;
    w = k.charAt(0) == "$" ? sysHeader(k) : k ? APP + k : "";
    if (!w || !(typeof v == "string" || typeof v == "boolean" || (typeof v == "number" && isFinite(v)))) return E_PROPERTY;
    if (NOT_TOKEN.test(k.charAt(0) == "$" ? "" : k) || NOT_TEXT.test((v = "" + v))) return E_PROPERTY;
    h.push(w, v);
  }
  return h;
}

/**
 * The property name for a received header (lower-cased): `iothub-app-k` gives "k", `iothub-messageid` "$messageId"
 * (the inverse of propertyHeaders), another `iothub-*` header keeps its name; null for a header that is no property.
 */
export function headerProperty(name: string): string | null {
  var w = SYS.split(" "), i = 1;
  if (name.indexOf(APP) == 0) return name.substr(APP.length);
  if (name.indexOf("iothub-") != 0) return null;
  for (; i < w.length - 1; i++) if (sysHeader("$" + w[i]) == name) return "$" + w[i];
  return name;
}
