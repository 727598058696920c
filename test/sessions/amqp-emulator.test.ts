// createDevice({protocol: "amqp" | "amqp-ws"}) end to end against the emulator's AMQP endpoint (tools/hub/amqp.js,
// rhea server side, over TLS with the emulator's CA): what the hub recorded checked for each feature.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHub } from "../../tools/hub/index.js";
import { createDevice, createGateway, nodeTransport, errorName, E_AMQP_UNAUTHORIZED, E_BUSY, E_ARGUMENT, E_AMQP_DETACHED, E_NOT_CONNECTED, E_TOO_LARGE } from "../../targets/node/index";
import type { AmqpDevice } from "../../targets/node/index";
import { C2D_REJECT, C2D_ABANDON, C2D_LATER } from "../../src/sessions/amqp";
import { connected, until, watched } from "../helpers/amqp-device";

const dir = mkdtempSync(join(tmpdir(), "tinyhub-amqp-emu-"));
let hub: any;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(async () => {
  hub = await startHub({ dir, log: false, mqttsPort: 0, httpsPort: 0, amqpsPort: 0, dpsPort: 0, adminPort: null });
});
test.after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

function device(cs: string, more: any = {}) {
  return watched({
    connectionString: cs, port: hub.ports.amqps, tls: { ca: hub.ca },
    ...more,
  });
}

const end = (d: AmqpDevice) => new Promise<void>((r) => d.end(() => r()));
const sent = (d: AmqpDevice, p: any, props: any) => new Promise<number>((r) => d.sendEvent(p, props, r));

test("telemetry: UTF-8 application properties and system properties as the hub records them", async () => {
  hub.registry.addDevice("amqp-t");
  const k = device(hub.registry.connectionString("amqp-t"));
  await connected(k);
  assert.ok(hub.connected("amqp-t"));
  const e = await sent(k.d, '{"t":21.5}', { "température": "été ✓ €", n: 7, $messageId: "m-1", $correlationId: "c-1", $contentType: "application/json", $contentEncoding: "utf-8", $component: "th1" });
  assert.is(e, 0);
  const m = hub.telemetry.find((x: any) => x.deviceId == "amqp-t");
  assert.equal([m.protocol, m.body.toString(), m.properties["température"], m.properties.n], ["amqp", '{"t":21.5}', "été ✓ €", "7"]);
  assert.equal([m.system.messageId, m.system.correlationId, m.system.contentType, m.system.contentEncoding, m.system.componentName], ["m-1", "c-1", "application/json", "utf-8", "th1"]);
  await end(k.d);
});

test("C2D: complete, reject and abandon as the hub's feedback (Success, Rejected) and a redelivery", async () => {
  hub.registry.addDevice("amqp-c");
  const answers = [undefined, C2D_REJECT, C2D_ABANDON, undefined];
  const feedback: any[] = [];
  hub.on("feedback", (f: any) => f.deviceId == "amqp-c" && feedback.push(f));
  const k = device(hub.registry.connectionString("amqp-c"), {
    onMessage: (m: any) => (k.ev.c2d.push({ body: Buffer.from(m.payload).toString(), props: m.properties }), answers[k.ev.c2d.length - 1]),
  });
  await connected(k);
  for (let i = 0; i < 3; i++) hub.sendC2D("amqp-c", "msg " + i + " ü", { "clé": "välue", "$.mid": "id-" + i });
  await until(() => k.ev.c2d.length == 4, "three messages and the abandoned one again");
  assert.equal(k.ev.c2d.map((m) => m.body), ["msg 0 ü", "msg 1 ü", "msg 2 ü", "msg 2 ü"]);
  assert.equal([k.ev.c2d[0].props["clé"], k.ev.c2d[0].props.$messageId], ["välue", "id-0"]);
  await until(() => feedback.length == 3, "feedback");
  assert.equal(feedback.map((f) => [f.messageId, f.statusCode]), [["id-0", "Success"], ["id-1", "Rejected"], ["id-2", "Success"]]);
  assert.is(hub.c2dQueue("amqp-c").length, 0);
  await end(k.d);
});

