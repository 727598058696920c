// The MQTT client (targets/node createClient) against a real mosquitto started by the test on 127.0.0.1.
// Run: npx tsx node_modules/uvu/bin.js test/integration "\.test\.ts$"
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  createClient, nodeTransport, errorName, Client, ClientOptions, MessageInfo, NodeOptions, Transport, TransportEvents, TlsOptions,
  E_TRANSPORT, E_OUTBOX_FULL, E_TOO_LARGE, E_REFUSED_AUTH, E_REFUSED_CREDENTIALS, E_KEEPALIVE, E_TIMEOUT,
} from "../../targets/node/index";
import { startMosquitto, liveBrokers, Mosquitto } from "../helpers/mosquitto";

// ---- harness -------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const dec = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.length).toString("utf8");

let broker: Mosquitto | null = null; // the shared broker
let current: Mosquitto | null = null; // the broker whose log a failure shows
const clients: Client[] = [];
const extraBrokers: Mosquitto[] = [];

/** A test with a time limit; a failure shows the broker's log. */
function it(name: string, ms: number, fn: () => Promise<void>) {
  test(name, async () => {
    let timer: NodeJS.Timeout | undefined;
    current = broker;
    try {
      await Promise.race([
        fn(),
        new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms); }),
      ]);
    } catch (e) {
      if (current) console.error(`\n--- mosquitto log (${current.logFile}) ---\n${current.log().split("\n").slice(-30).join("\n")}`);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  });
}

/** Waits until `cond()` is true, polling. */
async function until(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Msg { topic: string; payload: Uint8Array; info: MessageInfo }

/** A client with its events recorded. */
interface Probe {
  c: Client;
  msgs: Msg[];
  /** Chunks of messages larger than the receive region, reassembled by total/offset. */
  whole: Msg[];
  connects: boolean[];
  closes: number[];
  errors: number[];
  writable: number;
  /** Resolves at the next onWritable. */
  nextWritable(): Promise<void>;
  connected(ms?: number): Promise<boolean>;
}

function probe(o: Partial<NodeOptions<ClientOptions>> & { port: number }, connect = true): Probe {
  let part: { topic: string; buf: Uint8Array; got: number; info: MessageInfo } | null = null;
  let waiters: (() => void)[] = [];
  const p: Probe = {
    c: null as unknown as Client,
    msgs: [], whole: [], connects: [], closes: [], errors: [], writable: 0,
    nextWritable: () => new Promise<void>((r) => waiters.push(r)),
    async connected(ms = 5000) {
      const n = p.connects.length;
      await until(() => p.connects.length > n || p.c.connected(), ms, "CONNACK");
      return p.connects[p.connects.length - 1];
    },
  };
  p.c = createClient({
    host: "127.0.0.1",
    reconnect: false,
    ...o,
    onConnect: (sp) => p.connects.push(sp),
    onClose: (code) => p.closes.push(code),
    onError: (code) => p.errors.push(code),
    onWritable: () => {
      p.writable++;
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
    onMessage: (topic, payload, info) => {
      // the payload is a view into the client's buffer: copy
      const m = { topic, payload: payload.slice(), info: { ...info } };
      p.msgs.push(m);
      if (info.offset == 0 && payload.length == info.total) {
        p.whole.push(m);
        return;
      }
      if (info.offset == 0) part = { topic, buf: new Uint8Array(info.total), got: 0, info: { ...info } };
      assert.ok(part, "a chunk without its start");
      assert.is(info.offset, part!.got, "chunks arrive in order");
      part!.buf.set(payload, info.offset);
      part!.got += payload.length;
      if (part!.got == info.total) {
        p.whole.push({ topic, payload: part!.buf, info: part!.info });
        part = null;
      }
    },
  });
  clients.push(p.c);
  if (connect) p.c.connect();
  return p;
}

/** Promisified subscribe: resolves with the granted QoS. */
function sub(p: Probe, filter: string, qos: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = p.c.subscribe(filter, qos, (err, granted) => (err ? reject(new Error(`SUBACK ${errorName(err)}`)) : resolve(granted!)));
    if (r < 0) reject(new Error(`subscribe ${errorName(r)}`));
  });
}

