// espruino entry, Device Provisioning Service over MQTT (SAS signed with the board's native SHA-256: targets/espruino/platform.ts).

import { provision as core } from "../../src/sessions/provision";
import type { ProvisionOptions, Provisioned } from "../../src/sessions/provision";
import type { Clock, Transport } from "../../src/types";
import { espruinoClock, espruinoTransport, roomFor, CLIENT_VARS } from "./transport";

/** Registers with DPS over Espruino's net/tls sockets (or the transport given). */
export function provision(o: Omit<ProvisionOptions, "transport" | "clock"> & { transport?: Transport; clock?: Clock }, done: (err: number, r?: Provisioned) => void): void {
  var r = roomFor(CLIENT_VARS, o.bufferSize);
  if (r) return done(r);
  o.transport = o.transport || espruinoTransport();
  o.clock = o.clock || espruinoClock;
  core(o as ProvisionOptions, done);
}
