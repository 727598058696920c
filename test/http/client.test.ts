// The HTTP client against a real node:http server (and raw TCP servers for broken answers) on 127.0.0.1,
// and against a scripted transport for backpressure and retries.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import http from "node:http";
import net from "node:net";
import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createHttpClient, HttpClient, HttpClientOptions } from "../../src/http/client";
import { nodeTransport, nodeClock } from "../../targets/node/transport";
import type { Transport, TransportEvents, TlsOptions } from "../../src/types";
import {
  E_BUSY, E_TIMEOUT, E_CLOSED, E_ENDED, E_TOO_LARGE, E_ARGUMENT, E_TRANSPORT, E_HTTP_STATUS_LINE, E_HTTP_TRUNCATED, E_SOURCE,
} from "../../src/errors";
import type { HttpBody } from "../../src/http/client";

const test = suite("http/client");

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer; socket: number }

let server: http.Server;
let port = 0;
let connections = 0;
const seen: Seen[] = [];
/** What the server does with the next request (default: 200 "ok:<path>"). */
let handler: ((req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void) | null = null;

test.before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, socket: (req.socket as any).n });
      if (handler) return handler(req, res, body);
      res.writeHead(200, { "content-type": "text/plain" }).end("ok:" + req.url);
    });
  });
  server.on("connection", (s) => {
    (s as any).n = ++connections;
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
test.after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
test.before.each(() => {
  handler = null;
  seen.length = 0;
});

function client(extra: Partial<HttpClientOptions> = {}): HttpClient {
  return createHttpClient({ host: "127.0.0.1", port, transport: nodeTransport(), clock: nodeClock, timeout: 3000, ...extra });
}

interface Answer { err: number; status: number; headers: Record<string, string>; body: Buffer; pieces: number }

/** One exchange as a promise; rejects if request() refuses synchronously. */
function call(c: HttpClient, method: string, path: string, headers: string[] = [], body: HttpBody | null = null): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const a: Answer = { err: 0, status: 0, headers: {}, body: Buffer.alloc(0), pieces: 0 };
    const parts: Buffer[] = [];
    const r = c.request(method, path, headers, body, {
      onHeader: (n, v) => (a.headers[n] = v),
      onBody: (p) => (parts.push(Buffer.from(p)), a.pieces++),
    }, (err, status) => {
      a.err = err;
      a.status = status;
      a.body = Buffer.concat(parts);
      resolve(a);
    });
    if (r) reject(new Error(`request() returned ${r}`));
  });
}

test("GET: status, headers lower-cased, body; Host with the port", async () => {
  const c = client();
  const a = await call(c, "GET", "/hello?x=1", ["X-Test", "yes"]);
  assert.is(a.err, 0);
  assert.is(a.status, 200);
  assert.is(a.headers["content-type"], "text/plain");
  assert.is(a.body.toString(), "ok:/hello?x=1");
  assert.is(seen[0].headers.host, `127.0.0.1:${port}`);
  assert.is(seen[0].headers["x-test"], "yes");
  assert.is(seen[0].headers["content-length"], undefined);
  c.end();
});

test("interim 100 and 103 answers are skipped: the final status and its headers only", async () => {
  const c = client();
  handler = (_req, res) => {
    res.writeContinue();
    res.writeEarlyHints({ link: "</style.css>; rel=preload" });
    res.writeHead(201, { "x-final": "1" }).end("made");
  };
  const a = await call(c, "POST", "/make", [], "x");
  assert.is(a.status, 201);
  assert.is(a.headers["x-final"], "1");
  assert.is(a.headers.link, undefined);
  assert.is(a.body.toString(), "made");
  c.end();
});

test("keep-alive: three requests, one connection; Connection: close makes the next one open another", async () => {
  const c = client();
  const before = connections;
  for (let i = 0; i < 3; i++) assert.is((await call(c, "GET", "/k" + i)).status, 200);
  assert.is(connections - before, 1);
  assert.equal(seen.map((s) => s.socket), [before + 1, before + 1, before + 1]);
  handler = (_req, res) => res.writeHead(200, { connection: "close", "content-length": "3" }).end("bye");
  assert.is((await call(c, "GET", "/close")).body.toString(), "bye");
  handler = null;
  assert.is((await call(c, "GET", "/after")).status, 200);
  assert.is(connections - before, 2);
  c.end();
});

test("one exchange at a time: a second request() is E_BUSY; done is called once", async () => {
  const c = client();
  let calls = 0;
  const p = new Promise<void>((resolve) => {
    assert.is(c.request("GET", "/a", [], null, null, () => (calls++, resolve())), 0);
  });
  assert.is(c.request("GET", "/b", [], null, null, () => calls++), E_BUSY);
  await p;
  await new Promise((r) => setTimeout(r, 20));
  assert.is(calls, 1);
  c.end();
});