/**
 * Promisified publish: resolves when acknowledged (QoS 1: PUBACK, QoS 2: PUBCOMP; QoS 0: queued).
 * On E_OUTBOX_FULL it waits for onWritable and tries again.
 */
async function pub(p: Probe, topic: string, payload: string | Uint8Array, qos: number, retain = false): Promise<number> {
  for (;;) {
    try {
      return await pub1(p, topic, payload, qos, retain);
    } catch (e) {
      if ((e as Error).message != "publish E_OUTBOX_FULL") throw e;
      await p.nextWritable();
    }
  }
}

function pub1(p: Probe, topic: string, payload: string | Uint8Array, qos: number, retain: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    // QoS 0 calls done inside publish(), before r is assigned
    const r: number = p.c.publish(topic, payload, qos, retain, (err) =>
      err ? reject(new Error(`publish ${errorName(err)}`)) : queueMicrotask(() => resolve(r)));
    if (r < 0) reject(new Error(`publish ${errorName(r)}`));
  });
}

interface Counting extends Transport {
  opens: number;
  pingreq: number;
  pingresp: number;
  /** write() calls answered 0 (socket buffer full: try after onWritable). */
  stalls: number;
  written: number[]; // first byte of every frame written
  /** Destroys the socket without DISCONNECT and tells the client its connection is gone. */
  sever(): void;
}

/** nodeTransport, counting what goes through it. */
function counting(inner: Transport = nodeTransport()): Counting {
  let ev: TransportEvents | null = null;
  const t: Counting = {
    opens: 0, pingreq: 0, pingresp: 0, stalls: 0, written: [],
    open(host: string, port: number, tls: TlsOptions | null, events: TransportEvents) {
      t.opens++;
      ev = events;
      inner.open(host, port, tls, {
        onOpen: () => events.onOpen(),
        onData: (chunk) => {
          // on an idle connection a PINGRESP arrives on its own
          for (let i = 0; i + 1 < chunk.length; i += 2) if (chunk[i] == 0xd0 && chunk[i + 1] == 0) t.pingresp++; else break;
          events.onData(chunk);
        },
        onWritable: () => events.onWritable(),
        onClose: (err) => events.onClose(err),
      });
    },
    write(buf, off, len) {
      const r = inner.write(buf, off, len);
      if (r == 0) t.stalls++;
      if (r == len) {
        t.written.push(buf[off]);
        if (buf[off] == 0xc0 && len == 2) t.pingreq++;
      }
      return r;
    },
    close() {
      inner.close();
    },
    sever() {
      inner.close();
      if (ev) ev.onClose(E_TRANSPORT);
    },
  };
  return t;
}

let seq = 0;
const uniq = (s: string) => `tinyhub/it/${process.pid}/${++seq}/${s}`;

test.before(async () => {
  broker = await startMosquitto({ websockets: true });
});

test.after.each(() => {
  for (const c of clients.splice(0)) c.end();
});

test.after(async () => {
  for (const c of clients.splice(0)) c.end();
  for (const b of extraBrokers.splice(0)) await b.stop();
  if (broker) await broker.stop();
  broker = null;
  assert.is(liveBrokers(), 0, "no mosquitto left running");
});

// ---- connect -------------------------------------------------------------------------------

it("connects over plain TCP", 5000, async () => {
  const a = probe({ port: broker!.ports.mqtt, clientId: "tinyhub-plain" });
  assert.is(await a.connected(), false, "clean session: no session present");
  assert.ok(a.c.connected());
  await new Promise<void>((r) => a.c.end(r));
  assert.not.ok(a.c.connected());
  assert.equal(a.closes, [0], "end() closes with 0");
  assert.equal(a.errors, []);
});

it("connects over TLS, verifying the server certificate with the generated CA", 8000, async () => {
  const a = probe({ port: broker!.ports.tls, tls: { ca: broker!.caPem } });
  await a.connected();
  const t = uniq("tls");
  assert.is(await sub(a, t, 1), 1);
  await pub(a, t, "over tls", 1);
  await until(() => a.msgs.length == 1, 3000, "message over TLS");
  assert.is(dec(a.msgs[0].payload), "over tls");
  // by name: the certificate's DNS SAN is checked against "localhost"
  const b = probe({ port: broker!.ports.tls, tls: { ca: broker!.caPem, servername: "localhost" } });
  await b.connected();
  assert.equal(b.errors, []);
});

