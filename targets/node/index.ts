// The Node.js package entry: the clients with net/tls, Node timers and Node's crypto wired in.
import { createHmac } from "node:crypto";
import { createClient as mqttClient, ClientOptions, Client } from "../../src/mqtt/client";
import { createDevice as hubDevice, DeviceOptions, Device } from "../../src/iothub/device";
import { provision as dpsProvision, ProvisionOptions, Provisioned } from "../../src/iothub/provision";
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

/** An IoT Hub device or module client over MQTT; a negative number for a bad connection string. */
export function createDevice(o: NodeOptions<DeviceOptions>): Device | number {
  return hubDevice(node(o));
}

/** DPS registration over MQTT. */
export function provision(o: NodeOptions<ProvisionOptions>, done: (err: number, r?: Provisioned) => void): void {
  dpsProvision(node(o), done);
}

export { nodeTransport, nodeClock };
export { errorName } from "../../src/errornames";
export * from "../../src/errors";
export * from "../../src/iothub/errors";
export { VERSION } from "../../src/version";
export type { Client, ClientOptions, MessageInfo, Done } from "../../src/mqtt/client";
export type { Device, DeviceOptions, C2DMessage, Respond } from "../../src/iothub/device";
export type { ProvisionOptions, Provisioned } from "../../src/iothub/provision";
export type { Transport, TransportEvents, Clock, TlsOptions } from "../../src/types";
