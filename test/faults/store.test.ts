// Power cuts on Node: 1,000 QoS 1 messages from a device process with a file store (targets/node/store.ts, fsync on
// every write), killed with SIGKILL at 20 random points and restarted over the same file, through a real mosquitto.
// None may be lost; the order of first deliveries is kept; duplicates (resent after a restart: they may have gone out
// before the kill) are counted and reported. The short version (3 kills, 200 messages) is in
// test/targets/node-store.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { killRun, killReport } from "../helpers/killrun";
import { it, later } from "./util";

it("1,000 QoS 1 messages, the device killed -9 at 20 random points and restarted: none lost, order kept", 180000, async () => {
  const broker: Mosquitto = await startMosquitto({ tls: false });
  later(() => broker.stop());
  const r = await killRun({ port: broker.ports.mqtt, count: 1000, kills: 20, timeout: 170000 });
  console.log("  file store, fsync: " + killReport(r));
  assert.is(r.kills, 20);
  assert.equal(r.lost, [], "none lost");
  assert.is(r.outOfOrder, 0, "first deliveries in order");
  assert.ok(r.restored.some((n) => n > 0), "some kills found unacknowledged messages in the store");
});

test.run();