it("TLS without the CA fails verification: onClose(E_TRANSPORT), no crash", 8000, async () => {
  const a = probe({ port: broker!.ports.tls, tls: {} });
  await until(() => a.closes.length > 0, 5000, "onClose");
  assert.equal(a.closes, [E_TRANSPORT]);
  assert.is(a.connects.length, 0);
  assert.not.ok(a.c.connected());
  // a wrong name is refused too
  const b = probe({ port: broker!.ports.tls, tls: { ca: broker!.caPem, servername: "not-localhost" } });
  await until(() => b.closes.length > 0, 5000, "onClose");
  assert.equal(b.closes, [E_TRANSPORT]);
});

it("TLS failure with reconnect on retries, and end() stops it", 8000, async () => {
  const t = counting();
  const a = probe({ port: broker!.ports.tls, tls: {}, transport: t, reconnect: { min: 50, max: 100, jitter: 0 } });
  await until(() => a.closes.length >= 3, 5000, "three failed attempts");
  a.c.end();
  const opens = t.opens;
  await sleep(300);
  assert.is(t.opens, opens, "no attempt after end()");
  assert.ok(a.closes.every((c) => c == E_TRANSPORT), String(a.closes));
});

// ---- subscribe and publish -----------------------------------------------------------------

for (const size of [2048, 512]) {
  it(`subscribe grants QoS 0/1/2 and QoS 0/1/2 round trip to self (bufferSize ${size})`, 8000, async () => {
    const a = probe({ port: broker!.ports.mqtt, bufferSize: size });
    await a.connected();
    const base = uniq("qos");
    assert.is(await sub(a, base + "/0", 0), 0);
    assert.is(await sub(a, base + "/1", 1), 1);
    assert.is(await sub(a, base + "/2", 2), 2);
    assert.is(await pub(a, base + "/0", "zero", 0), 0);
    const id1 = await pub(a, base + "/1", "one", 1);
    const id2 = await pub(a, base + "/2", "two", 2);
    assert.ok(id1 > 0 && id2 > 0 && id1 != id2, `packet ids ${id1} ${id2}`);
    await until(() => a.msgs.length == 3, 3000, "three messages");
    const got = a.msgs.map((m) => [m.topic.slice(base.length), dec(m.payload), m.info.qos, m.info.retain, m.info.dup]);
    got.sort();
    assert.equal(got, [["/0", "zero", 0, false, false], ["/1", "one", 1, false, false], ["/2", "two", 2, false, false]]);
    // the subscription's QoS caps delivery: QoS 2 published to a QoS 0 subscription arrives as QoS 0
    await pub(a, base + "/0", "capped", 2);
    await until(() => a.msgs.length == 4, 3000, "capped message");
    assert.is(a.msgs[3].info.qos, 0);
    // many in flight at once, all acknowledged, outbox empty again
    const all = [];
    for (let i = 0; i < 5; i++) all.push(pub(a, base + "/1", "m" + i, 1), pub(a, base + "/2", "n" + i, 2));
    await Promise.all(all);
    await until(() => a.msgs.length == 14, 3000, "ten more");
    // unsubscribe: no more delivery
    await new Promise<void>((res, rej) => a.c.unsubscribe(base + "/1", (e) => (e ? rej(new Error(errorName(e))) : res())));
    await pub(a, base + "/1", "after unsubscribe", 1);
    await pub(a, base + "/2", "marker", 2);
    await until(() => a.msgs.length == 15, 3000, "marker");
    assert.is(dec(a.msgs[14].payload), "marker");
    assert.equal(a.errors, []);
  });
}

