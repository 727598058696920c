// espruino entry, IoT Hub over HTTPS: telemetry, batches and cloud-to-device messages by polling
// (createHttpDevice, or createDevice, whose protocol here is "http").

import { createHttpDevice as core } from "../../src/sessions/https";
import type { HttpDevice, HttpDeviceOptions } from "../../src/sessions/https";
import { selectProtocol } from "../../src/sessions/protocol";
import type { Clock, Transport } from "../../src/types";
import { espruinoClock, espruinoTransport, roomFor, DEVICE_VARS } from "./transport";

export { C2D_COMPLETE, C2D_REJECT, C2D_ABANDON, C2D_LATER } from "../../src/sessions/https";

/** HTTPS device options with the transport and clock optional (Espruino's tls sockets and timers fill them in). */
export type HttpOptions = Omit<HttpDeviceOptions, "transport" | "clock"> & { transport?: Transport; clock?: Clock };

/** An IoT Hub device client over HTTPS; a negative code for bad options. */
export function createHttpDevice(o: HttpOptions): HttpDevice | number {
  var r = roomFor(DEVICE_VARS, o.bufferSize);
  if (r) return r;
  o.transport = o.transport || espruinoTransport();
  o.clock = o.clock || espruinoClock;
  return core(o as HttpDeviceOptions);
}

/** createHttpDevice for `protocol: "http"` (the default in this build); another protocol gives E_HUB_PROTOCOL. */
export function createDevice(o: HttpOptions & { protocol?: string }): HttpDevice | number {
  o.protocol = o.protocol || "http";
  return selectProtocol<any, HttpDevice>(o, { http: createHttpDevice });
}
