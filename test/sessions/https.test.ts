// IoT Hub over HTTPS end to end: against the hub emulator (TLS, SAS checked), and against a small local
// node:http server for what the emulator cannot be asked to do (throttling, token renewal, exact requests).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
// @ts-ignore the emulator is JavaScript without declarations
import { startHub } from "../../tools/hub/index.js";
import { nodeTransport, nodeClock } from "../../targets/node/transport";
import {
  createHttpDevice, HttpDevice, HttpDeviceOptions, HttpC2DMessage, C2D_REJECT, C2D_ABANDON, C2D_LATER,
  HUB_HTTP_API_VERSION, HUB_POLL_INTERVAL,
} from "../../src/sessions/https";
import {
  E_HTTP_UNSUPPORTED, E_HUB_POLL_FAST, E_HUB_SIZE, E_HUB_STATUS, E_PROPERTY, E_TOKEN_EXPIRED, E_CS_HOST,
} from "../../src/iothub/errors";
import { E_ENDED, E_NOT_CONNECTED, E_OUTBOX_FULL } from "../../src/errors";

const test = suite("sessions/https");
const D = "http-device";
let hub: any;
let dir = "";
const devices: HttpDevice[] = [];

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tinyhub-https-"));
  hub = await startHub({ dir, log: false, mqttsPort: 0, dpsPort: null, adminPort: null });
  hub.registry.addDevice(D);
});
test.after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});
test.after.each(() => {
  for (const d of devices.splice(0)) d.end();
  hub.removeAllListeners("feedback");
  hub.c2dQueue(D).length = 0;
});

/** A device on the emulator: its connection string, the TCP/TLS connection to 127.0.0.1 (certificate for localhost). */
function device(extra: Partial<HttpDeviceOptions> = {}, id = D): HttpDevice {
  const cs = hub.registry.connectionString(id).replace(/;GatewayHostName=[^;]*/, "") + ";GatewayHostName=127.0.0.1";
  const d = createHttpDevice({
    connectionString: cs,
    port: hub.ports.https,
    tls: { ca: hub.ca, servername: "localhost" },
    transport: nodeTransport(),
    clock: nodeClock,
    requestTimeout: 3000,
    ...extra,
  });
  assert.type(d, "object", `createHttpDevice gave ${d}`);
  devices.push(d as HttpDevice);
  return d as HttpDevice;
}

/** Resolves with done's arguments; fails if the call refuses synchronously. */
function sent(start: (done: (err: number, status?: number) => void) => number): Promise<[number, number | undefined]> {
  return within(new Promise((resolve, reject) => {
    const r = start((err, status) => resolve([err, status]));
    if (r) reject(new Error(`refused: ${r}`));
  }), 4000, "answer");
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error("timed out: " + what)), ms))),
  ]);
}

const feedback = (n = 1): Promise<string[]> =>
  within(new Promise((resolve) => {
    const got: string[] = [];
    hub.on("feedback", (f: { statusCode: string }) => got.push(f.statusCode) == n && resolve(got));
  }), 4000, "feedback");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("telemetry: body, application properties and system properties arrive as sent", async () => {
  const d = device();
  const r = await sent((done) => d.sendEvent('{"t":21.5}', {
    Color: "red", n: 7, ok: true,
    $messageId: "m-1", $correlationId: "c-1", $userId: "u-1", $contentType: "application/json", $contentEncoding: "utf-8",
    $expiry: "2030-01-01T00:00:00Z", $to: "/devices/x/messages/events", $creationTime: "2024-05-01T10:00:00Z",
  }, done));
  assert.equal(r, [0, 204]);
  const m = hub.telemetry[hub.telemetry.length - 1];
  assert.is(m.protocol, "https");
  assert.is(m.deviceId, D);
  assert.is(m.body.toString(), '{"t":21.5}');
  assert.equal(m.properties, { Color: "red", n: "7", ok: "true" });
  assert.equal(m.system, {
    messageId: "m-1", correlationId: "c-1", userId: "u-1", contentType: "application/json", contentEncoding: "utf-8",
    expiryTimeUtc: "2030-01-01T00:00:00Z", to: "/devices/x/messages/events", creationTimeUtc: "2024-05-01T10:00:00Z",
  });
});

