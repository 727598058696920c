import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { wsTransport, WsOptions } from '../../src/ws/transport';
import { Transport, TransportEvents, TlsOptions } from '../../src/types';
import * as E from '../../src/errors';
import { FakeTransport } from '../helpers/fake';
import { u8, hex } from '../helpers/bytes';
import { createRng, withSeed, randomChunks } from '../helpers/rng';
import { wsFrame, closeBody, serverRead, maskKeys, response101, keyOf } from './wshelp';

// The WebSocket transport over a fake inner transport that the test drives as the server: the
// handshake both ways, frames both ways (decoded and written by the `ws` package's codec), control
// frames, failures, all-or-nothing writes and the caller's buffer left as it was.

const BIN = 2, TEXT = 1, CLOSE = 8, PING = 9, PONG = 10, CONT = 0;

/** A seeded rng, so the request bytes are the same every run. */
function seeded(seed = 1) {
  const r = createRng(seed);
  return () => r.next();
}

interface Rig {
  inner: FakeTransport;
  t: Transport;
  /** What the transport reported, in order: "open", "data <hex>", "writable", "close <code>". */
  log: string[];
  request: string;
  key: string;
  /** Client bytes after the request. */
  frames(): number[];
  /** The server answers the handshake (with changes), in chunks of `step` bytes (0: one chunk). */
  answer(set?: Record<string, string | null>, step?: number, after?: Uint8Array): void;
}

function rig(opts: Partial<WsOptions> = {}, port = 80, tls: TlsOptions | null = null, events?: Partial<TransportEvents>): Rig {
  const inner = new FakeTransport(), log: string[] = [];
  const t = wsTransport(inner, { path: '/mqtt', rng: seeded(), ...opts });
  let reqLen = 0;
  const ev: TransportEvents = {
    onOpen: () => log.push('open'),
    onData: (c) => log.push('data ' + hex(c)),
    onWritable: () => log.push('writable'),
    onClose: (e) => log.push('close ' + e),
    ...events,
  };
  t.open('broker.test', port, tls, ev);
  const request = Buffer.from(inner.written).toString('latin1');
  reqLen = inner.written.length;
  const r: Rig = {
    inner, t, log, request,
    key: request ? keyOf(request) : '',
    frames: () => inner.written.slice(reqLen),
    answer(set = {}, step = 0, after = new Uint8Array(0)) {
      inner.send(u8(response101(r.key, set), after), step);
    },
  };
  return r;
}

/** A rig past the handshake. */
function open(opts: Partial<WsOptions> = {}, events?: Partial<TransportEvents>): Rig {
  const r = rig(opts, 80, null, events);
  r.answer();
  assert.equal(r.log, ['open']);
  r.log.length = 0;
  return r;
}

// ---- the handshake ----------------------------------------------------------------------------

test('open: the upgrade request, byte for byte (§4.1)', () => {
  const r = rig();
  assert.equal(r.inner.opens.map((o) => [o.host, o.port, o.tls]), [['broker.test', 80, null]]);
  assert.is(r.request,
    'GET /mqtt HTTP/1.1\r\n' +
    'Host: broker.test\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${r.key}\r\n` +
    'Sec-WebSocket-Version: 13\r\n' +
    'Sec-WebSocket-Protocol: mqtt\r\n' +
    '\r\n');
  assert.is(Buffer.from(r.key, 'base64').length, 16, 'the key is 16 bytes in base64');
  assert.is(r.inner.writes.length, 1, 'one write');
  assert.equal(r.log, [], 'nothing reported before the answer');
});

test('open: the Host header carries the port unless it is the default one (RFC 7230 §5.4)', () => {
  assert.match(rig({}, 80).request, /\r\nHost: broker.test\r\n/);
  assert.match(rig({}, 443, {}).request, /\r\nHost: broker.test\r\n/);
  assert.match(rig({}, 443).request, /\r\nHost: broker.test:443\r\n/);
  assert.match(rig({}, 80, {}).request, /\r\nHost: broker.test:80\r\n/);
  assert.match(rig({}, 8080).request, /\r\nHost: broker.test:8080\r\n/);
  assert.match(rig({ host: 'front.test' }, 8080).request, /\r\nHost: front.test\r\n/);
  const iot = rig({ path: '/$iothub/websocket', protocol: 'mqtt' }, 443, {});
  assert.ok(iot.request.startsWith('GET /$iothub/websocket HTTP/1.1\r\n'));
  assert.equal(iot.inner.opens[0].tls, {}, 'TLS options passed through');
});

