// Espruino entry, MQTT only: `Modules.addCached("tinyhub", src)` then `require("tinyhub").createClient({...})`.

import { createClient as core } from "../../src/mqtt/client";
import type { Client, ClientOptions } from "../../src/mqtt/client";
import type { Clock, Transport } from "../../src/types";
import { espruinoClock, espruinoTransport, roomFor, CLIENT_VARS } from "./transport";

/** Client options with the transport and clock optional: Espruino's sockets and timers fill them in. */
export type EspruinoClientOptions = Omit<ClientOptions, "transport" | "clock"> & { transport?: Transport; clock?: Clock };

/** An MQTT client over Espruino's net/tls sockets (or the transport given); E_NO_MEMORY when too few variables are free. */
export function createClient(o: EspruinoClientOptions): Client | number {
  var r = roomFor(CLIENT_VARS, o.bufferSize);
  if (r) return r;
  o.transport = o.transport || espruinoTransport();
  o.clock = o.clock || espruinoClock;
  return core(o as ClientOptions);
}
