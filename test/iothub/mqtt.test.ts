import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import {
  hubClientId, hubUserName, hubConnectHost, dpsUserName, USER_AGENT, HUB_API_VERSION, DPS_API_VERSION, DPS_GLOBAL_HOST, HUB_WS_PATH,
} from "../../src/iothub/mqtt";
import { parseConnectionString, ConnectionInfo } from "../../src/iothub/connstr";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
const HUB = "myhub.azure-devices.net";

test("constants", () => {
  assert.is(USER_AGENT, "tinyhub/" + pkg.version);
  assert.is(HUB_API_VERSION, "2021-04-12");
  assert.is(DPS_API_VERSION, "2019-03-31");
  assert.is(DPS_GLOBAL_HOST, "global.azure-devices-provisioning.net");
  assert.is(HUB_WS_PATH, "/$iothub/websocket");
});

test("client id: device, module", () => {
  assert.is(hubClientId({ deviceId: "dev1" }), "dev1");
  assert.is(hubClientId({ deviceId: "dev1", moduleId: "mod1" }), "dev1/mod1");
});

test("user name: device, module (golden)", () => {
  assert.is(hubUserName(HUB, "dev1"), "myhub.azure-devices.net/dev1/?api-version=2021-04-12&DeviceClientType=tinyhub%2F0.1.0");
  assert.is(hubUserName(HUB, "dev1", "mod1"), "myhub.azure-devices.net/dev1/mod1/?api-version=2021-04-12&DeviceClientType=tinyhub%2F0.1.0");
});

test("user name: agent encoded or left out; Plug and Play model id encoded", () => {
  assert.is(hubUserName(HUB, "dev1", null, "my agent/1.0 (esp32)"),
    "myhub.azure-devices.net/dev1/?api-version=2021-04-12&DeviceClientType=my%20agent%2F1.0%20%28esp32%29");
  assert.is(hubUserName(HUB, "dev1", null, ""), "myhub.azure-devices.net/dev1/?api-version=2021-04-12");
  assert.is(hubUserName(HUB, "dev1", undefined, undefined, "dtmi:com:example:Thermostat;1"),
    "myhub.azure-devices.net/dev1/?api-version=2021-04-12&DeviceClientType=tinyhub%2F0.1.0&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1");
  assert.is(hubUserName(HUB, "dev1", "mod1", "", "dtmi:x;2"), "myhub.azure-devices.net/dev1/mod1/?api-version=2021-04-12&model-id=dtmi%3Ax%3B2");
});

test("gateway (IoT Edge): connect to the gateway, the user name keeps the hub host", () => {
  const info = parseConnectionString("HostName=myhub.azure-devices.net;DeviceId=dev1;x509=true;GatewayHostName=edge.local") as ConnectionInfo;
  assert.is(hubConnectHost(info), "edge.local");
  assert.is(hubUserName(info.host, info.deviceId, info.moduleId), "myhub.azure-devices.net/dev1/?api-version=2021-04-12&DeviceClientType=tinyhub%2F0.1.0");
  assert.is(hubConnectHost({ host: HUB }), HUB);
});

test("DPS user name (no '?')", () => {
  assert.is(dpsUserName("0ne00000A0A", "reg-1"), "0ne00000A0A/registrations/reg-1/api-version=2019-03-31&ClientVersion=tinyhub%2F0.1.0");
  assert.is(dpsUserName("0ne00000A0A", "reg-1", ""), "0ne00000A0A/registrations/reg-1/api-version=2019-03-31");
});

test.run();