it("UTF-8 topics and binary payloads", 5000, async () => {
  const a = probe({ port: broker!.ports.mqtt });
  await a.connected();
  const topic = uniq("ünïcödé/日本語/😀/Ω");
  assert.is(await sub(a, topic.replace("日本語", "+"), 2), 2); // a UTF-8 filter with a wildcard
  const bin = new Uint8Array(256);
  for (let i = 0; i < 256; i++) bin[i] = i;
  await pub(a, topic, bin, 1);
  await pub(a, topic, "text: ünïcödé ✓ 😀", 2);
  await pub(a, topic, new Uint8Array(0), 0);
  await until(() => a.msgs.length >= 3, 3000, "three messages");
  const mine = a.msgs.filter((m) => m.topic == topic);
  assert.is(mine.length, 3);
  assert.equal(Array.from(mine[0].payload), Array.from(bin));
  assert.is(dec(mine[1].payload), "text: ünïcödé ✓ 😀");
  assert.is(mine[2].payload.length, 0);
});

it("a message larger than the receive region arrives in chunks (bufferSize 512)", 8000, async () => {
  const small = probe({ port: broker!.ports.mqtt, bufferSize: 512 });
  const big = probe({ port: broker!.ports.mqtt, bufferSize: 16384 });
  await small.connected();
  await big.connected();
  const t = uniq("large");
  await sub(small, t, 2);
  const payload = new Uint8Array(5000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 8)) & 255;
  for (const qos of [0, 1, 2]) await pub(big, t, payload, qos);
  await pub(big, t, "small after", 1);
  await until(() => small.whole.length == 4, 5000, "four messages");
  for (let i = 0; i < 3; i++) {
    const m = small.whole[i];
    assert.is(m.info.total, 5000);
    assert.is(m.info.qos, i);
    assert.ok(Buffer.from(m.payload).equals(Buffer.from(payload)), `message ${i} reassembled intact`);
  }
  assert.is(dec(small.whole[3].payload), "small after");
  assert.ok(small.msgs.length > 3 * 5000 / 256, `streamed in ${small.msgs.length} chunks`);
  assert.ok(small.msgs.every((m) => m.payload.length <= 256), "no chunk larger than the receive region");
  assert.ok(small.c.connected(), "the connection survives");
  assert.equal(small.errors, []);
  // and the small client cannot send what does not fit its outbox: refused, nothing queued
  assert.is(small.c.publish(t, payload, 1), E_TOO_LARGE);
});

// ---- retained, will ------------------------------------------------------------------------

it("a retained message reaches a later subscriber with retain set", 5000, async () => {
  const t = uniq("retained");
  const a = probe({ port: broker!.ports.mqtt });
  await a.connected();
  await sub(a, t, 1);
  await pub(a, t, "kept", 1, true);
  await until(() => a.msgs.length == 1, 3000, "live copy");
  assert.is(a.msgs[0].info.retain, false, "live delivery has retain clear");
  const b = probe({ port: broker!.ports.mqtt });
  await b.connected();
  await sub(b, t, 1);
  await until(() => b.msgs.length == 1, 3000, "retained copy");
  assert.is(dec(b.msgs[0].payload), "kept");
  assert.is(b.msgs[0].info.retain, true);
  assert.is(b.msgs[0].info.qos, 1);
  // an empty retained message clears it
  await pub(a, t, "", 1, true);
  const c = probe({ port: broker!.ports.mqtt });
  await c.connected();
  await sub(c, t, 1);
  await sleep(200);
  assert.is(c.msgs.length, 0);
});

for (const mode of ["plain", "tls"] as const) {
  it(`will (${mode}): published when the socket dies, not after a clean end()`, 8000, async () => {
    const port = mode == "tls" ? broker!.ports.tls : broker!.ports.mqtt;
    const tls = mode == "tls" ? { ca: broker!.caPem } : null;
    const wt = uniq("will");
    const b = probe({ port: broker!.ports.mqtt });
    await b.connected();
    await sub(b, wt + "/#", 1);

    const ta = counting();
    const a = probe({ port, tls, transport: ta, will: { topic: wt + "/a", payload: "a died", qos: 1 } });
    await a.connected();
    ta.sever();
    assert.equal(a.closes, [E_TRANSPORT]);
    await until(() => b.msgs.length == 1, 3000, "the will");
    assert.is(b.msgs[0].topic, wt + "/a");
    assert.is(dec(b.msgs[0].payload), "a died");
    assert.is(b.msgs[0].info.qos, 1);

    const c = probe({ port, tls, will: { topic: wt + "/c", payload: "c died", qos: 1 } });
    await c.connected();
    c.c.end();
    await sleep(500);
    assert.equal(b.msgs.map((m) => m.topic), [wt + "/a"], "no will after DISCONNECT");
  });
}

