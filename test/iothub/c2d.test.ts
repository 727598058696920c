import { test } from "uvu";
import * as assert from "uvu/assert";
import { c2dFilter, parseC2DTopic } from "../../src/iothub/c2d";
import { E_HUB_TOPIC, E_PROPERTY } from "../../src/iothub/errors";

test("subscription filters", () => {
  assert.is(c2dFilter("dev1"), "devices/dev1/messages/devicebound/#");
  assert.is(c2dFilter("dev1", "mod1"), "devices/dev1/modules/mod1/inputs/#");
});

test("a C2D topic as the hub sends it", () => {
  assert.equal(parseC2DTopic("devices/dev1/messages/devicebound/%24.mid=6a1e2b3c&%24.to=%2Fdevices%2Fdev1%2Fmessages%2FdeviceBound&%24.ct=application%2Fjson&iothub-ack=full&k1=v1&k2=&k3", "dev1"), {
    $messageId: "6a1e2b3c", $to: "/devices/dev1/messages/deviceBound", $contentType: "application/json", "iothub-ack": "full", k1: "v1", k2: "", k3: null,
  });
});

test("no properties", () => {
  assert.equal(parseC2DTopic("devices/dev1/messages/devicebound/", "dev1"), {});
});

test("module input message: the input name as $inputName", () => {
  assert.equal(parseC2DTopic("devices/dev1/modules/mod1/inputs/in1/%24.mid=1&a=b", "dev1", "mod1"), { $messageId: "1", a: "b", $inputName: "in1" });
  assert.equal(parseC2DTopic("devices/dev1/modules/mod1/inputs/in1/", "dev1", "mod1"), { $inputName: "in1" });
});

test("E_HUB_TOPIC for topics that are not this device's C2D", () => {
  const t: [string, string, string?][] = [
    ["", "dev1"], ["devices/dev1/messages/devicebound", "dev1"], ["devices/dev10/messages/devicebound/a=1", "dev1"],
    ["devices/dev1/messages/devicebound/a=1", "dev10"], ["devices/dev1/messages/events/a=1", "dev1"],
    ["$iothub/twin/res/200/?$rid=1", "dev1"], ["Devices/dev1/messages/devicebound/", "dev1"],
    ["devices/dev1/messages/devicebound/", "dev1", "mod1"], ["devices/dev1/modules/mod1/inputs/", "dev1", "mod1"],
    ["devices/dev1/modules/mod1/inputs/in1", "dev1", "mod1"], ["devices/dev1/modules/mod1/inputs//a=1", "dev1", "mod1"],
  ];
  for (const [topic, d, m] of t) assert.is(parseC2DTopic(topic, d, m), E_HUB_TOPIC, topic);
});

test("E_PROPERTY for a bad bag", () => {
  assert.is(parseC2DTopic("devices/dev1/messages/devicebound/a=%zz", "dev1"), E_PROPERTY);
  assert.is(parseC2DTopic("devices/dev1/messages/devicebound/=1", "dev1"), E_PROPERTY);
});

test.run();
