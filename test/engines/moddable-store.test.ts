// The Moddable store in the real Moddable runtime (SDK 8.2.3's XS built for the host, `file` module of the Linux
// build): the shipped dist/moddable/mqtt-store.js, preloaded as the generated manifest preloads it, keeps the
// queue of an MQTT client in two files (targets/moddable/store.ts). The app (tools/engines/moddable-main.js,
// scenario "store") publishes numbered QoS 1 messages. A power cut is SIGKILL of the process; the next run
// over the same files starts after the last message whose publish returned. First while the broker is
// unreachable (everything queued only in the files), then at random points of a session against mosquitto.
// A subscriber here counts what the broker delivers: none lost, first deliveries in order, duplicates counted.
// The control, without a store, must lose the messages queued before its cut.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp, launch } from "../../tools/engines/moddable.js";
import { buildModdable } from "../../tools/engines/moddable-build.js";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { createClient, errorName, E_STORE_BAD, E_CLOSED, E_TRANSPORT, E_KEEPALIVE } from "../../targets/node/index";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const COUNT = 80, KILLS = 3, E_OUTBOX_FULL = -20;
let broker: Mosquitto | null = null;
const dir = mkdtempSync(join(tmpdir(), "tinyhub-md-store-"));

test.before(async () => {
  broker = await startMosquitto({ tls: false });
});
test.after(async () => {
  if (broker) await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

test(`mqtt-store.js: ${COUNT} QoS 1 messages, queued while the broker is away, then ${KILLS} power cuts at random points: none lost, order kept`, async () => {
  await buildModdable({ log: (s) => process.stderr.write(`moddable: ${s}`) });
  const app = await buildApp({ manifest: "manifest.json" });
  const topic = `mdstore/${process.pid}`, path = join(dir, "ob");
  const seen = new Map<number, number>(), first: number[] = [];
  let subUp = false;
  const sub = createClient({
    host: "127.0.0.1", port: broker!.ports.mqtt, clientId: "md-store-sub-" + process.pid, clean: false, reconnect: { min: 50, max: 300 },
    onConnect: () => (subUp = true),
    onMessage: (_t, p) => {
      const n = +Buffer.from(p).toString(), k = seen.get(n) || 0;
      seen.set(n, k + 1);
      if (!k) first.push(n);
    },
  });
  sub.connect();
  let run: ReturnType<typeof launch> | null = null;
  try {
    for (const end = Date.now() + 5000; !subUp; await sleep(5)) if (Date.now() > end) throw new Error("subscriber: no CONNACK");
    await new Promise<void>((res, rej) => sub.subscribe(topic, 1, (e) => (e ? rej(new Error(errorName(e))) : res())));

    let next = 0;
    const errors: number[] = [], expected = [E_STORE_BAD, E_CLOSED, E_TRANSPORT, E_KEEPALIVE, E_OUTBOX_FULL];
    const start = (port: number, connect: boolean) => {
      const r = launch(app, { timeoutMs: 60000 });
      const from = next;
      r.until("ready", 10000).then(() => r.send({ scenario: "store", host: "127.0.0.1", port, id: "md-store", path, topic, from, to: COUNT, connect }), () => {});
      return r;
    };
    const progress = (r: ReturnType<typeof launch>) => {
      for (const x of r.reports) {
        if (x.ev == "q") next = Math.max(next, x.n + 1);
        if (x.ev == "error" && !errors.includes(x.code)) errors.push(x.code);
      }
      const abort = r.abort();
      if (abort) throw new Error(`the app aborted: ${JSON.stringify(abort)}\n${r.output().slice(-1500)}`);
    };
    const cut = async (r: ReturnType<typeof launch>) => {
      r.kill();
      await r.exited;
      progress(r);
    };

    // 1. the broker away: the messages go into the files until the outbox is full; then the power goes
    run = start(1, false);
    await run.until("q", 15000, (x) => x.n >= 0);
    await sleep(500);
    await cut(run);
    const queuedOffline = next;
    assert.ok(queuedOffline > 3, `queued while offline: ${queuedOffline}`);
    assert.is(first.length, 0, "nothing could have reached the broker");

    // 2. power cuts at random points of a session against mosquitto
    const points = Array.from({ length: KILLS }, () => queuedOffline + 1 + Math.floor(Math.random() * (COUNT - queuedOffline - 1))).sort((a, b) => a - b);
    const restored: number[] = [];
    for (const point of points) {
      run = start(broker!.ports.mqtt, true);
      for (const end = Date.now() + 30000; next <= point; await sleep(2)) {
        progress(run);
        if (run.reports.some((x) => x.ev == "queued")) break;
        if (Date.now() > end) throw new Error(`no progress to ${point}: ${run.output().slice(-1500)}`);
      }
      await sleep(Math.random() * 30);
      await cut(run);
      restored.push(next);
    }
    run = start(broker!.ports.mqtt, true);
    for (const end = Date.now() + 40000; first.length < COUNT && Date.now() < end; ) await sleep(20);
    await sleep(300);
    await cut(run);
    run = null;

    const missing = Array.from({ length: COUNT }, (_, i) => i).filter((i) => !seen.has(i));
    assert.equal(missing, [], `lost: ${missing.join(",")}`);
    assert.equal(first, Array.from({ length: COUNT }, (_, i) => i), "first deliveries in order");
    assert.equal(errors.filter((e) => !expected.includes(e)), [], `errors: ${errors.map(errorName).join(", ")}`);
    const dups = [...seen.values()].reduce((a, k) => a + k - 1, 0);
    const files = readdirSync(dir).filter((f) => f.startsWith("ob"));
    assert.ok(files.length >= 1 && files.length <= 2, `the log's slot files: ${files.join(", ")}`);
    console.log(`  Moddable store: ${COUNT} messages, ${queuedOffline} queued offline, cuts after ${restored.join(", ")}: 0 lost, 0 out of order, ${dups} duplicates; slot files ${files.join(", ")}`);
  } finally {
    run?.kill();
    sub.end();
  }
});

test("control: the same app without a store loses what was queued when the power went", async () => {
  const app = await buildApp({ manifest: "manifest.json" });
  const topic = `mdstore/none/${process.pid}`;
  const got: number[] = [];
  let subUp = false;
  const sub = createClient({
    host: "127.0.0.1", port: broker!.ports.mqtt, clientId: "md-nostore-sub-" + process.pid, clean: true, reconnect: false,
    onConnect: () => (subUp = true),
    onMessage: (_t, p) => got.push(+Buffer.from(p).toString()),
  });
  sub.connect();
  const runs: ReturnType<typeof launch>[] = [];
  try {
    for (const end = Date.now() + 5000; !subUp; await sleep(5)) if (Date.now() > end) throw new Error("subscriber: no CONNACK");
    await new Promise<void>((res, rej) => sub.subscribe(topic, 1, (e) => (e ? rej(new Error(errorName(e))) : res())));
    const go = async (o: object) => {
      const r = launch(app, { timeoutMs: 30000 });
      runs.push(r);
      await r.until("ready", 10000);
      r.send({ scenario: "store", host: "127.0.0.1", id: "md-nostore", path: join(dir, "none"), topic, to: 10, noStore: true, ...o });
      return r;
    };
    let r = await go({ port: 1, from: 0, connect: false });
    await r.until("q", 10000, (x) => x.n == 9);
    r.kill();
    await r.exited;
    r = await go({ port: broker!.ports.mqtt, from: 10, to: 12, connect: true });
    await r.until("ack", 10000, (x) => x.n == 11);
    await sleep(200);
    assert.equal(got, [10, 11], "the ten queued before the cut are gone");
  } finally {
    for (const r of runs) r.kill();
    sub.end();
  }
});

test.run();
