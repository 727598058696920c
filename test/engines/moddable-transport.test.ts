// targets/moddable/transport.ts (inside dist/moddable/mqtt.js), and classic.ts for the deferred close, in
// Moddable XS: reconnecting while the transport still has a DNS lookup or a deferred close in flight.
// Timer expiries are held back by the bridge (host.hold) to put the events in the order a board can meet them.
// Bounds of 20 s: the first test starts mosquitto and xsnap (5 s on a busy machine) inside its bound.
// Run: npx tsx node_modules/uvu/bin.js test/engines "\.test\.ts$"
import { test } from "uvu";
import * as assert from "uvu/assert";
import { startXSEngine } from "../../tools/engines/index.js";
import type { XSEngine } from "../../tools/engines/index.js";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { bounded, until, once } from "./scenarios";

let broker: Mosquitto | null = null;
const engines: XSEngine[] = [];
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function engine(extra: string[] = []): Promise<XSEngine> {
  const e = await startXSEngine({ entry: "mqtt", extra });
  engines.push(e);
  return e;
}

const setup = once(async () => {
  broker = await startMosquitto({ tls: false });
});

test.after(async () => {
  for (const e of engines) await e.close().catch(() => {});
  if (broker) await broker.stop();
});

test("reconnect() during the DNS lookup: one socket, none left after end()", bounded(20000, async () => {
  await setup();
  const e = await engine();
  // "localhost" goes through device.network.dns; reconnect() comes before the lookup answers
  await e.eval(`var c = tinyhub.createClient(S.mqttEvents({ host: "localhost", port: ${broker!.ports.mqtt}, clientId: "xs-dns-${process.pid}", ` +
    `reconnect: false, keepalive: 30 })); c.connect(); c.reconnect(); 1`);
  await e.host.until("connect");
  await sleep(200);
  const connected = await e.eval("Bridge.pending().sockets");
  await e.eval(`c.end(S.done("ended"))`);
  await e.host.until("ended");
  await sleep(200);
  const left = await e.eval("Bridge.pending().sockets");
  assert.equal([connected, left], [1, 0], `sockets while connected / after end(): ${connected} / ${left} (the first lookup's answer opened a socket nobody closes)`);
}));

for (const [name, io] of [["", ""], [" (classic Socket)", ", transport: tinyhub.moddableClassicTransport()"]]) test(`a broken link's deferred onClose does not end the connection that replaced it${name}`, bounded(20000, async () => {
  await setup();
  const e = await engine(io ? ["classic"] : []);
  await e.eval(`var c = tinyhub.createClient(S.mqttEvents({ host: "127.0.0.1", port: ${broker!.ports.mqtt}, clientId: "xs-stale${io ? "c" : ""}-${process.pid}", ` +
    `reconnect: { min: 5000, max: 5000 }, keepalive: 30${io} })); c.connect(); 1`);
  await e.host.until("connect");
  e.host.hold(true); // the transport's Timer.set(() => onClose(code), 0) waits
  assert.ok(e.host.drop(), "a link to break");
  await until(() => e.host.live().sockets == 0, 2000, "the socket to go");
  for (let i = 0; i < 100 && (await e.eval("Bridge.pending().sockets")) != 0; i++) await sleep(10);
  // the application reconnects before the transport's deferred close has run
  await e.eval("c.reconnect(); 1");
  // the broken socket's close arrives now, before the new socket opens (the transport opens from a timer too)
  e.host.hold(false);
  await e.host.until("connect", 3000, () => e.host.reports.filter((r) => r.name == "connect").length == 2);
  await sleep(300);
  const state = { connected: await e.eval("c.connected()"), sockets: (await e.eval("Bridge.pending()")).sockets };
  await e.eval("c.end()");
  assert.equal(state, { connected: true, sockets: 1 }, "the new connection is still up");
}));

test.run();
