// Differential: our WebSocket client (wsTransport over nodeTransport) against the `ws` package's
// WebSocketServer on 127.0.0.1: random binary messages both ways, the server fragmenting, pings,
// the close handshake from either side, TLS, and servers that answer the upgrade wrongly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as fs from 'node:fs';
import { WebSocketServer, WebSocket } from 'ws';
import { wsTransport, WsOptions } from '../../src/ws/transport';
import { nodeTransport } from '../../targets/node/transport';
import { Transport, TlsOptions } from '../../src/types';
import * as E from '../../src/errors';
import { createRng, withSeed, Rng } from '../helpers/rng';
import { testCerts } from '../helpers/mosquitto';
import { acceptFor } from './wshelp';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A test with a time limit. */
function it(name: string, ms: number, fn: () => Promise<void>) {
  test(name, async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([fn(), new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms); })]);
    } finally {
      clearTimeout(timer);
      await cleanup();
    }
  });
}

async function until(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

const closers: (() => Promise<void> | void)[] = [];
async function cleanup() {
  while (closers.length) await closers.pop()!();
}

interface Server { port: number; wss: WebSocketServer; conns: WebSocket[]; next(): Promise<WebSocket> }

/** A ws server on 127.0.0.1 (over `server` when given), offering the mqtt subprotocol unless told otherwise. */
async function wsServer(opts: ConstructorParameters<typeof WebSocketServer>[0] = {}, server?: http.Server | https.Server): Promise<Server> {
  const s = server || http.createServer();
  const wss = new WebSocketServer({ server: s, handleProtocols: (p) => (p.has('mqtt') ? 'mqtt' : false), ...opts });
  const conns: WebSocket[] = [], waiting: ((w: WebSocket) => void)[] = [];
  wss.on('connection', (w) => {
    w.on('error', () => {}); // a frame ws refuses (a test provoking it) ends in 'close'
    conns.push(w);
    const f = waiting.shift();
    if (f) f(w);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    s.close(() => r());
  }));
  let seen = 0;
  return {
    port: (s.address() as net.AddressInfo).port, wss, conns,
    next: () => (conns.length > seen ? Promise.resolve(conns[seen++]) : new Promise((r) => waiting.push((w) => (seen++, r(w))))),
  };
}

interface Client {
  t: Transport;
  data: number[];
  opened: boolean;
  closed: number | null;
  writable: number;
  /** How often write() answered 0 (pushed back). */
  pushedBack: number;
  /** Writes all of b[off..off+len), waiting for onWritable when pushed back. */
  send(b: Uint8Array, off: number, len: number): Promise<void>;
}

function client(port: number, opts: Partial<WsOptions> = {}, tls: TlsOptions | null = null, host = '127.0.0.1'): Client {
  const c: Client = {
    t: wsTransport(nodeTransport(), { path: '/', ...opts }),
    data: [], opened: false, closed: null, writable: 0, pushedBack: 0,
    async send(b, off, len) {
      for (;;) {
        const r = c.t.write(b, off, len);
        if (r == len) return;
        assert.is(r, 0, 'write: all or nothing');
        c.pushedBack++;
        const w = c.writable;
        await until(() => c.writable > w || c.closed != null, 5000, 'onWritable');
        if (c.closed != null) throw new Error('closed while writing: ' + c.closed);
      }
    },
  };
  c.t.open(host, port, tls, {
    onOpen: () => (c.opened = true),
    onData: (d) => { for (let i = 0; i < d.length; i++) c.data.push(d[i]); },
    onWritable: () => c.writable++,
    onClose: (e) => (c.closed = e),
  });
  closers.push(() => c.t.close());
  return c;
}

async function opened(c: Client) {
  await until(() => c.opened || c.closed != null, 5000, 'open');
  assert.ok(c.opened, `opened (closed with ${c.closed})`);
}

function message(rng: Rng): Uint8Array {
  const r = rng.int(20);
  return rng.bytes(r == 0 ? rng.range(65536, 140000) : r < 4 ? rng.range(126, 3000) : rng.range(1, 125));
}