// ---- keep-alive ----------------------------------------------------------------------------

it("keep-alive 1 s: PINGREQ written, PINGRESP handled, connection stays up while idle", 10000, async () => {
  const t = counting();
  const a = probe({ port: broker!.ports.mqtt, keepalive: 1, transport: t });
  await a.connected();
  await sleep(4000); // mosquitto drops a client silent for 1.5 x keep-alive
  assert.ok(a.c.connected(), "still connected");
  assert.equal(a.closes, []);
  assert.ok(t.pingreq >= 3, `PINGREQ written ${t.pingreq} times`);
  assert.ok(t.pingresp >= 3, `PINGRESP received ${t.pingresp} times`);
  assert.is(t.opens, 1);
  const tp = uniq("ka");
  await sub(a, tp, 1);
  await pub(a, tp, "alive", 1);
  await until(() => a.msgs.length == 1, 2000, "round trip after idling");
});

it("a frozen broker (SIGSTOP): keep-alive notices (E_KEEPALIVE), the client reconnects once it wakes", 15000, async () => {
  const fb = await startMosquitto({ tls: false });
  extraBrokers.push(fb);
  current = fb;
  const a = probe({ port: fb.ports.mqtt, keepalive: 1, reconnect: { min: 100, max: 300, jitter: 0 } });
  await a.connected();
  fb.pause();
  const t0 = Date.now();
  await until(() => a.closes.length > 0, 5000, "keep-alive timeout");
  const dt = Date.now() - t0;
  assert.is(a.closes[0], E_KEEPALIVE);
  assert.ok(dt < 2000, `noticed after ${dt} ms (keep-alive 1 s)`);
  // the kernel still completes TCP handshakes for the frozen listener: CONNECT goes unanswered
  await until(() => a.closes.length >= 2, 5000, "an unanswered CONNECT");
  assert.is(a.closes[1], E_TIMEOUT);
  fb.resume();
  await until(() => a.c.connected(), 5000, "reconnected");
  const t = uniq("awake");
  await sub(a, t, 1);
  await pub(a, t, "awake", 1);
  await until(() => a.msgs.length == 1, 2000, "round trip");
  await fb.stop();
});

it("transport backpressure: a frozen broker fills the socket, publish waits for onWritable, nothing lost", 20000, async () => {
  const fb = await startMosquitto({ tls: false });
  extraBrokers.push(fb);
  current = fb;
  const t = uniq("flood");
  const s = probe({ port: fb.ports.mqtt, keepalive: 0 });
  const tp = counting();
  const p = probe({ port: fb.ports.mqtt, keepalive: 0, bufferSize: 16384, transport: tp });
  await s.connected();
  await p.connected();
  await sub(s, t, 1);
  fb.pause();
  // QoS 0 records leave the outbox once the transport takes them: the outbox fills only when the socket does
  const N = 2000, payload = new Uint8Array(4000);
  let full = 0, i = 0;
  for (; i < N; i++) {
    payload[0] = i & 255;
    payload[1] = i >> 8;
    const r = p.c.publish(t, payload, 0);
    if (r == E_OUTBOX_FULL) break;
    assert.is(r, 0, errorName(r));
    if (i % 20 == 19) await sleep(1); // let the socket drain what the kernel takes
  }
  assert.ok(i < N, "the outbox filled while the broker was frozen");
  assert.ok(tp.stalls > 0, "the transport said 'try later'");
  const stalledAt = i;
  setTimeout(() => fb.resume(), 300);
  for (; i < N; i++) {
    payload[0] = i & 255;
    payload[1] = i >> 8;
    for (;;) {
      const r = p.c.publish(t, payload, 0);
      if (r == 0) break;
      assert.is(r, E_OUTBOX_FULL, errorName(r));
      full++;
      await p.nextWritable();
    }
  }
  await until(() => s.whole.length == N, 15000, `all ${N} messages at the subscriber (${s.whole.length})`);
  const order = s.whole.map((m) => m.payload[0] | (m.payload[1] << 8));
  assert.equal(order, Array.from({ length: N }, (_, k) => k), "in order, none lost");
  console.log(`\n    backpressure: outbox full after ${stalledAt} x 4000 bytes, ${tp.stalls} transport stalls, ${full} E_OUTBOX_FULL`);
  assert.equal(p.closes, []);
  assert.equal(p.errors, []);
  await fb.stop();
});

