// The sessions the engine tests run, the same for every engine: a full MQTT session against a real
// mosquitto and a full IoT Hub session against the hub emulator, driven from here through small
// snippets evaluated inside the engine (test/engines/session.es5.js reports what the callbacks saw).
// Each step is one uvu test, bounded in time; a step after a failed one fails too (never skips).
import * as assert from "uvu/assert";
import mqtt from "mqtt";
import type { MqttClient } from "mqtt";
import type { Engine } from "../../tools/engines/index.js";
import type { Mosquitto } from "../helpers/mosquitto";

export interface Step { name: string; ms: number; run: () => Promise<void> }

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const j = JSON.stringify;

/** S.sum in the engine: (s * 31 + byte) >>> 0. */
export function sum(u: Uint8Array): number {
  let s = 0;
  for (const b of u) s = (Math.imul(s, 31) + b) >>> 0;
  return s;
}

/** S.bytes(n, seed) in the engine. */
export function bytes(n: number, seed = 0): Uint8Array {
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = (i * 7 + seed) & 255;
  return u;
}

/**
 * A setup run once, awaited by every test: a failure fails each test with its message. (uvu 0.5 does not
 * report an exception thrown by a `test.before` hook: the suite shows "(0 / n)" and exits 0.)
 */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () => (p ||= fn());
}

/** Runs `fn` with a time limit. */
export function bounded(ms: number, fn: () => Promise<void>): () => Promise<void> {
  return async () => {
    let t: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([fn(), new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms); })]);
    } finally {
      clearTimeout(t);
    }
  };
}

