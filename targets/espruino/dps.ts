// espruino entry, Device Provisioning Service over MQTT (SAS with the board's native SHA-256 when it has one).

import { provision as core } from "../../src/iothub/provision";
import type { ProvisionOptions, Provisioned } from "../../src/iothub/provision";
import type { Clock, Transport } from "../../src/types";
import { espruinoClock, espruinoTransport, roomFor, CLIENT_VARS } from "./transport";
import { nativeHmac } from "./crypto";

/** Registers with DPS over Espruino's net/tls sockets (or the transport given). */
export function provision(o: Omit<ProvisionOptions, "transport" | "clock"> & { transport?: Transport; clock?: Clock }, done: (err: number, r?: Provisioned) => void): void {
  var r = roomFor(CLIENT_VARS, o.bufferSize);
  if (r) return done(r);
  o.transport = o.transport || espruinoTransport();
  o.clock = o.clock || espruinoClock;
  o.hmac = o.hmac || nativeHmac();
  core(o as ProvisionOptions, done);
}
