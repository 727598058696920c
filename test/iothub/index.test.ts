import { test } from "uvu";
import * as assert from "uvu/assert";
import * as hub from "../../src/iothub/index";

test("the entry exports every feature, none undefined", () => {
  const names = ["parseConnectionString", "sasToken", "sasExpiry", "deviceResourceUri", "dpsResourceUri", "deriveDeviceKey", "urlEncode",
    "urlDecode", "propertyBagParse", "hubClientId", "hubUserName", "hubConnectHost", "dpsUserName", "USER_AGENT", "HUB_API_VERSION",
    "telemetryTopic", "c2dFilter", "parseC2DTopic", "TWIN_RES_FILTER", "TWIN_DESIRED_FILTER", "twinGetTopic",
    "twinPatchTopic", "parseTwinTopic", "METHODS_FILTER", "parseMethodTopic", "methodResponseTopic", "DPS_RES_FILTER",
    "dpsRegisterTopic", "dpsPollTopic", "dpsRegisterBody", "parseDpsTopic", "parseDpsResponse", "HUB_D2C_MAX", "E_PROPERTY"];
  for (const n of names) assert.ok((hub as any)[n] !== undefined, n);
  for (const [n, v] of Object.entries(hub)) assert.ok(v !== undefined, n);
});

test.run();
