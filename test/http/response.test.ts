// The HTTP/1.1 response parser: every vector whole, split at every byte position, and one byte at a time.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createResponseParser } from "../../src/http/response";
import {
  E_CLOSED, E_HTTP_STATUS_LINE, E_HTTP_HEADER, E_HTTP_HEADER_SIZE, E_HTTP_CHUNK, E_HTTP_TRUNCATED,
} from "../../src/errors";

const test = suite("http/response");
const CANARY = 0xa5;

interface Result {
  events: string[];
  body: string;
  /** feed's return values summed while positive, or the first negative one */
  consumed: number;
  err: number;
  keepAlive: boolean;
  /** what end() returned, when asked */
  end?: number;
}

interface Options { cap?: number; head?: boolean; stop?: boolean; close?: boolean }

/** Feeds `pieces` in order to a fresh parser and records what it reports; the buffer past `cap` must stay untouched. */
function run(pieces: Uint8Array[], opt: Options = {}): Result {
  const cap = opt.cap ?? 256;
  const buf = new Uint8Array(cap + 16).fill(CANARY);
  const events: string[] = [];
  let body = "";
  const p = createResponseParser(buf, cap, {
    onStatus: (c) => events.push(`status ${c}`),
    onHeader: (n, v) => events.push(`${n}: ${v}`),
    onHeadersEnd: () => (events.push("headers end"), !!opt.stop),
    onBody: (c) => (body += Buffer.from(c).toString("latin1")),
    onEnd: () => events.push("end"),
  });
  p.reset(opt.head);
  const r: Result = { events, body: "", consumed: 0, err: 0, keepAlive: false };
  for (const c of pieces) {
    const n = p.feed(c);
    if (n < 0) {
      r.err = n;
      r.consumed = -1; // where it stopped depends on the chunking
      break;
    }
    assert.ok(n <= c.length);
    r.consumed += n;
  }
  if (opt.close) r.end = p.end();
  for (let i = cap; i < buf.length; i++) assert.is(buf[i], CANARY, `byte ${i} past cap written`);
  r.body = body;
  r.keepAlive = p.keepAlive();
  return r;
}

const bytes = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));

/** The same result whole, split in two at every position, and one byte at a time. */
function check(text: string, opt: Options = {}): Result {
  const all = bytes(text);
  const whole = run([all], opt);
  for (let i = 1; i < all.length; i++) {
    const split = run([all.subarray(0, i), all.subarray(i)], opt);
    assert.equal(split, whole, `split at ${i}`);
  }
  const single = run(Array.from(all, (b) => Uint8Array.of(b)), opt);
  assert.equal(single, whole, "one byte at a time");
  return whole;
}

test("Content-Length body; names lower-cased, values trimmed; keep-alive by default in HTTP/1.1", () => {
  const text = "HTTP/1.1 200 OK\r\nContent-Type:  text/plain \r\nContent-Length: 5\r\nETag: \"abc\"\r\n\r\nhello";
  const r = check(text);
  assert.equal(r.events, ["status 200", "content-type: text/plain", "content-length: 5", 'etag: "abc"', "headers end", "end"]);
  assert.is(r.body, "hello");
  assert.is(r.consumed, text.length);
  assert.is(r.err, 0);
  assert.ok(r.keepAlive);
});

test("chunked: sizes in hex, extensions (with BWS), trailers read and discarded", () => {
  const text =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "5\r\nhello\r\n" +
    "7;name=value\r\n, world\r\n" +
    "A ; a=\"quoted;x\"\r\n0123456789\r\n" +
    "000\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n";
  const r = check(text);
  assert.equal(r.events, ["status 200", "transfer-encoding: chunked", "headers end", "end"]);
  assert.is(r.body, "hello, world0123456789");
  assert.is(r.consumed, text.length);
  assert.ok(r.keepAlive);
});

test("chunked without trailers, upper-case hex, chunk data holding CR LF", () => {
  const r = check("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\nC\r\nline\r\nline\r\n\r\n0\r\n\r\n");
  assert.is(r.body, "line\r\nline\r\n");
  assert.ok(r.events.includes("end"));
});