/** Polls `cond` until it holds. */
export async function until(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Waits (1 s at most) for the engine to hold no socket, timer or lookup of the bridge. */
async function settled(e: Engine) {
  const end = Date.now() + 1000;
  let p: any;
  while (JSON.stringify((p = await e.eval("Bridge.pending()"))) != JSON.stringify({ sockets: 0, timers: 0, lookups: 0 })) {
    if (Date.now() > end) assert.equal(p, { sockets: 0, timers: 0, lookups: 0 }, "inside the engine");
    await sleep(20);
  }
}

/** The options giving a bundle the bridge's transport and clock, unless its own target glue runs over the bridge. */
function io(e: Engine, given?: string): string {
  return given != null ? given : e.ownGlue ? "" : ", transport: Bridge.transport(), clock: Bridge.clock";
}

/** A certificate as Moddable takes it (DER bytes) in engine code: `new Uint8Array([...])` of a PEM's first certificate. */
export function derLiteral(pem: string): string {
  const b64 = pem.split("-----")[2].replace(/\s+/g, "");
  return `new Uint8Array([${Array.from(Buffer.from(b64, "base64")).join(",")}])`;
}

/** What a session leaves behind for the report. */
export interface Figures { [k: string]: number | string | null }

export interface MqttContext {
  start: () => Promise<Engine>;
  broker: () => Mosquitto;
  /** Called after connect and after end (engine memory figures). */
  measure?: (e: Engine, when: "connected" | "end") => Promise<void>;
  id: string;
  /** Options text giving the clients their transport (default: none with the bundle's own glue, else the bridge's). */
  io?: string;
  /** The broker port the engine's clients use (default the plain MQTT listener; e.g. the websockets one). */
  port?: () => number;
  /** false for a build without QoS 2 (the lean entry): what the session does at QoS 2 it does at QoS 1, and QoS 2 is refused (E_QOS). */
  qos2?: boolean;
}

/** A full MQTT 3.1.1 session; `ctx.broker()` must log at debug level (PINGREQ lines). */
export function mqttSession(ctx: MqttContext): { steps: Step[]; engine: () => Engine | null; close: () => Promise<void> } {
  let e: Engine | null = null, obs: MqttClient | null = null;
  const seen: { topic: string; payload: Buffer; retain: boolean; qos: number }[] = [];
  const P = `eng/${ctx.id}`, ID = ctx.id, Q2 = ctx.qos2 === false ? 1 : 2;
  const need = () => {
    if (!e) throw new Error("no engine: an earlier step failed");
    return e;
  };
  const messages = (topic: string) => need().host.reports.filter((r) => r.name == "message" && r.value.topic == topic).map((r) => r.value);
  const noErrors = () => {
    const errs = need().host.reports.filter((r) => r.name == "error" || r.name == "exception");
    assert.equal(errs.map((r) => [r.name, r.value]), [], "no onError / exception inside the engine");
  };

  const steps: Step[] = [
    {
      name: "loads the bundle and connects to mosquitto",
      ms: 15000,
      async run() {
        e = await ctx.start();
        // a Node client watching everything under the prefix: what the engine sends, byte for byte
        obs = await mqtt.connectAsync(`mqtt://127.0.0.1:${ctx.broker().ports.mqtt}`, { clientId: `obs-${ID}`, reconnectPeriod: 0 });
        obs.on("message", (topic, payload, packet) => seen.push({ topic, payload, retain: packet.retain, qos: packet.qos }));
        await obs.subscribeAsync(`${P}/#`, { qos: 2 });
        const t = await e.eval(
          `var c = tinyhub.createClient(S.mqttEvents({ host: "127.0.0.1", port: ${ctx.port ? ctx.port() : ctx.broker().ports.mqtt}, clientId: ${j(ID)}, ` +
            `keepalive: 1, clean: true, reconnect: false${io(e, ctx.io)} })); c.connect(); typeof tinyhub.createClient`,
        );
        assert.is(t, "function");
        assert.equal(await e.host.until("connect", 5000), { sessionPresent: false });
        assert.is(await e.eval("c.connected()"), true);
        if (ctx.measure) await ctx.measure(e, "connected");
      },
    },
    {
      name: ctx.qos2 === false ? "subscribes: QoS 1 granted twice" : "subscribes: QoS 2 and QoS 1 granted",
      ms: 5000,
      async run() {
        const ids = await need().eval(`[c.subscribe(${j(P + "/t/#")}, ${Q2}, S.done("sub-t")), c.subscribe(${j(P + "/u/+")}, 1, S.done("sub-u"))]`);
        assert.ok(ids[0] > 0 && ids[1] > 0 && ids[0] != ids[1], `packet ids ${ids}`);
        assert.equal(await need().host.until("sub-t"), { err: 0, value: Q2 });
        assert.equal(await need().host.until("sub-u"), { err: 0, value: 1 });
      },
    },
    {
      name: ctx.qos2 === false ? "publishes QoS 0 and 1 (QoS 2 refused: E_QOS): each done, each received once, byte-exact" : "publishes QoS 0, 1 and 2: each done, each received once, byte-exact (the Node observer agrees)",
      ms: 5000,
      async run() {
        const ex = need();
        if (Q2 < 2) assert.is(await ex.eval(`c.publish(${j(P + "/t/no")}, "x", 2)`), -9, "QoS 2 is E_QOS in this build");
        const r = await ex.eval(
          `[c.publish(${j(P + "/t/zero")}, "h\\u00e9llo \\u2713 0", 0, false, S.done("done0")), ` +
            `c.publish(${j(P + "/t/one")}, S.bytes(300, 1), 1, false, S.done("done1")), ` +
            `c.publish(${j(P + "/t/two")}, "exactly once", ${Q2}, false, S.done("done2"))]`,
        );
        assert.is(r[0], 0, "QoS 0 returns 0");
        assert.ok(r[1] > 0 && r[2] > 0 && r[1] != r[2], `packet ids ${r}`);
        for (const d of ["done0", "done1", "done2"]) assert.is((await ex.host.until(d)).err, 0, d);
        await ex.host.until("message", 3000, (m) => m.topic == P + "/t/two");
        await until(() => seen.filter((s) => s.topic.startsWith(P + "/t/")).length >= 3, 3000, "the observer's copies");
        await sleep(100); // a duplicate would arrive by now
        const zero = messages(P + "/t/zero"), one = messages(P + "/t/one"), two = messages(P + "/t/two");
        assert.is(zero.length, 1, "QoS 0 once");
        assert.is(one.length, 1, "QoS 1 once");
        assert.is(two.length, 1, "QoS 2 exactly once");
        assert.is(zero[0].text, "héllo ✓ 0");
        assert.is(zero[0].qos, 0);
        assert.equal([one[0].length, one[0].sum, one[0].qos, one[0].offset, one[0].total], [300, sum(bytes(300, 1)), 1, 0, 300]);
        assert.equal([two[0].text, two[0].qos, two[0].retain, two[0].dup], ["exactly once", Q2, false, false]);
        const o = (t: string) => seen.filter((s) => s.topic == P + t);
        assert.is(o("/t/zero")[0].payload.toString("utf8"), "héllo ✓ 0");
        assert.equal(new Uint8Array(o("/t/one")[0].payload), bytes(300, 1));
        assert.equal([o("/t/two").length, o("/t/two")[0].qos], [1, Q2]);
      },
    },
    {
      name: "receives a message larger than its receive region in chunks (offset, total)",
      ms: 5000,
      async run() {
        const ex = need(), big = bytes(3000, 5);
        await obs!.publishAsync(P + "/t/big", Buffer.from(big), { qos: 1 });
        let got: any[] = [];
        await until(() => (got = messages(P + "/t/big")).reduce((n, m) => n + m.length, 0) >= 3000, 3000, "all chunks");
        assert.ok(got.length > 1, `in chunks (${got.length})`);
        let at = 0;
        for (const m of got) {
          assert.equal([m.offset, m.total, m.qos], [at, 3000, 1]);
          assert.is(m.sum, sum(big.subarray(at, at + m.length)), `chunk at ${at}`);
          at += m.length;
        }
        assert.is(at, 3000);
      },
    },
    {
      name: "a retained message arrives on subscribe with retain set",
      ms: 5000,
      async run() {
        const ex = need();
        await obs!.publishAsync(P + "/r/state", "on", { qos: 1, retain: true });
        await ex.eval(`c.subscribe(${j(P + "/r/#")}, 1, S.done("sub-r"))`);
        assert.equal(await ex.host.until("sub-r"), { err: 0, value: 1 });
        const m = await ex.host.until("message", 3000, (m) => m.topic == P + "/r/state");
        assert.equal([m.text, m.retain, m.qos], ["on", true, 1]);
      },
    },
    {
      name: "stays connected over idle keep-alive periods: PINGREQ from the bundle's timers",
      ms: 8000,
      async run() {
        const ex = need();
        const pings = () => ctx.broker().log().split("\n").filter((l) => l.includes(`Received PINGREQ from ${ID}`)).length;
        const before = pings();
        await sleep(2200); // keep-alive 1 s: mosquitto drops a silent client after 1.5 s
        assert.ok(pings() - before >= 2, `PINGREQ sent while idle (${pings() - before})`);
        assert.is(await ex.eval("c.connected()"), true);
        assert.equal(ex.host.reports.filter((r) => r.name == "close"), [], "no close");
        assert.not.ok(ctx.broker().log().includes(`Client ${ID} has exceeded timeout`), "mosquitto saw no timeout");
        await ex.eval(`c.publish(${j(P + "/t/alive")}, "yes", 1, false, S.done("alive"))`);
        assert.is((await ex.host.until("alive")).err, 0);
        await ex.host.until("message", 3000, (m) => m.topic == P + "/t/alive");
      },
    },
    {
      name: "unsubscribes: nothing more from that filter",
      ms: 5000,
      async run() {
        const ex = need();
        await ex.eval(`c.unsubscribe(${j(P + "/t/#")}, S.done("unsub"))`);
        assert.equal(await ex.host.until("unsub"), { err: 0, value: 0 });
        // mosquitto keeps the order of one publisher's messages: the marker comes after t/after would have
        await ex.eval(`c.publish(${j(P + "/t/after")}, "gone", 1, false, S.done("after")), c.publish(${j(P + "/u/marker")}, "m", 1, false, S.done("marker"))`);
        await ex.host.until("message", 3000, (m) => m.topic == P + "/u/marker");
        await sleep(100);
        assert.is(messages(P + "/t/after").length, 0, "no message from the unsubscribed filter");
        assert.is(seen.filter((s) => s.topic == P + "/t/after").length, 1, "it was published");
      },
    },
    {
      name: "a persistent session survives a broken link: reconnect, session present, queued QoS 1 sent",
      ms: 8000,
      async run() {
        const ex = need(), R = ID + "-r";
        await ex.eval(
          `var c2 = tinyhub.createClient({ host: "127.0.0.1", port: ${ctx.port ? ctx.port() : ctx.broker().ports.mqtt}, clientId: ${j(R)}, keepalive: 10, clean: false, ` +
            `reconnect: { min: 50, max: 100, jitter: 0.5 }${io(ex, ctx.io)}, onConnect: function (sp) { Bridge.report("c2-connect", sp); }, ` +
            `onClose: function (code) { Bridge.report("c2-close", code); }, onError: function (code) { Bridge.report("c2-error", code); }, ` +
            `onMessage: function (t, p, info) { Bridge.report("c2-message", { topic: t, text: Bridge.text(p), qos: info.qos }); } }); c2.connect()`,
        );
        assert.is(await ex.host.until("c2-connect"), false, "first connection: no session yet");
        await ex.eval(`c2.subscribe(${j(P + "/re/#")}, 1, S.done("c2-sub"))`);
        assert.equal(await ex.host.until("c2-sub"), { err: 0, value: 1 });
        assert.ok(ex.host.drop(), "a socket to break");
        const code = await ex.host.until("c2-close");
        assert.ok(code < 0, `closed with an error code (${code})`);
        assert.is(await ex.eval("c2.connected()"), false);
        // published while the link is down: waits in the buffer, goes out after the reconnect
        const id = await ex.eval(`c2.publish(${j(P + "/re/queued")}, "kept", 1, false, S.done("c2-puback"))`);
        assert.ok(id > 0, `queued with packet id ${id}`);
        assert.is(await ex.host.until("c2-connect", 3000, (sp) => sp === true), true, "reconnected, session present");
        assert.is((await ex.host.until("c2-puback")).err, 0);
        const m = await ex.host.until("c2-message", 3000, (m) => m.topic == P + "/re/queued");
        assert.equal([m.text, m.qos], ["kept", 1]);
        await ex.eval(`c2.end(S.done("c2-ended"))`);
        await ex.host.until("c2-ended");
        assert.equal(ex.host.reports.filter((r) => r.name == "c2-error").map((r) => r.value), [], "no onError");
      },
    },
    {
      name: "ends with DISCONNECT; no socket, timer or error left",
      ms: 5000,
      async run() {
        const ex = need();
        assert.is(await ex.eval(`c.end(S.done("ended")), c.connected()`), false);
        await ex.host.until("ended");
        await until(() => ctx.broker().log().includes(`Client ${ID} disconnected.`), 3000, "mosquitto to log a DISCONNECT");
        assert.not.ok(ctx.broker().log().includes(`Client ${ID} closed its connection`), "a DISCONNECT, not a dropped socket");
        await settled(ex);
        await until(() => ex.host.live().sockets == 0 && ex.host.live().timers == 0, 2000, "the Node side to close");
        noErrors();
        if (ctx.measure) await ctx.measure(ex, "end");
      },
    },
  ];

  return {
    steps,
    engine: () => e,
    async close() {
      if (obs) await obs.endAsync(true).catch(() => {});
      if (e) await e.close();
      e = null;
    },
  };
}

export interface HubContext {
  start: (names: Record<string, string>) => Promise<Engine>;
  hub: () => any;
  measure?: (e: Engine, when: "connected" | "end") => Promise<void>;
  id: string;
  /** Options text choosing port, TLS and protocol (default: the emulator's plain MQTT listener, no TLS). */
  connect?: (hub: any) => string;
  /** Options text giving the device its transport (as MqttContext.io). */
  io?: string;
}

/** A full IoT Hub session over MQTT (or MQTT over WebSockets) against the emulator: plain, or TLS as `ctx.connect` says. */
export function hubSession(ctx: HubContext): { steps: Step[]; engine: () => Engine | null; close: () => Promise<void> } {
  let e: Engine | null = null;
  const ID = ctx.id;
  const need = () => {
    if (!e) throw new Error("no engine: an earlier step failed");
    return e;
  };

  const steps: Step[] = [
    {
      name: "connects to the hub emulator (SAS token signed by the bundle)",
      ms: 15000,
      async run() {
        const hub = ctx.hub();
        hub.registry.addDevice(ID);
        const cs = hub.registry.connectionString(ID);
        e = await ctx.start({ [hub.hubName]: "127.0.0.1" });
        const ok = await e.eval(
          `var d = tinyhub.createDevice(S.hubEvents({ connectionString: ${j(cs)}, ${ctx.connect ? ctx.connect(hub) : `port: ${hub.ports.plain}, tls: null`}, reconnect: false${io(e, ctx.io)} })); ` +
            `typeof d == "object" && (d.connect(), true)`,
        );
        assert.is(ok, true, "createDevice gave a device");
        await e.host.until("connect", 5000);
        assert.ok(hub.connected(ID), "the hub has the device connected");
        if (ctx.measure) await ctx.measure(e, "connected");
      },
    },
    {
      name: "sends telemetry with application and system properties",
      ms: 5000,
      async run() {
        const ex = need(), hub = ctx.hub();
        const n = await ex.eval(
          `d.sendEvent('{"t":21.5}', { alert: "hot", "spaced key/&=": "a/b&c=d \\u00e9\\u2713", $contentType: "application/json", ` +
            `$contentEncoding: "utf-8", $messageId: "m-1" }, S.done("sent"))`,
        );
        assert.ok(n > 0, `packet id ${n}`);
        assert.is((await ex.host.until("sent")).err, 0);
        await until(() => hub.telemetry.some((m: any) => m.deviceId == ID), 3000, "the hub to record it");
        const m = hub.telemetry.find((m: any) => m.deviceId == ID);
        assert.is(m.body.toString(), '{"t":21.5}');
        assert.equal(m.properties, { alert: "hot", "spaced key/&=": "a/b&c=d é✓" });
        assert.equal([m.system.contentType, m.system.contentEncoding, m.system.messageId], ["application/json", "utf-8", "m-1"]);
      },
    },
    {
      name: "receives a cloud-to-device message with its properties",
      ms: 5000,
      async run() {
        const ex = need(), hub = ctx.hub();
        hub.sendC2D(ID, "héllo device", { color: "blue", "$.mid": "c2d-1" });
        const m = await ex.host.until("c2d", 3000);
        assert.is(m.text, "héllo device");
        assert.equal([m.offset, m.total], [0, Buffer.byteLength("héllo device")]);
        assert.is(m.properties.color, "blue");
        assert.is(m.properties.$messageId, "c2d-1", JSON.stringify(m.properties));
        await until(() => hub.c2dQueue(ID).length == 0, 3000, "the hub to see it acknowledged");
      },
    },
    {
      name: "gets the twin",
      ms: 5000,
      async run() {
        const ex = need();
        assert.ok((await ex.eval(`d.getTwin(S.done("twin"))`)) > 0);
        const t = await ex.host.until("twin");
        assert.is(t.err, 0);
        assert.type(t.value.desired.$version, "number");
        assert.type(t.value.reported.$version, "number");
      },
    },
    {
      name: "patches reported properties; the hub stores them",
      ms: 5000,
      async run() {
        const ex = need(), hub = ctx.hub();
        assert.ok((await ex.eval(`d.patchReported({ fw: "1.0", temp: 21.5 }, S.done("patched"))`)) > 0);
        const r = await ex.host.until("patched");
        assert.is(r.err, 0);
        const twin = hub.getTwin(ID);
        assert.equal([twin.reported.fw, twin.reported.temp, twin.reported.$version], ["1.0", 21.5, r.value]);
      },
    },
    {
      name: "receives a desired-properties update",
      ms: 5000,
      async run() {
        const ex = need(), hub = ctx.hub();
        const v = hub.updateDesired(ID, { interval: 5 });
        const d = await ex.host.until("desired", 3000, (d) => d.version == v);
        assert.is(d.whole, false, "a pushed patch");
        assert.is(d.patch.interval, 5);
      },
    },
    {
      name: "answers direct methods: 200 from the handler, 501 unknown, 500 when it throws",
      ms: 8000,
      async run() {
        const ex = need(), hub = ctx.hub();
        const r = await hub.invokeMethod(ID, "reboot", { delay: 1 }, 3000);
        assert.equal(r, { status: 200, payload: { ok: true, got: { delay: 1 } } });
        assert.equal(await ex.host.until("method"), { name: "reboot", payload: { delay: 1 } });
        assert.is((await hub.invokeMethod(ID, "nosuch", null, 3000)).status, 501);
        assert.is((await hub.invokeMethod(ID, "fail", null, 3000)).status, 500);
        assert.is(await ex.eval("d.mqtt.connected()"), true, "still connected");
      },
    },
    {
      name: "ends: the hub sees it go; no socket, timer or error left",
      ms: 5000,
      async run() {
        const ex = need(), hub = ctx.hub();
        await ex.eval(`d.end(S.done("ended"))`);
        await ex.host.until("ended");
        await until(() => !hub.connected(ID), 3000, "the hub to drop the device");
        await settled(ex);
        await until(() => ex.host.live().sockets == 0 && ex.host.live().timers == 0, 2000, "the Node side to close");
        const errs = ex.host.reports.filter((r) => r.name == "error" || r.name == "exception");
        assert.equal(errs.map((r) => [r.name, r.value]), [], "no onError / exception inside the engine");
        if (ctx.measure) await ctx.measure(ex, "end");
      },
    },
  ];

  return {
    steps,
    engine: () => e,
    async close() {
      if (e) await e.close();
      e = null;
    },
  };
}

export interface HttpContext {
  start: (names: Record<string, string>) => Promise<Engine>;
  hub: () => any;
  id: string;
  /** Options text with the port and TLS of the emulator's HTTPS listener as the bundle takes them. */
  connect: (hub: any) => string;
}

/** An IoT Hub session over HTTPS against the emulator: telemetry, a batch, a C2D message by polling, MQTT-only calls refused. */
export function httpSession(ctx: HttpContext): { steps: Step[]; engine: () => Engine | null; close: () => Promise<void> } {
  let e: Engine | null = null;
  const ID = ctx.id;
  const need = () => {
    if (!e) throw new Error("no engine: an earlier step failed");
    return e;
  };
  const mine = () => ctx.hub().telemetry.filter((m: any) => m.deviceId == ID);

  const steps: Step[] = [
    {
      name: "connects over HTTPS (TLS, SAS signed by the bundle) and sends telemetry with properties",
      ms: 15000,
      async run() {
        const hub = ctx.hub();
        hub.registry.addDevice(ID);
        const cs = hub.registry.connectionString(ID);
        e = await ctx.start({ [hub.hubName]: "127.0.0.1" });
        const ok = await e.eval(
          `var h = tinyhub.createDevice(S.httpEvents({ connectionString: ${j(cs)}, ${ctx.connect(hub)}, requestTimeout: 5000 })); ` +
            `typeof h == "object" && h.sendEvent('{"t":21.5}', { alert: "hot", "unit-x": "deg C a/b", $messageId: "h-1", $contentType: "application/json" }, S.done("sent"))`,
        );
        assert.is(ok, 0, "sendEvent queued the request");
        assert.equal(await e.host.until("sent", 8000), { err: 0, value: 204 }, JSON.stringify(e.host.errors));
        await until(() => mine().length == 1, 3000, "the hub to record it");
        const m = mine()[0];
        assert.is(m.protocol, "https");
        assert.is(m.body.toString(), '{"t":21.5}');
        assert.equal(m.properties, { alert: "hot", "unit-x": "deg C a/b" });
        assert.equal([m.system.messageId, m.system.contentType], ["h-1", "application/json"]);
      },
    },
    {
      name: "sends a batch",
      ms: 5000,
      async run() {
        const ex = need();
        assert.is(await ex.eval(`h.sendEventBatch([{ payload: "one", properties: { n: "1" } }, { payload: S.bytes(5, 250) }], S.done("batch"))`), 0);
        assert.equal(await ex.host.until("batch"), { err: 0, value: 204 });
        await until(() => mine().length == 3, 3000, "the batch recorded");
        const got = mine();
        assert.is(got[1].body.toString(), "one");
        assert.equal(got[1].properties, { n: "1" });
        assert.equal([...got[2].body], [...bytes(5, 250)]);
      },
    },
    {
      name: "polls: a cloud-to-device message with its properties, completed",
      ms: 8000,
      async run() {
        const ex = need(), hub = ctx.hub();
        hub.sendC2D(ID, "héllo device", { color: "blue", "$.cid": "c-9" });
        await ex.eval("h.connect(); 1");
        const m = await ex.host.until("c2d", 5000);
        assert.is(m.text, "héllo device");
        assert.is(m.properties.color, "blue");
        assert.is(m.properties.$correlationId, "c-9");
        assert.match(m.lockToken, /^[0-9a-f-]{36}$/);
        await ex.host.until("connect", 3000);
        await until(() => hub.c2dQueue(ID).length == 0, 3000, "the hub to see it completed");
      },
    },
    {
      name: "twin and direct methods are MQTT-only: E_HTTP_UNSUPPORTED",
      ms: 3000,
      async run() {
        assert.equal(await need().eval(`[h.getTwin(function () {}), h.patchReported({ a: 1 }), h.publish("x", "y")]`), [-59, -59, -59]);
      },
    },
    {
      name: "ends: no socket, timer or error left",
      ms: 5000,
      async run() {
        const ex = need();
        await ex.eval(`h.end(S.done("ended"))`);
        await ex.host.until("ended");
        await settled(ex);
        await until(() => ex.host.live().sockets == 0 && ex.host.live().timers == 0, 2000, "the Node side to close");
        const errs = ex.host.reports.filter((r) => r.name == "error" || r.name == "exception");
        assert.equal(errs.map((r) => [r.name, r.value]), [], "no onError / exception inside the engine");
      },
    },
  ];

  return {
    steps,
    engine: () => e,
    async close() {
      if (e) await e.close();
      e = null;
    },
  };
}
