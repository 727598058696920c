import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createAmqpClient, AmqpClientOptions, ACCEPTED, SND_SETTLED } from '../../src/amqp/client';
import * as P from '../../src/amqp/performatives';
import { writeProtocolHeader, PROTO_AMQP, PROTO_SASL } from '../../src/amqp/frame';
import * as E from '../../src/errors';
import { errorName } from '../../src/errornames';
import { FakeTransport, ManualClock } from '../helpers/fake';

// The AMQP client driven by hand, no network: a fake transport (the test plays the peer with our codec's frames, and
// reads what the client wrote with our decoder) and a manual clock, for what timing and backpressure decide.

/** The frames in `bytes` (protocol headers as {header: id}; heartbeats as {type: 0}). */
function parse(bytes: number[]): any[] {
  const b = Uint8Array.from(bytes), out: any[] = [];
  let i = 0;
  while (i < b.length) {
    if (b[i] == 0x41) {
      out.push({ header: b[i + 4] });
      i += 8;
      continue;
    }
    const size = ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3];
    if (size == 8) out.push({ type: 0 });
    else {
      const x = P.decodePerformative(b, i + 8, i + size);
      assert.type(x, 'object', 'the client wrote a frame our decoder refuses');
      if (x.type == P.TRANSFER) x.message = P.decodeMessage(b, P.decodedTo(), i + size);
      x.channel = (b[i + 6] << 8) | b[i + 7];
      out.push(x);
    }
    i += size;
  }
  assert.is(i, b.length, 'whole frames');
  return out;
}

/** Bytes of frames: [code, fields, message?] (code 0: an empty frame), on channel `ch`. */
function frames(list: [number, any, P.Message?][], ch = 0): number[] {
  const b = new Uint8Array(8192);
  let off = 0;
  for (const [code, o, m] of list) off = code ? P.writeFrame(b, off, ch, code, o, m) : ((b.set([0, 0, 0, 8, 2, 0, 0, 0], off), off + 8));
  assert.ok(off > 0);
  return Array.from(b.subarray(0, off));
}
const header = (id: number) => {
  const b = new Uint8Array(8);
  writeProtocolHeader(b, 0, id);
  return Array.from(b);
};

/** A client on a fake transport and a manual clock; `seen` reads the frames it wrote since the last call. */
function setup(o: Partial<AmqpClientOptions> = {}) {
  const tr = new FakeTransport(), clock = new ManualClock(1000);
  tr.clock = clock;
  const rec = { closes: [] as string[], errors: [] as string[], opened: 0, writable: 0, msgs: [] as any[], detached: [] as any[] };
  const c = createAmqpClient({
    host: 'hub.example', transport: tr, clock, containerId: 'dev',
    onOpen: () => rec.opened++, onClose: (e) => rec.closes.push(errorName(e)), onError: (e) => rec.errors.push(errorName(e)),
    onWritable: () => rec.writable++, onDetach: (h, e) => rec.detached.push([h, errorName(e)]),
    onMessage: (h, p, m, id) => rec.msgs.push({ h, id, data: p && Buffer.from(p).toString() }),
    ...o,
  });
  let seen = 0;
  const take = () => {
    const f = parse(tr.written.slice(seen));
    seen = tr.written.length;
    return f;
  };
  /** Connects and plays the peer's header, open and begin (on channel 3: frames of the session come there). */
  const open = (peer: any = {}) => {
    c.connect();
    tr.send([...header(PROTO_AMQP), ...frames([[P.OPEN, { containerId: 'peer', ...peer }]]), ...frames([[P.BEGIN, { remoteChannel: 0, nextOutgoingId: 0, incomingWindow: 100, outgoingWindow: 100 }]], 3)]);
    assert.is(rec.opened, 1);
    take();
  };
  return { c, tr, clock, rec, take, open };
}

