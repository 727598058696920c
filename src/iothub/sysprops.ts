// IoT Hub system properties: their names in a property object ("$messageId") and on the wire ("%24.mid").
// Wire names: IoT Hub MQTT support doc, "Sending device-to-cloud messages"; $.ctime and $.sub from the
// Embedded C SDK (az_iot_message.h), $.on from the Node SDK (sendOutputEvent). Both SDKs write "$" as "%24".

// short wire name, then the property-object name without its "$"; split where used (Espruino keeps a module-level
// array in a variable per element, a string in a few)
var SYS = "mid messageId cid correlationId uid userId to to exp expiry ct contentType ce contentEncoding ctime creationTime sub component on outputName";

/** Wire key ("%24.mid") for a "$" name ("$messageId"), or "" if it is not a system property. */
export function sysWire(name: string): string {
  for (var w = SYS.split(" "), i = 1; i < w.length; i += 2) if ("$" + w[i] == name) return "%24." + w[i - 1];
  return "";
}

/** Property-object name ("$messageId") for a decoded wire key ("$.mid"); other keys unchanged. */
export function sysName(key: string): string {
  if (key.substr(0, 2) == "$.") {
    for (var w = SYS.split(" "), i = 0; i < w.length; i += 2) if (w[i] == key.substr(2)) return "$" + w[i + 1];
  }
  return key;
}