test("C2D settled later: onMessage answers C2D_LATER, the application completes, rejects and abandons after its callback returned; the hub's feedback and a redelivery", async () => {
  hub.registry.addDevice("amqp-l");
  const feedback: any[] = [];
  hub.on("feedback", (f: any) => f.deviceId == "amqp-l" && feedback.push(f));
  const k = device(hub.registry.connectionString("amqp-l"), {
    onMessage: (m: any) => (k.ev.c2d.push({ body: Buffer.from(m.payload).toString(), tok: m.lockToken, id: m.properties.$messageId }), k.ev.c2d.length > 3 ? undefined : C2D_LATER),
  });
  await connected(k);
  for (let i = 0; i < 3; i++) hub.sendC2D("amqp-l", "later " + i + " ü", { "$.mid": "l-" + i });
  await until(() => k.ev.c2d.length == 3, "three messages, none settled");
  await sleep(100);
  assert.equal([feedback.length, hub.c2dQueue("amqp-l").length], [0, 3], "the hub waits: nothing settled yet");
  assert.equal(k.ev.c2d.map((m) => typeof m.tok), ["string", "string", "string"]);
  const dones: number[] = [];
  assert.equal([k.d.complete(k.ev.c2d[0].tok, (e) => dones.push(e)), k.d.reject(k.ev.c2d[1].tok, (e) => dones.push(e)), k.d.abandon(k.ev.c2d[2].tok, (e) => dones.push(e))], [0, 0, 0]);
  assert.equal(dones, [0, 0, 0]);
  // settled once: the same token again is no message of this device's
  assert.is(k.d.complete(k.ev.c2d[0].tok), E_ARGUMENT);
  assert.is(k.d.complete("nonsense"), E_ARGUMENT);
  // the abandoned one comes again (completed from the callback this time)
  await until(() => k.ev.c2d.length == 4 && feedback.length == 3, "the redelivery and the feedback");
  assert.equal([k.ev.c2d[3].body, k.ev.c2d[3].id], ["later 2 ü", "l-2"]);
  assert.equal(feedback.map((f) => [f.messageId, f.statusCode]), [["l-0", "Success"], ["l-1", "Rejected"], ["l-2", "Success"]]);
  assert.is(hub.c2dQueue("amqp-l").length, 0);
  await end(k.d);
});

test("C2D settled later across a reconnection: the old connection's token is E_AMQP_DETACHED, the hub delivers the message again on the new one", async () => {
  hub.registry.addDevice("amqp-l2");
  const k = device(hub.registry.connectionString("amqp-l2"), {
    onMessage: (m: any) => (k.ev.c2d.push({ body: Buffer.from(m.payload).toString(), tok: m.lockToken }), C2D_LATER),
  });
  await connected(k);
  hub.sendC2D("amqp-l2", "kept ✓", { "$.mid": "k-1" });
  await until(() => k.ev.c2d.length == 1, "the message");
  await end(k.d);
  assert.is(k.d.complete(k.ev.c2d[0].tok), E_AMQP_DETACHED, "the connection it came on has ended");
  k.d.connect();
  await until(() => k.ev.c2d.length == 2, "the message again");
  assert.equal([k.ev.c2d[1].body, k.ev.c2d[1].tok != k.ev.c2d[0].tok], ["kept ✓", true]);
  assert.is(k.d.complete(k.ev.c2d[0].tok), E_AMQP_DETACHED);
  let done = 1;
  assert.is(k.d.complete(k.ev.c2d[1].tok, (e) => (done = e)), 0);
  assert.is(done, 0);
  await until(() => hub.c2dQueue("amqp-l2").length == 0, "completed");
  await end(k.d);
  assert.is(k.d.complete(k.ev.c2d[1].tok), E_AMQP_DETACHED, "a token of an ended connection");
});

