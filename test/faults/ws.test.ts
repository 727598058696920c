// The QoS 1 stream of mosquitto.test.ts over MQTT on WebSockets (wsTransport over TCP, mosquitto's
// websockets listener), both clients through fault proxies: the faults now cut WebSocket frames and
// HTTP upgrade exchanges at random bytes too. None may be lost; duplicates are counted.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { nodeTransport, wsTransport } from "../../targets/node/index";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { startFaultProxy } from "../helpers/faultproxy";
import { it, later, qos1Stream, report } from "./util";

it("400 QoS 1 messages over MQTT/WebSockets through >= 20 faults: none lost", 40000, async () => {
  const broker: Mosquitto = await startMosquitto({ tls: false, websockets: true, extra: ["max_queued_messages 0"] });
  later(() => broker.stop());
  const pubPx = await startFaultProxy(broker.ports.ws);
  const subPx = await startFaultProxy(broker.ports.ws);
  later(() => pubPx.close());
  later(() => subPx.close());
  const r = await qos1Stream({
    count: 400,
    minFaults: 20,
    pubPort: pubPx.port,
    subPort: subPx.port,
    transport: () => wsTransport(nodeTransport(), { path: "/mqtt" }),
    proxies: [pubPx, subPx],
    topic: "faults/ws",
    faultEvery: 150,
    timeout: 30000,
  });
  console.log("  " + report("mosquitto (MQTT over WebSockets)", r));
  assert.ok(r.faults.hit >= 20, `at least 20 faults hit a connection (${r.faults.hit})`);
  assert.equal(r.ackErrors, [], "every publish acknowledged without error");
  assert.is(r.acked, 400, "every message acknowledged");
  assert.equal(r.tally.lostList(), [], "none lost");
  assert.ok(r.pubConnects > 1 && r.subConnects > 1, "both clients reconnected");
});

test.run();
