// The URL-encoded property bag at the end of telemetry and C2D topics, and the query of twin,
// method and DPS topics: k=v&k2=v2 (IoT Hub MQTT support doc, "Receiving cloud-to-device messages").
import { urlDecode } from "./url";
import { sysName } from "./sysprops";
import { E_PROPERTY } from "./errors";

/** Properties by name: a string, or null for a key without "=". */
export type Bag = { [name: string]: string | null };

/**
 * Parses a bag: keys and values percent-decoded, "k" gives null and "k=" "", empty segments skipped, the last
 * of a repeated key wins, system keys ($.mid or %24.mid) renamed as in sysprops.ts ("$messageId"); E_PROPERTY
 * for an empty key or a bad escape.
 */
export function propertyBagParse(bag: string): Bag | number {
  var out: Bag = {}, parts = bag.split("&"), i = 0, p: string, e: number, k: string | null, v: string | null;
  for (; i < parts.length; i++) {
    p = parts[i];
    if (!p) continue;
    e = p.indexOf("=");
    k = urlDecode(e < 0 ? p : p.substr(0, e));
    v = e < 0 ? null : urlDecode(p.substr(e + 1));
    if (!k || (e >= 0 && v == null)) return E_PROPERTY;
    out[/*@__INLINE__*/ sysName(k)] = v; // inlined: one function fewer for Espruino to keep
  }
  return out;
}