test("a twin larger than the receive region: getTwin gets E_TOO_LARGE by name, a too-large desired push is onError(E_TOO_LARGE); the session goes on (telemetry, a small patch, a smaller twin)", async () => {
  hub.registry.addDevice("amqp-big");
  const k = device(hub.registry.connectionString("amqp-big"), { bufferSize: 4096, onDesired: (p: any, v: number) => k.ev.desired.push([p, v]) });
  await connected(k);
  // a twin GET first: answered after the PUT of desired notifications the device sent before it on the same link
  const first = await new Promise<any[]>((r) => k.d.getTwin((e, t) => r([e, t])));
  assert.is(first[0], 0);
  const big = "é".repeat(1500); // 3,000 bytes: over the 2,048-byte receive region
  hub.updateDesired("amqp-big", { big });
  await until(() => k.ev.errors.includes(E_TOO_LARGE), "onError(E_TOO_LARGE) for the push");
  assert.equal(k.ev.desired, [], "no partial document handed over");
  const t0 = Date.now();
  const got = await new Promise<any[]>((r) => k.d.getTwin((e, t) => r([e, t])));
  assert.equal([errorName(got[0]), got[1]], ["E_TOO_LARGE", undefined]);
  assert.ok(Date.now() - t0 < 5000, "at once, not at the request time-out");
  assert.equal([k.ev.closes, k.ev.connects], [[], 1], "still connected");
  assert.is(await sent(k.d, "still here ✓", { n: 1 }), 0);
  const patched = await new Promise<any[]>((r) => k.d.patchReported({ ok: true }, (e, v) => r([e, v])));
  assert.is(patched[0], 0);
  const v = hub.updateDesired("amqp-big", { big: null, mode: "small" });
  await until(() => k.ev.desired.length == 1, "the small push");
  assert.equal([k.ev.desired[0][0].mode, k.ev.desired[0][1]], ["small", v]);
  const again = await new Promise<any[]>((r) => k.d.getTwin((e, t) => r([e, t])));
  assert.equal([again[0], again[1].desired.mode, again[1].desired.big], [0, "small", undefined]);
  assert.equal(k.ev.errors.filter((e) => e != E_TOO_LARGE), []);
  await end(k.d);
});

test("twin: GET, PATCH reported (the hub's twin and version), desired pushed, 429 as E_HUB_STATUS", async () => {
  hub.registry.addDevice("amqp-w");
  const k = device(hub.registry.connectionString("amqp-w"), { onDesired: (p: any, v: number) => k.ev.desired.push([p, v]) });
  await connected(k);
  const got = await new Promise<any[]>((r) => k.d.getTwin((e, t) => r([e, t])));
  assert.is(got[0], 0);
  assert.type(got[1].desired.$version, "number");
  const patched = await new Promise<any[]>((r) => k.d.patchReported({ "état": "prêt ✓" }, (e, v) => r([e, v])));
  assert.is(patched[0], 0);
  assert.is(hub.getTwin("amqp-w").reported["état"], "prêt ✓");
  assert.is(patched[1], hub.getTwin("amqp-w").reported.$version);
  const v = hub.updateDesired("amqp-w", { mode: "boost" });
  await until(() => k.ev.desired.length == 1, "the desired push");
  assert.equal([k.ev.desired[0][0].mode, k.ev.desired[0][1]], ["boost", v]);
  hub.options.twinThrottle = 1;
  const failed = await new Promise<any[]>((r) => k.d.getTwin((e, t) => r([e, t])));
  assert.equal([errorName(failed[0]), failed[1]], ["E_HUB_STATUS", 429]);
  await end(k.d);
});

test("direct methods: hub.invokeMethod over the AMQP method links; 501 for an unknown one", async () => {
  hub.registry.addDevice("amqp-m");
  const k = device(hub.registry.connectionString("amqp-m"), { methods: { reboot: (p: any, respond: any) => respond(200, { got: p, "é": "✓" }) } });
  await connected(k);
  assert.equal(await hub.invokeMethod("amqp-m", "reboot", { delay: 3 }, 5000), { status: 200, payload: { got: { delay: 3 }, "é": "✓" } });
  const r = await hub.invokeMethod("amqp-m", "nope", null, 5000);
  assert.is(r.status, 501);
  await end(k.d);
});

