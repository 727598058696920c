// Protocol choice for createDevice: "mqtt" (8883), "mqtt-ws" (443, /$iothub/websocket), "http" (443), "amqp" (5671),
// "amqp-ws" (443, /$iothub/websocket, subprotocol AMQPWSB10).
// Each build passes the implementations it includes, so an application pays only for what it imports.
import { Transport } from "../types";
import { HUB_WS_PATH } from "../iothub/mqtt";
import { E_HUB_PROTOCOL } from "../iothub/errors";

/** Bytes of the one buffer a WebSocket's frames and handshake use (the upgrade request must fit). */
export var WS_SCRATCH = 512;

/** The implementations a build offers; a missing one makes that protocol E_HUB_PROTOCOL. */
export interface Protocols<O, D> {
  mqtt?: (o: O) => D | number;
  ws?: (inner: Transport, opts: { path: string; buffer: Uint8Array; protocol?: string }) => Transport;
  http?: (o: O) => D | number;
  amqp?: (o: O) => D | number;
}

/** Opens a device for `o.protocol` (default `def`, else "mqtt"). */
export function selectProtocol<O extends { protocol?: string; transport: Transport; port?: number; bufferSize?: number; buffer?: Uint8Array }, D>(o: O, p: Protocols<O, D>, def?: string): D | number {
  var k = o.protocol || def || "mqtt", c: any, key: string, mem: Uint8Array, d = k == "mqtt-ws" ? p.mqtt : k == "amqp-ws" ? p.amqp : null;
  if (k == "mqtt" && p.mqtt) return p.mqtt(o);
  if (k == "http" && p.http) return p.http(o);
  if (k == "amqp" && p.amqp) return p.amqp(o);
  if (d && p.ws) {
    // the unchanged MQTT or AMQP device over a WebSocket on 443; the WebSocket's scratch is the first WS_SCRATCH
    // bytes of the device's one buffer
    mem = o.buffer || new Uint8Array(o.bufferSize || (d == p.mqtt ? 2048 : 4096));
    c = {};
    for (key in o) c[key] = (o as any)[key];
    c.transport = p.ws(o.transport, { path: HUB_WS_PATH, buffer: mem.subarray(0, WS_SCRATCH), protocol: d == p.mqtt ? undefined : "AMQPWSB10" });
    c.buffer = mem.subarray(WS_SCRATCH);
    c.port = o.port || 443;
    return d(c);
  }
  return E_HUB_PROTOCOL;
}
