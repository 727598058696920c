// espruino entry, MQTT over WebSockets for any broker: createClient on wsTransport (path "/mqtt" unless
// `ws` says otherwise), and the transports to compose by hand.

import { createClient as core } from "../../src/mqtt/client";
import type { Client, ClientOptions } from "../../src/mqtt/client";
import { wsTransport } from "../../src/ws/transport";
import type { WsOptions } from "../../src/ws/transport";
import type { Clock, Transport } from "../../src/types";
import { espruinoClock, espruinoTransport, roomFor, CLIENT_VARS } from "./transport";

export { wsTransport, espruinoTransport };

/** Client options with the transport and clock optional; `ws` configures the WebSocket (default path "/mqtt"). */
export type WsClientOptions = Omit<ClientOptions, "transport" | "clock"> & { transport?: Transport; clock?: Clock; ws?: WsOptions };

/** An MQTT client over a WebSocket on Espruino's net (or tls: wss) sockets, or over the transport given. */
export function createClient(o: WsClientOptions): Client | number {
  var r = roomFor(CLIENT_VARS, o.bufferSize);
  if (r) return r;
  o.transport = o.transport || wsTransport(espruinoTransport(), o.ws || { path: "/mqtt" });
  o.clock = o.clock || espruinoClock;
  return core(o as ClientOptions);
}
