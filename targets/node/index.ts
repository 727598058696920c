// The Node.js package entry: the client with net/tls and Node timers wired in.
import { createClient as core, ClientOptions, Client } from "../../src/mqtt/client";
import { nodeTransport, nodeClock } from "./transport";

export type NodeClientOptions = Omit<ClientOptions, "transport" | "clock"> & Partial<Pick<ClientOptions, "transport" | "clock">>;

/** createClient for Node: `transport` and `clock` default to node:net/tls and Node timers. */
export function createClient(o: NodeClientOptions): Client {
  return core({ ...o, transport: o.transport || nodeTransport(), clock: o.clock || nodeClock } as ClientOptions);
}

export { nodeTransport, nodeClock };
export { errorName } from "../../src/errornames";
export * from "../../src/errors";
export type { Client, ClientOptions, MessageInfo, Done } from "../../src/mqtt/client";
export type { Transport, TransportEvents, Clock, TlsOptions } from "../../src/types";