test('open: a new key on every connection; the injected rng decides it', () => {
  const a = rig(), b = rig(), c = rig({ rng: seeded(2) });
  assert.is(a.key, b.key, 'same seed, same key');
  assert.is.not(a.key, c.key);
  a.answer();
  a.t.close();
  a.t.open('broker.test', 80, null, { onOpen() {}, onData() {}, onWritable() {}, onClose() {} });
  assert.is.not(keyOf(Buffer.from(a.inner.written).toString('latin1')), a.key, 'reopened: a new key');
});

test('open: the answer in one chunk, one byte at a time, and with frames right behind it', () => {
  for (const step of [0, 1, 7]) {
    const r = rig();
    r.answer({}, step, wsFrame([1, 2, 3], BIN));
    assert.is(r.log[0], 'open', `step ${step}`);
    assert.is(r.log.slice(1).map((l) => l.slice(5)).join(' '), '01 02 03', `step ${step}: ${r.log}`);
  }
  const r = rig();
  r.answer({}, 0, wsFrame([1, 2, 3], BIN));
  assert.equal(r.log, ['open', 'data 01 02 03']);
});

test('open: header names and values as servers vary them (case, token lists, other fields)', () => {
  const r = rig();
  r.inner.send(u8(
    'HTTP/1.1 101 Web Socket Protocol Handshake\r\n' +
    'Server: test\r\n' +
    'UPGRADE: WebSocket\r\n' +
    'connection: keep-alive, Upgrade\r\n' +
    `sec-websocket-accept:   ${response101(r.key).match(/accept: (.*)\r/)![1]}  \r\n` +
    'Sec-Websocket-Protocol: mqtt\r\n' +
    'Date: today\r\n\r\n',
  ));
  assert.equal(r.log, ['open']);
});

test('open: the request waits for onWritable when the inner transport pushes back', () => {
  const inner = new FakeTransport();
  inner.mode = 'block';
  const log: string[] = [];
  const t = wsTransport(inner, { path: '/mqtt' });
  t.open('h', 80, null, { onOpen: () => log.push('open'), onData() {}, onWritable: () => log.push('writable'), onClose: (e) => log.push('close ' + e) });
  assert.equal(inner.written, []);
  inner.writable();
  const req = Buffer.from(inner.written).toString('latin1');
  assert.ok(req.startsWith('GET /mqtt HTTP/1.1\r\n'));
  assert.equal(log, [], 'the request being sent is not the application\'s writable');
  inner.send(u8(response101(keyOf(req))));
  assert.equal(log, ['open']);
});

interface BadAnswer { name: string; set?: Record<string, string | null>; raw?: string; err: number }