test("token renewal: the links outlive the first token (the hub detaches them at its expiry otherwise)", async () => {
  hub.registry.addDevice("amqp-r");
  // a 2 s token, renewed after 1 s
  const k = device(hub.registry.connectionString("amqp-r"), { tokenLifetime: 2 });
  await connected(k);
  await sleep(3500);
  assert.equal([k.ev.closes, k.ev.errors.map(errorName)], [[], []]);
  assert.is(await sent(k.d, "after the first token's expiry", null), 0);
  await end(k.d);
});

test("without renewal the hub detaches the links at the token's expiry: the control for the test above", async () => {
  hub.registry.addDevice("amqp-x");
  // a device whose clock lags 598 s: its 600 s token (renewal due in 300 s) expires 2 s after it is put
  const k = device(hub.registry.connectionString("amqp-x"), { tokenLifetime: 600, time: () => Math.floor(Date.now() / 1000) - 598 });
  await connected(k);
  await until(() => k.ev.closes.length > 0 || k.ev.errors.length > 0, "the hub's detach at expiry", 6000);
  assert.ok(k.ev.errors.includes(E_AMQP_UNAUTHORIZED), k.ev.errors.map(errorName).join());
  await end(k.d);
});

test("a wrong key: the put-token refused, E_AMQP_UNAUTHORIZED, no links", async () => {
  hub.registry.addDevice("amqp-k");
  const cs = hub.registry.connectionString("amqp-k").replace(/SharedAccessKey=[^;]+/, "SharedAccessKey=" + Buffer.from("not the key at all").toString("base64"));
  const k = device(cs);
  k.d.connect();
  await until(() => k.ev.closes.length > 0, "close");
  assert.equal([k.ev.closes, k.ev.connects], [[E_AMQP_UNAUTHORIZED], 0]);
});

test("a module identity: telemetry recorded with its module id", async () => {
  hub.registry.addDevice("amqp-gw");
  hub.registry.addModule("amqp-gw", "mod1");
  const k = device(hub.registry.connectionString("amqp-gw", "mod1"), { onMethod: (n: string, p: any, r: any) => r(200, { n }) });
  await connected(k);
  assert.is(await sent(k.d, "from a module", { k: "v" }), 0);
  const m = hub.telemetry.find((x: any) => x.deviceId == "amqp-gw" && x.moduleId == "mod1");
  assert.ok(m, "recorded for the module");
  assert.is(m.body.toString(), "from a module");
  assert.equal(await hub.invokeMethod("amqp-gw/mod1", "ping", {}, 5000), { status: 200, payload: { n: "ping" } });
  await end(k.d);
});

test("X.509: the TLS client certificate authorizes the links (no token put on $cbs)", async () => {
  const c = hub.deviceCert("amqp-x509");
  hub.registry.addDevice("amqp-x509", { auth: "x509", thumbprint: c.thumbprint });
  const k = device(hub.registry.connectionString("amqp-x509"), { tls: { ca: hub.ca, cert: c.cert, key: c.key } });
  await connected(k);
  assert.is(await sent(k.d, "by certificate", null), 0);
  assert.ok(hub.telemetry.some((x: any) => x.deviceId == "amqp-x509" && x.body.toString() == "by certificate"));
  await end(k.d);
});

test('"amqp-ws": over a WebSocket on the HTTPS port (AMQPWSB10)', async () => {
  hub.registry.addDevice("amqp-ws");
  const k = device(hub.registry.connectionString("amqp-ws"), { protocol: "amqp-ws", port: hub.ports.https });
  await connected(k);
  assert.is(await sent(k.d, "over wss ✓", { via: "amqp-ws" }), 0);
  const m = hub.telemetry.find((x: any) => x.deviceId == "amqp-ws");
  assert.equal([m.protocol, m.body.toString(), m.properties.via], ["amqp", "over wss ✓", "amqp-ws"]);
  await end(k.d);
});