test('open: the AMQP header, open and begin pipelined with our fields; onOpen after the peer\'s begin, not its open', () => {
  const { c, tr, rec, take } = setup({ idleTimeout: 4000, bufferSize: 2048, maxLinks: 4 });
  c.connect();
  assert.equal(tr.opens.map((x) => x.port), [5672]);
  const f = take();
  assert.equal(f[0], { header: 0 });
  assert.is(f[1].type, P.OPEN);
  assert.equal([f[1].containerId, f[1].hostname, f[1].maxFrameSize, f[1].channelMax, f[1].idleTimeOut], ['dev', 'hub.example', 1024 + 8, 0, 4000]);
  assert.is(f[2].type, P.BEGIN);
  assert.equal([f[2].remoteChannel, f[2].nextOutgoingId, f[2].handleMax], [null, 0, 3]);
  tr.send([...header(PROTO_AMQP), ...frames([[P.OPEN, { containerId: 'peer' }]])]);
  assert.is(rec.opened, 0);
  assert.not.ok(c.connected());
  assert.is(c.attach('x', true, 'q'), E.E_NOT_CONNECTED);
  tr.send(frames([[P.BEGIN, { remoteChannel: 0, nextOutgoingId: 0, incomingWindow: 1, outgoingWindow: 1 }]]));
  assert.is(rec.opened, 1);
  assert.ok(c.connected());
});

test('SASL PLAIN: init carries NUL user NUL password and the hostname; the outcome not ok is E_AMQP_SASL', () => {
  const { c, tr, rec, take } = setup({ sasl: { mechanism: 'PLAIN', username: 'dev@sas.hub', password: 'SharedAccessSignature sr=x' } });
  c.connect();
  assert.equal(take(), [{ header: 3 }]);
  tr.send([...header(PROTO_SASL), ...frames([[P.SASL_MECHANISMS, { saslServerMechanisms: ['ANONYMOUS', 'PLAIN'] }]])]);
  const [init] = take();
  assert.is(init.type, P.SASL_INIT);
  assert.is(init.mechanism, 'PLAIN');
  assert.is(Buffer.from(init.initialResponse).toString(), '\0dev@sas.hub\0SharedAccessSignature sr=x');
  assert.is(init.hostname, 'hub.example');
  tr.send(frames([[P.SASL_OUTCOME, { code: 1 }]]));
  assert.equal(rec.closes, ['E_AMQP_SASL']);
  assert.is(tr.isOpen, false);
});

test('SASL ANONYMOUS then the AMQP header: ok outcome -> header, open, begin; a second SASL frame after it is E_PROTOCOL', () => {
  const { c, tr, rec, take } = setup({ sasl: { mechanism: 'ANONYMOUS' } });
  c.connect();
  tr.send([...header(PROTO_SASL), ...frames([[P.SASL_MECHANISMS, { saslServerMechanisms: 'ANONYMOUS' }]])]);
  take();
  tr.send([...frames([[P.SASL_OUTCOME, { code: 0 }]]), ...header(PROTO_AMQP)]);
  assert.equal(take().map((x) => x.header ?? x.type), [0, P.OPEN, P.BEGIN]);
  tr.send(frames([[P.SASL_OUTCOME, { code: 0 }]]));
  assert.equal(rec.closes, ['E_PROTOCOL']);
});

test('heartbeats: an empty frame before half the peer\'s idle-time-out passes without a write, for as long as we are quiet', () => {
  const { tr, clock, open, take } = setup({ idleTimeout: 0 });
  open({ idleTimeOut: 1000 });
  let last = clock.t, beats = 0;
  for (let t = 0; t < 10000; t += 10) {
    clock.advance(10);
    const f = take();
    if (f.length) {
      assert.equal(f, [{ type: 0 }]);
      assert.ok(clock.t - last <= 500, 'gap ' + (clock.t - last));
      last = clock.t;
      beats++;
    }
  }
  assert.ok(beats >= 20 && beats <= 40, 'beats ' + beats);
  assert.ok(tr.isOpen);
});

test('our idle-time-out: a silent peer closes the connection with E_AMQP_IDLE, after the time-out and not before; frames keep it open', () => {
  const { tr, clock, rec, open } = setup({ idleTimeout: 1000 });
  open();
  // the peer's heartbeats every 900 ms keep it open
  for (let i = 0; i < 10; i++) clock.advance(900), tr.send(frames([[0, null]]));
  assert.equal(rec.closes, []);
  clock.advance(999);
  assert.equal(rec.closes, []);
  clock.advance(300);
  assert.equal(rec.closes, ['E_AMQP_IDLE']);
  assert.is(tr.isOpen, false);
});

