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
import { uploadToBlob as blobUpload, UploadOptions, UploadDone } from "../../src/sessions/upload";
import type { Payload, PayloadSource } from "../../src/types";
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

/** File upload on a device, whatever its protocol: HTTPS to the hub and to its storage, on a connection of its own. */
export interface Uploader {
  /** src/sessions/upload.ts: 0 (done follows) or a negative code at once. */
  uploadToBlob(blobName: string, source: Payload | PayloadSource, done: UploadDone): number;
}

/** Gives a device uploadToBlob with its own options: the hub's HTTPS port is `port` over "http" and "mqtt-ws", else `httpsPort` (443). */
function uploads<T>(d: T | number, o: any): (T & Uploader) | number {
  if (typeof d == "object" && d) {
    (d as T & Uploader).uploadToBlob = (name, source, done) =>
      uploadToBlob({ ...o, transport: undefined, httpsPort: o.httpsPort || (o.protocol == "http" || o.protocol == "mqtt-ws" || o.protocol == "amqp-ws" ? o.port : undefined) }, name, source, done);
  }
  return d as (T & Uploader) | number;
}

/**
 * An IoT Hub device or module client: over MQTT (default), MQTT over WebSockets (`protocol: "mqtt-ws"`),
 * HTTPS (`protocol: "http"`, an HttpDevice) or AMQP (`protocol: "amqp"` or `"amqp-ws"`, an AmqpDevice); a negative
 * number for bad options or an unsupported protocol. Each has uploadToBlob (file upload).
 */
export function createDevice(o: NodeOptions<DeviceOptions & UploadOptions> & { protocol?: "mqtt" | "mqtt-ws" }): (Device & Uploader) | number;
export function createDevice(o: NodeOptions<HttpDeviceOptions & UploadOptions> & { protocol: "http" }): (HttpDevice & Uploader) | number;
export function createDevice(o: NodeOptions<AmqpDeviceOptions & UploadOptions> & { protocol: "amqp" | "amqp-ws" }): (AmqpDevice & Uploader) | number;
export function createDevice(o: any): ((Device | HttpDevice | AmqpDevice) & Uploader) | number {
  // an Edge module's invokeMethod has a connection of its own (made at its first call)
  return uploads(selectProtocol<any, Device | HttpDevice | AmqpDevice>(node({ edgeTransport: nodeTransport(), ...o }), { mqtt: hubDevice, ws: wsTransport, http: hubHttpDevice, amqp: hubAmqpDevice }), o);
}

/**
 * An AMQP gateway: many devices (and modules) on one AMQP connection to `host` (5671, TLS), each with its own SAS
 * token on $cbs and its own links: `gateway.addDevice({ connectionString, onMessage, ... })` gives an AmqpDevice.
 */
export function createGateway(o: NodeOptions<GatewayOptions>): Gateway {
  return amqpGateway(node(o));
}

/** An IoT Hub device client over HTTPS: telemetry, batches, C2D by polling, file upload; a negative number for bad options. */
export function createHttpDevice(o: NodeOptions<HttpDeviceOptions & UploadOptions>): (HttpDevice & Uploader) | number {
  return uploads(hubHttpDevice(node(o)), { ...o, protocol: "http" });
}

/**
 * File upload for the device of `o` (a device's options, with a transport of its own or Node's): the blob written to
 * the hub's storage through one buffer, the hub notified; see src/sessions/upload.ts.
 */
export function uploadToBlob(o: NodeOptions<DeviceOptions & UploadOptions>, blobName: string, source: Payload | PayloadSource, done: UploadDone): number {
  return blobUpload(node(o), blobName, source, done);
}

/**
 * DPS registration over MQTT (default, 8883), MQTT over WebSockets (`protocol: "mqtt-ws"`, 443,
 * `/$iothub/websocket`, the buffer shared as createDevice shares it) or HTTPS (`protocol: "http"`, provisionHttp);
 * done(E_HUB_PROTOCOL) for another protocol.
 */
export function provision(o: NodeOptions<ProvisionOptions> & { protocol?: "mqtt" | "mqtt-ws" | "http" }, done: (err: number, r?: Provisioned) => void): void {
  var e = selectProtocol<any, number>(node(o), {
    mqtt: function (c) {
      dpsProvision(c, done);
      return 0;
    },
    ws: wsTransport,
    http: function (c) {
      dpsProvisionHttp(c, done);
      return 0;
    },
  });
  if (e < 0) done(e);
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
export type { MethodParams, MethodResult, InvokeMethod } from "../../src/sessions/edge";
export type { ProvisionOptions, Provisioned } from "../../src/sessions/provision";
export { C2D_COMPLETE, C2D_REJECT, C2D_ABANDON, C2D_LATER } from "../../src/sessions/https";
export { pnpAck, pnpReported, pnpCommand, PNP_COMMAND_SEP } from "../../src/iothub/pnp";
export type { AmqpDevice, AmqpDeviceOptions } from "../../src/sessions/amqp";
export type { Gateway, GatewayOptions } from "../../src/sessions/gateway";
export type { HttpDevice, HttpDeviceOptions, HttpC2DMessage, HttpMessage } from "../../src/sessions/https";
export type { Transport, TransportEvents, Clock, TlsOptions, PayloadSource } from "../../src/types";
export { BLOB_BLOCK_SIZE, BLOB_MAX_BLOCKS, type UploadOptions, type UploadDone } from "../../src/sessions/upload";