test("a bounded queue: requests past queueLength are E_OUTBOX_FULL, onWritable follows when one is done, all queued arrive", async () => {
  let writable = 0;
  const d = device({ queueLength: 3, onWritable: () => writable++ });
  const before = hub.telemetry.length;
  const dones: number[] = [];
  let r = 0, n = 0;
  while ((r = d.sendEvent("m" + n, null, (e) => dones.push(e))) == 0) n++;
  assert.is(r, E_OUTBOX_FULL);
  assert.is(n, 3);
  await within((async () => { while (!writable) await sleep(10); })(), 4000, "onWritable");
  assert.is(writable, 1);
  assert.is(d.sendEvent("m" + n++, null, (e) => dones.push(e)), 0);
  await within((async () => { while (dones.length < n) await sleep(10); })(), 6000, "all answered");
  assert.equal(dones, new Array(n).fill(0));
  assert.equal(hub.telemetry.slice(before).map((m: any) => m.body.toString()), ["m0", "m1", "m2", "m3"]);
});

test("a batch: bodies base64, properties per message", async () => {
  const d = device();
  const before = hub.telemetry.length;
  const r = await sent((done) => d.sendEventBatch([
    { payload: "one", properties: { n: "1" } },
    { payload: Uint8Array.of(0, 1, 2, 255), properties: { $messageId: "b-2", n: "2" } },
    { payload: "drei ü" },
  ], done));
  assert.equal(r, [0, 204]);
  const got = hub.telemetry.slice(before);
  assert.is(got.length, 3);
  assert.is(got[0].body.toString(), "one");
  assert.equal(got[0].properties, { n: "1" });
  assert.equal([...got[1].body], [0, 1, 2, 255]);
  assert.equal(got[1].system, { messageId: "b-2" });
  assert.is(got[2].body.toString(), "drei ü");
});

test("module telemetry goes to the module's path with the module's token", async () => {
  hub.registry.addModule(D, "mod");
  const d = device({}, `${D}/mod`);
  assert.equal(await sent((done) => d.sendEvent("from module", null, done)), [0, 204]);
  assert.is(hub.telemetry[hub.telemetry.length - 1].moduleId, "mod");
});

test("C2D: received with its properties and lock token, completed after onMessage returns", async () => {
  hub.sendC2D(D, "hello", { k: "v", "$.cid": "c-1" });
  const msgs: HttpC2DMessage[] = [];
  let connected = 0;
  const fb = feedback();
  const d = device({
    onMessage: (m) => void msgs.push({ ...m, payload: Uint8Array.from(m.payload), properties: { ...m.properties } }),
    onConnect: () => connected++,
  });
  d.connect();
  assert.equal(await fb, ["Success"]);
  assert.is(msgs.length, 1);
  const m = msgs[0];
  assert.is(Buffer.from(m.payload).toString(), "hello");
  assert.is(m.offset, 0);
  assert.is(m.total, 5);
  assert.is(m.properties.k, "v");
  assert.is(m.properties.$correlationId, "c-1");
  assert.type(m.properties.$messageId, "string");
  assert.is(m.properties.$to, `/devices/${D}/messages/deviceBound`);
  assert.is(m.properties["iothub-deliverycount"], "0");
  assert.match(m.lockToken, /^[0-9a-f-]{36}$/);
  assert.is(connected, 1);
  assert.is(hub.c2dQueue(D).length, 0);
});

test("C2D: several queued messages are drained at once; C2D_REJECT rejects", async () => {
  hub.sendC2D(D, "a");
  hub.sendC2D(D, "b");
  hub.sendC2D(D, "c");
  const fb = feedback(3);
  const seen: string[] = [];
  const d = device({ onMessage: (m) => (seen.push(Buffer.from(m.payload).toString()), m.payload[0] == 98 ? C2D_REJECT : undefined) });
  d.connect();
  assert.equal(await fb, ["Success", "Rejected", "Success"]);
  assert.equal(seen, ["a", "b", "c"]);
});

test("C2D: C2D_ABANDON gives it back (no immediate re-poll); the next poll gets it again", async () => {
  hub.sendC2D(D, "again");
  const counts: (string | null)[] = [];
  const d = device({ onMessage: (m) => (counts.push(m.properties["iothub-deliverycount"]), counts.length == 1 ? C2D_ABANDON : undefined) });
  d.connect();
  await within((async () => {
    while (!(counts.length == 1 && hub.c2dQueue(D)[0]?.lockToken === null)) await sleep(10);
  })(), 3000, "abandon");
  await sleep(100);
  assert.is(counts.length, 1, "not fetched again at once");
  const fb = feedback();
  d.poll();
  assert.equal(await fb, ["Success"]);
  assert.equal(counts, ["0", "1"]);
});

