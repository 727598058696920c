// Moddable XS entry, MQTT only: `import { createClient } from "tinyhub/mqtt"` (see manifest.json).

import { createClient as core } from "../../src/mqtt/client";
import type { Client, ClientOptions } from "../../src/mqtt/client";
import type { Clock, Transport } from "../../src/types";
import { moddableClock, moddableTransport } from "./transport";

/** Client options with the transport and clock optional: the ECMA-419 socket and XS timers fill them in. */
export type ModdableClientOptions = Omit<ClientOptions, "transport" | "clock"> & { transport?: Transport; clock?: Clock };

/** An MQTT client over the ECMA-419 TCP socket (or the transport given). */
export function createClient(o: ModdableClientOptions): Client {
  o.transport = o.transport || moddableTransport();
  o.clock = o.clock || moddableClock;
  return core(o as ClientOptions);
}