test('no begin within the time-out: E_TIMEOUT', () => {
  const { c, clock, rec } = setup({ timeout: 5000 });
  c.connect();
  clock.advance(4999);
  assert.equal(rec.closes, []);
  clock.advance(2000);
  assert.equal(rec.closes, ['E_TIMEOUT']);
});

test('backpressure: a transport that takes nothing fills the outbox (E_OUTBOX_FULL), onWritable once it drains, frames in order', () => {
  const { c, tr, rec, open, take } = setup({ bufferSize: 2048 });
  open();
  const h = c.attach('s', false, '/devices/d/messages/events', { sndSettleMode: SND_SETTLED });
  tr.send(frames([[P.ATTACH, { name: 's', handle: 7, role: true, target: { type: P.TARGET, address: 'x' } }], [P.FLOW, { nextIncomingId: 0, incomingWindow: 1000, nextOutgoingId: 0, outgoingWindow: 1, handle: 7, deliveryCount: 0, linkCredit: 1000 }]], 3));
  take();
  assert.is(c.credit(h), 1000);
  tr.mode = 'block';
  const body = new Uint8Array(100);
  let n = 0, r = 0, done = 0;
  while ((r = c.send(h, { data: body }, () => done++)) >= 0) n++;
  assert.is(r, E.E_OUTBOX_FULL);
  assert.ok(n >= 5 && n < 10, 'sent ' + n);
  assert.is(done, n, 'pre-settled: done at once');
  tr.writable();
  assert.is(rec.writable, 1);
  const f = take();
  assert.equal(f.map((x) => x.deliveryId), [...Array(n).keys()]);
  assert.ok(f.every((x) => x.settled === true && x.handle === h));
  assert.is(c.credit(h), 1000 - n);
});

test('too large: a message over the peer\'s max-frame-size or the outbox is E_TOO_LARGE, nothing written', () => {
  const { c, tr, open, take } = setup({ bufferSize: 8192 });
  open({ maxFrameSize: 600 });
  const h = c.attach('s', false, 'q');
  tr.send(frames([[P.ATTACH, { name: 's', handle: 0, role: true, target: { type: P.TARGET } }], [P.FLOW, { nextIncomingId: 0, incomingWindow: 9, nextOutgoingId: 0, outgoingWindow: 1, handle: 0, deliveryCount: 0, linkCredit: 9 }]], 3));
  take();
  assert.is(c.send(h, { data: new Uint8Array(600) }), E.E_TOO_LARGE);
  assert.ok(c.send(h, { data: new Uint8Array(500) }) >= 0);
  assert.is(take().length, 1);
  assert.is(c.send(h, { data: 'x', value: 1 } as any), E.E_ARGUMENT);
  assert.is(c.send(9, { data: 'x' }), E.E_ARGUMENT);
});

test('no credit or no session window: E_OUTBOX_FULL; a drain uses the credit up and answers with a flow', () => {
  const { c, tr, rec, open, take } = setup();
  open();
  const h = c.attach('s', false, 'q');
  tr.send(frames([[P.ATTACH, { name: 's', handle: 2, role: true, target: { type: P.TARGET } }]], 3));
  assert.is(c.send(h, { data: 'x' }), E.E_OUTBOX_FULL);
  tr.send(frames([[P.FLOW, { nextIncomingId: 0, incomingWindow: 1, nextOutgoingId: 0, outgoingWindow: 1, handle: 2, deliveryCount: 0, linkCredit: 5 }]], 3));
  assert.is(rec.writable, 1);
  assert.ok(c.send(h, { data: 'x' }) >= 0);
  assert.is(c.send(h, { data: 'x' }), E.E_OUTBOX_FULL, 'session window of 1 used');
  take();
  tr.send(frames([[P.FLOW, { nextIncomingId: 1, incomingWindow: 10, nextOutgoingId: 0, outgoingWindow: 1, handle: 2, deliveryCount: 0, linkCredit: 5, drain: true }]], 3));
  assert.is(c.credit(h), 0);
  const [f] = take();
  assert.equal([f.type, f.handle, f.deliveryCount, f.linkCredit, f.drain], [P.FLOW, h, 5, 0, true]);
});