test("a large body streamed through a 512-byte buffer, bytes and UTF-8 text; a large chunked answer in pieces", async () => {
  const c = client({ bufferSize: 512 });
  const data = new Uint8Array(200000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 8)) & 255;
  handler = (_req, res, body) => res.end(createHash("sha256").update(body).digest("hex"));
  let a = await call(c, "POST", "/bin", ["Content-Type", "application/octet-stream"], data);
  assert.is(a.body.toString(), createHash("sha256").update(data).digest("hex"));
  assert.is(seen[0].headers["content-length"], "200000");

  const text = "aé€😀".repeat(20000) + "z";
  a = await call(c, "POST", "/text", [], text);
  assert.is(a.body.toString(), createHash("sha256").update(text, "utf8").digest("hex"));
  assert.is(seen[1].body.toString("utf8"), text);

  const big = Buffer.alloc(300000, "q");
  handler = (_req, res) => {
    res.writeHead(200); // no length: node sends it chunked
    for (let i = 0; i < big.length; i += 10000) res.write(big.subarray(i, i + 10000));
    res.end();
  };
  a = await call(c, "GET", "/big");
  assert.is(a.body.length, big.length);
  assert.ok(a.pieces > 1);
  handler = null;
  assert.is((await call(c, "GET", "/still")).status, 200, "the connection is reused after a chunked body");
  c.end();
});

test("a source body (file upload's) is read into the buffer's request half as it is sent; a failing read ends the exchange with E_SOURCE", async () => {
  const c = client({ bufferSize: 512 });
  const data = Buffer.alloc(100000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 29 + (i >> 8)) & 255;
  let longest = 0;
  const source = (failAt: number) => ({
    size: data.length,
    read(pos: number, buf: Uint8Array, off: number, len: number) {
      longest = Math.max(longest, len);
      if (pos + len > failAt) return -1;
      buf.set(data.subarray(pos, pos + len), off);
      return len;
    },
  });
  handler = (_req, res, body) => res.end(createHash("sha256").update(body).digest("hex"));
  let a = await call(c, "PUT", "/blob", [], source(Infinity));
  assert.is(a.body.toString(), createHash("sha256").update(data).digest("hex"));
  assert.is(seen[0].headers["content-length"], "100000");
  assert.ok(longest <= 256, `read ${longest} bytes at once from a 512-byte buffer's 256-byte request half`);
  a = await call(c, "PUT", "/cut", [], source(50000));
  assert.is(a.err, E_SOURCE);
  handler = null;
  assert.is((await call(c, "GET", "/after")).status, 200, "the client goes on, on a new connection");
  c.end();
});

test("empty POST sends Content-Length: 0; HEAD reads no body and keeps the connection", async () => {
  const c = client();
  await call(c, "POST", "/empty", [], "");
  assert.is(seen[0].headers["content-length"], "0");
  const before = connections;
  const h = await call(c, "HEAD", "/head");
  assert.is(h.status, 200);
  assert.is(h.body.length, 0);
  assert.is((await call(c, "GET", "/next")).body.toString(), "ok:/next");
  assert.is(connections, before);
  c.end();
});

test("no answer: E_TIMEOUT; end() during a request: E_ENDED; the client works on afterwards", async () => {
  const c = client({ timeout: 200 });
  handler = () => {}; // never answers
  const t0 = Date.now();
  assert.is((await call(c, "GET", "/silent")).err, E_TIMEOUT);
  assert.ok(Date.now() - t0 >= 190);
  const p = call(c, "GET", "/silent2");
  c.end();
  assert.is((await p).err, E_ENDED);
  handler = null;
  assert.is((await call(c, "GET", "/again")).status, 200);
  c.end();
});

test("a connection the server closed while idle is replaced", async () => {
  const c = client();
  handler = (_req, res) => res.end("1");
  await call(c, "GET", "/1");
  server.closeIdleConnections();
  await new Promise((r) => setTimeout(r, 50));
  handler = null;
  assert.is((await call(c, "GET", "/2")).status, 200);
  c.end();
});

test("refused at once: head larger than the buffer (E_TOO_LARGE), bad header (E_ARGUMENT), lone surrogate body", () => {
  const c = client({ bufferSize: 256 });
  const done = () => assert.unreachable("done called");
  assert.is(c.request("GET", "/" + "x".repeat(200), [], null, null, done), E_TOO_LARGE);
  assert.is(c.request("GET", "/", ["Bad Name", "v"], null, null, done), E_ARGUMENT);
  assert.is(c.request("POST", "/", [], "\ud800", null, done), E_ARGUMENT);
  c.end();
});

