import { test } from "uvu";
import * as assert from "uvu/assert";
import { DPS_RES_FILTER, dpsRegisterTopic, dpsPollTopic, dpsRegisterBody, parseDpsTopic, parseDpsResponse } from "../../src/iothub/dps";
import { E_HUB_TOPIC, E_HUB_JSON } from "../../src/iothub/errors";

const OP = "4.d0a671905ea5b2c8.e7173b7b-0e54-4aa0-9d20-aeb1b89e6c7d";

test("topics (golden)", () => {
  assert.is(DPS_RES_FILTER, "$dps/registrations/res/#");
  assert.is(dpsRegisterTopic(1), "$dps/registrations/PUT/iotdps-register/?$rid=1");
  assert.is(dpsPollTopic(2, OP), "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=" + OP);
  assert.is(dpsPollTopic("x", "a&b"), "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=x&operationId=a%26b");
});

test("register body", () => {
  assert.is(dpsRegisterBody("reg-1"), '{"registrationId":"reg-1"}');
  assert.is(dpsRegisterBody("reg-1", { modelId: "dtmi:com:example:Thermostat;1" }), '{"registrationId":"reg-1","payload":{"modelId":"dtmi:com:example:Thermostat;1"}}');
  assert.is(dpsRegisterBody('a"b', null), '{"registrationId":"a\\"b","payload":null}');
});

test("answer topics", () => {
  assert.equal(parseDpsTopic("$dps/registrations/res/202/?$rid=1&retry-after=3"), { status: 202, rid: "1", retryAfter: 3 });
  assert.equal(parseDpsTopic("$dps/registrations/res/202/?retry-after=5&$rid=1"), { status: 202, rid: "1", retryAfter: 5 });
  assert.equal(parseDpsTopic("$dps/registrations/res/200/?$rid=2"), { status: 200, rid: "2", retryAfter: 0 });
  assert.equal(parseDpsTopic("$dps/registrations/res/401/?$rid=3&retry-after=x"), { status: 401, rid: "3", retryAfter: 0 });
});

test("answer topics: E_HUB_TOPIC for anything else", () => {
  for (const t of ["", "$dps/registrations/res/", "$dps/registrations/res/202", "$dps/registrations/res/202/?retry-after=3",
    "$dps/registrations/res/abc/?$rid=1", "$dps/registrations/PUT/iotdps-register/?$rid=1", "$iothub/twin/res/200/?$rid=1"]) {
    assert.is(parseDpsTopic(t), E_HUB_TOPIC, t);
  }
});

test("assigning, then assigned (Embedded C SDK's sample answers)", () => {
  assert.equal(parseDpsResponse('{"operationId":"' + OP + '","status":"assigning"}'), { operationId: OP, status: "assigning", assignedHub: "", deviceId: "" });
  assert.equal(parseDpsResponse('{"operationId":"' + OP + '","status":"assigned","registrationState":{"x509":{},"registrationId":"paho-sample-device1",' +
    '"createdDateTimeUtc":"2020-04-10T03:11:13.0276997Z","assignedHub":"contoso.azure-devices.net","deviceId":"paho-sample-device1","status":"assigned",' +
    '"substatus":"initialAssignment","lastUpdatedDateTimeUtc":"2020-04-10T03:11:13.2096201Z","etag":"IjYxMDA4ZDQ2LTAwMDAtMDEwMC0wMDAwLTVlOGZlM2QxMDAwMCI="}}'),
    { operationId: OP, status: "assigned", assignedHub: "contoso.azure-devices.net", deviceId: "paho-sample-device1" });
});

test("errors: an error answer, a failed registration", () => {
  assert.equal(parseDpsResponse('{"errorCode":401002,"trackingId":"8ad0463c","message":"Invalid certificate.","timestampUtc":"2020-04-10T05:24:22.4718526Z"}'),
    { operationId: "", status: "failed", assignedHub: "", deviceId: "", errorCode: 401002, message: "Invalid certificate." });
  assert.equal(parseDpsResponse('{"operationId":"' + OP + '","status":"failed","registrationState":{"registrationId":"r","status":"failed","errorCode":400207,"errorMessage":"Custom allocation failed"}}'),
    { operationId: OP, status: "failed", assignedHub: "", deviceId: "", errorCode: 400207, message: "Custom allocation failed" });
});

test("E_HUB_JSON for bad JSON or an answer without operationId/status or error; never throws", () => {
  for (const s of ["", "{", "null", "42", '"str"', "[]", "{}", '{"status":"assigned"}', '{"operationId":"x"}', "\u0000", '{"registrationState":null}']) {
    assert.is(parseDpsResponse(s), E_HUB_JSON, s);
  }
  let seed = 1;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const src = '{"operationId":"op","status":"assigned","registrationState":{"assignedHub":"h","deviceId":"d"}}';
  for (let i = 0; i < 2000; i++) {
    const a = src.split("");
    for (let j = 0; j < 3; j++) a[(rnd() * a.length) | 0] = String.fromCharCode((rnd() * 128) | 0);
    const r = parseDpsResponse(a.join(""));
    assert.ok(typeof r == "number" || typeof r.status == "string");
  }
});

test.run();
