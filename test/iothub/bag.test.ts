import { test } from "uvu";
import * as assert from "uvu/assert";
import { propertyBagParse } from "../../src/iothub/bag";
import { E_PROPERTY } from "../../src/iothub/errors";

test("empty bag", () => {
  assert.equal(propertyBagParse(""), {});
  assert.equal(propertyBagParse("&&"), {});
});

test("null for a key without '=', \"\" for 'key='", () => {
  assert.equal(propertyBagParse("a=1&b=&c"), { a: "1", b: "", c: null });
  assert.equal(propertyBagParse("c"), { c: null });
});

test("split on the first '=', empty segments skipped, the last repeat wins", () => {
  assert.equal(propertyBagParse("a=x=y&&b=2&"), { a: "x=y", b: "2" });
  assert.equal(propertyBagParse("a=1&a=2"), { a: "2" });
});

test("keys and values are percent-decoded", () => {
  assert.equal(propertyBagParse("k%20x=v%2B&n%C3%A4me=%E2%82%AC&p=a+b"), { "k x": "v+", "näme": "€", p: "a+b" });
});

test("system keys, $. or %24., become $ names; unknown ones stay", () => {
  assert.equal(
    propertyBagParse("%24.mid=42&$.cid=7&%24.to=%2Fdevices%2Fd1%2Fmessages%2FdeviceBound&iothub-ack=full&%24.xyz=1"),
    { $messageId: "42", $correlationId: "7", $to: "/devices/d1/messages/deviceBound", "iothub-ack": "full", "$.xyz": "1" },
  );
});

test("E_PROPERTY for an empty key or a bad escape", () => {
  for (const s of ["=v", "a=1&=2", "a=%zz", "%zz", "a=%", "%C3=1", "a=%C3"]) assert.is(propertyBagParse(s), E_PROPERTY, s);
});

test.run();