/** A raw TCP server answering every connection with `reply` (then closing when `close`). */
async function raw(reply: string, close: boolean): Promise<{ port: number; stop: () => Promise<void> }> {
  const s = net.createServer((sock) => {
    sock.once("data", () => {
      sock.write(reply);
      if (close) sock.end();
    });
    sock.on("error", () => {});
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return {
    port: (s.address() as AddressInfo).port,
    stop: () => new Promise((r) => s.close(() => r())),
  };
}

test("broken answers give their named errors; a body until close is complete", async () => {
  const cases: [string, boolean, number][] = [
    ["SSH-2.0-OpenSSH\r\n", false, E_HTTP_STATUS_LINE],
    ["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", true, E_HTTP_TRUNCATED],
    ["", true, E_CLOSED],
  ];
  for (const [reply, close, code] of cases) {
    const s = await raw(reply, close);
    const c = createHttpClient({ host: "127.0.0.1", port: s.port, transport: nodeTransport(), clock: nodeClock, timeout: 2000 });
    assert.is((await call(c, "GET", "/")).err, code, JSON.stringify(reply));
    c.end();
    await s.stop();
  }
  const s = await raw("HTTP/1.0 200 OK\r\n\r\nuntil the end", true);
  const c = createHttpClient({ host: "127.0.0.1", port: s.port, transport: nodeTransport(), clock: nodeClock, timeout: 2000 });
  const a = await call(c, "GET", "/");
  assert.is(a.err, 0);
  assert.is(a.body.toString(), "until the end");
  c.end();
  await s.stop();
});

test("connection refused: the transport's code", async () => {
  const s = await raw("", true);
  await s.stop(); // the port is free now: nothing listens
  const c = createHttpClient({ host: "127.0.0.1", port: s.port, transport: nodeTransport(), clock: nodeClock, timeout: 2000 });
  assert.is((await call(c, "GET", "/")).err, E_TRANSPORT);
});

/** A transport the test scripts: writes are taken or refused (0) on demand; the test plays the server. */
class Scripted implements Transport {
  ev: TransportEvents | null = null;
  opens = 0;
  closes = 0;
  block = false;
  out: number[] = [];
  writes = 0;
  open(_h: string, _p: number, _t: TlsOptions | null, ev: TransportEvents) {
    this.ev = ev;
    this.opens++;
    this.out = [];
    ev.onOpen();
  }
  write(b: Uint8Array, off: number, len: number) {
    if (this.block) return 0;
    this.writes++;
    for (let i = 0; i < len; i++) this.out.push(b[off + i]);
    return len;
  }
  close() {
    this.closes++;
  }
  text() {
    return Buffer.from(this.out).toString("utf8");
  }
  answer(s: string) {
    this.ev!.onData(new Uint8Array(Buffer.from(s, "latin1")));
  }
}

const manualClock = () => {
  let t = 0;
  return { now: () => t, set: (fn: () => void, ms: number) => setTimeout(fn, ms), clear: (x: unknown) => clearTimeout(x as any), advance: (ms: number) => (t += ms) };
};

test("backpressure: a write answered 0 waits for onWritable, then the body goes on in order", () => {
  const tr = new Scripted();
  const c = createHttpClient({ host: "h", transport: tr, clock: nodeClock, bufferSize: 128 });
  const body = "0123456789".repeat(50);
  let got: number[] = [];
  tr.block = true;
  assert.is(c.request("PUT", "/p", [], body, null, (e, s) => (got = [e, s])), 0);
  assert.is(tr.out.length, 0);
  for (let i = 0; i < 100 && tr.text().indexOf(body) < 0; i++) {
    tr.block = i % 2 == 0; // every other onWritable finds the socket full again
    tr.ev!.onWritable();
  }
  assert.ok(tr.text().endsWith("\r\n\r\n" + body));
  assert.ok(tr.text().startsWith("PUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 500\r\n\r\n"));
  assert.ok(tr.writes > 5, "in pieces");
  tr.answer("HTTP/1.1 204 No Content\r\n\r\n");
  assert.equal(got, [0, 204]);
  c.end();
});

test("a kept connection closed before any answer: GET is sent again once, POST fails with E_CLOSED (RFC 7230 §6.3.1)", () => {
  const tr = new Scripted();
  const clock = manualClock();
  const c = createHttpClient({ host: "h", transport: tr, clock, bufferSize: 256 });
  const results: number[][] = [];
  c.request("GET", "/1", [], null, null, (e, s) => results.push([e, s]));
  tr.answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  c.request("GET", "/2", [], null, null, (e, s) => results.push([e, s]));
  assert.is(tr.opens, 1, "reused");
  tr.ev!.onClose(0); // the server had closed it
  assert.is(tr.opens, 2, "opened again");
  assert.ok(tr.text().startsWith("GET /2 "));
  tr.answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  c.request("POST", "/3", [], "x", null, (e, s) => results.push([e, s]));
  tr.ev!.onClose(0);
  assert.equal(results, [[0, 200], [0, 200], [E_CLOSED, 0]]);
  assert.is(tr.opens, 2);
  c.end();
});

test("a connection idle longer than `idle` is replaced before the request; bytes after the answer drop it", () => {
  const tr = new Scripted();
  const clock = manualClock();
  const c = createHttpClient({ host: "h", transport: tr, clock, idle: 1000 });
  const ok = () => {};
  c.request("GET", "/1", [], null, null, ok);
  tr.answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  clock.advance(999);
  c.request("GET", "/2", [], null, null, ok);
  assert.is(tr.opens, 1);
  tr.answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  clock.advance(1001);
  c.request("GET", "/3", [], null, null, ok);
  assert.is(tr.opens, 2);
  assert.is(tr.closes, 1);
  tr.answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n");
  assert.is(tr.closes, 2, "out of step: closed");
  c.end();
});

test.run();
