// Token renewal in the sessions, on the fake clock: a signed SAS token lives 3600 s and is replaced 300 s before it
// expires. The MQTT device reconnects with a fresh token (its queue kept); the HTTPS device signs a fresh one for the
// next request; a fixed token that expires mid-session ends it with E_TOKEN_EXPIRED, not a reconnect loop.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createDevice, Device } from "../../src/sessions/device";
import { createHttpDevice } from "../../src/sessions/https";
import * as E from "../../src/iothub/errors";
import { FakeTransport, ManualClock } from "../helpers/fake";

const HOST = "myhub.azure-devices.net";
const KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const NOW = 1750000000;
const CONNACK = [0x20, 2, 0, 0];

/** Moves the fake time by `s` seconds a minute at a time, playing the hub: CONNACK, PINGRESP, SUBACK, PUBACK. */
function run(t: FakeTransport, clock: ManualClock, s: number) {
  for (let k = 0; k < s; k += 60) {
    clock.advance(Math.min(60, s - k) * 1000);
    if (!t.isOpen) continue;
    for (const p of t.take() as any[]) {
      if (p.cmd == "connect") t.send(CONNACK);
      else if (p.cmd == "pingreq") t.send([0xd0, 0]);
      else if (p.cmd == "subscribe") t.send([0x90, 3, p.messageId >> 8, p.messageId & 255, 1]);
      else if (p.cmd == "publish" && p.qos == 1) t.send([0x40, 2, p.messageId >> 8, p.messageId & 255]);
    }
  }
}

test("MQTT device: a signed token is renewed 300 s before expiry by reconnecting with a fresh one; queued telemetry kept", () => {
  const t = new FakeTransport(), clock = new ManualClock(), errors: number[] = [], closes: number[] = [];
  t.clock = clock;
  const time = () => NOW + clock.t / 1000;
  const d = createDevice({
    host: HOST, deviceId: "d", sharedAccessKey: KEY, tls: null, transport: t, clock, time, reconnect: { min: 10, max: 10 },
    onError: (e) => errors.push(e), onClose: (c) => closes.push(c),
  }) as Device;
  d.connect();
  const [c1] = t.take() as any[];
  assert.match(String(c1.password), new RegExp(`&se=${NOW + 3600}$`));
  t.send(CONNACK);
  run(t, clock, 3240);
  assert.is(t.opens.length, 1, "no reconnect before 3300 s");
  t.mode = "block"; // a message queued just before the renewal waits in the buffer
  assert.ok(d.sendEvent("kept", null) > 0);
  t.mode = "take";
  clock.advance(60 * 1000);
  assert.is(t.opens.length, 2, "reconnected at 3300 s");
  const pk = t.take() as any[];
  const c2 = pk.find((p) => p.cmd == "connect");
  assert.match(String(c2.password), new RegExp(`&se=${NOW + 3300 + 3600}$`), "a fresh token dated now");
  t.send(CONNACK);
  const after = t.take() as any[];
  assert.ok([...pk, ...after].some((p) => p.cmd == "publish" && Buffer.from(p.payload).toString() == "kept"), "the queued message is sent on the new connection");
  assert.equal(errors, []);
  run(t, clock, 3300);
  assert.is(t.opens.length, 3, "and again 3300 s later");
  d.end();
});

test("MQTT device: a fixed token that expires mid-session ends it with E_TOKEN_EXPIRED, no reconnect loop", () => {
  const t = new FakeTransport(), clock = new ManualClock(), errors: number[] = [];
  t.clock = clock;
  const time = () => NOW + clock.t / 1000;
  const sas = `SharedAccessSignature sr=${HOST}%2Fdevices%2Fd&sig=abc&se=${NOW + 600}`;
  const d = createDevice({ host: HOST, deviceId: "d", sharedAccessSignature: sas, tls: null, transport: t, clock, time, reconnect: { min: 10, max: 10 }, onError: (e) => errors.push(e) }) as Device;
  d.connect();
  t.take();
  t.send(CONNACK);
  run(t, clock, 1200);
  assert.equal(errors, [E.E_TOKEN_EXPIRED]);
  assert.is(t.opens.length, 1);
  assert.not.ok(t.isOpen);
});

test("HTTPS device: each request carries a token valid for it; one signed anew once 3300 s have passed", () => {
  const t = new FakeTransport(), clock = new ManualClock(), done: number[] = [];
  t.clock = clock;
  const time = () => NOW + clock.t / 1000;
  const d = createHttpDevice({ host: HOST, deviceId: "d", sharedAccessKey: KEY, tls: null, transport: t, clock, time });
  if (typeof d == "number") throw new Error(`createHttpDevice: ${d}`);
  // the token of each request, read as it is answered (a new connection starts a new record of what was written)
  const seen: number[] = [];
  const answer = () => {
    const m = [...Buffer.from(t.written).toString("latin1").matchAll(/Authorization: SharedAccessSignature [^\r]*&se=(\d+)\r\n/g)];
    seen.push(+m[m.length - 1][1]);
    t.send(Buffer.from("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"));
  };
  const tokens = () => seen;
  d.sendEvent("a", null, (e) => done.push(e));
  answer();
  clock.advance(3000 * 1000);
  d.sendEvent("b", null, (e) => done.push(e));
  answer();
  assert.equal(tokens(), [NOW + 3600, NOW + 3600], "the first token while it has more than 300 s left");
  clock.advance(301 * 1000);
  d.sendEvent("c", null, (e) => done.push(e));
  answer();
  assert.equal(done, [0, 0, 0]);
  const all = tokens();
  assert.is(all[all.length - 1], NOW + 3301 + 3600, "signed anew");
  d.end();
});

test.run();
