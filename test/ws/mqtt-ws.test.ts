// MQTT over WebSockets end to end: our MQTT client (src/mqtt/client.ts, unchanged) on
// wsTransport(nodeTransport()) against an aedes broker served through `ws` (createWebSocketStream)
// on 127.0.0.1, with an mqtt.js client on plain TCP as the other party.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as http from 'node:http';
import * as net from 'node:net';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import mqtt from 'mqtt';
import { createClient, nodeTransport, Client, MessageInfo, errorName } from '../../targets/node/index';
import { wsTransport } from '../../src/ws/transport';
import { createRng } from '../helpers/rng';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const closers: (() => Promise<void> | void)[] = [];

function it(name: string, ms: number, fn: () => Promise<void>) {
  test(name, async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([fn(), new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms); })]);
    } finally {
      clearTimeout(timer);
      while (closers.length) await closers.pop()!();
    }
  });
}

interface Broker { ws: number; tcp: number; aedes: Aedes; sockets: Set<net.Socket> }

/** aedes on 127.0.0.1: MQTT over WebSockets at /mqtt (subprotocol mqtt) and plain TCP. */
async function broker(): Promise<Broker> {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const web = http.createServer();
  const wss = new WebSocketServer({ server: web, path: '/mqtt', handleProtocols: (p) => (p.has('mqtt') ? 'mqtt' : false) });
  wss.on('connection', (w, req) => aedes.handle(createWebSocketStream(w) as any, req as any));
  web.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  const tcp = net.createServer((s) => aedes.handle(s as any));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  closers.push(async () => {
    for (const c of wss.clients) c.terminate();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => wss.close(() => r()));
    await new Promise<void>((r) => web.close(() => r()));
    await new Promise<void>((r) => tcp.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
  });
  return { ws: (web.address() as net.AddressInfo).port, tcp: (tcp.address() as net.AddressInfo).port, aedes, sockets };
}

interface Msg { topic: string; payload: Buffer; info: MessageInfo }

interface Probe { c: Client; msgs: Msg[]; connects: number; closes: number[]; errors: number[] }

/** Our client over WebSockets. */
function probe(port: number, o: Record<string, unknown> = {}): Probe {
  const p: Probe = { c: null as unknown as Client, msgs: [], connects: 0, closes: [], errors: [] };
  let part: Buffer[] = [];
  p.c = createClient({
    host: '127.0.0.1',
    port,
    transport: wsTransport(nodeTransport(), { path: '/mqtt' }),
    clientId: 'ws-' + Math.random().toString(16).substring(2, 10),
    reconnect: false,
    onConnect: () => p.connects++,
    onClose: (e) => p.closes.push(e),
    onError: (e) => p.errors.push(e),
    onMessage: (topic, payload, info) => {
      // a message larger than the receive region comes in chunks: reassembled here
      part.push(Buffer.from(payload));
      if (info.offset + payload.length == info.total) {
        p.msgs.push({ topic, payload: Buffer.concat(part), info: { ...info } });
        part = [];
      }
    },
    ...o,
  });
  closers.push(() => p.c.end());
  p.c.connect();
  return p;
}

async function connected(p: Probe) {
  await until(() => p.connects > 0 || p.closes.length > 0, 5000, 'CONNACK');
  assert.is(p.connects, 1, `connected (closes ${p.closes.map(errorName)})`);
}

function subscribe(p: Probe, filter: string, qos: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = p.c.subscribe(filter, qos, (err, granted) => (err ? reject(new Error(errorName(err))) : resolve(granted!)));
    if (r < 0) reject(new Error(errorName(r)));
  });
}

function publish(p: Probe, topic: string, payload: Uint8Array | string, qos: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = p.c.publish(topic, payload, qos, false, (err) => (err ? reject(new Error(errorName(err))) : resolve()));
    if (r < 0) reject(new Error(errorName(r)));
  });
}

async function mqttjs(port: number): Promise<mqtt.MqttClient> {
  const m = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: 4, reconnectPeriod: 0 });
  closers.push(() => new Promise<void>((r) => m.end(true, {}, () => r())));
  await new Promise<void>((resolve, reject) => { m.once('connect', () => resolve()); m.once('error', reject); });
  return m;
}