// ---- data both ways ------------------------------------------------------------------------

it('client to server: random binary messages, random offsets, each one ws message, in order', 20000, async () => {
  const rng = createRng();
  const srv = await wsServer();
  const c = client(srv.port);
  await opened(c);
  const w = await srv.next();
  assert.is(w.protocol, 'mqtt');
  const got: Buffer[] = [];
  w.on('message', (d: Buffer, binary) => { assert.ok(binary); got.push(d); });
  const sent: Uint8Array[] = [];
  await withSeedAsync(rng, async () => {
    for (let i = 0; i < 150; i++) {
      const m = message(rng), off = rng.range(0, 20), b = new Uint8Array(off + m.length + rng.range(0, 5));
      b.set(m, off);
      const copy = Uint8Array.from(b);
      await c.send(b, off, m.length);
      assert.equal(b, copy, 'the caller\'s buffer unchanged');
      sent.push(m);
    }
    await until(() => got.length == sent.length, 10000, 'all messages');
    for (let i = 0; i < sent.length; i++) assert.ok(Buffer.from(sent[i]).equals(got[i]), `message ${i} (${sent[i].length} bytes)`);
  });
});

it('backpressure: a server that stops reading; write() answers 0, then onWritable, nothing lost or split', 20000, async () => {
  const rng = createRng();
  const srv = await wsServer();
  const c = client(srv.port);
  await opened(c);
  const w = await srv.next();
  const got: Buffer[] = [];
  w.on('message', (d: Buffer) => got.push(d));
  w.pause();
  const sent: Uint8Array[] = [];
  const b = new Uint8Array(14 + 100000);
  // fill the socket until it pushes back
  for (let i = 0; i < 2000 && !c.pushedBack; i++) {
    const m = rng.bytes(100000);
    b.set(m, 14);
    const r = c.t.write(b, 14, m.length);
    if (r == 0) c.pushedBack++;
    else sent.push(m), assert.is(r, m.length);
  }
  assert.ok(c.pushedBack > 0, 'pushed back');
  setTimeout(() => w.resume(), 50);
  for (let i = 0; i < 20; i++) {
    const m = rng.bytes(rng.range(1, 100000));
    b.set(m, 14);
    await c.send(b, 14, m.length);
    sent.push(m);
  }
  await until(() => got.length == sent.length, 15000, 'all messages');
  for (let i = 0; i < sent.length; i++) assert.ok(Buffer.from(sent[i]).equals(got[i]), `message ${i}`);
});

it('server to client: random messages, fragmented at random, with pings between: the same byte stream, every ping answered', 20000, async () => {
  const rng = createRng();
  const srv = await wsServer();
  const c = client(srv.port);
  await opened(c);
  const w = await srv.next();
  const pongs: string[] = [], pings: string[] = [];
  w.on('pong', (d: Buffer) => pongs.push(d.toString('hex')));
  const want: number[] = [];
  await withSeedAsync(rng, async () => {
    for (let i = 0; i < 150; i++) {
      const m = message(rng);
      for (const x of m) want.push(x);
      // ws sends a message in fragments when given fin: false, then the rest
      let at = 0;
      while (at < m.length) {
        const end = rng.chance(0.5) ? m.length : rng.range(at, m.length);
        w.send(m.subarray(at, end), { binary: true, fin: end == m.length });
        at = end;
        if (rng.chance(0.2)) {
          const p = rng.bytes(rng.range(0, 125));
          pings.push(Buffer.from(p).toString('hex'));
          w.ping(p);
        }
      }
    }
    await until(() => c.data.length == want.length && pongs.length == pings.length, 10000, 'all data and pongs');
    assert.ok(Buffer.from(c.data).equals(Buffer.from(want)), 'the byte stream');
    assert.equal(pongs, pings, 'each ping answered with its payload');
  });
});

