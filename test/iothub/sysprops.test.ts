import { test } from "uvu";
import * as assert from "uvu/assert";
import { sysWire, sysName } from "../../src/iothub/sysprops";

const TABLE: [string, string][] = [
  ["$messageId", "%24.mid"], ["$correlationId", "%24.cid"], ["$userId", "%24.uid"], ["$to", "%24.to"],
  ["$expiry", "%24.exp"], ["$contentType", "%24.ct"], ["$contentEncoding", "%24.ce"],
  ["$creationTime", "%24.ctime"], ["$component", "%24.sub"], ["$outputName", "%24.on"],
];

test("every system property has its wire key and back", () => {
  for (const [name, wire] of TABLE) {
    assert.is(sysWire(name), wire);
    assert.is(sysName("$." + wire.substr(4)), name);
  }
});

test("sysWire: \"\" for names that are not system properties", () => {
  for (const s of ["$nope", "messageId", "$", "", "$.mid", "%24.mid", "$mid", "$MessageId"]) assert.is(sysWire(s), "", s);
});

test("sysName: other keys unchanged", () => {
  for (const s of ["mid", "$.xyz", "$.", "$", "", "iothub-ack", "$mid", "%24.mid", "$.MID"]) assert.is(sysName(s), s, s);
});

test.run();