test("C2D_LATER: the application completes it with its lock token; a stale token is 412", async () => {
  hub.sendC2D(D, "later");
  let token = "";
  const d = device({ onMessage: (m) => ((token = m.lockToken), C2D_LATER) });
  d.connect();
  await within((async () => { while (!token) await sleep(10); })(), 3000, "message");
  await sleep(50);
  assert.is(hub.c2dQueue(D).length, 1, "still locked, not settled");
  const fb = feedback();
  assert.equal(await sent((done) => d.complete(token, done)), [0, 204]);
  assert.equal(await fb, ["Success"]);
  assert.equal(await sent((done) => d.reject(token, done)), [E_HUB_STATUS, 412]);
});

test("C2D larger than the free buffer: handed on in pieces with offset and total, then completed", async () => {
  const body = Buffer.alloc(5000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 255;
  hub.sendC2D(D, body);
  const parts: { offset: number; total: number; data: Buffer }[] = [];
  const fb = feedback();
  const d = device({ bufferSize: 1024, onMessage: (m) => void parts.push({ offset: m.offset, total: m.total, data: Buffer.from(m.payload) }) });
  d.connect();
  assert.equal(await fb, ["Success"]);
  assert.ok(parts.length > 1, `${parts.length} parts`);
  let at = 0;
  for (const p of parts) {
    assert.is(p.offset, at);
    // the emulator answers chunked: the total is unknown (-1) until the last call, which has it
    assert.ok(p.total == -1 || p.total == 5000, String(p.total));
    at += p.data.length;
  }
  assert.is(parts[parts.length - 1].total, 5000);
  assert.ok(Buffer.concat(parts.map((p) => p.data)).equals(body));
});

test("an empty queue: 204, no message, onConnect; a throwing handler abandons", async () => {
  let connected = 0;
  let called = 0;
  const d = device({ onMessage: () => void called++, onConnect: () => connected++ });
  d.connect();
  await within((async () => { while (!connected) await sleep(10); })(), 3000, "onConnect");
  assert.is(called, 0);
  d.end();
  hub.sendC2D(D, "boom");
  const d2 = device({ onMessage: () => { throw new Error("app bug"); } });
  d2.connect();
  await within((async () => { while (hub.c2dQueue(D)[0]?.deliveryCount !== 1 || hub.c2dQueue(D)[0]?.lockToken !== null) await sleep(10); })(), 3000, "abandoned");
});

test("a poll interval under 25 minutes warns once with E_HUB_POLL_FAST; the default does not", async () => {
  const errors: number[] = [];
  const d = device({ pollInterval: 2, onMessage: () => {}, onError: (e) => errors.push(e) });
  d.connect();
  d.connect();
  assert.equal(errors, [E_HUB_POLL_FAST]);
  const quiet: number[] = [];
  device({ onMessage: () => {}, onError: (e) => quiet.push(e) }).connect();
  assert.equal(quiet, []);
  assert.is(HUB_POLL_INTERVAL, 1500);
});

test("twin, methods and raw MQTT are E_HTTP_UNSUPPORTED", () => {
  const d = device();
  assert.is(d.getTwin(() => assert.unreachable()), E_HTTP_UNSUPPORTED);
  assert.is(d.patchReported({ a: 1 }, () => assert.unreachable()), E_HTTP_UNSUPPORTED);
  assert.is(d.publish("t", "x"), E_HTTP_UNSUPPORTED);
  assert.is(d.subscribe("t"), E_HTTP_UNSUPPORTED);
  const base = { connectionString: "HostName=h;DeviceId=d;SharedAccessKey=AAAA", transport: nodeTransport(), clock: nodeClock };
  assert.is(createHttpDevice({ ...base, onMethod: () => {} }), E_HTTP_UNSUPPORTED);
  assert.is(createHttpDevice({ ...base, methods: {} }), E_HTTP_UNSUPPORTED);
  assert.is(createHttpDevice({ ...base, onDesired: () => {} }), E_HTTP_UNSUPPORTED);
  assert.is(createHttpDevice({ ...base, connectionString: "DeviceId=d;SharedAccessKey=AAAA" }), E_CS_HOST);
});

test("refused before sending: unknown $ names and names no header can carry (E_PROPERTY), over 256 KB (E_HUB_SIZE)", () => {
  const d = device();
  const no = () => assert.unreachable("done called");
  assert.is(d.sendEvent("x", { $component: "c" }, no), E_PROPERTY);
  assert.is(d.sendEvent("x", { "bad name": "v" }, no), E_PROPERTY);
  assert.is(d.sendEvent("x", { k: "a\r\nb" }, no), E_PROPERTY);
  assert.is(d.sendEvent("x", { k: NaN }, no), E_PROPERTY);
  assert.is(d.sendEvent(new Uint8Array(262145), null, no), E_HUB_SIZE);
  assert.is(d.sendEventBatch([{ payload: new Uint8Array(200000) }], no), E_HUB_SIZE);
  assert.is(d.sendEventBatch([{ payload: "x", properties: { $component: "c" } }], no), E_PROPERTY);
});

test("a wrong key: E_HUB_STATUS with 401; end() fails what is queued and refuses more", async () => {
  const cs = hub.registry.connectionString(D).replace(/SharedAccessKey=[^;]*/, "SharedAccessKey=" + Buffer.alloc(32, 1).toString("base64"));
  const errors: number[] = [];
  const d = device({ connectionString: cs.replace(/;GatewayHostName=[^;]*/, "") + ";GatewayHostName=127.0.0.1", onError: (e) => errors.push(e) });
  assert.equal(await sent((done) => d.sendEvent("x", null, done)), [E_HUB_STATUS, 401]);
  const ends: number[] = [];
  d.sendEvent("1", null, (e) => ends.push(e));
  d.sendEvent("2", null, (e) => ends.push(e));
  d.sendEvent("3"); // no callback: dropped by end() without an onError (the application asked for the end)
  let closed = false;
  d.end(() => (closed = true));
  assert.equal(ends, [E_ENDED, E_ENDED]);
  assert.equal(errors, []);
  assert.ok(closed);
  assert.is(d.sendEvent("3", null, () => {}), E_NOT_CONNECTED);
});

// ---- a local server that answers as the test says ----

interface Req { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; at: number }

async function local(answer: (req: Req, n: number) => [number, Record<string, string>?, (string | string[])?]) {
  const reqs: Req[] = [];
  const s = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const r: Req = { method: req.method!, url: req.url!, headers: req.headers, body, at: Date.now() };
      reqs.push(r);
      const [status, headers, text] = answer(r, reqs.length);
      res.writeHead(status, headers);
      if (typeof text != "object") return res.end(text);
      // in pieces, apart in time, so that they arrive as separate chunks
      const next = (i: number) => (i < text.length ? (res.write(text[i]), setTimeout(() => next(i + 1), 5)) : res.end());
      next(0);
    });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  return {
    reqs,
    port,
    device(extra: Partial<HttpDeviceOptions> = {}): HttpDevice {
      const d = createHttpDevice({
        connectionString: "HostName=127.0.0.1;DeviceId=dev!1;SharedAccessKey=" + Buffer.alloc(32, 7).toString("base64"),
        port, tls: null, transport: nodeTransport(), clock: nodeClock, requestTimeout: 3000, ...extra,
      }) as HttpDevice;
      devices.push(d);
      return d;
    },
    stop: () => { s.closeAllConnections(); return new Promise<void>((r) => s.close(() => r())); },
  };
}

