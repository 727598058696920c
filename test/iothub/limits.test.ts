import { test } from "uvu";
import * as assert from "uvu/assert";
import * as L from "../../src/iothub/limits";

test("sizes in KB as the hub documents them", () => {
  assert.is(L.HUB_D2C_MAX, 256 * 1024);
  assert.is(L.HUB_C2D_MAX, 64 * 1024);
  assert.is(L.HUB_METHOD_MAX, 128 * 1024);
  assert.is(L.HUB_TWIN_MAX, 32 * 1024);
});

test("keep-alive: the largest whose 1.5x stays under the 1767 s cap; ours below it", () => {
  assert.ok(L.HUB_KEEPALIVE_MAX * 1.5 < 1767);
  assert.ok((L.HUB_KEEPALIVE_MAX + 1) * 1.5 >= 1767);
  assert.ok(L.HUB_KEEPALIVE > 0 && L.HUB_KEEPALIVE <= L.HUB_KEEPALIVE_MAX);
});

test("token renewal happens well inside the lifetime", () => {
  assert.ok(L.TOKEN_RENEW_BEFORE > 0 && L.TOKEN_RENEW_BEFORE * 4 <= L.TOKEN_LIFETIME);
  assert.is(L.HUB_MQTT_PORT, 8883);
  assert.ok(L.DPS_RETRY_AFTER >= 1);
});

test.run();
