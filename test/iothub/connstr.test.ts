import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseConnectionString } from "../../src/iothub/connstr";
import * as E from "../../src/iothub/errors";

const H = "HostName=myhub.azure-devices.net;";
const KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // base64 with "=" padding inside a value
const SAS = "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=abc%3D&se=1700000000";

test("device with a shared access key; values keep their '='", () => {
  assert.equal(parseConnectionString(H + "DeviceId=dev1;SharedAccessKey=" + KEY), {
    host: "myhub.azure-devices.net", deviceId: "dev1", sharedAccessKey: KEY,
  });
});

test("empty segments and a trailing ';' are skipped; keys in any order", () => {
  assert.equal(parseConnectionString(";SharedAccessKey=" + KEY + ";;DeviceId=dev1;" + H + ";"), {
    sharedAccessKey: KEY, deviceId: "dev1", host: "myhub.azure-devices.net",
  });
});

test("module, gateway, policy key name", () => {
  assert.equal(parseConnectionString(H + "DeviceId=dev1;ModuleId=mod1;SharedAccessKey=" + KEY + ";GatewayHostName=edge.local"), {
    host: "myhub.azure-devices.net", deviceId: "dev1", moduleId: "mod1", sharedAccessKey: KEY, gatewayHostName: "edge.local",
  });
  assert.equal(parseConnectionString(H + "DeviceId=dev1;SharedAccessKeyName=device;SharedAccessKey=" + KEY), {
    host: "myhub.azure-devices.net", deviceId: "dev1", sharedAccessKeyName: "device", sharedAccessKey: KEY,
  });
});

test("x509=true, and a fixed SharedAccessSignature (whose value holds '=' and '&')", () => {
  assert.equal(parseConnectionString(H + "DeviceId=dev1;x509=true"), { host: "myhub.azure-devices.net", deviceId: "dev1", x509: true });
  assert.equal((parseConnectionString(H + "DeviceId=dev1;x509=True") as any).x509, true);
  assert.equal(parseConnectionString(H + "DeviceId=dev1;SharedAccessSignature=" + SAS), {
    host: "myhub.azure-devices.net", deviceId: "dev1", sharedAccessSignature: SAS,
  });
});

test("ids with every character IoT Hub allows", () => {
  const id = "A-z.0%_*?!(),:=@$'";
  assert.is((parseConnectionString(H + "DeviceId=" + id + ";ModuleId=" + id + ";x509=true") as any).deviceId, id);
  assert.is((parseConnectionString(H + "DeviceId=" + "d".repeat(128) + ";x509=true") as any).deviceId.length, 128);
});

const cases: [string, number, string][] = [
  [H + "DeviceId;x509=true", E.E_CS_SYNTAX, "segment without '='"],
  [H + "=dev1;x509=true", E.E_CS_SYNTAX, "empty key"],
  ["DeviceId=dev1;x509=true", E.E_CS_HOST, "no HostName"],
  ["HostName=;DeviceId=dev1;x509=true", E.E_CS_HOST, "empty HostName"],
  ["", E.E_CS_HOST, "empty string"],
  [";;;", E.E_CS_HOST, "only separators"],
  [H + "x509=true", E.E_CS_DEVICE, "no DeviceId"],
  [H + "DeviceId=;x509=true", E.E_CS_DEVICE, "empty DeviceId"],
  [H + "DeviceId=a/b;x509=true", E.E_CS_DEVICE, "'/' in DeviceId"],
  [H + "DeviceId=a#;x509=true", E.E_CS_DEVICE, "'#' in DeviceId"],
  [H + "DeviceId=a+;x509=true", E.E_CS_DEVICE, "'+' in DeviceId"],
  [H + "DeviceId=a b;x509=true", E.E_CS_DEVICE, "space in DeviceId"],
  [H + "DeviceId=dé;x509=true", E.E_CS_DEVICE, "non-ASCII DeviceId"],
  [H + "DeviceId=" + "d".repeat(129) + ";x509=true", E.E_CS_DEVICE, "DeviceId of 129 characters"],
  [H + "DeviceId=dev1;ModuleId=;x509=true", E.E_CS_MODULE, "empty ModuleId"],
  [H + "DeviceId=dev1;ModuleId=m/1;x509=true", E.E_CS_MODULE, "'/' in ModuleId"],
  [H + "DeviceId=dev1", E.E_CS_CREDENTIAL, "no credential"],
  [H + "DeviceId=dev1;SharedAccessKey=" + KEY + ";x509=true", E.E_CS_CREDENTIAL, "key and x509"],
  [H + "DeviceId=dev1;SharedAccessKey=" + KEY + ";SharedAccessSignature=" + SAS, E.E_CS_CREDENTIAL, "key and signature"],
  [H + "DeviceId=dev1;SharedAccessSignature=" + SAS + ";x509=true", E.E_CS_CREDENTIAL, "signature and x509"],
  [H + "DeviceId=dev1;SharedAccessKeyName=device;x509=true", E.E_CS_CREDENTIAL, "key name without key"],
  [H + "DeviceId=dev1;SharedAccessKey=not base64!", E.E_CS_KEY, "key not base64"],
  [H + "DeviceId=dev1;SharedAccessKey=", E.E_CS_KEY, "empty key"],
  [H + "DeviceId=dev1;SharedAccessKey=A", E.E_CS_KEY, "key of bad length"],
  [H + "DeviceId=dev1;Foo=bar;x509=true", E.E_CS_UNKNOWN, "unknown key"],
  ["hostname=h;DeviceId=dev1;x509=true", E.E_CS_UNKNOWN, "keys are case-sensitive"],
  [H + "DeviceId=dev1;DeviceId=dev2;x509=true", E.E_CS_DUPLICATE, "DeviceId twice"],
  [H + H + "DeviceId=dev1;x509=true", E.E_CS_DUPLICATE, "HostName twice"],
  [H + "DeviceId=dev1;x509=false", E.E_CS_VALUE, "x509=false"],
  [H + "DeviceId=dev1;x509=", E.E_CS_VALUE, "x509 empty"],
  [H + "DeviceId=dev1;SharedAccessSignature=garbage", E.E_TOKEN, "signature without the prefix"],
  [H + "DeviceId=dev1;SharedAccessSignature=SharedAccessSignature sr=a&sig=b", E.E_TOKEN, "signature without se"],
];

for (const [s, code, what] of cases) {
  test("error: " + what, () => {
    assert.is(parseConnectionString(s), code);
  });
}

test.run();
