// IoT Hub layer: a pure codec of strings and topics (no sockets, no timers).
export * from "./errors";
export * from "./limits";
export { urlEncode, urlDecode } from "./url";
export { propertyBagParse } from "./bag";
export type { Bag } from "./bag";
export { parseConnectionString } from "./connstr";
export type { ConnectionInfo } from "./connstr";
export { sasToken, sasExpiry, deviceResourceUri, dpsResourceUri, deriveDeviceKey } from "./sas";
export type { Hmac } from "./sas";
export * from "./mqtt";
export { telemetryTopic } from "./telemetry";
export type { MessageProperties } from "./telemetry";
export * from "./c2d";
export * from "./twin";
export * from "./methods";
export * from "./dps";
export * from "./pnp";
