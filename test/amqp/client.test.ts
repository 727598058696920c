import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as net from 'node:net';
import { createRequire } from 'node:module';
import { createAmqpClient, AmqpClient, AmqpClientOptions, ACCEPTED, REJECTED, RELEASED, SND_UNSETTLED } from '../../src/amqp/client';
import * as P from '../../src/amqp/performatives';
import { writeProtocolHeader, PROTO_AMQP } from '../../src/amqp/frame';
import * as E from '../../src/errors';
import { errorName } from '../../src/errornames';
import { nodeTransport, nodeClock } from '../../targets/node/transport';
import type { Transport } from '../../src/types';

// The AMQP client against rhea 3.0.5 (the library the Azure SDKs build on) as a real server on 127.0.0.1, and raw TCP
// peers for what rhea would never send: both sides checked (what rhea saw, what our callbacks said).

const rhea = createRequire(import.meta.url)('rhea');

const LIMIT = 10000;
/** Resolves when `f` is true, polled; fails by name after LIMIT ms. */
function until(f: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  return new Promise((ok, ko) => {
    const poll = () => (f() ? ok() : Date.now() - t0 > LIMIT ? ko(new Error('timed out waiting for ' + what)) : setTimeout(poll, 5));
    poll();
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server { port: number; c: any; conns: any[]; close(): Promise<void> }

/** A rhea container listening on 127.0.0.1, port 0, with `opts` (credit_window, autoaccept, ...); PLAIN checks user/secret. */
async function server(opts: any = {}, setup?: (c: any) => void): Promise<Server> {
  const c = rhea.create_container({ id: 'rhea-server' });
  c.sasl_server_mechanisms.enable_anonymous();
  c.sasl_server_mechanisms.enable_plain((user: string, pass: string) => user == 'user' && pass == 'secret');
  const conns: any[] = [];
  c.on('connection_open', (ctx: any) => conns.push(ctx.connection));
  c.on('error', () => {});
  c.on('connection_error', () => {});
  c.on('disconnected', () => {});
  if (setup) setup(c);
  const l = c.listen({ port: 0, host: '127.0.0.1', ...opts });
  await new Promise((r) => l.once('listening', r));
  return {
    port: l.address().port, c, conns,
    // ended, not destroyed: rhea clears its heartbeat timers on the socket's end, not on its close
    close: () => new Promise<void>((r) => {
      for (const k of conns) if (k.socket && !k.socket.destroyed) k.socket.end();
      l.close(() => r());
    }),
  };
}

/** Our client through the Node transport, counting the empty frames (heartbeats) it writes; events recorded. */
function client(port: number, o: Partial<AmqpClientOptions> = {}) {
  const tr = nodeTransport(), rec = { closes: [] as number[], errors: [] as number[], opened: 0, writable: 0, heartbeats: 0, msgs: [] as any[] };
  const counting: Transport = {
    open: (h, p, t, ev) => tr.open(h, p, t, ev),
    write: (b, off, len) => {
      if (len == 8 && b[off + 3] == 8 && b[off] == 0) rec.heartbeats++;
      return tr.write(b, off, len);
    },
    close: () => tr.close(),
  };
  const c = createAmqpClient({
    host: '127.0.0.1', port, transport: counting, clock: nodeClock, containerId: 'dev1', hostname: 'hub.example',
    onOpen: () => rec.opened++, onClose: (e) => rec.closes.push(e), onError: (e) => rec.errors.push(e), onWritable: () => rec.writable++,
    onMessage: (h, payload, m, id) => rec.msgs.push({ h, id, payload: payload && Buffer.from(payload).toString(), props: m.properties, app: m.applicationProperties }),
    ...o,
  });
  return { c, rec };
}

async function up(port: number, o: Partial<AmqpClientOptions> = {}) {
  const k = client(port, o);
  k.c.connect();
  await until(() => k.rec.opened > 0 || k.rec.closes.length > 0, 'open');
  assert.is(k.rec.opened, 1, 'opened: ' + k.rec.closes.map(errorName));
  return k;
}

function attach(c: AmqpClient, name: string, receiver: boolean, address: string, opt?: any): Promise<[number, number]> {
  return new Promise((ok) => {
    const h: number = c.attach(name, receiver, address, opt, (err) => ok([h, err]));
    if (h < 0) ok([h, h]);
  });
}

const names = (codes: number[]) => codes.map(errorName);

test('SASL PLAIN, open and begin: rhea sees our container-id, hostname, max-frame-size, idle-time-out', async () => {
  let user = '';
  const s = await server({}, (c) => c.on('connection_open', (ctx: any) => (user = ctx.connection.sasl_transport?.username || 'seen')));
  const { c, rec } = await up(s.port, { sasl: { mechanism: 'PLAIN', username: 'user', password: 'secret' }, bufferSize: 4096, idleTimeout: 30000 });
  const open = s.conns[0].remote.open;
  assert.is(open.container_id, 'dev1');
  assert.is(open.hostname, 'hub.example');
  assert.is(open.max_frame_size, 2048 + 8);
  assert.is(open.idle_time_out, 30000);
  assert.is(open.channel_max, 0);
  assert.ok(user);
  assert.ok(c.connected());
  let closed = false;
  c.end(() => (closed = true));
  await until(() => closed, 'end');
  assert.equal(rec.closes, [0]);
  assert.equal(rec.errors, []);
  await s.close();
});

test('SASL PLAIN with a wrong password: E_AMQP_SASL, never open', async () => {
  const s = await server();
  const { c, rec } = client(s.port, { sasl: { mechanism: 'PLAIN', username: 'user', password: 'wrong' } });
  c.connect();
  await until(() => rec.closes.length > 0, 'close');
  assert.equal(names(rec.closes), ['E_AMQP_SASL']);
  assert.is(rec.opened, 0);
  await s.close();
});

test('SASL ANONYMOUS, and no SASL at all (the AMQP header at once): both open', async () => {
  const s = await server();
  const a = await up(s.port, { sasl: { mechanism: 'ANONYMOUS' } });
  const b = await up(s.port, { sasl: null });
  assert.is(s.conns.length, 2);
  a.c.end();
  b.c.end();
  await until(() => a.rec.closes.length + b.rec.closes.length == 2, 'both closed');
  await s.close();
});

test('a mechanism the server does not offer: E_AMQP_SASL', async () => {
  const s = await server();
  const { c, rec } = client(s.port, { sasl: { mechanism: 'EXTERNAL' } });
  c.connect();
  await until(() => rec.closes.length > 0, 'close');
  assert.equal(names(rec.closes), ['E_AMQP_SASL']);
  await s.close();
});

test('attach a sender with IoT Hub link properties; a message with properties arrives in rhea; accept -> 0, reject -> E_AMQP_REJECTED, release -> E_AMQP_RELEASED', async () => {
  let seen: any = null;
  const got: any[] = [];
  const s = await server({ autoaccept: false }, (c) => {
    c.on('receiver_open', (ctx: any) => (seen = ctx.receiver.remote.attach));
    c.on('message', (ctx: any) => {
      got.push(ctx.message);
      const n = got.length;
      if (n == 1) ctx.delivery.accept();
      else if (n == 2) ctx.delivery.reject({ condition: 'amqp:precondition-failed', description: 'no' });
      else if (n == 3) ctx.delivery.release();
      else ctx.delivery.modified({ delivery_failed: true });
    });
  });
  const { c, rec } = await up(s.port, { sasl: { mechanism: 'ANONYMOUS' } });
  const props = { 'com.microsoft:api-version': '2020-09-30', 'com.microsoft:channel-correlation-id': 'twin:abc' };
  const [h, err] = await attach(c, 'sender-1', false, '/devices/d1/messages/events', { properties: props, sndSettleMode: SND_UNSETTLED });
  assert.is(err, 0);
  assert.is(h, 0);
  assert.is(seen.name, 'sender-1');
  assert.is(seen.role, false);
  assert.is(seen.target.address, '/devices/d1/messages/events');
  assert.is(seen.snd_settle_mode, 0);
  assert.equal(seen.properties, props);
  const dones: number[] = [];
  const msg = {
    messageAnnotations: { 'iothub-to': '/devices/d1/messages/events' },
    properties: { messageId: 'm-1', correlationId: 'c-1', to: '/devices/d1/messages/events', replyTo: 'r-1' },
    applicationProperties: { temp: 'hot', n: 5 },
    data: 'hello',
  };
  // one at a time: rhea 3.0.5 merges the dispositions of neighbouring deliveries into one range with the first's state
  for (let i = 0; i < 4; i++) {
    await until(() => c.credit(h) > 0, 'credit');
    assert.ok(c.send(h, msg, (e) => dones.push(e)) >= 0);
    await until(() => dones.length == i + 1, 'disposition ' + i);
  }
  await until(() => dones.length == 4, 'four dispositions');
  assert.equal(names(dones), ['OK', 'E_AMQP_REJECTED', 'E_AMQP_RELEASED', 'E_AMQP_RELEASED']);
  const m = got[0];
  assert.is(m.message_id, 'm-1');
  assert.is(m.correlation_id, 'c-1');
  assert.is(m.to, '/devices/d1/messages/events');
  assert.is(m.reply_to, 'r-1');
  assert.equal(m.application_properties, { temp: 'hot', n: 5 });
  assert.equal(m.message_annotations, { 'iothub-to': '/devices/d1/messages/events' });
  assert.is(m.body.typecode, 0x75);
  assert.is(Buffer.from(m.body.content).toString(), 'hello');
  assert.equal(rec.errors, []);
  c.end();
  await s.close();
});

test('sending within rhea\'s credit: E_OUTBOX_FULL at 0 credit, onWritable when rhea grants more, never more than granted', async () => {
  let rcv: any = null;
  const got: string[] = [];
  const s = await server({ credit_window: 0 }, (c) => {
    c.on('receiver_open', (ctx: any) => {
      rcv = ctx.receiver;
      rcv.add_credit(2);
    });
    c.on('message', (ctx: any) => got.push(String(ctx.message.body.content)));
  });
  const { c, rec } = await up(s.port);
  const [h] = await attach(c, 'snd', false, 'q');
  await until(() => c.credit(h) == 2, 'credit 2');
  const done: number[] = [];
  assert.ok(c.send(h, { data: 'a' }, (e) => done.push(e)) >= 0);
  assert.ok(c.send(h, { data: 'b' }, (e) => done.push(e)) >= 0);
  assert.is(c.send(h, { data: 'c' }), E.E_OUTBOX_FULL);
  assert.is(c.credit(h), 0);
  await until(() => got.length == 2, 'two arrive');
  await sleep(100);
  assert.equal(got, ['a', 'b']);
  assert.is(rec.writable, 0);
  rcv.add_credit(1);
  await until(() => rec.writable == 1, 'onWritable');
  assert.ok(c.send(h, { data: 'c' }) >= 0);
  await until(() => got.length == 3 && done.length == 2, 'third');
  assert.equal(done, [0, 0]);
  c.end();
  await s.close();
});

test('receiving: credit we grant is all rhea sends; messages reach onMessage with the handle; our accepted/rejected/released reach rhea', async () => {
  let snd: any = null;
  const states: string[] = [];
  const s = await server({}, (c) => {
    c.on('sender_open', (ctx: any) => (snd = ctx.sender));
    c.on('accepted', () => states.push('accepted'));
    c.on('rejected', (ctx: any) => states.push('rejected:' + ctx.delivery.remote_state.error?.condition));
    c.on('released', () => states.push('released'));
  });
  const { c, rec } = await up(s.port);
  await attach(c, 'other', false, 'x');
  const [h, err] = await attach(c, 'c2d', true, '/devices/d1/messages/devicebound', { credit: 2, properties: { 'com.microsoft:api-version': '2020-09-30' } });
  assert.is(err, 0);
  assert.is(h, 1);
  assert.is(snd.remote.attach.source.address, '/devices/d1/messages/devicebound');
  assert.is(snd.remote.attach.role, true);
  await until(() => snd.sendable(), 'rhea has credit');
  // five queued in rhea: it transfers only while it has our credit
  for (let i = 0; i < 5; i++) snd.send({ message_id: 'id' + i, body: rhea.message.data_section(Buffer.from('m' + i)), application_properties: { k: i } });
  await until(() => rec.msgs.length == 2, 'two messages');
  await sleep(100);
  assert.is(rec.msgs.length, 2, 'no more than the credit');
  assert.equal(rec.msgs.map((m) => [m.h, m.payload, m.props.messageId, m.app.k.v]), [[1, 'm0', 'id0', 0], [1, 'm1', 'id1', 1]]);
  assert.is(c.settle(rec.msgs[0].id, ACCEPTED), 0);
  assert.is(c.settle(rec.msgs[1].id, REJECTED, { type: P.ERROR, condition: 'amqp:not-allowed' }), 0);
  await until(() => states.length == 2, 'two outcomes');
  assert.equal(states, ['accepted', 'rejected:amqp:not-allowed']);
  assert.is(c.flow(h, 1), 0);
  await until(() => rec.msgs.length == 3, 'third');
  await sleep(100);
  assert.is(rec.msgs.length, 3, 'one more for one credit');
  assert.is(rec.msgs[2].payload, 'm2');
  assert.is(c.settle(rec.msgs[2].id, RELEASED), 0);
  await until(() => states.length == 3, 'released');
  assert.is(states[2], 'released');
  assert.is(c.settle(1, 0x99), E.E_ARGUMENT);
  assert.equal(rec.errors, []);
  c.end();
  await s.close();
});

test('a message rhea splits over frames (larger than our receive region): E_TOO_LARGE, rejected, the next one arrives', async () => {
  let snd: any = null;
  const states: string[] = [];
  const s = await server({}, (c) => {
    c.on('sender_open', (ctx: any) => (snd = ctx.sender));
    c.on('rejected', () => states.push('rejected'));
    c.on('accepted', () => states.push('accepted'));
  });
  const { c, rec } = await up(s.port, { bufferSize: 2048, rxSize: 1024 });
  const [h] = await attach(c, 'r', true, 'q', { credit: 5 });
  await until(() => snd && snd.sendable(), 'credit');
  snd.send({ message_id: 'big', body: rhea.message.data_section(Buffer.alloc(3000, 0x61)) });
  snd.send({ body: rhea.message.data_section(Buffer.from('small')) });
  await until(() => rec.msgs.length == 2 && states.length == 1, 'the small one');
  assert.equal(names(rec.errors), ['E_TOO_LARGE']);
  assert.equal(states, ['rejected']);
  // the large one: its first frame's sections (its message-id), no body, id -2; then the small one
  assert.equal([rec.msgs[0].h, rec.msgs[0].id, rec.msgs[0].payload, rec.msgs[0].props.messageId], [h, -2, null, 'big']);
  assert.equal([rec.msgs[1].h, rec.msgs[1].payload], [h, 'small']);
  c.settle(rec.msgs[1].id, ACCEPTED);
  await until(() => states.length == 2, 'accepted');
  assert.ok(c.connected());
  c.end();
  await s.close();
});

test('rhea drains our sender: the credit is used up and rhea hears it drained', async () => {
  let rcv: any = null, drained = false;
  const s = await server({ credit_window: 0 }, (c) => {
    c.on('receiver_open', (ctx: any) => ((rcv = ctx.receiver), rcv.add_credit(10)));
    c.on('receiver_drained', () => (drained = true));
  });
  const { c } = await up(s.port);
  const [h] = await attach(c, 's', false, 'q');
  await until(() => c.credit(h) == 10, 'credit');
  rcv.drain_credit();
  await until(() => drained, 'drained');
  assert.is(c.credit(h), 0);
  assert.is(c.send(h, { data: 'x' }), E.E_OUTBOX_FULL);
  c.end();
  await s.close();
});

test('detach: ours answered by rhea (done 0, handle free again); rhea refusing an attach with amqp:not-found gives the code', async () => {
  const s = await server({}, (c) => {
    c.on('sender_open', (ctx: any) => {
      if (ctx.sender.remote.attach.source.address == 'missing') ctx.sender.close({ condition: 'amqp:not-found', description: 'no such node' });
    });
  });
  const { c } = await up(s.port);
  const [h] = await attach(c, 'a', true, 'q');
  const d = await new Promise<number>((ok) => c.detach(h, ok));
  assert.is(d, 0);
  assert.is(c.credit(h), -1);
  const [h2, err] = await attach(c, 'b', true, 'missing');
  assert.is(h2, h, 'the freed handle is used again');
  assert.is(errorName(err), 'E_AMQP_NOT_FOUND');
  assert.is(c.remoteError().description, 'no such node');
  c.end();
  await s.close();
});

test('a remote close with amqp:unauthorized-access: E_AMQP_UNAUTHORIZED to onError and onClose; unsettled sends get it', async () => {
  let conn: any = null;
  const s = await server({ autoaccept: false }, (c) => c.on('message', (ctx: any) => (conn = ctx.connection)));
  const { c, rec } = await up(s.port);
  const [h] = await attach(c, 's', false, 'q');
  await until(() => c.credit(h) > 0, 'credit');
  const done: number[] = [];
  c.send(h, { data: 'x' }, (e) => done.push(e));
  await until(() => conn != null, 'message');
  conn.close({ condition: 'amqp:unauthorized-access', description: 'token expired' });
  await until(() => rec.closes.length > 0, 'close');
  assert.equal(names(rec.closes), ['E_AMQP_UNAUTHORIZED']);
  assert.equal(names(rec.errors), ['E_AMQP_UNAUTHORIZED']);
  assert.equal(names(done), ['E_AMQP_UNAUTHORIZED']);
  assert.is(c.remoteError().description, 'token expired');
  assert.not.ok(c.connected());
  assert.is(c.send(h, { data: 'y' }), E.E_NOT_CONNECTED);
  await s.close();
});

test('heartbeats keep an idle connection open past both idle time-outs', async () => {
  // rhea closes after twice its 1,500 ms without a frame, we after our 1,500: 4 s of silence outlasts both, with
  // margins a busy machine's stalls stay under
  const s = await server({ idle_time_out: 1500 });
  const { c, rec } = await up(s.port, { idleTimeout: 1500 });
  await sleep(4000);
  assert.ok(c.connected(), 'closed: ' + names(rec.closes));
  assert.equal(rec.closes, []);
  assert.ok(rec.heartbeats >= 4, 'heartbeats: ' + rec.heartbeats);
  assert.is(s.conns[0].is_closed(), false);
  c.end();
  await s.close();
});

/** A raw TCP peer: `answer` gets each chunk and the socket. */
async function raw(answer: (d: Buffer, s: net.Socket) => void): Promise<{ port: number; got: Buffer[]; closed: () => boolean; close(): Promise<void> }> {
  const got: Buffer[] = [];
  let ended = false;
  const socks: net.Socket[] = [];
  const srv = net.createServer((s) => {
    socks.push(s);
    s.on('data', (d) => (got.push(d), answer(d, s)));
    s.on('close', () => (ended = true));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port, got, closed: () => ended,
    close: () => new Promise<void>((r) => { socks.forEach((s) => s.destroy()); srv.close(() => r()); }),
  };
}

/** Our codec's bytes of the server's side: the AMQP header, open (idle-time-out `idle`), begin answering channel 0. */
function hello(idle = 0): Buffer {
  const b = new Uint8Array(512);
  let off = writeProtocolHeader(b, 0, PROTO_AMQP);
  off = P.writeFrame(b, off, 0, P.OPEN, { containerId: 'raw', idleTimeOut: idle || null });
  off = P.writeFrame(b, off, 0, P.BEGIN, { remoteChannel: 0, nextOutgoingId: 0, incomingWindow: 100, outgoingWindow: 100 });
  return Buffer.from(b.subarray(0, off));
}

test('a peer that goes silent after open: E_AMQP_IDLE after our idle-time-out, not before', async () => {
  let at = 0;
  const p = await raw((d, s) => {
    if (!at) (at = Date.now()), s.write(hello());
  });
  const { c, rec } = await up(p.port, { idleTimeout: 400 });
  await until(() => rec.closes.length > 0, 'idle close');
  assert.ok(Date.now() - at >= 400);
  assert.equal(names(rec.closes), ['E_AMQP_IDLE']);
  await until(p.closed, 'socket closed');
  await p.close();
});

/** Connects to a raw peer that answers the header with `bytes`; the codes our client closed with, and what it wrote. */
async function bad(bytes: Buffer): Promise<{ codes: string[]; got: Buffer }> {
  let sent = false;
  const p = await raw((d, s) => {
    if (!sent) (sent = true), s.write(bytes);
  });
  const { c, rec } = client(p.port);
  c.connect();
  await until(() => rec.closes.length > 0, 'close');
  await until(p.closed, 'socket closed');
  await p.close();
  return { codes: names(rec.closes), got: Buffer.concat(p.got) };
}

test('bad input from a raw peer: named errors, the connection closed', async () => {
  assert.equal((await bad(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))).codes, ['E_AMQP_HEADER']);
  // a frame of size 4 after the header (§2.3.1: at least 8)
  assert.equal((await bad(Buffer.from('414d515000010000' + '00000004' + '02000000', 'hex'))).codes, ['E_AMQP_FRAME_SIZE']);
  // DOFF 1
  assert.equal((await bad(Buffer.from('414d515000010000' + '0000000c' + '01000000' + '00530000', 'hex'))).codes, ['E_AMQP_FRAME']);
  // a SASL frame where AMQP was negotiated
  const sasl = Buffer.alloc(64);
  const n = P.writeFrame(sasl, 0, 0, P.SASL_OUTCOME, { code: 0 });
  assert.equal((await bad(Buffer.concat([hello().subarray(0, 8), sasl.subarray(0, n)]))).codes, ['E_PROTOCOL']);
  // begin before open
  const h = hello();
  assert.equal((await bad(Buffer.concat([h.subarray(0, 8), h.subarray(h.length - 20)]))).codes.length, 1);
  // after open and begin, a described list that is no performative: closed with a close naming amqp:decode-error
  const junk = Buffer.from('0000000c' + '02000000' + '00530745', 'hex');
  const r = await bad(Buffer.concat([hello(), junk]));
  assert.equal(r.codes, ['E_AMQP_BODY']);
  assert.ok(r.got.includes(Buffer.from('amqp:decode-error')), 'close names the error');
  // a transfer on a handle never attached
  const t = Buffer.alloc(64);
  const k = P.writeFrame(t, 0, 0, P.TRANSFER, { handle: 5, deliveryId: 0, deliveryTag: new Uint8Array(1) }, { data: 'x' });
  assert.equal((await bad(Buffer.concat([hello(), t.subarray(0, k)]))).codes, ['E_PROTOCOL']);
});

test.run();