test("a gateway: two devices and a module on one AMQP connection, each with its own token and links", async () => {
  hub.registry.addDevice("gw-a");
  hub.registry.addDevice("gw-b");
  hub.registry.addDevice("gw-host");
  hub.registry.addModule("gw-host", "m1");
  const inner = nodeTransport();
  let opens = 0;
  const gw = createGateway({
    host: "127.0.0.1", hostname: hub.hubName, port: hub.ports.amqps, tls: { ca: hub.ca },
    transport: { open: (h, p, t, e) => (opens++, inner.open(h, p, t, e)), write: (b, o, n) => inner.write(b, o, n), close: () => inner.close() },
  });
  const got: Record<string, string[]> = { "gw-a": [], "gw-b": [], m1: [] };
  let connects = 0;
  const ids = [["gw-a"], ["gw-b"], ["gw-host", "m1"]];
  const ds = ids.map(([d, m]) => {
    const who = m || d;
    const dev = gw.addDevice({
      connectionString: hub.registry.connectionString(d, m), reconnect: false,
      onConnect: () => connects++, onMessage: (x: any) => void got[who].push(Buffer.from(x.payload).toString()),
      methods: { who: (p: any, r: any) => r(200, { who }) },
    }) as AmqpDevice;
    assert.type(dev, "object");
    dev.connect();
    return dev;
  });
  await until(() => connects == 3, "three devices connected");
  assert.is(opens, 1, "one connection");
  for (const [i, [d, m]] of ids.entries()) {
    assert.is(await sent(ds[i], "from " + (m || d), null), 0);
    assert.ok(hub.telemetry.some((x: any) => x.deviceId == d && (x.moduleId || undefined) == m && x.body.toString() == "from " + (m || d)), "recorded for " + (m || d));
    assert.equal(await hub.invokeMethod(m ? d + "/" + m : d, "who", {}, 5000), { status: 200, payload: { who: m || d } });
  }
  hub.sendC2D("gw-b", "for b only", {});
  await until(() => got["gw-b"].length == 1, "b's C2D");
  assert.equal(got, { "gw-a": [], "gw-b": ["for b only"], m1: [] });
  await new Promise<void>((r) => gw.end(() => r()));
});

test("a gateway full (maxLinks / 8 devices on): one more device is refused with E_BUSY, the others go on; it joins when one leaves", async () => {
  const ids = ["gwf-a", "gwf-b", "gwf-c"];
  for (const d of ids) hub.registry.addDevice(d);
  const gw = createGateway({ host: "127.0.0.1", hostname: hub.hubName, port: hub.ports.amqps, tls: { ca: hub.ca }, maxLinks: 16 });
  const ev = ids.map(() => ({ connects: 0, closes: [] as number[] }));
  const ds = ids.map((d, i) => {
    const dev = gw.addDevice({
      connectionString: hub.registry.connectionString(d), reconnect: false, onMessage: () => {}, methods: { m: (p: any, r: any) => r(200, {}) },
      onConnect: () => ev[i].connects++, onClose: (e: number) => ev[i].closes.push(e),
    }) as AmqpDevice;
    assert.type(dev, "object");
    return dev;
  });
  ds[0].connect();
  ds[1].connect();
  await until(() => ev[0].connects + ev[1].connects == 2, "two devices connected");
  ds[2].connect();
  await until(() => ev[2].closes.length > 0, "the third refused");
  assert.equal(ev[2], { connects: 0, closes: [E_BUSY] });
  assert.is(await sent(ds[1], "b while c is refused", null), 0);
  await end(ds[0]);
  ds[2].connect();
  await until(() => ev[2].connects == 1, "the third connected once a place is free");
  assert.is(await sent(ds[2], "c in a's place", null), 0);
  assert.ok(hub.telemetry.some((x: any) => x.deviceId == "gwf-c" && x.body.toString() == "c in a's place"));
  assert.equal([ev[1].closes, ev[2].closes], [[], [E_BUSY]]);
  await new Promise<void>((r) => gw.end(() => r()));
});

test.run();
