import { test } from "uvu";
import * as assert from "uvu/assert";
import { topicQuery, decimal, devicePath } from "../../src/iothub/topic";
import { E_HUB_TOPIC, E_PROPERTY } from "../../src/iothub/errors";

test("topicQuery splits segment and query", () => {
  assert.equal(topicQuery("$iothub/twin/res/200/?$rid=1", "$iothub/twin/res/"), ["200", { $rid: "1" }]);
  assert.equal(topicQuery("$iothub/twin/res/204/?$rid=1&$version=2", "$iothub/twin/res/"), ["204", { $rid: "1", $version: "2" }]);
  assert.equal(topicQuery("p/x/?", "p/"), ["x", {}]);
});

test("topicQuery: E_HUB_TOPIC when the topic does not match", () => {
  for (const t of ["", "$iothub/twin/res", "$iothub/twin/res/", "$iothub/twin/res/200", "$iothub/twin/res/200?$rid=1",
    "$iothub/twin/res//?$rid=1", "$iothub/twin/res/2/0/?$rid=1", "x$iothub/twin/res/200/?$rid=1", "$IOTHUB/twin/res/200/?$rid=1"]) {
    assert.is(topicQuery(t, "$iothub/twin/res/"), E_HUB_TOPIC, t);
  }
});

test("topicQuery: E_PROPERTY for a bad query", () => {
  assert.is(topicQuery("$iothub/twin/res/200/?$rid=%zz", "$iothub/twin/res/"), E_PROPERTY);
});

test("decimal", () => {
  assert.is(decimal("0"), 0);
  assert.is(decimal("204"), 204);
  assert.is(decimal("1700000000"), 1700000000);
  assert.is(decimal("007"), 7);
  for (const s of ["", null, undefined, "1e3", "-1", " 1", "1 ", "0x10", "1.5", "1234567890123456", "٣"]) assert.is(decimal(s), -1, String(s));
});

test("devicePath", () => {
  assert.is(devicePath("d1"), "devices/d1");
  assert.is(devicePath("d1", null), "devices/d1");
  assert.is(devicePath("d1", ""), "devices/d1");
  assert.is(devicePath("d1", "m1"), "devices/d1/modules/m1");
});

test.run();