const V = `?api-version=${HUB_HTTP_API_VERSION}`;

test("429 and 503 honour Retry-After: the request waits, then goes again; later requests queue behind it", async () => {
  const srv = await local((_r, n) => (n == 1 ? [429, { "retry-after": "1" }] : n == 2 ? [503, { "retry-after": "0" }] : [204]));
  const d = srv.device();
  const order: string[] = [];
  const first = sent((done) => d.sendEvent("one", null, (e, s) => (order.push("one"), done(e, s))));
  const second = sent((done) => d.sendEvent("two", null, (e, s) => (order.push("two"), done(e, s))));
  assert.equal(await first, [0, 204]);
  assert.equal(await second, [0, 204]);
  assert.equal(srv.reqs.map((r) => r.body), ["one", "one", "one", "two"]);
  assert.ok(srv.reqs[1].at - srv.reqs[0].at >= 950, `waited ${srv.reqs[1].at - srv.reqs[0].at} ms`);
  assert.equal(order, ["one", "two"]);
  await srv.stop();
});

test("throttled past the retries: E_HUB_STATUS with 429; an HTTP-date Retry-After is read too", async () => {
  const srv = await local(() => [429, { "retry-after": new Date(Date.now() - 1000).toUTCString() }]);
  const d = srv.device();
  assert.equal(await sent((done) => d.sendEvent("x", null, done)), [E_HUB_STATUS, 429]);
  assert.is(srv.reqs.length, 4);
  await srv.stop();
});

