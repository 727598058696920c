// espruino entry, IoT Hub over MQTT or MQTT over WebSockets: createDevice with protocol "mqtt" (8883, the
// default) or "mqtt-ws" (443, /$iothub/websocket: the same MQTT client on the WebSocket transport).

import { createDevice as mqttDevice } from "../../src/sessions/device";
import type { Device, DeviceOptions } from "../../src/sessions/device";
import { selectProtocol } from "../../src/sessions/protocol";
import { wsTransport } from "../../src/ws/transport";
import type { Clock, Transport } from "../../src/types";
import { espruinoClock, espruinoTransport, roomFor, DEVICE_VARS } from "./transport";

/** Device options with the transport and clock optional, and the protocol: "mqtt" or "mqtt-ws" ("http": hub-http). */
export type HubOptions = Omit<DeviceOptions, "transport" | "clock"> & { transport?: Transport; clock?: Clock; protocol?: "mqtt" | "mqtt-ws" };

/** An IoT Hub device client over MQTT or MQTT over WebSockets on Espruino's tls sockets; a negative code for bad options or another protocol. */
export function createDevice(o: HubOptions): Device | number {
  var r = roomFor(DEVICE_VARS, o.bufferSize);
  if (r) return r;
  o.transport = o.transport || espruinoTransport();
  o.clock = o.clock || espruinoClock;
  return selectProtocol<any, Device>(o, { mqtt: mqttDevice, ws: wsTransport });
}
