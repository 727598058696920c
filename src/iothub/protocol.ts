// Protocol choice for createDevice: "mqtt" (8883), "mqtt-ws" (443, /$iothub/websocket), "http" (443).
// Each build passes the implementations it includes, so an application pays only for what it imports.
import { Transport } from "../types";
import { HUB_WS_PATH } from "./mqtt";
import { E_HUB_PROTOCOL } from "./errors";

/** The implementations a build offers; a missing one makes that protocol E_HUB_PROTOCOL. */
export interface Protocols<O, D> {
  mqtt?: (o: O) => D | number;
  ws?: (inner: Transport, opts: { path: string }) => Transport;
  http?: (o: O) => D | number;
}

/** Opens a device for `o.protocol` (default "mqtt"); "amqp" and "amqp-ws" are not in any build. */
export function selectProtocol<O extends { protocol?: string; transport: Transport; port?: number }, D>(o: O, p: Protocols<O, D>): D | number {
  var k = o.protocol || "mqtt", c: any, key: string;
  if (k == "mqtt" && p.mqtt) return p.mqtt(o);
  if (k == "http" && p.http) return p.http(o);
  if (k == "mqtt-ws" && p.ws && p.mqtt) {
    // the unchanged MQTT device over a WebSocket on 443
    c = {};
    for (key in o) c[key] = (o as any)[key];
    c.transport = p.ws(o.transport, { path: HUB_WS_PATH });
    c.port = o.port || 443;
    return p.mqtt(c);
  }
  return E_HUB_PROTOCOL;
}