test("the requests on the wire: paths, Authorization, property headers, poll and settle", async () => {
  const srv = await local((r, n) => {
    if (r.method == "GET" && n == 2) return [200, { etag: '"lock-1"', "iothub-messageid": "mid", "iothub-app-Prop": "p", "content-type": "x" }, "c2d"];
    if (r.method == "GET") return [204];
    return [204];
  });
  let msg: HttpC2DMessage | null = null;
  const d = srv.device({ onMessage: (m) => ((msg = { ...m, properties: { ...m.properties } }), C2D_REJECT) });
  assert.equal(await sent((done) => d.sendEvent("hi", { a: "1", $messageId: "m" }, done)), [0, 204]);
  d.connect();
  await within((async () => { while (srv.reqs.length < 4) await sleep(10); })(), 3000, "poll, settle, poll");
  const [send, poll, settle, again] = srv.reqs;
  assert.is(send.method, "POST");
  assert.is(send.url, `/devices/dev%211/messages/events${V}`);
  assert.is(send.headers.host, `127.0.0.1:${srv.port}`);
  assert.match(String(send.headers.authorization), /^SharedAccessSignature sr=127\.0\.0\.1%2Fdevices%2Fdev%211&sig=[^&]+&se=\d+$/);
  assert.is(send.headers["iothub-app-a"], "1");
  assert.is(send.headers["iothub-messageid"], "m");
  assert.is(send.headers["content-length"], "2");
  assert.is(poll.method, "GET");
  assert.is(poll.url, `/devices/dev%211/messages/deviceBound${V}`);
  assert.equal(msg!.properties, { $messageId: "mid", prop: "p" });
  assert.is(msg!.lockToken, "lock-1");
  assert.is(settle.method, "DELETE");
  assert.is(settle.url, `/devices/dev%211/messages/deviceBound/lock-1${V}&reject`);
  assert.is(settle.headers["if-match"], "lock-1");
  assert.is(again.method, "GET");
  assert.equal(await sent((done) => d.abandon("lock-2", done)), [0, 204]);
  const ab = srv.reqs[srv.reqs.length - 1];
  assert.is(ab.method, "POST");
  assert.is(ab.url, `/devices/dev%211/messages/deviceBound/lock-2/abandon${V}`);
  assert.is(ab.headers["content-length"], "0");
  await srv.stop();
});

test("a C2D body with a Content-Length over the free buffer: every piece knows the total", async () => {
  const body = "0123456789".repeat(300);
  let first = true;
  const srv = await local((r) => {
    if (r.method == "GET" && first) return (first = false), [200, { etag: '"t"', "content-length": "3000" }, body.match(/.{1,400}/g)!];
    return [204];
  });
  const parts: [number, number, string][] = [];
  const d = srv.device({ bufferSize: 1024, onMessage: (m) => void parts.push([m.offset, m.total, Buffer.from(m.payload).toString()]) });
  d.connect();
  await within((async () => { while (srv.reqs.length < 3) await sleep(10); })(), 3000, "poll, complete, poll");
  assert.ok(parts.length > 1);
  assert.ok(parts.every((p) => p[1] == 3000));
  assert.is(parts.map((p) => p[2]).join(""), body);
  assert.is(srv.reqs[1].method, "DELETE");
  await srv.stop();
});

test("the SAS token is signed anew before it expires; a fixed one that expired is E_TOKEN_EXPIRED", async () => {
  const srv = await local(() => [204]);
  let now = 1700000000;
  const d = srv.device({ time: () => now, tokenLifetime: 3600 });
  const se = () => /se=(\d+)/.exec(String(srv.reqs[srv.reqs.length - 1].headers.authorization))![1];
  await sent((done) => d.sendEvent("1", null, done));
  assert.is(se(), String(1700000000 + 3600));
  now += 3000;
  await sent((done) => d.sendEvent("2", null, done));
  assert.is(se(), String(1700000000 + 3600), "still the same token");
  now += 400; // within 5 minutes of expiry
  await sent((done) => d.sendEvent("3", null, done));
  assert.is(se(), String(1700003400 + 3600));

  const fixed = srv.device({
    connectionString: "HostName=127.0.0.1;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=x&sig=y&se=1000",
    time: () => 1.7e9,
  });
  assert.equal(await sent((done) => fixed.sendEvent("x", null, done)), [E_TOKEN_EXPIRED, 0]);
  await srv.stop();
});

test.run();
