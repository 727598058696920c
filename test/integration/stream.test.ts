// Streamed messages end to end: a 2 KB client sends a 300,000-byte message read from a source, through a real
// mosquitto to a subscriber that receives it in chunks; an IoT Hub device sends 200,000 bytes of telemetry from a
// source to the hub emulator, which stores it whole. The same bytes arrive, in order; nothing was held in the buffer.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-ignore the emulator is JavaScript without declarations
import { startHub } from "../../tools/hub/index.js";
import { createClient, createDevice, Client, PayloadSource, errorName } from "../../targets/node/index";
import type { Device } from "../../targets/node/index";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { E_HUB_SIZE } from "../../src/iothub/errors";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms: number, what: string) {
  for (const end = Date.now() + ms; !cond(); await sleep(10)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

/** `size` bytes of a pattern; reads counted. */
function source(size: number): PayloadSource & { reads: number } {
  const s = {
    size,
    reads: 0,
    read(pos: number, buf: Uint8Array, off: number, len: number) {
      s.reads++;
      for (let i = 0; i < len; i++) buf[off + i] = ((pos + i) * 13 + ((pos + i) >> 8)) & 255;
      return len;
    },
  };
  return s;
}
const expected = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + (i >> 8)) & 255));

let broker: Mosquitto;
const clients: Client[] = [];
test.before(async () => {
  broker = await startMosquitto();
});
test.after(async () => {
  for (const c of clients) c.end();
  await broker.stop();
});

test("a 300,000-byte QoS 1 message from a 2 KB client through mosquitto arrives whole at a 2 KB subscriber", async () => {
  const got = Buffer.alloc(300000);
  let total = -1, bytes = 0, subscribed = false, acked = -1;
  const sub = createClient({
    host: "127.0.0.1", port: broker.ports.mqtt, clientId: "stream-sub", bufferSize: 2048,
    onConnect: () => sub.subscribe("stream/big", 1, () => (subscribed = true)),
    onMessage: (_t, p, info) => {
      got.set(p, info.offset);
      bytes += p.length;
      total = info.total;
    },
  });
  clients.push(sub);
  sub.connect();
  await until(() => subscribed, 5000, "SUBACK");
  const errors: number[] = [];
  const pub = createClient({ host: "127.0.0.1", port: broker.ports.mqtt, clientId: "stream-pub", bufferSize: 2048, onError: (e) => errors.push(e) });
  clients.push(pub);
  pub.connect();
  const src = source(300000);
  assert.ok(pub.publish("stream/big", src, 1, false, (e) => (acked = e)) > 0);
  await until(() => acked >= 0 && bytes >= 300000, 15000, "the whole message");
  assert.equal([acked, total, bytes, errors.map(errorName)], [0, 300000, 300000, []]);
  assert.ok(got.equals(expected(300000)), "the same bytes");
  assert.ok(src.reads >= 300000 / 256, `read in chunks (${src.reads} reads)`);
});

test("IoT Hub: 200,000 bytes of telemetry from a source, from a 2 KB device, stored whole by the emulator", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-stream-"));
  const hub = await startHub({ dir, log: false, plainPort: null });
  let d: Device | null = null;
  try {
    hub.registry.addDevice("streamer");
    let connected = false, acked = -1;
    const r = createDevice({
      connectionString: hub.registry.connectionString("streamer"), port: hub.ports.mqtts, tls: { ca: hub.ca }, bufferSize: 2048,
      onConnect: () => (connected = true),
    });
    if (typeof r == "number") throw new Error(errorName(r));
    d = r;
    d.connect();
    await until(() => connected, 5000, "connect");
    assert.ok(d.sendEvent(source(200000), { kind: "blob" }, (e) => (acked = e)) > 0);
    await until(() => acked >= 0, 15000, "PUBACK");
    assert.is(acked, 0);
    const m = hub.telemetry.find((t: any) => t.deviceId == "streamer")!;
    assert.ok(m.body.equals(expected(200000)), "stored whole");
    assert.equal(m.properties, { kind: "blob" });
    // the hub's limit counts a source's size
    assert.is(d.sendEvent(source(262145), null), E_HUB_SIZE);
  } finally {
    d?.end();
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
