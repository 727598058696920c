import { test } from "uvu";
import * as assert from "uvu/assert";
import { METHODS_FILTER, parseMethodTopic, methodResponseTopic } from "../../src/iothub/methods";
import { E_HUB_TOPIC } from "../../src/iothub/errors";

test("filter and response topic (golden)", () => {
  assert.is(METHODS_FILTER, "$iothub/methods/POST/#");
  assert.is(methodResponseTopic(200, "1"), "$iothub/methods/res/200/?$rid=1");
  assert.is(methodResponseTopic(404, "abc"), "$iothub/methods/res/404/?$rid=abc");
  assert.is(methodResponseTopic(500, "a/b"), "$iothub/methods/res/500/?$rid=a%2Fb");
});

test("method request", () => {
  assert.equal(parseMethodTopic("$iothub/methods/POST/reboot/?$rid=1"), { name: "reboot", rid: "1" });
  assert.equal(parseMethodTopic("$iothub/methods/POST/set-led_2/?x=1&$rid=ff"), { name: "set-led_2", rid: "ff" });
});

test("rid round trip", () => {
  const r = parseMethodTopic("$iothub/methods/POST/m/?$rid=a%20b") as { rid: string };
  assert.is(r.rid, "a b");
  assert.is(methodResponseTopic(200, r.rid), "$iothub/methods/res/200/?$rid=a%20b");
});

test("E_HUB_TOPIC for anything else", () => {
  for (const t of ["", "$iothub/methods/POST/", "$iothub/methods/POST/reboot", "$iothub/methods/POST/reboot/",
    "$iothub/methods/POST/reboot/?", "$iothub/methods/POST/reboot/?$rid=", "$iothub/methods/POST//?$rid=1", "$iothub/methods/POST/a/b/?$rid=1",
    "$iothub/methods/res/200/?$rid=1", "$iothub/twin/res/200/?$rid=1", "$iothub/methods/POST/m/?$rid"]) {
    assert.is(parseMethodTopic(t), E_HUB_TOPIC, t);
  }
});

test.run();
