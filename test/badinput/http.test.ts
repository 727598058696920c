// Bad HTTP answers over real sockets: a raw node:net server on 127.0.0.1 answers the first connection
// of each client with a broken response from a corpus (garbage status lines, header overflow, bad
// headers, bad chunk sizes, truncation), and later connections correctly. Each entry must end the
// exchange with its named error (E_HTTP_*, E_CLOSED, E_TIMEOUT), nothing may throw, and the same
// client must then complete a good exchange.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { createHttpClient, HttpClient } from "../../src/http/client";
import { nodeTransport, nodeClock } from "../../targets/node/transport";
import { errorName } from "../../src/errornames";
import * as E from "../../src/errors";

const GOOD = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const RX = 1024; // the client's response-line region (half of 2048)

interface Entry {
  name: string;
  /** What the server writes, as text (latin1) or bytes; null: nothing. */
  answer: string | number[] | null;
  /** Close after writing (default true); false keeps the connection open (the client times out). */
  close?: boolean;
  expect: number;
}

const long = (n: number) => "a".repeat(n);

const corpus: Entry[] = [
  // status line
  { name: "garbage instead of a status line", answer: "HELLO WORLD\r\n\r\n", expect: E.E_HTTP_STATUS_LINE },
  { name: "binary garbage", answer: [0x00, 0xff, 0x10, 0x80, 0x0d, 0x0a, 0x0d, 0x0a], expect: E.E_HTTP_STATUS_LINE },
  { name: "no status code", answer: "HTTP/1.1 OK\r\n\r\n", expect: E.E_HTTP_STATUS_LINE },
  { name: "two-digit status code", answer: "HTTP/1.1 20 OK\r\n\r\n", expect: E.E_HTTP_STATUS_LINE },
  { name: "status code 099", answer: "HTTP/1.1 099 Odd\r\n\r\n", expect: E.E_HTTP_STATUS_LINE },
  { name: "no space after the status code", answer: "HTTP/1.1 200OK\r\n\r\n", expect: E.E_HTTP_STATUS_LINE },
  { name: "another protocol (ICY)", answer: "ICY 200 OK\r\n\r\n", expect: E.E_HTTP_STATUS_LINE },
  { name: "HTTP/2 preface-like line", answer: "HTTP/2 200\r\n\r\n", expect: E.E_HTTP_STATUS_LINE },
  { name: "a status line longer than the receive region", answer: "HTTP/1.1 200 " + long(RX + 10) + "\r\n\r\n", expect: E.E_HTTP_HEADER_SIZE },
  // header section
  { name: "header overflow (one field longer than the receive region)", answer: `HTTP/1.1 200 OK\r\nX-Big: ${long(RX + 10)}\r\n\r\n`, expect: E.E_HTTP_HEADER_SIZE },
  { name: "endless header line without LF", answer: `HTTP/1.1 200 OK\r\nX: ${long(4 * RX)}`, expect: E.E_HTTP_HEADER_SIZE },
  { name: "header without colon", answer: "HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n", expect: E.E_HTTP_HEADER },
  { name: "space before the colon", answer: "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok", expect: E.E_HTTP_HEADER },
  { name: "empty field name", answer: "HTTP/1.1 200 OK\r\n: value\r\n\r\n", expect: E.E_HTTP_HEADER },
  { name: "a folded line before any field", answer: "HTTP/1.1 200 OK\r\n folded\r\n\r\n", expect: E.E_HTTP_HEADER },
  { name: "Content-Length not a number", answer: "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", expect: E.E_HTTP_HEADER },
  { name: "Content-Length negative", answer: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", expect: E.E_HTTP_HEADER },
  { name: "two different Content-Lengths", answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", expect: E.E_HTTP_HEADER },
  // chunked bodies
  { name: "chunk size not hex", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n", expect: E.E_HTTP_CHUNK },
  { name: "empty chunk size line", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", expect: E.E_HTTP_CHUNK },
  { name: "chunk size with junk after it", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 x\r\nab\r\n0\r\n\r\n", expect: E.E_HTTP_CHUNK },
  { name: "chunk size beyond 2^31", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffff\r\n", expect: E.E_HTTP_CHUNK },
  { name: "chunk data longer than its size", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", expect: E.E_HTTP_CHUNK },
  { name: "chunk size line longer than the receive region", answer: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${"0".repeat(RX + 10)}1\r\n`, expect: E.E_HTTP_HEADER_SIZE },
  // truncation
  { name: "body shorter than Content-Length, then close", answer: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", expect: E.E_HTTP_TRUNCATED },
  { name: "close in the header section", answer: "HTTP/1.1 200 OK\r\nContent-Le", expect: E.E_HTTP_TRUNCATED },
  { name: "close in the status line", answer: "HTTP/1.1 2", expect: E.E_HTTP_TRUNCATED },
  { name: "close inside a chunk", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", expect: E.E_HTTP_TRUNCATED },
  { name: "close before the last chunk", answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", expect: E.E_HTTP_TRUNCATED },
  { name: "close without a byte", answer: null, expect: E.E_CLOSED },
  { name: "no answer at all (connection kept open)", answer: null, close: false, expect: E.E_TIMEOUT },
];

/** A raw server: the first connection gets `e.answer` after the request head, later ones GOOD. */
async function server(e: Entry) {
  const socks = new Set<net.Socket>();
  let conns = 0;
  const s = net.createServer((sock) => {
    const n = ++conns;
    socks.add(sock);
    sock.on("close", () => socks.delete(sock));
    sock.on("error", () => {});
    let head = "";
    sock.on("data", (d: Buffer) => {
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      head = "";
      if (n > 1) return void sock.write(GOOD);
      if (e.answer != null) sock.write(typeof e.answer == "string" ? Buffer.from(e.answer, "latin1") : Uint8Array.from(e.answer));
      if (e.close !== false) sock.end();
    });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  return {
    port: (s.address() as net.AddressInfo).port,
    conns: () => conns,
    close: () => new Promise<void>((r) => { for (const k of socks) k.destroy(); s.close(() => r()); }),
  };
}

function get(c: HttpClient): Promise<{ err: number; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let body = "";
    const r = c.request("GET", "/x", [], null, { onBody: (p) => (body += Buffer.from(p).toString("latin1")) }, (err, status) => resolve({ err, status, body }));
    if (r) reject(new Error("request() returned " + errorName(r)));
  });
}

test("each broken answer ends the exchange with its named error; the client then completes a good one", async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  process.on("uncaughtException", onUncaught);
  try {
    const problems = (await Promise.all(corpus.map(async (e) => {
      const srv = await server(e);
      try {
        const c = createHttpClient({ host: "127.0.0.1", port: srv.port, transport: nodeTransport(), clock: nodeClock, timeout: 2000 });
        const a = await get(c);
        if (a.err !== e.expect) return `${e.name}: ${errorName(a.err)} (status ${a.status}), expected ${errorName(e.expect)}`;
        const b = await get(c);
        if (b.err || b.status != 200 || b.body != "ok") return `${e.name}: the next exchange gave ${errorName(b.err)} ${b.status} ${JSON.stringify(b.body)}`;
        c.end();
        return "";
      } finally {
        await srv.close();
      }
    }))).filter(Boolean);
    assert.equal(problems, [], problems.join("\n"));
  } finally {
    process.off("uncaughtException", onUncaught);
  }
  assert.equal(uncaught, [], "no exception escaped");
});

test.run();
