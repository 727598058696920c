// Message properties to HTTP headers and back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { propertyHeaders, headerProperty } from "../../src/iothub/httpheaders";
import { E_PROPERTY } from "../../src/iothub/errors";

test("application properties as iothub-app-{name}, system properties by their header, in the object's order", () => {
  assert.equal(propertyHeaders({ Color: "red", $messageId: "m", n: 1.5, ok: false, skip: undefined, $contentType: "application/json" }), [
    "iothub-app-Color", "red", "iothub-messageid", "m", "iothub-app-n", "1.5", "iothub-app-ok", "false", "iothub-contenttype", "application/json",
  ]);
  assert.equal(propertyHeaders({ $correlationId: "c", $userId: "u", $to: "t", $expiry: "e", $contentEncoding: "utf-8", $creationTime: "ct" }), [
    "iothub-correlationid", "c", "iothub-userid", "u", "iothub-to", "t", "iothub-expiry", "e", "iothub-contentencoding", "utf-8",
    "iothub-creationtimeutc", "ct",
  ]);
  assert.equal(propertyHeaders(null), []);
  assert.equal(propertyHeaders(undefined), []);
});

test("E_PROPERTY: a $ name without a header, an empty name, a value of another type", () => {
  for (const p of [{ $component: "x" }, { $outputName: "x" }, { $: "x" }, { $nope: "x" }, { "": "x" }, { k: NaN }, { k: Infinity }, { k: null }, { k: {} }]) {
    assert.is(propertyHeaders(p as any), E_PROPERTY, JSON.stringify(p));
  }
});

test("E_PROPERTY: what a header cannot carry as text, refused rather than garbled (names: RFC 7230 tokens; values: printable ASCII)", () => {
  for (const p of [{ "n\u00f6": "x" }, { "a b": "x" }, { "a:b": "x" }, { k: "n\u00f6ne" }, { k: "\u6e29\u5ea6" }, { k: "line\nbreak" }, { $messageId: "m\u00e9" }])
    assert.is(propertyHeaders(p as any), E_PROPERTY, JSON.stringify(p));
  assert.equal(propertyHeaders({ "x-y_z.1~!": "every printable ASCII: ~`^|{}[]", $messageId: "m-1" }), ["iothub-app-x-y_z.1~!", "every printable ASCII: ~`^|{}[]", "iothub-messageid", "m-1"]);
});

test("received headers: iothub-app-* by name, system headers by $ name, other iothub-* as they are, the rest null", () => {
  assert.is(headerProperty("iothub-app-color"), "color");
  assert.is(headerProperty("iothub-messageid"), "$messageId");
  assert.is(headerProperty("iothub-correlationid"), "$correlationId");
  assert.is(headerProperty("iothub-creationtimeutc"), "$creationTime");
  assert.is(headerProperty("iothub-contentencoding"), "$contentEncoding");
  assert.is(headerProperty("iothub-deliverycount"), "iothub-deliverycount");
  assert.is(headerProperty("iothub-enqueuedtime"), "iothub-enqueuedtime");
  assert.is(headerProperty("etag"), null);
  assert.is(headerProperty("content-type"), null);
  // round trip
  const h = propertyHeaders({ $messageId: "a", $to: "b", app: "c" }) as string[];
  const back: Record<string, string> = {};
  for (let i = 0; i < h.length; i += 2) back[headerProperty(h[i].toLowerCase())!] = h[i + 1];
  assert.equal(back, { $messageId: "a", $to: "b", app: "c" });
});

test.run();
