// CONNECT fields for IoT Hub and DPS (IoT Hub MQTT support doc, "Using the MQTT protocol directly";
// Embedded C az_iot_hub_client.c and az_iot_provisioning_client.c; Node SDK mqtt.ts).
import { VERSION } from "../version";
import { urlEncode } from "./url";

/** IoT Hub service API version in the MQTT user name (the Node SDK's endpoint.ts; Embedded C sends 2020-09-30). */
export const HUB_API_VERSION = "2021-04-12";

/** DPS service API version in the MQTT user name (both SDKs). */
export const DPS_API_VERSION = "2019-03-31";

/** This library as a `DeviceClientType` / `ClientVersion`: "tinyhub/{VERSION}". */
export const USER_AGENT = "tinyhub/" + VERSION;

/** DPS global endpoint (DPS docs, "Global device endpoint"). */
export const DPS_GLOBAL_HOST = "global.azure-devices-provisioning.net";

/** Path of MQTT over WebSockets on port 443, subprotocol "mqtt" (IoT Hub MQTT support doc). */
export const HUB_WS_PATH = "/$iothub/websocket";

/** Client identifier: `{deviceId}` or `{deviceId}/{moduleId}`. */
export function hubClientId(info: { deviceId: string; moduleId?: string | null }): string {
  return info.deviceId + (info.moduleId ? "/" + info.moduleId : "");
}

/** Host the transport connects to: GatewayHostName (IoT Edge) when given, else HostName. */
export function hubConnectHost(info: { host: string; gatewayHostName?: string | null }): string {
  return info.gatewayHostName || info.host;
}

/**
 * `{host}/{deviceId}[/{moduleId}]/?api-version=2021-04-12&DeviceClientType={urlenc(agent)}[&model-id={urlenc(modelId)}]`;
 * `host` is the hub's HostName even behind a gateway; `agent` defaults to USER_AGENT, "" leaves it out.
 */
export function hubUserName(host: string, deviceId: string, moduleId?: string | null, agent?: string | null, modelId?: string | null): string {
  if (agent == null) agent = USER_AGENT;
  return host + "/" + deviceId + (moduleId ? "/" + moduleId : "") + "/?api-version=" + HUB_API_VERSION +
    (agent ? "&DeviceClientType=" + urlEncode(agent) : "") + (modelId ? "&model-id=" + urlEncode(modelId) : "");
}

/** `{idScope}/registrations/{registrationId}/api-version=2019-03-31&ClientVersion={urlenc(agent)}` (no "?"); agent as in hubUserName. */
export function dpsUserName(idScope: string, registrationId: string, agent?: string | null): string {
  if (agent == null) agent = USER_AGENT;
  return idScope + "/registrations/" + registrationId + "/api-version=" + DPS_API_VERSION +
    (agent ? "&ClientVersion=" + urlEncode(agent) : "");
}
