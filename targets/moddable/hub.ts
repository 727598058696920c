// moddable entry, IoT Hub over MQTT: createDevice (SAS with the built-in SHA-256) and provision (DPS).

import { createDevice as core } from "../../src/sessions/device";
import type { Device, DeviceOptions } from "../../src/sessions/device";
import type { Clock, Transport } from "../../src/types";
import { moddableClock, moddableTransport } from "./transport";

/** Device options with the transport and clock optional: the ECMA-419 TCP socket and timers fill them in. */
export type HubOptions = Omit<DeviceOptions, "transport" | "clock"> & { transport?: Transport; clock?: Clock };

/** An IoT Hub device client over the ECMA-419 TCP socket (or the transport given); a negative code for bad options. */
export function createDevice(o: HubOptions): Device | number {
  o.transport = o.transport || moddableTransport();
  o.clock = o.clock || moddableClock;
  return core(o as DeviceOptions);
}
