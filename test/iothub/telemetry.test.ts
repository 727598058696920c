import { test } from "uvu";
import * as assert from "uvu/assert";
import { telemetryTopic } from "../../src/iothub/telemetry";
import { propertyBagParse } from "../../src/iothub/bag";
import { E_PROPERTY } from "../../src/iothub/errors";

const BASE = "devices/dev1/messages/events/";

test("no properties", () => {
  assert.is(telemetryTopic("dev1"), BASE);
  assert.is(telemetryTopic("dev1", null, {}), BASE);
  assert.is(telemetryTopic("dev1", null, null), BASE);
  assert.is(telemetryTopic("dev1", "mod1"), "devices/dev1/modules/mod1/messages/events/");
});

test("system and application properties, in the object's order (golden)", () => {
  assert.is(telemetryTopic("dev1", null, {
    $messageId: "m1", $correlationId: "c1", $contentType: "application/json", $contentEncoding: "utf-8", temp: 21.5, alert: true,
  }), BASE + "%24.mid=m1&%24.cid=c1&%24.ct=application%2Fjson&%24.ce=utf-8&temp=21.5&alert=true");
  assert.is(telemetryTopic("dev1", "mod1", { $userId: "u", $to: "/x", $expiry: "2030-01-01T00:00:00Z", $creationTime: "2024-01-01T00:00:00.000Z", $component: "thermostat1", $outputName: "out1" }),
    "devices/dev1/modules/mod1/messages/events/%24.uid=u&%24.to=%2Fx&%24.exp=2030-01-01T00%3A00%3A00Z&%24.ctime=2024-01-01T00%3A00%3A00.000Z&%24.sub=thermostat1&%24.on=out1");
});

test("injection attempts are percent-encoded: nothing after events/ can add a level, a wildcard, a key or a query", () => {
  const t = telemetryTopic("dev1", null, { "a/b&c=d#": "x/y+z#w?v$u&k=v é😀", "+": "#", "?q": "=" }) as string;
  assert.is(t, BASE + "a%2Fb%26c%3Dd%23=x%2Fy%2Bz%23w%3Fv%24u%26k%3Dv%20%C3%A9%F0%9F%98%80&%2B=%23&%3Fq=%3D");
  const bag = t.substr(BASE.length);
  for (const c of ["/", "#", "+", "?", "$", " "]) assert.not.ok(bag.includes(c), c);
  assert.is(bag.split("&").length, 3);
  assert.is(bag.split("=").length, 4);
  assert.equal(propertyBagParse(bag), { "a/b&c=d#": "x/y+z#w?v$u&k=v é😀", "+": "#", "?q": "=" });
});

test("round trip through propertyBagParse, system names included", () => {
  const props = { $messageId: "id 1", $contentType: "application/json", k: "", n: 0, b: false, "ключ": "значение" };
  assert.equal(propertyBagParse((telemetryTopic("d", null, props) as string).substr("devices/d/messages/events/".length)),
    { $messageId: "id 1", $contentType: "application/json", k: "", n: "0", b: "false", "ключ": "значение" });
});

test("an application property spelled like a wire system key stays an application property", () => {
  assert.is(telemetryTopic("dev1", null, { "%24.mid": "x" }), BASE + "%2524.mid=x");
});

test("undefined values are skipped", () => {
  assert.is(telemetryTopic("dev1", null, { a: undefined, $messageId: undefined, b: "1" }), BASE + "b=1");
});

test("E_PROPERTY: empty name, unknown or raw $ names, values not string/finite number/boolean", () => {
  const bad: any[] = [
    { "": "x" }, { $nope: "x" }, { "$.mid": "x" }, { $: "x" }, { $mid: "1" },
    { a: null }, { a: {} }, { a: [1] }, { a: NaN }, { a: Infinity }, { a: -Infinity }, { a: () => 1 }, { a: new Date(0) },
  ];
  for (const p of bad) assert.is(telemetryTopic("dev1", null, p), E_PROPERTY, JSON.stringify(Object.keys(p)));
});

test.run();