it('echo: both ways at once through a ws echo server', 20000, async () => {
  const rng = createRng();
  const srv = await wsServer();
  srv.wss.on('connection', (w) => w.on('message', (d: Buffer) => w.send(d)));
  const c = client(srv.port, { buffer: 256 });
  await opened(c);
  const want: number[] = [];
  await withSeedAsync(rng, async () => {
    for (let i = 0; i < 200; i++) {
      const m = message(rng), off = rng.chance(0.5) ? 0 : 14;
      const b = new Uint8Array(off + m.length);
      b.set(m, off);
      await c.send(b, off, m.length);
      for (const x of m) want.push(x);
    }
    await until(() => c.data.length == want.length, 10000, 'the echo');
    assert.ok(Buffer.from(c.data).equals(Buffer.from(want)));
  });
});

// ---- closing ---------------------------------------------------------------------------------

it('the server closes with 1000: the close echoed, an orderly end', 5000, async () => {
  const srv = await wsServer();
  const c = client(srv.port);
  await opened(c);
  const w = await srv.next();
  let code = 0;
  w.on('close', (k) => (code = k));
  w.send(Buffer.from([1, 2]));
  w.close(1000, 'bye');
  await until(() => c.closed != null && code != 0, 3000, 'both sides closed');
  assert.is(c.closed, 0);
  assert.is(code, 1000, 'the server saw our close with its status');
  assert.equal(c.data, [1, 2], 'data before the close delivered');
});

it('the server closes with 4001: E_WS_CLOSED', 5000, async () => {
  const srv = await wsServer();
  const c = client(srv.port);
  await opened(c);
  const w = await srv.next();
  let code = 0;
  w.on('close', (k) => (code = k));
  w.close(4001);
  await until(() => c.closed != null && code != 0, 3000, 'both sides closed');
  assert.is(c.closed, E.E_WS_CLOSED);
  assert.is(code, 4001, 'echoed');
});

it('close(): the server sees a close with 1000', 5000, async () => {
  const srv = await wsServer();
  const c = client(srv.port);
  await opened(c);
  const w = await srv.next();
  let code = 0;
  w.on('close', (k) => (code = k));
  c.t.close();
  await until(() => code != 0, 3000, 'the server closed');
  assert.is(code, 1000);
  assert.is(c.closed, null, 'nothing reported after close()');
});

it('a text message from the server fails the connection: E_WS_TEXT, the server sees 1003', 5000, async () => {
  const srv = await wsServer();
  const c = client(srv.port);
  await opened(c);
  const w = await srv.next();
  let code = 0;
  w.on('close', (k) => (code = k));
  w.send('hello');
  await until(() => c.closed != null && code != 0, 3000, 'both sides closed');
  assert.is(c.closed, E.E_WS_TEXT);
  assert.is(code, 1003);
});

it('a server with a small maxPayload closes with 1009 on a large message: E_WS_CLOSED', 5000, async () => {
  const srv = await wsServer({ maxPayload: 100 });
  const c = client(srv.port);
  await opened(c);
  await c.send(new Uint8Array(200), 0, 200);
  await until(() => c.closed != null, 3000, 'closed');
  assert.is(c.closed, E.E_WS_CLOSED);
});

it('our maximum: a larger frame from the server is E_WS_TOO_BIG, the server sees 1009', 5000, async () => {
  const srv = await wsServer();
  const c = client(srv.port, { max: 1000 });
  await opened(c);
  const w = await srv.next();
  let code = 0;
  w.on('close', (k) => (code = k));
  w.send(new Uint8Array(1000));
  w.send(new Uint8Array(1001));
  await until(() => c.closed != null && code != 0, 3000, 'both sides closed');
  assert.is(c.data.length, 1000);
  assert.is(c.closed, E.E_WS_TOO_BIG);
  assert.is(code, 1009);
});

// ---- TLS -------------------------------------------------------------------------------------