test('receiving: a message split over frames (more) is skipped with E_TOO_LARGE and rejected; over our credit is E_PROTOCOL', () => {
  const { c, tr, rec, open, take } = setup();
  open();
  const h = c.attach('r', true, 'q', { credit: 2 });
  assert.equal(take().map((x) => [x.type, x.role, x.source.address, x.handle]), [[P.ATTACH, true, 'q', h]]);
  tr.send(frames([[P.ATTACH, { name: 'r', handle: 0, role: false, source: { type: P.SOURCE }, initialDeliveryCount: 10 }]], 3));
  const [fl] = take();
  assert.equal([fl.type, fl.handle, fl.deliveryCount, fl.linkCredit], [P.FLOW, h, 10, 2]);
  tr.send(frames([[P.TRANSFER, { handle: 0, deliveryId: 0, deliveryTag: new Uint8Array(1), more: true }, { data: 'part' }], [P.TRANSFER, { handle: 0 }, { data: 'rest' }]], 3));
  assert.equal(rec.errors, ['E_TOO_LARGE']);
  // what the first frame held went up with id -2, no body
  assert.equal(rec.msgs, [{ h, id: -2, data: null }]);
  const [d] = take();
  assert.equal([d.type, d.first, d.settled, d.state.type], [P.DISPOSITION, 0, true, P.REJECTED]);
  tr.send(frames([[P.TRANSFER, { handle: 0, deliveryId: 1, deliveryTag: new Uint8Array(1), settled: true }, { data: 'ok' }]], 3));
  assert.equal(rec.msgs, [{ h, id: -2, data: null }, { h, id: -1, data: 'ok' }]);
  assert.is(c.settle(5, ACCEPTED), 0);
  tr.send(frames([[P.TRANSFER, { handle: 0, deliveryId: 2, deliveryTag: new Uint8Array(1) }, { data: 'over' }]], 3));
  assert.equal(rec.closes, ['E_PROTOCOL']);
  assert.equal(rec.msgs.length, 2);
});

test('the peer ends the session with an error: end and close answered, E_AMQP_ERROR with the error kept; pending sends get it', () => {
  const { c, tr, rec, open, take } = setup();
  open();
  const h = c.attach('s', false, 'q');
  tr.send(frames([[P.ATTACH, { name: 's', handle: 0, role: true, target: { type: P.TARGET } }], [P.FLOW, { nextIncomingId: 0, incomingWindow: 9, nextOutgoingId: 0, outgoingWindow: 1, handle: 0, deliveryCount: 0, linkCredit: 9 }]], 3));
  const done: string[] = [];
  c.send(h, { data: 'x' }, (e) => done.push(errorName(e)));
  take();
  tr.send(frames([[P.END, { error: { type: P.ERROR, condition: 'amqp:internal-error', description: 'boom' } }]], 3));
  assert.equal(take().map((x) => x.type), [P.END, P.CLOSE]);
  assert.equal(rec.errors, ['E_AMQP_ERROR']);
  tr.send(frames([[P.CLOSE, {}]]));
  assert.equal(rec.closes, ['E_AMQP_ERROR']);
  assert.equal(done, ['E_AMQP_ERROR']);
  assert.is(c.remoteError().description, 'boom');
});

test('a link the peer detaches by itself: onDetach with the code, our detach answers, unsettled sends get E_AMQP_DETACHED', () => {
  const { c, tr, rec, open, take } = setup();
  open();
  const h = c.attach('s', false, 'q');
  tr.send(frames([[P.ATTACH, { name: 's', handle: 4, role: true, target: { type: P.TARGET } }], [P.FLOW, { nextIncomingId: 0, incomingWindow: 9, nextOutgoingId: 0, outgoingWindow: 1, handle: 4, deliveryCount: 0, linkCredit: 9 }]], 3));
  const done: string[] = [];
  c.send(h, { data: 'x' }, (e) => done.push(errorName(e)));
  take();
  tr.send(frames([[P.DETACH, { handle: 4, closed: true }]], 3));
  assert.equal(done, ['E_AMQP_DETACHED']);
  assert.equal(rec.detached, [[h, 'E_AMQP_DETACHED']]);
  const [d] = take();
  assert.equal([d.type, d.handle, d.closed], [P.DETACH, h, true]);
  // the peer detaching a handle it never attached is a protocol error
  tr.send(frames([[P.DETACH, { handle: 4, closed: true }]], 3));
  assert.equal(rec.closes, ['E_PROTOCOL']);
});

