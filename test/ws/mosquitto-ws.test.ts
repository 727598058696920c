// MQTT over WebSockets against a real mosquitto (Debian 2.0.11, built with libwebsockets): its
// `protocol websockets` listener on 127.0.0.1, started and stopped by the test (test/helpers/mosquitto.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient, nodeTransport, Client, MessageInfo, errorName } from '../../targets/node/index';
import { wsTransport } from '../../src/ws/transport';
import { startMosquitto, Mosquitto } from '../helpers/mosquitto';
import { createRng } from '../helpers/rng';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

let broker: Mosquitto | null = null;
const clients: Client[] = [];

function it(name: string, ms: number, fn: () => Promise<void>) {
  test(name, async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([fn(), new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms); })]);
    } catch (e) {
      if (broker) console.error(`\n--- mosquitto log ---\n${broker.log().split('\n').slice(-20).join('\n')}`);
      throw e;
    } finally {
      clearTimeout(timer);
      while (clients.length) clients.pop()!.end();
    }
  });
}

interface Msg { topic: string; payload: Buffer; info: MessageInfo }
interface Probe { c: Client; msgs: Msg[]; connects: number; closes: number[] }

function probe(o: Record<string, unknown> = {}): Probe {
  const p: Probe = { c: null as unknown as Client, msgs: [], connects: 0, closes: [] };
  let part: Buffer[] = [];
  p.c = createClient({
    host: '127.0.0.1',
    port: broker!.ports.ws,
    transport: wsTransport(nodeTransport(), { path: '/mqtt' }),
    clientId: 'ws-' + Math.random().toString(16).substring(2, 10),
    reconnect: false,
    onConnect: () => p.connects++,
    onClose: (e) => p.closes.push(e),
    onMessage: (topic, payload, info) => {
      part.push(Buffer.from(payload));
      if (info.offset + payload.length == info.total) {
        p.msgs.push({ topic, payload: Buffer.concat(part), info: { ...info } });
        part = [];
      }
    },
    ...o,
  });
  clients.push(p.c);
  p.c.connect();
  return p;
}

async function connected(p: Probe) {
  await until(() => p.connects > 0 || p.closes.length > 0, 5000, 'CONNACK');
  assert.is(p.connects, 1, `connected (closes ${p.closes.map(errorName)})`);
}

const call = (f: (done: (err: number) => void) => number) =>
  new Promise<void>((resolve, reject) => {
    const r = f((err) => (err ? reject(new Error(errorName(err))) : resolve()));
    if (r < 0) reject(new Error(errorName(r)));
  });

test.before(async () => {
  broker = await startMosquitto({ websockets: true, tls: false });
});

test.after(async () => {
  if (broker) await broker.stop();
});

it('mosquitto websockets listener: connect, subscribe, QoS 0/1/2 round trip', 10000, async () => {
  const p = probe();
  await connected(p);
  await call((d) => p.c.subscribe('mws/#', 2, d));
  for (const qos of [0, 1, 2]) await call((d) => p.c.publish(`mws/${qos}`, `over websockets ${qos}`, qos, false, d));
  await until(() => p.msgs.length == 3, 3000, 'three messages');
  assert.equal(p.msgs.map((m) => [m.topic, m.payload.toString(), m.info.qos]), [
    ['mws/0', 'over websockets 0', 0], ['mws/1', 'over websockets 1', 1], ['mws/2', 'over websockets 2', 2],
  ]);
});

it('two clients over websockets; large payloads both ways (in place, in chunks)', 15000, async () => {
  const a = probe({ bufferSize: 32768, rxSize: 1024 }), b = probe({ bufferSize: 32768 });
  await connected(a);
  await connected(b);
  await call((d) => a.c.subscribe('to/a', 1, d));
  const rng = createRng();
  const sent: Buffer[] = [];
  for (const n of [10, 200, 3000, 15000]) {
    const pl = Buffer.from(rng.bytes(n));
    sent.push(pl);
    await call((d) => b.c.publish('to/a', pl, 1, false, d));
  }
  await until(() => a.msgs.length == sent.length, 5000, 'all delivered');
  for (let i = 0; i < sent.length; i++) assert.ok(a.msgs[i].payload.equals(sent[i]), `message ${i}`);
});

it('end(): DISCONNECT and the websocket close handshake; mosquitto logs a clean disconnect', 10000, async () => {
  const p = probe({ clientId: 'ws-clean-end' });
  await connected(p);
  p.c.end();
  clients.length = 0;
  await until(() => /Client ws-clean-end disconnected\./.test(broker!.log()), 3000, 'the disconnect in the log');
  assert.not.match(broker!.log(), /ws-clean-end[^\n]*(protocol error|closed its connection)/);
});

test.run();
