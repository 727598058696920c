// The Node.js package entry: the clients with net/tls, Node timers and Node's crypto wired in.
import { createHmac } from "node:crypto";
import { createClient as mqttClient, ClientOptions, Client } from "../../src/mqtt/client";
import { createDevice as hubDevice, DeviceOptions, Device } from "../../src/sessions/device";
import { createHttpDevice as hubHttpDevice, HttpDeviceOptions, HttpDevice } from "../../src/sessions/https";
import { provisionHttp as dpsProvisionHttp } from "../../src/sessions/provision-http";
import { provision as dpsProvision, deriveKey as dpsDeriveKey, ProvisionOptions, Provisioned } from "../../src/sessions/provision";
import { createAmqpDevice as hubAmqpDevice, AmqpDeviceOptions, AmqpDevice } from "../../src/sessions/amqp";
import { createGateway as amqpGateway, GatewayOptions, Gateway } from "../../src/sessions/gateway";
import { selectProtocol } from "../../src/sessions/protocol";
import { wsTransport } from "../../src/ws/transport";
import { nodeTransport, nodeClock } from "./transport";

/** Options with the platform parts optional: they default to Node's. */
export type NodeOptions<T> = Omit<T, "transport" | "clock"> & { transport?: ClientOptions["transport"]; clock?: ClientOptions["clock"] };

/** HMAC-SHA256 from node:crypto. */
export function nodeHmac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(msg).digest());
}

function node<T>(o: any): T {
  return { hmac: nodeHmac, ...o, transport: o.transport || nodeTransport(), clock: o.clock || nodeClock };
}

/** An MQTT 3.1.1 client (any broker). */
export function createClient(o: NodeOptions<ClientOptions>): Client {
  return mqttClient(node(o));
}

/** Which protocol createDevice speaks: "mqtt" (8883, default), "mqtt-ws" (443), "http" (443), "amqp" (5671) or "amqp-ws" (443). */
export type Protocol = "mqtt" | "mqtt-ws" | "http" | "amqp" | "amqp-ws";

/**
 * An IoT Hub device or module client: over MQTT (default), MQTT over WebSockets (`protocol: "mqtt-ws"`),
 * HTTPS (`protocol: "http"`, an HttpDevice) or AMQP (`protocol: "amqp"` or `"amqp-ws"`, an AmqpDevice); a negative
 * number for bad options or an unsupported protocol.
 */
export function createDevice(o: NodeOptions<DeviceOptions> & { protocol?: "mqtt" | "mqtt-ws" }): Device | number;
export function createDevice(o: NodeOptions<HttpDeviceOptions> & { protocol: "http" }): HttpDevice | number;
export function createDevice(o: NodeOptions<AmqpDeviceOptions> & { protocol: "amqp" | "amqp-ws" }): AmqpDevice | number;
export function createDevice(o: any): Device | HttpDevice | AmqpDevice | number {
  return selectProtocol<any, Device | HttpDevice | AmqpDevice>(node(o), { mqtt: hubDevice, ws: wsTransport, http: hubHttpDevice, amqp: hubAmqpDevice });
}

/**
 * An AMQP gateway: many devices (and modules) on one AMQP connection to `host` (5671, TLS), each with its own SAS
 * token on $cbs and its own links: `gateway.addDevice({ connectionString, onMessage, ... })` gives an AmqpDevice.
 */
export function createGateway(o: NodeOptions<GatewayOptions>): Gateway {
  return amqpGateway(node(o));
}

/** An IoT Hub device client over HTTPS: telemetry, batches, C2D by polling; a negative number for bad options. */
export function createHttpDevice(o: NodeOptions<HttpDeviceOptions>): HttpDevice | number {
  return hubHttpDevice(node(o));
}

/** DPS registration over MQTT. */
export function provision(o: NodeOptions<ProvisionOptions>, done: (err: number, r?: Provisioned) => void): void {
  dpsProvision(node(o), done);
}

/** DPS registration over HTTPS (port 443): the same options and answer as provision(). */
export function provisionHttp(o: NodeOptions<ProvisionOptions>, done: (err: number, r?: Provisioned) => void): void {
  dpsProvisionHttp(node(o), done);
}

/** A device's key in a DPS enrollment group: base64(HMAC-SHA256(base64-decoded groupKey, registrationId)); E_CS_KEY for a bad group key. */
export function deriveKey(groupKey: string, registrationId: string): string | number {
  return dpsDeriveKey(groupKey, registrationId, nodeHmac);
}

export { nodeTransport, nodeClock };
export { fileStore, fileBytes, type FileStoreOptions } from "./store";
export { journal, E_STORE, E_STORE_BAD, E_STORE_FULL, type Store, type Journal } from "../../src/store";
export { wsTransport, type WsOptions } from "../../src/ws/transport";
export { errorName } from "../../src/errornames";
export * from "../../src/errors";
export * from "../../src/iothub/errors";
export { VERSION } from "../../src/version";
export type { Client, ClientOptions, MessageInfo, Done } from "../../src/mqtt/client";
export type { Device, DeviceOptions, C2DMessage, Respond } from "../../src/sessions/device";
export type { ProvisionOptions, Provisioned } from "../../src/sessions/provision";
export { C2D_COMPLETE, C2D_REJECT, C2D_ABANDON, C2D_LATER } from "../../src/sessions/https";
export { pnpAck, pnpReported, pnpCommand, PNP_COMMAND_SEP } from "../../src/iothub/pnp";
export type { AmqpDevice, AmqpDeviceOptions } from "../../src/sessions/amqp";
export type { Gateway, GatewayOptions } from "../../src/sessions/gateway";
export type { HttpDevice, HttpDeviceOptions, HttpC2DMessage, HttpMessage } from "../../src/sessions/https";
export type { Transport, TransportEvents, Clock, TlsOptions, PayloadSource } from "../../src/types";