const BAD_ANSWERS: BadAnswer[] = [
  { name: 'status 200', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi', err: E.E_WS_HANDSHAKE },
  { name: 'status 403 with the right headers', raw: 'HTTP/1.1 403 Forbidden\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', err: E.E_WS_HANDSHAKE },
  { name: 'no Upgrade field', set: { upgrade: null }, err: E.E_WS_HANDSHAKE },
  { name: 'Upgrade: h2c', set: { upgrade: 'h2c' }, err: E.E_WS_HANDSHAKE },
  { name: 'no Connection field', set: { connection: null }, err: E.E_WS_HANDSHAKE },
  { name: 'Connection: keep-alive', set: { connection: 'keep-alive' }, err: E.E_WS_HANDSHAKE },
  { name: 'Connection: upgrades', set: { connection: 'upgrades' }, err: E.E_WS_HANDSHAKE },
  { name: 'an extension we did not ask for', set: { 'sec-websocket-extensions': 'permessage-deflate' }, err: E.E_WS_HANDSHAKE },
  { name: 'no Sec-WebSocket-Accept', set: { 'sec-websocket-accept': null }, err: E.E_WS_ACCEPT },
  { name: 'the accept of another key', set: { 'sec-websocket-accept': 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' }, err: E.E_WS_ACCEPT },
  { name: 'no Sec-WebSocket-Protocol', set: { 'sec-websocket-protocol': null }, err: E.E_WS_SUBPROTOCOL },
  { name: 'another subprotocol', set: { 'sec-websocket-protocol': 'mqttv3.1' }, err: E.E_WS_SUBPROTOCOL },
  { name: 'not HTTP at all', raw: 'SSH-2.0-OpenSSH\r\n\r\n', err: E.E_HTTP_STATUS_LINE },
];

for (const b of BAD_ANSWERS) {
  test(`open: refused, ${b.name} -> ${Object.keys(E).find((k) => (E as any)[k] === b.err)}`, () => {
    for (const step of [0, 1]) {
      const r = rig();
      if (b.raw) r.inner.send(u8(b.raw), step);
      else r.answer(b.set, step);
      assert.equal(r.log, [`close ${b.err}`], `step ${step}`);
      assert.is(r.inner.closes, 1, 'the inner transport closed');
      assert.is(r.frames().length, 0, 'no close frame before the connection was open');
      assert.is(r.t.write(u8(1), 0, 1), E.E_TRANSPORT, 'no writes after');
    }
  });
}

test('open: a response header line longer than the scratch region is an error', () => {
  const r = rig({ buffer: 300 });
  r.answer({ server: 'x'.repeat(400) });
  assert.equal(r.log, [`close ${E.E_HTTP_HEADER_SIZE}`]);
});

test('open: an upgrade request that does not fit the scratch region is E_BUFFER', () => {
  const r = rig({ buffer: 256, path: '/' + 'p'.repeat(200) });
  assert.equal(r.log, [`close ${E.E_BUFFER}`]);
  assert.is(r.inner.closes, 1);
  assert.equal(r.inner.written, []);
});

test('open: the connection dropping during the handshake is reported once', () => {
  const r = rig();
  r.inner.send(u8('HTTP/1.1 101 Switching'));
  r.inner.drop(E.E_TRANSPORT);
  assert.equal(r.log, [`close ${E.E_TRANSPORT}`]);
});

test('a write before the connection is open is refused', () => {
  const r = rig();
  assert.is(r.t.write(u8(1, 2), 0, 2), E.E_TRANSPORT);
  assert.is(r.frames().length, 0);
});

// ---- writing ---------------------------------------------------------------------------------

test('write: masked binary frames (§5.3), a new masking key for each, read back by ws', () => {
  const r = open();
  const b = u8(0xaa, 'hello', 0xbb);
  assert.is(r.t.write(b, 1, 5), 5);
  assert.is(r.t.write(b, 0, 7), 7);
  assert.is(r.t.write(b, 6, 1), 1);
  assert.equal(serverRead(r.frames()), ['binary 68 65 6c 6c 6f', 'binary aa 68 65 6c 6c 6f bb', 'binary bb']);
  const keys = maskKeys(r.frames());
  assert.is(new Set(keys).size, 3, `three different keys: ${keys}`);
  assert.is(r.inner.writes.length, 1 + 3, 'one inner write per frame');
  assert.is(hex(b), hex(u8(0xaa, 'hello', 0xbb)), 'the caller\'s bytes unchanged');
});

test('write: all or nothing: pushed back means nothing sent, failure means an error', () => {
  const r = open();
  r.inner.mode = 'block';
  assert.is(r.t.write(u8(1, 2, 3), 0, 3), 0);
  assert.equal(r.frames(), []);
  r.inner.writable();
  assert.equal(r.log, ['writable']);
  assert.is(r.t.write(u8(1, 2, 3), 0, 3), 3);
  r.inner.mode = 'fail';
  assert.is(r.t.write(u8(1, 2, 3), 0, 3), -1);
  // a large one, in place and through the scratch region
  const big = new Uint8Array(3000);
  r.inner.mode = 'block';
  assert.is(r.t.write(big, 100, 2000), 0);
  assert.is(r.t.write(big, 0, 2000), 0);
  assert.equal(serverRead(r.frames()), ['binary 01 02 03']);
});

/** Writes `len` random bytes at `off` of a random buffer; checks the frame ws reads and that the buffer is as it was. */
function bigWrite(r: Rig, size: number, off: number, len: number, rng = createRng()) {
  const b = rng.bytes(size), copy = Uint8Array.from(b), before = r.frames().length;
  assert.is(r.t.write(b, off, len), len);
  assert.is(hex(b), hex(copy), 'the caller\'s buffer is as it was, before and after the payload too');
  assert.equal(serverRead(r.frames().slice(before)), ['binary ' + hex(b.subarray(off, off + len))]);
}

test('write: larger than the scratch region, at an offset >= header size: in place, one inner write', () => {
  const r = open({ buffer: 300 });
  for (const [off, len] of [[14, 1000], [8, 126], [8, 200], [10, 1000], [14, 65535], [14, 65536], [20, 100000]]) {
    const writes = r.inner.writes.length;
    bigWrite(r, off + len + 5, off, len);
    assert.is(r.inner.writes.length, writes + 1, `${len} at ${off}: one write`);
  }
});

test('write: larger than the scratch region at a small offset: in pieces through the scratch region', () => {
  const r = open({ buffer: 300 });
  for (const [off, len] of [[0, 1000], [3, 5000], [0, 70000]]) bigWrite(r, off + len, off, len);
  assert.ok(r.inner.writes.length > 10);
  // the scratch region is filled: no piece is larger than the data region (300 - 135)
  for (const w of r.inner.writes.slice(1)) assert.ok(w.length <= 165, `piece of ${w.length}`);
});

test('write: pushed back in the middle of pieces: E_WS_PARTIAL (the frame is broken)', () => {
  const r = open({ buffer: 300 });
  let n = 0;
  const w = r.inner.write.bind(r.inner);
  r.inner.write = (b, o, l) => (n++ ? 0 : w(b, o, l));
  assert.is(r.t.write(new Uint8Array(1000), 0, 1000), E.E_WS_PARTIAL);
});

test('write: exactly the data region, and one byte over', () => {
  // 512 - 135 = 377 bytes of frame: 8 of header + 369 of payload in one go
  const r = open();
  bigWrite(r, 369, 0, 369);
  assert.is(r.inner.writes.at(-1)!.length, 377);
  bigWrite(r, 370, 0, 370);
  bigWrite(r, 380, 10, 370);
});

test('write: a given scratch region is used, nothing outside it touched', () => {
  const all = new Uint8Array(1000).fill(0xa5), region = all.subarray(200, 600);
  const r = open({ buffer: region });
  bigWrite(r, 300, 0, 300);
  bigWrite(r, 2000, 50, 1500);
  r.inner.send(wsFrame(u8('ping!'), PING));
  assert.ok(all.subarray(0, 200).every((x) => x == 0xa5) && all.subarray(600).every((x) => x == 0xa5), 'canaries intact');
  assert.ok(region.some((x) => x != 0xa5), 'the region was used');
});

test('write: random sizes and offsets, through ws, with canaries', () => {
  const rng = createRng();
  withSeed(rng, () => {
    const r = open({ buffer: rng.range(256, 700) });
    for (let i = 0; i < 200; i++) {
      const len = rng.chance(0.1) ? rng.range(126, 70000) : rng.range(1, 800), off = rng.range(0, 30);
      bigWrite(r, off + len + rng.range(0, 10), off, len, rng);
    }
  });
});

// ---- reading ---------------------------------------------------------------------------------

test('read: binary frames delivered as they come, fragments in order, in any chunking', () => {
  const rng = createRng();
  withSeed(rng, () => {
    const stream = u8(
      wsFrame(u8(1, 2, 3), BIN),
      wsFrame(u8(4), BIN, false), wsFrame(u8(), CONT, false), wsFrame(u8(5, 6), CONT, false),
      wsFrame(u8(), PONG),
      wsFrame(u8(7), CONT, true),
      wsFrame(u8(), BIN),
      wsFrame(rng.bytes(300), BIN),
    );
    for (let k = 0; k < 20; k++) {
      const r = open();
      const got: number[] = [];
      r.log.length = 0;
      for (const c of randomChunks(rng, stream)) r.inner.send(c);
      for (const l of r.log) {
        assert.match(l, /^data /);
        got.push(...l.slice(5).split(' ').map((x) => parseInt(x, 16)));
      }
      assert.is(hex(got), hex([1, 2, 3, 4, 5, 6, 7, ...stream.subarray(stream.length - 300)]));
    }
  });
});

test('read: a text frame fails the connection: E_WS_TEXT, close 1003 sent (MQTT over WebSockets is binary)', () => {
  const r = open();
  r.inner.send(u8(wsFrame(u8('hi'), TEXT), wsFrame(u8(1), BIN)));
  assert.equal(r.log, [`close ${E.E_WS_TEXT}`]);
  assert.equal(serverRead(r.frames()), ['close 1003 ']);
  assert.is(r.inner.closes, 1);
});

test('read: a ping is answered with a pong carrying its payload (§5.5.2), between data', () => {
  const r = open();
  r.inner.send(u8(wsFrame(u8(9), BIN), wsFrame(u8('are you there'), PING), wsFrame(u8(8), BIN)), 1);
  assert.equal(r.log, ['data 09', 'data 08']);
  assert.equal(serverRead(r.frames()), ['pong ' + hex(u8('are you there'))]);
  r.inner.send(u8(wsFrame(u8(), PING), wsFrame(Uint8Array.from({ length: 125 }, (_, i) => i), PING)));
  assert.equal(serverRead(r.frames()).slice(1), ['pong ', 'pong ' + hex(Uint8Array.from({ length: 125 }, (_, i) => i))]);
});

test('read: a ping while pushed back is answered once writable; a newer ping replaces it (§5.5.3)', () => {
  const r = open();
  r.inner.mode = 'block';
  r.inner.send(wsFrame(u8('one'), PING));
  r.inner.send(wsFrame(u8('x'), PONG)); // a pong does not disturb the pending answer
  assert.equal(r.frames(), []);
  r.inner.writable();
  assert.equal(serverRead(r.frames()), ['pong ' + hex(u8('one'))]);
  assert.equal(r.log, ['writable']);
  r.inner.mode = 'block';
  r.inner.send(wsFrame(u8('two'), PING));
  r.inner.send(wsFrame(u8('three'), PING));
  r.inner.writable();
  assert.equal(serverRead(r.frames()).slice(1), ['pong ' + hex(u8('three'))]);
});

test('read: the server closes with 1000: the status echoed (§5.5.1), reported as an orderly end', () => {
  const r = open();
  r.inner.send(u8(wsFrame(u8(1), BIN), wsFrame(closeBody(1000, 'bye'), CLOSE), wsFrame(u8(2), BIN)));
  assert.equal(r.log, ['data 01', 'close 0']);
  assert.equal(serverRead(r.frames()), ['close 1000 ']);
  assert.is(r.inner.closes, 1);
  assert.is(r.t.write(u8(1), 0, 1), E.E_TRANSPORT);
});

test('read: a close without status is answered with an empty close; other statuses are E_WS_CLOSED', () => {
  let r = open();
  r.inner.send(wsFrame(u8(), CLOSE));
  assert.equal(r.log, ['close 0']);
  assert.equal(serverRead(r.frames()), ['close 1005 ']);
  r = open();
  r.inner.send(wsFrame(closeBody(1001, 'going away'), CLOSE), 1);
  assert.equal(r.log, [`close ${E.E_WS_CLOSED}`]);
  assert.equal(serverRead(r.frames()), ['close 1001 ']);
  r = open();
  r.inner.send(u8(0x88, 0x01, 0x03));
  assert.equal(r.log, [`close ${E.E_WS_CONTROL}`], 'a 1-byte close body');
  assert.equal(serverRead(r.frames()), ['close 1002 ']);
});

interface BadFrame { name: string; bytes: Uint8Array; err: number; status: number; opts?: Partial<WsOptions> }

const BAD_FRAMES: BadFrame[] = [
  { name: 'RSV1 set (§5.2)', bytes: u8(0xc2, 0x01, 0), err: E.E_WS_RESERVED, status: 1002 },
  { name: 'opcode 3 (§5.2)', bytes: u8(0x83, 0x00), err: E.E_WS_OPCODE, status: 1002 },
  { name: 'a fragmented ping (§5.5)', bytes: u8(0x09, 0x00), err: E.E_WS_CONTROL, status: 1002 },
  { name: 'a 126-byte ping (§5.5)', bytes: u8(0x89, 0x7e, 0x00, 0x7e), err: E.E_WS_CONTROL, status: 1002 },
  { name: 'a masked frame (§5.1)', bytes: u8(0x82, 0x81, 1, 2, 3, 4, 5), err: E.E_WS_MASKED, status: 1002 },
  { name: 'a 64-bit length with the top bit (§5.2)', bytes: u8(0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0), err: E.E_WS_LENGTH, status: 1002 },
  { name: 'a continuation without a message (§5.4)', bytes: u8(0x80, 0x00), err: E.E_WS_FRAGMENT, status: 1002 },
  { name: 'over the configured maximum', bytes: u8(0x82, 0x7e, 0x01, 0x01), err: E.E_WS_TOO_BIG, status: 1009, opts: { max: 256 } },
];

for (const b of BAD_FRAMES) {
  test(`read: ${b.name} -> ${Object.keys(E).find((k) => (E as any)[k] === b.err)}, close ${b.status} sent`, () => {
    for (const step of [0, 1]) {
      const r = open(b.opts);
      r.inner.send(u8(wsFrame(u8(7), BIN), b.bytes, wsFrame(u8(8), BIN)), step);
      assert.equal(r.log, ['data 07', `close ${b.err}`]);
      assert.equal(serverRead(r.frames()), [`close ${b.status} `]);
      assert.is(r.inner.closes, 1);
      assert.not.ok(r.inner.isOpen);
    }
  });
}

// ---- closing ---------------------------------------------------------------------------------

test('close(): a close frame with 1000, the inner transport closed, nothing reported after', () => {
  const r = open();
  r.t.close();
  assert.equal(serverRead(r.frames()), ['close 1000 ']);
  assert.is(r.inner.closes, 1);
  assert.equal(r.log, []);
  assert.is(r.t.write(u8(1), 0, 1), E.E_TRANSPORT);
  r.t.close();
  assert.is(r.inner.closes, 1, 'closing again does nothing');
  assert.equal(serverRead(r.frames()), ['close 1000 '], 'one close frame');
});

test('close(): before the handshake is over, no frame, just the inner close', () => {
  const r = rig();
  r.t.close();
  assert.is(r.frames().length, 0);
  assert.is(r.inner.closes, 1);
  assert.equal(r.log, []);
});

test('close() from inside onData: the rest of the chunk is not delivered', () => {
  let t: Transport | null = null;
  const got: string[] = [];
  const r = open({}, { onData: (c) => { got.push(hex(c)); t!.close(); } });
  t = r.t;
  r.inner.send(u8(wsFrame(u8(1), BIN), wsFrame(u8(2), BIN), wsFrame(u8('p'), PING)));
  assert.equal(got, ['01']);
  assert.equal(serverRead(r.frames()), ['close 1000 '], 'no pong after the close');
});

test('the application writing from inside onData (as MQTT acknowledgements do)', () => {
  let t: Transport | null = null;
  const r = open({}, { onData: (c) => { t!.write(c, 0, c.length); } });
  t = r.t;
  r.inner.send(u8(wsFrame(u8(1, 2), BIN), wsFrame(u8(3), BIN)));
  assert.equal(serverRead(r.frames()), ['binary 01 02', 'binary 03']);
});

test('reopen after a close: a clean reader, a new handshake', () => {
  const r = open();
  r.inner.send(wsFrame(u8(1, 2, 3, 4), BIN, false).subarray(0, 4)); // half a fragmented message
  r.t.close();
  const log: string[] = [];
  r.t.open('broker.test', 80, null, { onOpen: () => log.push('open'), onData: (c) => log.push('data ' + hex(c)), onWritable() {}, onClose: (e) => log.push('close ' + e) });
  const req = Buffer.from(r.inner.written).toString('latin1');
  r.inner.send(u8(response101(keyOf(req)), wsFrame(u8(9), BIN)));
  assert.equal(log, ['open', 'data 09']);
});

test('the peer dropping the connection after open is reported with its code', () => {
  const r = open();
  r.inner.drop(0);
  assert.equal(r.log, ['close 0']);
  const s = open();
  s.inner.drop(E.E_TRANSPORT);
  assert.equal(s.log, [`close ${E.E_TRANSPORT}`]);
});

test.run();