test("1xx interim responses are skipped whole (RFC 7231 §6.2)", () => {
  const r = check("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  assert.equal(r.events, ["status 201", "content-length: 2", "headers end", "end"]);
  assert.is(r.body, "ok");
});

test("Connection: close ends reuse; HTTP/1.0 needs keep-alive; tokens in a list, any case", () => {
  assert.not.ok(check("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").keepAlive);
  assert.not.ok(check("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n").keepAlive);
  assert.not.ok(check("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keepAlive);
  assert.ok(check("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").keepAlive);
  assert.ok(check("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").keepAlive);
});

test("no Content-Length and no chunked: the body runs until the connection closes", () => {
  const r = check("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close", { close: true });
  assert.is(r.body, "until close");
  assert.is(r.end, 0);
  assert.equal(r.events.slice(-1), ["end"]);
  assert.not.ok(r.keepAlive);
  // a transfer coding other than chunked last: also until close (RFC 7230 §3.3.3)
  assert.is(check("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", { close: true }).body, "zz");
});

test("HEAD, 204 and 304 have no body whatever the headers say", () => {
  const head = check("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", { head: true });
  assert.equal(head.events.slice(-2), ["headers end", "end"]);
  assert.ok(head.keepAlive);
  const c204 = check("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n");
  assert.equal(c204.events.slice(-1), ["end"]);
  assert.is(c204.body, "");
  assert.is(check("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n").body, "");
});

test("tolerated: no reason phrase, bare LF line ends, empty lines before the status line, obs-fold", () => {
  assert.equal(check("HTTP/1.1 204\r\n\r\n").events, ["status 204", "headers end", "end"]);
  assert.equal(check("HTTP/1.1 204 \r\n\r\n").events, ["status 204", "headers end", "end"]);
  assert.equal(check("HTTP/1.1 200 OK\nContent-Length: 1\n\nx").body, "x");
  assert.equal(check("\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n").events[0], "status 204");
  assert.equal(check("HTTP/1.1 204 OK\r\nX-Long: one\r\n  two\r\n\tthree\r\n\r\n").events[1], "x-long: one two three");
  assert.equal(check("HTTP/1.1 204 OK\r\nX-Empty:\r\n\r\n").events[1], "x-empty: ");
});

test("101 and onHeadersEnd() true: the parser stops after the header section, the rest is not HTTP", () => {
  const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  const all = bytes(head + "\x82\x02hi");
  const r = run([all], { stop: true });
  assert.equal(r.events, ["status 101", "upgrade: websocket", "connection: Upgrade", "headers end"]);
  assert.is(r.consumed, head.length);
  assert.is(r.body, "");
  // one byte at a time: the frame bytes are refused (0 consumed) once the headers are over
  const single = run(Array.from(all, (b) => Uint8Array.of(b)), { stop: true });
  assert.is(single.consumed, head.length);
  // not stopped: a 101 ends with no body and no reuse
  const on = check(head);
  assert.equal(on.events.slice(-1), ["end"]);
  assert.not.ok(on.keepAlive);
});

test("feed(chunk, off) starts at off; bytes after the end are left for the next response after reset()", () => {
  const events: string[] = [];
  const buf = new Uint8Array(64);
  const p = createResponseParser(buf, 64, {
    onStatus: (c) => events.push(`status ${c}`),
    onHeader: () => {},
    onHeadersEnd: () => false,
    onBody: (c) => events.push(Buffer.from(c).toString()),
    onEnd: () => events.push("end"),
  });
  const first = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
  const two = bytes("xx" + first + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb");
  const n = p.feed(two, 2);
  assert.is(n, first.length);
  assert.ok(p.keepAlive());
  assert.is(p.feed(two, 2 + n), 0, "nothing taken before reset()");
  p.reset();
  assert.is(p.feed(two, 2 + n), two.length - 2 - n);
  assert.equal(events, ["status 200", "a", "end", "status 200", "b", "end"]);
});

test("a line of exactly cap bytes fits; one more is E_HTTP_HEADER_SIZE (header overflow), not a crash", () => {
  const line = "X-A: " + "v".repeat(9); // 14 bytes + CR = 15
  assert.is(check(`HTTP/1.1 204\r\n${line}\r\n\r\n`, { cap: 15 }).err, 0);
  assert.is(check(`HTTP/1.1 204\r\n${line}v\r\n\r\n`, { cap: 15 }).err, E_HTTP_HEADER_SIZE);
  assert.is(check(`HTTP/1.1 204\n${line}v\n\n`, { cap: 15 }).err, 0, "without the CR it fits");
  assert.is(check("HTTP/1.1 200 a very long reason phrase indeed\r\n\r\n", { cap: 16 }).err, E_HTTP_HEADER_SIZE);
  // the body does not go through the buffer: a long body passes a tiny one
  const big = "z".repeat(5000);
  const r = run([bytes(`HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n${big}`)], { cap: 24 });
  assert.is(r.body, big);
});

test("malformed status lines: E_HTTP_STATUS_LINE", () => {
  for (const s of ["garbage\r\n", "HTTP/1.1 OK\r\n", "HTTP/1.1 2000 OK\r\n", "HTTP/1.1 099 Low\r\n", "HTTP/11 200 OK\r\n",
    "http/1.1 200 OK\r\n", "HTTP/1.1  200 OK\r\n", "ICY 200 OK\r\n", "HTTP/1.1 20\r\n"]) {
    assert.is(check(s).err, E_HTTP_STATUS_LINE, JSON.stringify(s));
  }
});

test("malformed header fields: E_HTTP_HEADER", () => {
  for (const h of ["No colon here", "Bad Name: x", "Space : x", ": empty name", "Content-Length: 5x", "Content-Length: -1",
    "Content-Length: 1\r\nContent-Length: 2", " fold without a field"]) {
    assert.is(check(`HTTP/1.1 200 OK\r\n${h}\r\n\r\n`).err, E_HTTP_HEADER, JSON.stringify(h));
  }
  // the same length twice is fine (RFC 7230 §3.3.2)
  assert.is(check("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx").body, "x");
});

test("bad chunk sizes and chunk data without CRLF: E_HTTP_CHUNK", () => {
  for (const c of ["zz\r\n", "\r\n", "5x\r\nhello\r\n", "-5\r\n", "fffffffff\r\n", ";ext\r\n", "5\r\nhelloX\r\n", "5\r\nhello\r\n\r\n"]) {
    assert.is(check(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${c}`).err, E_HTTP_CHUNK, JSON.stringify(c));
  }
});

test("the connection closing early: E_HTTP_TRUNCATED; before any byte: E_CLOSED", () => {
  const cases = [
    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
    "HTTP/1.1 200 OK\r\nContent-Le",
    "HTTP/1.1 2",
  ];
  for (const c of cases) {
    const r = check(c, { close: true });
    assert.is(r.end, E_HTTP_TRUNCATED, JSON.stringify(c));
    assert.not.ok(r.events.includes("end"));
    assert.not.ok(r.keepAlive);
  }
  assert.is(run([], { close: true }).end, E_CLOSED);
});

test("after an error the parser keeps answering it until reset()", () => {
  const p = createResponseParser(new Uint8Array(32), 32, {
    onStatus() {}, onHeader() {}, onHeadersEnd: () => false, onBody() {}, onEnd() {},
  });
  assert.is(p.feed(bytes("nope\r\n")), E_HTTP_STATUS_LINE);
  assert.is(p.feed(bytes("HTTP/1.1 204 OK\r\n\r\n")), E_HTTP_STATUS_LINE);
  assert.is(p.end(), E_HTTP_STATUS_LINE);
  p.reset();
  assert.is(p.feed(bytes("HTTP/1.1 204 OK\r\n\r\n")), 19);
  assert.ok(p.keepAlive());
});

test("random and mutated bytes: no exception, no write past cap", () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 16777216;
  const good = bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  for (let k = 0; k < 2000; k++) {
    const b = Uint8Array.from(good);
    for (let m = 0; m < 3; m++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const cut = Math.floor(rnd() * b.length);
    const r = run([b.subarray(0, cut), b.subarray(cut)], { cap: 20, close: true });
    assert.ok(r.err <= 0 && (r.end ?? 0) <= 0);
  }
});

test.run();
