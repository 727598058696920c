import { test } from "uvu";
import * as assert from "uvu/assert";
import * as hub from "../../src/iothub/errors";
import * as core from "../../src/errors";

test("hub codes are distinct and in -40..-69, apart from the core codes", () => {
  const codes = Object.values(hub) as number[];
  assert.ok(codes.length >= 19);
  assert.is(new Set(codes).size, codes.length);
  for (const c of codes) assert.ok(Number.isInteger(c) && c <= -40 && c >= -69, String(c));
  const coreCodes = new Set<number>(Object.values(core));
  for (const c of codes) assert.not.ok(coreCodes.has(c), String(c));
});

test("the codes the brief names keep their numbers", () => {
  assert.is(hub.E_CS_SYNTAX, -40);
  assert.is(hub.E_CS_HOST, -41);
  assert.is(hub.E_CS_DEVICE, -42);
  assert.is(hub.E_CS_CREDENTIAL, -43);
  assert.is(hub.E_CS_KEY, -44);
  assert.is(hub.E_CS_UNKNOWN, -45);
  assert.is(hub.E_TOKEN_EXPIRED, -46);
  assert.is(hub.E_HUB_QOS2, -47);
  assert.is(hub.E_HUB_FILTER, -48);
  assert.is(hub.E_HUB_SIZE, -49);
  assert.is(hub.E_HUB_STATUS, -50);
  assert.is(hub.E_DPS_FAILED, -51);
  assert.is(hub.E_PROPERTY, -52);
});

test.run();