// ---- credentials ---------------------------------------------------------------------------

it("bad credentials are refused with the CONNACK's code, without a reconnect loop", 10000, async () => {
  const ab = await startMosquitto({ tls: false, auth: { username: "device", password: "s3cret" } });
  extraBrokers.push(ab);
  current = ab;
  const good = probe({ port: ab.ports.auth, username: "device", password: "s3cret" });
  await good.connected();

  const t = counting();
  const bad = probe({ port: ab.ports.auth, username: "device", password: "wrong", transport: t, reconnect: { min: 50, max: 100, jitter: 0 } });
  await until(() => bad.closes.length > 0, 5000, "refusal");
  await sleep(600);
  // mosquitto 2.0.11 answers a wrong password on MQTT 3.1.1 with return code 5 (not authorized), not 4
  assert.equal(bad.errors, [E_REFUSED_AUTH], `errors ${bad.errors.map(errorName)}`);
  assert.is.not(bad.errors[0], E_REFUSED_CREDENTIALS);
  assert.equal(bad.closes, [E_REFUSED_AUTH]);
  assert.is(t.opens, 1, "no reconnect after a refusal");
  assert.is(bad.connects.length, 0);

  const anon = probe({ port: ab.ports.auth, reconnect: { min: 50, max: 100 } });
  await until(() => anon.errors.length > 0, 5000, "refusal");
  assert.equal(anon.errors, [E_REFUSED_AUTH]);

  // connect() after a refusal tries again (e.g. with a new password): refused once more, still no loop
  bad.c.connect();
  await until(() => bad.errors.length == 2, 5000, "second refusal");
  await sleep(300);
  assert.is(t.opens, 2);
});

// ---- WebSockets listener (the helper's; the library's WS transport is tested elsewhere) -----

it("the broker's WebSockets listener answers an MQTT-over-WebSockets CONNECT", 5000, async () => {
  const { default: WebSocket } = await import("ws");
  const ws = new WebSocket(`ws://127.0.0.1:${broker!.ports.ws}/`, "mqtt");
  const connack = await new Promise<Buffer>((resolve, reject) => {
    ws.on("open", () => ws.send(Buffer.from([0x10, 12, 0, 4, 77, 81, 84, 84, 4, 2, 0, 10, 0, 0])));
    ws.on("message", (d: Buffer) => resolve(d));
    ws.on("error", reject);
  });
  ws.close();
  assert.equal(Array.from(connack), [0x20, 2, 0, 0]);
});

// ---- broker killed and restarted mid-stream ------------------------------------------------

it("a restart without persistence: no session, the client re-subscribes by itself even with a full outbox", 15000, async () => {
  // regression: the re-subscription after a session-less CONNACK was dropped silently when the outbox had no room
  const rb = await startMosquitto({ tls: false });
  extraBrokers.push(rb);
  current = rb;
  const filter = uniq("resubscribe/a-rather-long-filter-so-it-needs-more-room-than-a-publish/#");
  const a = probe({ port: rb.ports.mqtt, bufferSize: 1024, reconnect: { min: 100, max: 200, jitter: 0 } });
  await a.connected();
  await sub(a, filter, 1);
  await rb.kill9();
  await until(() => a.closes.length == 1, 3000, "onClose");
  let queued = 0, r: number;
  const acks: number[] = [];
  while ((r = a.c.publish(uniq("out"), "x", 1, false, (e) => acks.push(e))) > 0) queued++;
  assert.is(r, E_OUTBOX_FULL);
  assert.ok(queued > 5, `queued ${queued} while the broker was down`);
  await rb.restart();
  await until(() => a.connects.length == 2, 5000, "reconnect");
  assert.is(a.connects[1], false, "no session after a restart without persistence");
  await until(() => acks.length == queued, 5000, "the queued messages acknowledged");
  assert.ok(acks.every((e) => e == 0));
  const b = probe({ port: rb.ports.mqtt });
  await b.connected();
  await sleep(100);
  await pub(b, filter.replace("#", "x"), "to the re-subscribed filter", 1);
  await until(() => a.msgs.length == 1, 3000, "a message on the re-subscribed filter");
  assert.is(dec(a.msgs[0].payload), "to the re-subscribed filter");
  await rb.stop();
});

