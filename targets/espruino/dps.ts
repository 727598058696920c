// espruino entry, Device Provisioning Service over MQTT.

import { provision as core } from "../../src/iothub/provision";
import type { ProvisionOptions, Provisioned } from "../../src/iothub/provision";
import type { Clock, Transport } from "../../src/types";
import { espruinoClock, espruinoTransport } from "./transport";

/** Registers with DPS over Espruino's net/tls sockets (or the transport given). */
export function provision(o: Omit<ProvisionOptions, "transport" | "clock"> & { transport?: Transport; clock?: Clock }, done: (err: number, r?: Provisioned) => void): void {
  o.transport = o.transport || espruinoTransport();
  o.clock = o.clock || espruinoClock;
  core(o as ProvisionOptions, done);
}
