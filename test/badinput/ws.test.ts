// Bad WebSocket servers over real sockets: the MQTT client on wsTransport(nodeTransport()) against a raw
// node:net server on 127.0.0.1 that answers the first connection's upgrade wrongly, or rightly and then
// sends a CONNACK frame followed by an invalid frame from a corpus. Each entry must close the connection
// with its named error (E_WS_*, E_HTTP_*; reported through onClose, the transport's way), nothing may
// throw, and the client must reconnect: the second connection gets a correct server and a session.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { createHash } from "node:crypto";
import { createClient, nodeTransport, wsTransport, errorName } from "../../targets/node/index";
import * as E from "../../src/errors";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const acceptFor = (key: string) => createHash("sha1").update(key + GUID).digest("base64");
const MAX = 8192; // the transport's largest accepted frame in this suite

const upgrade = (key: string, extra = "", drop = "") =>
  ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${acceptFor(key)}\r\nSec-WebSocket-Protocol: mqtt\r\n${extra}\r\n`).replace(drop, "");

/** A server frame: FIN + opcode, unmasked, the shortest length form. */
function wsFrame(op: number, payload: number[], fin = true): number[] {
  const n = payload.length;
  const len = n < 126 ? [n] : n < 65536 ? [126, n >> 8, n & 255] : [127, 0, 0, 0, 0, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  return [(fin ? 0x80 : 0) | op, ...len, ...payload];
}

const CONNACK = wsFrame(2, [0x20, 0x02, 0x00, 0x00]);

interface Entry {
  name: string;
  /** The upgrade answer (default: a correct one). */
  answer?: (key: string) => string;
  /** Bytes after a correct upgrade and a CONNACK frame. */
  frames?: number[];
  expect: number;
  /** Through onError (an MQTT-level error inside a valid frame), not only onClose. */
  mqtt?: boolean;
}

const corpus: Entry[] = [
  // the opening handshake (RFC 6455 §4.1)
  { name: "status 200 instead of 101", answer: () => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", expect: E.E_WS_HANDSHAKE },
  { name: "426 Upgrade Required", answer: () => "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n", expect: E.E_WS_HANDSHAKE },
  { name: "101 without Upgrade", answer: (k) => upgrade(k, "", "Upgrade: websocket\r\n"), expect: E.E_WS_HANDSHAKE },
  { name: "Upgrade: h2c", answer: (k) => upgrade(k).replace("Upgrade: websocket", "Upgrade: h2c"), expect: E.E_WS_HANDSHAKE },
  { name: "Connection: keep-alive", answer: (k) => upgrade(k).replace("Connection: Upgrade", "Connection: keep-alive"), expect: E.E_WS_HANDSHAKE },
  { name: "an extension not asked for", answer: (k) => upgrade(k, "Sec-WebSocket-Extensions: permessage-deflate\r\n"), expect: E.E_WS_HANDSHAKE },
  { name: "a wrong Sec-WebSocket-Accept", answer: () => upgrade("dGhlIHNhbXBsZSBub25jZQ=="), expect: E.E_WS_ACCEPT },
  { name: "no Sec-WebSocket-Accept", answer: (k) => upgrade(k, "", `Sec-WebSocket-Accept: ${acceptFor(k)}\r\n`), expect: E.E_WS_ACCEPT },
  { name: "no subprotocol", answer: (k) => upgrade(k, "", "Sec-WebSocket-Protocol: mqtt\r\n"), expect: E.E_WS_SUBPROTOCOL },
  { name: "another subprotocol", answer: (k) => upgrade(k).replace("Protocol: mqtt", "Protocol: mqttv3.1"), expect: E.E_WS_SUBPROTOCOL },
  { name: "a garbage status line", answer: () => "SSH-2.0-OpenSSH_9.2\r\n\r\n", expect: E.E_HTTP_STATUS_LINE },
  { name: "a header line over the scratch region", answer: (k) => upgrade(k, `X-Big: ${"b".repeat(600)}\r\n`), expect: E.E_HTTP_HEADER_SIZE },
  { name: "a header without colon", answer: (k) => upgrade(k, "Broken header\r\n"), expect: E.E_HTTP_HEADER },
  { name: "the server hangs up in the middle of the answer", answer: () => "HTTP/1.1 101 Swi", expect: E.E_CLOSED },
  // frames (RFC 6455 §5)
  { name: "RSV1 set", frames: [0xc2, 0x01, 0x00], expect: E.E_WS_RESERVED },
  { name: "RSV3 set on a ping", frames: [0x99, 0x00], expect: E.E_WS_RESERVED },
  { name: "reserved data opcode 3", frames: [0x83, 0x00], expect: E.E_WS_OPCODE },
  { name: "reserved control opcode 0xB", frames: [0x8b, 0x00], expect: E.E_WS_OPCODE },
  { name: "a fragmented ping", frames: [0x09, 0x00], expect: E.E_WS_CONTROL },
  { name: "a ping of 126 bytes", frames: [0x89, 126, 0, 126, ...new Array(126).fill(1)], expect: E.E_WS_CONTROL },
  { name: "a close with a 1-byte body", frames: [0x88, 0x01, 0x03], expect: E.E_WS_CONTROL },
  { name: "a masked frame from the server", frames: [0x82, 0x81, 1, 2, 3, 4, 0x20], expect: E.E_WS_MASKED },
  { name: "a 64-bit length with the top bit set", frames: [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1], expect: E.E_WS_LENGTH },
  { name: "a frame over the maximum", frames: [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0], expect: E.E_WS_TOO_BIG },
  { name: "a text frame", frames: wsFrame(1, [0x41]), expect: E.E_WS_TEXT },
  { name: "a continuation outside a message", frames: [0x80, 0x01, 0x00], expect: E.E_WS_FRAGMENT },
  { name: "a new message inside a fragmented one", frames: [...wsFrame(2, [0xd0], false), ...wsFrame(2, [0x00])], expect: E.E_WS_FRAGMENT },
  { name: "a close with status 1002", frames: wsFrame(8, [0x03, 0xea]), expect: E.E_WS_CLOSED },
  { name: "a close with status 4000 and a reason", frames: wsFrame(8, [0x0f, 0xa0, ...Buffer.from("go away")]), expect: E.E_WS_CLOSED },
  { name: "an orderly close (1000)", frames: wsFrame(8, [0x03, 0xe8]), expect: E.E_CLOSED },
  // MQTT garbage inside valid frames: the MQTT client's own errors, the same as over TCP
  { name: "MQTT type 15 inside a binary frame", frames: wsFrame(2, [0xf0, 0x00]), expect: E.E_PACKET_TYPE, mqtt: true },
  { name: "MQTT 5-byte remaining length split over two frames", frames: [...wsFrame(2, [0x30, 0xff, 0xff]), ...wsFrame(2, [0xff, 0xff, 0x7f])], expect: E.E_LENGTH, mqtt: true },
];

/** The raw server: reads the upgrade request, answers; after a good upgrade a CONNACK once the CONNECT frame is in. */
async function server(e: Entry) {
  const socks = new Set<net.Socket>();
  let conns = 0;
  const s = net.createServer((sock) => {
    const n = ++conns;
    socks.add(sock);
    sock.on("close", () => socks.delete(sock));
    sock.on("error", () => {});
    let head = "", upgraded = false;
    sock.on("data", (d: Buffer) => {
      if (upgraded) {
        // the CONNECT frame (and later PINGREQ frames): answer CONNACK once, then the corpus entry
        if (upgraded === true) {
          upgraded = 2 as any;
          sock.write(Uint8Array.from(CONNACK));
          if (n == 1 && e.frames) setTimeout(() => sock.write(Uint8Array.from(e.frames!)), 20);
        }
        return;
      }
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(head)![1];
      if (n == 1 && e.answer) {
        sock.write(Buffer.from(e.answer(key), "latin1"));
        sock.end();
        return;
      }
      sock.write(Buffer.from(upgrade(key), "latin1"));
      upgraded = true;
    });
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  return {
    port: (s.address() as net.AddressInfo).port,
    conns: () => conns,
    close: () => new Promise<void>((r) => { for (const k of socks) k.destroy(); s.close(() => r()); }),
  };
}

async function runEntry(e: Entry, k: number): Promise<string> {
  const srv = await server(e);
  const closes: number[] = [], errors: number[] = [];
  let connects = 0;
  const c = createClient({
    host: "127.0.0.1", port: srv.port, clientId: "ws-bad-" + k, keepalive: 30,
    transport: wsTransport(nodeTransport(), { path: "/mqtt", max: MAX }),
    reconnect: { min: 10, max: 40, jitter: 0 },
    onConnect: () => connects++,
    onClose: (x) => closes.push(x),
    onError: (x) => errors.push(x),
  });
  const show = () => `closes [${closes.map(errorName)}], errors [${errors.map(errorName)}], connects ${connects}, conns ${srv.conns()}`;
  try {
    c.connect();
    const end = Date.now() + 3000;
    while (!(closes.length && srv.conns() >= 2 && c.connected()) && Date.now() < end) await sleep(5);
    if (!closes.length) return `${e.name}: no close (${show()})`;
    if (closes[0] !== e.expect) return `${e.name}: closed with ${errorName(closes[0])}, expected ${errorName(e.expect)} (${show()})`;
    if (e.mqtt ? errors[0] !== e.expect : errors.length) return `${e.name}: errors (${show()})`;
    if (!c.connected() || srv.conns() < 2) return `${e.name}: no reconnect (${show()})`;
    return "";
  } finally {
    c.end();
    await srv.close();
  }
}

test("each broken upgrade answer or frame closes with its named error; the client reconnects", async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (x: unknown) => uncaught.push(x);
  process.on("uncaughtException", onUncaught);
  try {
    const problems = (await Promise.all(corpus.map(runEntry))).filter(Boolean);
    assert.equal(problems, [], problems.join("\n"));
  } finally {
    process.off("uncaughtException", onUncaught);
  }
  assert.equal(uncaught, [], "no exception escaped");
});

test.run();