test('links: E_BUSY past maxLinks; the peer attaching with a handle over our handle-max is E_PROTOCOL', () => {
  const { c, tr, rec, open } = setup({ maxLinks: 2 });
  open();
  assert.equal([c.attach('a', true, 'q'), c.attach('b', false, 'q'), c.attach('c', true, 'q')], [0, 1, E.E_BUSY]);
  tr.send(frames([[P.ATTACH, { name: 'a', handle: 2, role: false, source: { type: P.SOURCE } }]], 3));
  assert.equal(rec.closes, ['E_PROTOCOL']);
});

test('outbox compaction: frames half written, the rest moved to the outbox\'s start, all sent whole and in order', () => {
  const { c, tr, rec, open, take } = setup({ bufferSize: 2048 });
  open();
  const h = c.attach('s', false, 'q', { sndSettleMode: SND_SETTLED });
  tr.send(frames([[P.ATTACH, { name: 's', handle: 0, role: true, target: { type: P.TARGET } }], [P.FLOW, { nextIncomingId: 0, incomingWindow: 1000, nextOutgoingId: 0, outgoingWindow: 1, handle: 0, deliveryCount: 0, linkCredit: 1000 }]], 3));
  take();
  const write = tr.write.bind(tr);
  let allow = 0;
  tr.write = (b, off, len) => (allow-- > 0 ? write(b, off, len) : 0);
  const body = (i: number) => new Uint8Array(150).fill(i);
  let n = 0;
  while (c.send(h, { data: body(n) }) >= 0) n++;
  allow = 2;
  tr.writable();
  assert.is(take().length, 2);
  // room again only once the two written frames' bytes are reclaimed: the unsent ones move down
  let k = n;
  while (c.send(h, { data: body(k) }) >= 0) k++;
  assert.is(k, n + 2);
  allow = 1e9;
  tr.writable();
  const f = take();
  assert.equal(f.map((x) => x.deliveryId), [...Array(k).keys()].slice(2));
  assert.ok(f.every((x) => x.message.data.length == 150 && x.message.data.every((v: number) => v == x.deliveryId)));
  assert.is(rec.writable, 2);
});

test('the peer\'s flow on our receiver: its delivery-count moving on (a drain) takes our credit; echo answered', () => {
  const { c, tr, open, take } = setup();
  open();
  const h = c.attach('r', true, 'q', { credit: 4 });
  tr.send(frames([[P.ATTACH, { name: 'r', handle: 1, role: false, source: { type: P.SOURCE }, initialDeliveryCount: 0 }]], 3));
  take();
  tr.send(frames([[P.FLOW, { nextIncomingId: 0, incomingWindow: 9, nextOutgoingId: 0, outgoingWindow: 9, handle: 1, deliveryCount: 3, linkCredit: 0, echo: true }]], 3));
  const [f] = take();
  assert.equal([f.type, f.handle, f.deliveryCount, f.linkCredit], [P.FLOW, h, 3, 1]);
});

test('end() before the session is up closes at once; a peer that never answers our close: closed after a second', () => {
  const a = setup();
  a.c.connect();
  let ended = 0;
  a.c.end(() => ended++);
  assert.is(ended, 1);
  assert.equal(a.rec.closes, ['OK']);
  a.c.end(() => ended++);
  assert.is(ended, 2);
  const b = setup();
  b.open();
  b.c.end(() => ended++);
  b.clock.advance(999);
  assert.is(ended, 2);
  b.clock.advance(1);
  assert.is(ended, 3);
  assert.equal(b.rec.closes, ['OK']);
  assert.is(b.tr.isOpen, false);
});

test('end(): close written, pending callbacks E_ENDED, done once the peer closes', () => {
  const { c, tr, rec, open, take } = setup();
  open();
  const got: string[] = [];
  c.attach('s', false, 'q', null, (e) => got.push(errorName(e)));
  take();
  let ended = false;
  c.end(() => (ended = true));
  assert.equal(take().map((x) => x.type), [P.CLOSE]);
  assert.is(ended, false);
  tr.send(frames([[P.CLOSE, {}]]));
  assert.ok(ended);
  assert.equal(rec.closes, ['OK']);
  assert.equal(got, ['E_ENDED']);
  assert.is(c.send(0, { data: 'x' }), E.E_NOT_CONNECTED);
});

test.run();