it('connect, subscribe, QoS 0/1/2 round trip through the broker', 10000, async () => {
  const b = await broker();
  const p = probe(b.ws);
  await connected(p);
  assert.is(await subscribe(p, 'ws/#', 2), 2, 'QoS 2 granted');
  for (const qos of [0, 1, 2]) await publish(p, `ws/q${qos}`, `hello ${qos}`, qos);
  await until(() => p.msgs.length == 3, 3000, 'three messages back');
  assert.equal(p.msgs.map((m) => [m.topic, m.payload.toString(), m.info.qos]), [
    ['ws/q0', 'hello 0', 0], ['ws/q1', 'hello 1', 1], ['ws/q2', 'hello 2', 2],
  ]);
  assert.equal(p.errors, []);
});

it('with an mqtt.js client on TCP: messages both ways at QoS 0/1/2', 10000, async () => {
  const b = await broker();
  const p = probe(b.ws);
  await connected(p);
  const m = await mqttjs(b.tcp);
  const got: [string, string, number][] = [];
  m.on('message', (t, pl, pk) => got.push([t, pl.toString(), pk.qos]));
  await new Promise<void>((r, j) => m.subscribe('to/js', { qos: 2 }, (e) => (e ? j(e) : r())));
  await subscribe(p, 'to/ws', 2);
  for (const qos of [0, 1, 2] as const) {
    await new Promise<void>((r, j) => m.publish('to/ws', `from js ${qos}`, { qos }, (e) => (e ? j(e) : r())));
    await publish(p, 'to/js', `from ws ${qos}`, qos);
  }
  await until(() => p.msgs.length == 3 && got.length == 3, 3000, 'messages both ways');
  assert.equal(p.msgs.map((x) => [x.topic, x.payload.toString(), x.info.qos]), [
    ['to/ws', 'from js 0', 0], ['to/ws', 'from js 1', 1], ['to/ws', 'from js 2', 2],
  ]);
  assert.equal(got, [['to/js', 'from ws 0', 0], ['to/js', 'from ws 1', 1], ['to/js', 'from ws 2', 2]]);
});

it('large messages: publish larger than the ws scratch region, receive larger than the receive region', 15000, async () => {
  const b = await broker();
  const p = probe(b.ws, { bufferSize: 16384, rxSize: 2048 });
  await connected(p);
  await subscribe(p, 'big/#', 1);
  const rng = createRng();
  const sent: Buffer[] = [];
  for (const n of [300, 377, 1000, 5000, 12000]) {
    const pl = Buffer.from(rng.bytes(n));
    sent.push(pl);
    await publish(p, 'big/' + n, pl, 1);
  }
  await until(() => p.msgs.length == sent.length, 5000, 'all back');
  for (let i = 0; i < sent.length; i++) assert.ok(p.msgs[i].payload.equals(sent[i]), `message ${i} (${sent[i].length} bytes)`);
});

it('many messages at QoS 1 and 2 through a small buffer: backpressure, nothing lost', 20000, async () => {
  const b = await broker();
  const p = probe(b.ws, { bufferSize: 1024 });
  await connected(p);
  await subscribe(p, 'n/#', 2);
  const total = 300;
  let sent = 0, acked = 0;
  while (sent < total) {
    const r = p.c.publish('n/' + (sent % 3), 'm' + sent, 1 + (sent % 2), false, () => acked++);
    if (r < 0) await sleep(2);
    else sent++;
  }
  await until(() => acked == total && p.msgs.length == total, 15000, `all acknowledged and delivered (${acked}, ${p.msgs.length})`);
  assert.equal(p.msgs.map((m) => m.payload.toString()).sort(), Array.from({ length: total }, (_, i) => 'm' + i).sort());
});

it('the broker going away: onClose, then a reconnect over WebSockets', 15000, async () => {
  const b = await broker();
  const p = probe(b.ws, { reconnect: { min: 50, max: 100, jitter: 0 } });
  await connected(p);
  for (const s of b.sockets) s.destroy();
  await until(() => p.closes.length == 1, 3000, 'onClose');
  await until(() => p.connects == 2, 5000, 'reconnected');
  await subscribe(p, 'again', 1);
  await publish(p, 'again', 'yes', 1);
  await until(() => p.msgs.length == 1, 3000, 'message after the reconnect');
});

test.run();
