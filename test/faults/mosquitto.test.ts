// Fault injection against a real mosquitto with persistence: 1,000 QoS 1 messages from a publisher to a
// persistent-session subscriber, both through fault proxies (cuts at random bytes, resets, 1-byte
// fragments, delays, stalls), and the broker killed with SIGKILL and restarted halfway. None may be lost;
// duplicates (QoS 1 allows them) are counted and reported.
//
// The kill: mosquitto answers PUBACK before it writes its persistence file (autosave runs after the
// packet is handled), so a message it acknowledged in the last instant before SIGKILL is lost by the
// broker, whatever the client does (seen here: the messages acknowledged within ~1 ms of the kill). So the
// publisher's link is frozen (both ways, new connections too) for 1.2 s before the kill: everything the
// broker acknowledged is on disk by then, while the publisher keeps messages in flight that the broker
// never saw (they must be resent after the restart) and the subscriber has deliveries in flight.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { startFaultProxy } from "../helpers/faultproxy";
import { it, later, sleep, qos1Stream, report } from "./util";

it("1,000 QoS 1 messages through >= 20 faults and a broker kill -9 + restart: none lost", 60000, async () => {
  const broker: Mosquitto = await startMosquitto({ tls: false, persistence: true, extra: ["max_queued_messages 0", "max_inflight_messages 20"] });
  later(() => broker.stop());
  const pubPx = await startFaultProxy(broker.ports.mqtt);
  const subPx = await startFaultProxy(broker.ports.mqtt);
  later(() => pubPx.close());
  later(() => subPx.close());
  let killed = 0, unacked = 0;
  const r = await qos1Stream({
    count: 1000,
    minFaults: 22,
    pubPort: pubPx.port,
    subPort: subPx.port,
    proxies: [pubPx, subPx],
    topic: "faults/tcp",
    longStall: subPx,
    midway: async (inFlight) => {
      pubPx.hold(true);
      await sleep(1200);
      unacked = inFlight();
      await broker.kill9();
      killed++;
      await sleep(300);
      await broker.restart();
      pubPx.hold(false);
    },
    timeout: 45000,
  });
  console.log("  " + report("mosquitto (TCP, persistence, kill -9 + restart)", r) + `; ${unacked} unacknowledged messages queued in the publisher at the kill`);
  assert.is(killed, 1, "the broker was killed once");
  assert.ok(r.faults.hit >= 20, `at least 20 faults hit a connection (${r.faults.hit})`);
  assert.equal(r.ackErrors, [], "every publish acknowledged without error");
  assert.is(r.acked, 1000, "every message acknowledged");
  assert.equal(r.tally.lostList(), [], "none lost");
  assert.ok(r.pubConnects > 1 && r.subConnects > 1, "both clients reconnected");
  assert.ok(unacked > 0, "the publisher had messages in flight at the kill");
});

test.run();