for (const size of [16384, 1024]) {
  it(`kill -9 and restart mid-stream: a persistent session loses none of 200 QoS 1 messages (bufferSize ${size})`, 60000, async () => {
    const pb = await startMosquitto({ tls: false, persistence: true });
    extraBrokers.push(pb);
    current = pb;
    const port = pb.ports.mqtt, topic = uniq("restart"), N = 200;
    const rc = { min: 100, max: 500, jitter: 0.2 };
    const s = probe({ port, clientId: `tinyhub-it-sub-${process.pid}-${size}`, clean: false, reconnect: rc, keepalive: 5 });
    await s.connected();
    assert.is(await sub(s, topic, 1), 1);
    const p = probe({ port, clientId: `tinyhub-it-pub-${process.pid}-${size}`, clean: false, reconnect: rc, bufferSize: size, keepalive: 5 });
    await p.connected();
    await sleep(100); // let the subscription reach mosquitto's save file

    const acked = new Set<number>();
    let full = 0, killedAt = -1, restartedAt = -1, restarted: Promise<void> = Promise.resolve();
    // bursts of 10 written back to back, so the kill finds messages in flight (sent, not yet acknowledged)
    let cur = 0;
    for (let i = 0; i < N; i++) {
      cur = i;
      if (i == 70) {
        // down for 400 ms while the publisher keeps publishing into its buffer (or waits for room)
        pb.kill9();
        killedAt = i;
        restarted = sleep(400).then(() => pb.restart()).then(() => { restartedAt = cur; });
      }
      for (;;) {
        const r = p.c.publish(topic, `msg-${i}`, 1, false, (err) => {
          assert.is(err, 0);
          acked.add(i);
        });
        if (r > 0) break;
        assert.is(r, E_OUTBOX_FULL, errorName(r));
        full++;
        await p.nextWritable();
      }
      if (i % 10 == 5) await sleep(60);
    }
    await restarted;
    await until(() => acked.size == N, 20000, "every PUBACK");
    const seen = new Map<string, number>();
    await until(() => {
      seen.clear();
      for (const m of s.msgs) seen.set(dec(m.payload), (seen.get(dec(m.payload)) || 0) + 1);
      return seen.size == N;
    }, 20000, "all 200 at the subscriber");
    await sleep(300);
    const total = s.msgs.length, dups = total - N, dupFlag = s.msgs.filter((m) => m.info.dup).length;
    console.log(`\n    restart (bufferSize ${size}): ${total} deliveries for ${N} messages, ${dups} duplicates ` +
      `(${dupFlag} with DUP set); killed at message ${killedAt}, back at message ${restartedAt}; ` +
      `publisher reconnects ${p.connects.length - 1} (session present ${p.connects.slice(1)}), ` +
      `subscriber reconnects ${s.connects.length - 1}; E_OUTBOX_FULL ${full} times`);
    for (let i = 0; i < N; i++) assert.ok(seen.has(`msg-${i}`), `msg-${i} lost`);
    assert.ok(p.connects.length >= 2 && s.connects.length >= 2, "both reconnected");
    assert.ok(p.connects.slice(1).every((x) => x) && s.connects.slice(1).every((x) => x), "sessions survived the restart");
    if (size < 2048) assert.ok(full > 0, "the small buffer filled while the broker was down");
    await pb.stop();
  });
}

test.run();
