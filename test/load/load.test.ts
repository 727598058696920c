// Smoke-size load run (the full one: `tsx test/load/load.ts`, 1,000 clients for 30 s): 50 device
// clients in this process against mosquitto and against the hub emulator over MQTT/TLS, 3 s of QoS 1
// telemetry at 1 message per client per second. Everything connects, every message is acknowledged
// and counted on the far side, nothing reports an error, the emulator holds.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runLoad, table } from "./load";

test("50 clients for 3 s against mosquitto and the hub emulator: all connected, all acknowledged, no errors", async () => {
  let timer: NodeJS.Timeout | undefined;
  const rs = await Promise.race([
    runLoad({ clients: 50, seconds: 3, rate: 1, log: () => {} }),
    new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error("load smoke run: timed out after 60 s")), 60000); }),
  ]).finally(() => clearTimeout(timer));
  console.log(table(rs).split("\n").map((l) => "  " + l).join("\n"));
  for (const r of rs) {
    assert.is(r.connected, 50, `${r.target}: all connected`);
    assert.equal(r.errors, {}, `${r.target}: no errors`);
    assert.equal(r.closes, {}, `${r.target}: no connection lost`);
    assert.is(r.serverErrors, 0, `${r.target}: the server reported no errors ${r.serverErrorSamples}`);
    assert.ok(r.sent >= 100, `${r.target}: ~150 messages sent (${r.sent})`);
    assert.is(r.acked, r.sent, `${r.target}: every message acknowledged`);
    assert.is(r.received, r.acked, `${r.target}: every acknowledged message counted on the far side`);
    assert.ok(r.serverConnected == -1 || r.serverConnected == 50, `${r.target}: the server still had them all (${r.serverConnected})`);
  }
});

test.run();
