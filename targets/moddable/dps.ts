// moddable entry, Device Provisioning Service over MQTT.

import { provision as core } from "../../src/sessions/provision";
import type { ProvisionOptions, Provisioned } from "../../src/sessions/provision";
import type { Clock, Transport } from "../../src/types";
import { moddableClock, moddableTransport } from "./transport";

/** Registers with DPS over the ECMA-419 TCP socket (or the transport given). */
export function provision(o: Omit<ProvisionOptions, "transport" | "clock"> & { transport?: Transport; clock?: Clock }, done: (err: number, r?: Provisioned) => void): void {
  o.transport = o.transport || moddableTransport();
  o.clock = o.clock || moddableClock;
  core(o as ProvisionOptions, done);
}
