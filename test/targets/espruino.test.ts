// The Espruino target's transport and clock, on a Node-side model of Espruino's sockets (binary strings,
// decimal-text writes of typed arrays, throwing clearTimeout), against a real mosquitto, plain and TLS.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { installEspruino, Model } from "../helpers/espruino-model";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { entry, CLIENT_VARS } from "../../targets/espruino/entry";
import { createClient as core } from "../../src/mqtt/client";
import type { Client, ClientOptions } from "../../src/mqtt/client";

// the Espruino MQTT entry as rollup.config.js generates it (dist/espruino/mqtt.js), from the sources
const createClient: (o: Omit<ClientOptions, "transport" | "clock"> & Partial<ClientOptions>) => Client | number = entry(core, CLIENT_VARS);
import { espruinoClock } from "../../targets/espruino/transport";

let broker: Mosquitto;
let model: Model;
const until = async (cond: () => boolean, ms = 5000, what = "condition") => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out: " + what);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test.before(async () => {
  broker = await startMosquitto({ tls: true });
});
test.after(async () => {
  model?.restore();
  await broker.stop();
});

test("the model reproduces Espruino: a Uint8Array written to a socket goes out as decimal text", () => {
  const m = installEspruino();
  const sent: string[] = [];
  const s = (globalThis as any).require("net").connect({ host: "127.0.0.1", port: 9 }, () => {});
  s.on("error", () => {});
  m.written.length = 0;
  s.write(new Uint8Array([16, 2, 0, 255]));
  sent.push(...m.written);
  s.end();
  m.restore();
  assert.equal(sent, ["16,2,0,255"]);
});

async function session(tls: boolean) {
  model = installEspruino();
  const got: { topic: string; bytes: number[]; offset: number; total: number }[] = [];
  let up = 0;
  const c = <Client>createClient({
    host: "127.0.0.1", port: tls ? broker.ports.tls : broker.ports.mqtt, tls: tls ? { ca: broker.caPem } : null,
    clientId: "espruino-model-" + (tls ? "tls" : "tcp"), bufferSize: 1024, rxSize: 256,
    onConnect: () => up++,
    onMessage: (topic, p, info) => got.push({ topic, bytes: Array.from(p), offset: info.offset, total: info.total }),
  });
  c.connect();
  try {
    await exchange();
  } finally {
    await new Promise<void>((r) => c.end(r));
    model.restore();
  }
  async function exchange() {
  await until(() => up == 1, 5000, "connect");
  const acked: number[] = [];
  c.subscribe("esp/#", 1, (e) => acked.push(e));
  await until(() => acked.length == 1, 3000, "suback");
  // every byte value, including 0 and >= 0x80, survives the binary-string conversions both ways
  const all = new Uint8Array(256).map((_, i) => i);
  c.publish("esp/bin", all, 1, false, (e) => acked.push(e));
  c.publish("esp/utf8", "héllo ✓", 1, false, (e) => acked.push(e));
  await until(() => got.filter((g) => g.topic == "esp/utf8").length == 1 && acked.length == 3, 3000, "round trip");
  const bin = got.filter((g) => g.topic == "esp/bin");
  const joined = ([] as number[]).concat(...bin.map((g) => g.bytes));
  assert.equal(joined, Array.from(all), "256 bytes in chunks of the 256-byte receive region");
  assert.ok(bin.every((g) => g.total == 256));
  assert.equal(Buffer.from(got.find((g) => g.topic == "esp/utf8")!.bytes).toString(), "héllo ✓");
  // nothing was ever written as decimal text: the adapter converted every frame with E.toString
  assert.ok(model.written.length > 3);
  assert.ok(model.written.every((w) => !/^\d+(,\d+)+$/.test(w)));
  }
}

test("an MQTT session through the Espruino adapter over plain TCP", () => session(false));
test("an MQTT session through the Espruino adapter over TLS (ca as Espruino takes it)", () => session(true));

test("the entry leaves the caller's options as they were: the board's transport and clock go into a copy", () => {
  const m = installEspruino();
  const o = { host: "127.0.0.1", port: 9, clientId: "x", reconnect: false as const };
  const c = createClient(o) as Client;
  m.restore();
  assert.type(c, "object");
  assert.equal(Object.keys(o), ["host", "port", "clientId", "reconnect"]);
});

test("the clock survives Espruino's clearTimeout throws (cleared twice, already fired, undefined)", async () => {
  const m = installEspruino();
  let fired = 0;
  const t = espruinoClock.set(() => fired++, 1);
  await new Promise((r) => setTimeout(r, 20));
  espruinoClock.clear(t);
  espruinoClock.clear(undefined);
  const t2 = espruinoClock.set(() => fired++, 50);
  espruinoClock.clear(t2);
  espruinoClock.clear(t2);
  await new Promise((r) => setTimeout(r, 80));
  m.restore();
  assert.is(fired, 1);
});

test("espruinoClock.now() only moves forward: Date.now()'s steps count, its jumps (setTime, SNTP) do not", () => {
  const real = Date.now;
  let t = 0;
  Date.now = () => t;
  try {
    const at = (ms: number) => ((t = ms), espruinoClock.now());
    const a = at(1000); // boot: 1970
    assert.is(at(1250) - a, 250, "a step counts");
    assert.is(at(1_750_000_000_000) - a, 250, "SNTP sets the date: no jump");
    assert.is(at(1_750_000_030_000) - a, 30250, "steps after it count");
    assert.is(at(1_750_000_000_000) - a, 30250, "a step back is none");
    assert.is(at(1_750_000_001_000) - a, 31250);
  } finally {
    Date.now = real;
  }
});

test.run();