it('over TLS (wss), certificate checked against the test CA', 15000, async () => {
  const k = testCerts();
  const srv = await wsServer({}, https.createServer({ cert: fs.readFileSync(k.certFile), key: fs.readFileSync(k.keyFile) }));
  srv.wss.on('connection', (w) => w.on('message', (d: Buffer) => w.send(d)));
  const c = client(srv.port, {}, { ca: k.caPem });
  await opened(c);
  const m = createRng().bytes(5000);
  await c.send(m, 0, m.length);
  await until(() => c.data.length == m.length, 3000, 'echo');
  assert.ok(Buffer.from(c.data).equals(Buffer.from(m)));
  const bad = client(srv.port, {}, {});
  await until(() => bad.closed != null, 3000, 'refused');
  assert.is(bad.closed, E.E_TRANSPORT, 'an unknown CA fails the TLS handshake');
});

// ---- servers answering the upgrade wrongly -----------------------------------------------------

it('a ws server that does not choose mqtt: E_WS_SUBPROTOCOL', 5000, async () => {
  const srv = await wsServer({ handleProtocols: () => false });
  const c = client(srv.port);
  await until(() => c.closed != null, 3000, 'refused');
  assert.is(c.closed, E.E_WS_SUBPROTOCOL);
  assert.not.ok(c.opened);
});

it('a ws server on another path answers 400: E_WS_HANDSHAKE', 5000, async () => {
  const srv = await wsServer({ path: '/other' });
  const c = client(srv.port, { path: '/mqtt' });
  await until(() => c.closed != null, 3000, 'refused');
  assert.is(c.closed, E.E_WS_HANDSHAKE);
});

/** A raw HTTP server whose upgrade answer the test writes. */
async function rawUpgrade(answer: (key: string) => string): Promise<number> {
  const s = http.createServer((_, res) => res.end()), socks: net.Socket[] = [];
  s.on('upgrade', (req, sock: net.Socket) => {
    socks.push(sock);
    sock.write(answer(String(req.headers['sec-websocket-key'])), 'latin1');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  // an upgraded socket is the test's to end: server.close() would wait for it forever
  closers.push(() => new Promise<void>((r) => { for (const k of socks) k.destroy(); s.close(() => r()); }));
  return (s.address() as net.AddressInfo).port;
}

const ok = (key: string, extra = '') =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\nSec-WebSocket-Protocol: mqtt\r\n${extra}\r\n`;

const WRONG: [string, (key: string) => string, number][] = [
  ['the accept value of the RFC example key', () => ok('dGhlIHNhbXBsZSBub25jZQ=='), E.E_WS_ACCEPT],
  ['an extension not asked for', (k) => ok(k, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'), E.E_WS_HANDSHAKE],
  ['a 101 without Upgrade', (k) => ok(k).replace('Upgrade: websocket\r\n', ''), E.E_WS_HANDSHAKE],
  ['a 426 Upgrade Required', () => 'HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n', E.E_WS_HANDSHAKE],
  ['garbage', () => 'hello\r\n\r\n', E.E_HTTP_STATUS_LINE],
];

for (const [name, answer, err] of WRONG) {
  it(`a server answering with ${name}: ${Object.keys(E).find((k) => (E as any)[k] === err)}`, 5000, async () => {
    const c = client(await rawUpgrade(answer));
    await until(() => c.closed != null, 3000, 'refused');
    assert.is(c.closed, err);
    assert.not.ok(c.opened);
  });
}

it('a raw server that is right: open, and its first frame in the same packet as the answer', 5000, async () => {
  const c = client(await rawUpgrade((k) => ok(k) + '\x82\x03abc'));
  await until(() => c.data.length == 3, 3000, 'data');
  assert.ok(c.opened);
  assert.is(Buffer.from(c.data).toString(), 'abc');
});

it('the server going away in the middle of the answer: closed, never open', 5000, async () => {
  const socks: net.Socket[] = [];
  const s = net.createServer((sock) => { socks.push(sock); sock.once('data', () => sock.end('HTTP/1.1 101 Swi')); });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => { for (const k of socks) k.destroy(); s.close(() => r()); }));
  const c = client((s.address() as net.AddressInfo).port);
  await until(() => c.closed != null, 3000, 'closed');
  assert.not.ok(c.opened);
});

async function withSeedAsync(rng: Rng, body: () => Promise<void>) {
  try {
    await body();
  } catch (e) {
    withSeed(rng, () => { throw e; });
  }
}

test.run();
