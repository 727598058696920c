// Keep-alive against a stalled link: the proxy stops forwarding at t0 without closing anything (no FIN,
// no RST), so only the keep-alive can notice. The client must close with E_KEEPALIVE by
// t0 + 1.5 x keep-alive (plus scheduling slack), then reconnect once the link is back.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createClient, errorName, E_KEEPALIVE } from "../../targets/node/index";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { startFaultProxy } from "../helpers/faultproxy";
import { it, later, sleep, until, SMALL_BACKOFF } from "./util";

const KEEPALIVE = 2; // seconds
const SLACK = 150; // ms: timer and event-loop scheduling

it("a stalled link is detected within 1.5 x keep-alive (3 trials at different phases, one with traffic)", 20000, async () => {
  const broker: Mosquitto = await startMosquitto({ tls: false });
  later(() => broker.stop());
  const trials = [
    { delay: 0, traffic: false },
    { delay: 700, traffic: false },
    { delay: 1300, traffic: true },
  ];
  const results = await Promise.all(trials.map(async (t, k) => {
    const px = await startFaultProxy(broker.ports.mqtt);
    later(() => px.close());
    const closes: { code: number; at: number }[] = [];
    let connects = 0;
    const c = createClient({
      host: "127.0.0.1", port: px.port, clientId: `ka-${k}-${process.pid}`, keepalive: KEEPALIVE, reconnect: SMALL_BACKOFF,
      onConnect: () => connects++,
      onClose: (code) => closes.push({ code, at: performance.now() }),
    });
    later(() => c.end());
    c.connect();
    await until(() => connects == 1, 5000, "CONNACK");
    // a while into the session, so the stall meets the keep-alive cycle at some phase
    await sleep(400 + t.delay);
    let pubs = 0;
    const traffic = t.traffic ? setInterval(() => { c.publish("ka/t", "x", 1); pubs++; }, 100) : null;
    if (traffic) later(() => clearInterval(traffic));
    await sleep(200);
    const t0 = performance.now();
    px.stall();
    await until(() => closes.length > 0, 1.5 * KEEPALIVE * 1000 + 2000, "the keep-alive to close the stalled link");
    if (traffic) clearInterval(traffic);
    const dt = closes[0].at - t0;
    // the link is back (the stall held only the old connection): the client reconnects
    await until(() => connects == 2, 3000, "a reconnect after the stall");
    return { k, code: closes[0].code, dt, pubs };
  }));
  const limit = 1.5 * KEEPALIVE * 1000;
  console.log(`  keep-alive ${KEEPALIVE} s: stall noticed after ${results.map((r) => `${r.dt.toFixed(0)} ms`).join(", ")} (limit ${limit} ms + ${SLACK} ms slack)`);
  for (const r of results) {
    assert.is(errorName(r.code), errorName(E_KEEPALIVE), `trial ${r.k}: closed with E_KEEPALIVE`);
    assert.ok(r.dt <= limit + SLACK, `trial ${r.k}: noticed after ${r.dt.toFixed(0)} ms`);
  }
});

test.run();
