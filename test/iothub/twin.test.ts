import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  TWIN_RES_FILTER, TWIN_DESIRED_FILTER, TWIN_RESPONSE, TWIN_DESIRED, twinGetTopic, twinPatchTopic, parseTwinTopic,
} from "../../src/iothub/twin";
import { E_HUB_TOPIC } from "../../src/iothub/errors";

test("filters and request topics (golden)", () => {
  assert.is(TWIN_RES_FILTER, "$iothub/twin/res/#");
  assert.is(TWIN_DESIRED_FILTER, "$iothub/twin/PATCH/properties/desired/#");
  assert.is(twinGetTopic(1), "$iothub/twin/GET/?$rid=1");
  assert.is(twinGetTopic("abc"), "$iothub/twin/GET/?$rid=abc");
  assert.is(twinPatchTopic(42), "$iothub/twin/PATCH/properties/reported/?$rid=42");
  assert.is(twinPatchTopic("a&b=c"), "$iothub/twin/PATCH/properties/reported/?$rid=a%26b%3Dc");
});

test("GET answer", () => {
  assert.equal(parseTwinTopic("$iothub/twin/res/200/?$rid=1"), { kind: TWIN_RESPONSE, status: 200, rid: "1", version: -1 });
});

test("reported PATCH answer: 204 with $version, parameters in any order, extra ones ignored", () => {
  assert.equal(parseTwinTopic("$iothub/twin/res/204/?$rid=7&$version=12"), { kind: TWIN_RESPONSE, status: 204, rid: "7", version: 12 });
  assert.equal(parseTwinTopic("$iothub/twin/res/204/?$version=12&$rid=7"), { kind: TWIN_RESPONSE, status: 204, rid: "7", version: 12 });
  assert.equal(parseTwinTopic("$iothub/twin/res/204/?x=1&$rid=7&y&$version=3"), { kind: TWIN_RESPONSE, status: 204, rid: "7", version: 3 });
});

test("error answers keep their status", () => {
  assert.equal(parseTwinTopic("$iothub/twin/res/429/?$rid=2"), { kind: TWIN_RESPONSE, status: 429, rid: "2", version: -1 });
  assert.equal(parseTwinTopic("$iothub/twin/res/500/?$rid=3"), { kind: TWIN_RESPONSE, status: 500, rid: "3", version: -1 });
});

test("rid round trip through the topic builders", () => {
  const rid = "a b&c";
  const sent = twinGetTopic(rid);
  const answer = "$iothub/twin/res/200/" + sent.substr(sent.indexOf("?"));
  assert.is((parseTwinTopic(answer) as any).rid, rid);
});

test("desired update", () => {
  assert.equal(parseTwinTopic("$iothub/twin/PATCH/properties/desired/?$version=5"), { kind: TWIN_DESIRED, status: 200, rid: "", version: 5 });
  assert.equal(parseTwinTopic("$iothub/twin/PATCH/properties/desired/?x=y&$version=6"), { kind: TWIN_DESIRED, status: 200, rid: "", version: 6 });
});

test("E_HUB_TOPIC for anything else", () => {
  for (const t of ["", "$iothub/twin/res", "$iothub/twin/res/", "$iothub/twin/res/200", "$iothub/twin/res/200/", "$iothub/twin/res/200/?",
    "$iothub/twin/res/abc/?$rid=1", "$iothub/twin/res/-1/?$rid=1", "$iothub/twin/res/200/?rid=1",
    "$iothub/twin/PATCH/properties/desired/", "$iothub/twin/PATCH/properties/desired/?", "$iothub/twin/PATCH/properties/desired/?$version=x",
    "$iothub/twin/PATCH/properties/reported/?$version=1", "$iothub/methods/POST/m/?$rid=1", "devices/d/messages/devicebound/",
    "$iothub/twin/GET/?$rid=1"]) {
    assert.is(parseTwinTopic(t), E_HUB_TOPIC, t);
  }
  assert.is(parseTwinTopic("$iothub/twin/res/200/?$rid=%zz"), E_HUB_TOPIC); // malformed is not-a-twin-topic here
});

test.run();
