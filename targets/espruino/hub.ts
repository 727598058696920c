// espruino entry, IoT Hub over MQTT: createDevice (SAS signed with the board's native SHA-256: targets/espruino/platform.ts).

import { createDevice as core } from "../../src/sessions/device";
import type { Device, DeviceOptions } from "../../src/sessions/device";
import type { Clock, Transport } from "../../src/types";
import { espruinoClock, espruinoTransport, roomFor, DEVICE_VARS } from "./transport";

/** Device options with the transport and clock optional: Espruino's net/tls sockets and timers fill them in. */
export type HubOptions = Omit<DeviceOptions, "transport" | "clock"> & { transport?: Transport; clock?: Clock };

/** An IoT Hub device client over Espruino's net/tls sockets (or the transport given); a negative code for bad options. */
export function createDevice(o: HubOptions): Device | number {
  var r = roomFor(DEVICE_VARS, o.bufferSize);
  if (r) return r;
  o.transport = o.transport || espruinoTransport();
  o.clock = o.clock || espruinoClock;
  return core(o as DeviceOptions);
}
