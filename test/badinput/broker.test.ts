// A scripted bad broker: a node:net server on 127.0.0.1 that reads the client's CONNECT, answers
// (usually with a valid CONNACK) and then sends one malformed or forbidden packet from a corpus.
// Each entry must give its own named error through onError; the client then reconnects (the second
// connection gets a good CONNACK), except after a final refusal; the process never crashes.
// Then a burst of random mutations of the corpus over real sockets: only named errors, no exception.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { createClient, errorName, Client } from "../../targets/node/index";
import * as E from "../../src/errors";
import { createRng } from "../helpers/rng";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number, what: () => string) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await sleep(5);
  }
}

const CODES = new Set<number>((Object.values(E) as unknown[]).filter((v): v is number => typeof v == "number"));

// ---- frames ---------------------------------------------------------------------------------

const CONNACK_OK = [0x20, 0x02, 0x00, 0x00];

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    out.push((n & 127) | (n > 127 ? 128 : 0));
    n >>>= 7;
  } while (n);
  return out;
}

function frame(byte1: number, body: number[]): number[] {
  return [byte1, ...varint(body.length), ...body];
}

const str = (s: string | number[]) => {
  const b = typeof s == "string" ? [...Buffer.from(s, "utf8")] : s;
  return [b.length >> 8, b.length & 255, ...b];
};

/** A PUBLISH with the topic's bytes as given. */
function publish(topic: string | number[], payload = "x", qos = 0, id = 1, flags = 0): number[] {
  return frame(0x30 | (qos << 1) | flags, [...str(topic), ...(qos ? [id >> 8, id & 255] : []), ...Buffer.from(payload)]);
}

/** A frame whose body is `n` bytes, far more than the client's receive region (1024 of 2048). */
const big = (byte1: number, n = 3000) => frame(byte1, new Array(n).fill(0));

// ---- the corpus -------------------------------------------------------------------------------

interface Entry {
  name: string;
  /** Bytes instead of the good CONNACK (a refusal, a malformed CONNACK, another packet first). */
  connack?: number[];
  /** Bytes after the good CONNACK. */
  after?: number[];
  expect: number;
  /** A final error: no reconnect. */
  final?: boolean;
  /** The connection survives (the error is reported, the frame skipped). */
  survives?: boolean;
}

const corpus: Entry[] = [
  // fixed header
  { name: "remaining length in 5 bytes", after: [0x30, 0xff, 0xff, 0xff, 0xff, 0x7f], expect: E.E_LENGTH },
  { name: "PUBACK with flags 0001 (0x41)", after: [0x41, 0x02, 0x00, 0x01], expect: E.E_FLAGS },
  { name: "PUBREC with flags 0010 (0x52)", after: [0x52, 0x02, 0x00, 0x01], expect: E.E_FLAGS },
  { name: "PUBREL with flags 0000 (0x60)", after: [0x60, 0x02, 0x00, 0x01], expect: E.E_FLAGS },
  { name: "PUBCOMP with flags 1000 (0x78)", after: [0x78, 0x02, 0x00, 0x01], expect: E.E_FLAGS },
  { name: "SUBACK with flags 0001 (0x91)", after: [0x91, 0x03, 0x00, 0x01, 0x00], expect: E.E_FLAGS },
  { name: "UNSUBACK with flags 0010 (0xb2)", after: [0xb2, 0x02, 0x00, 0x01], expect: E.E_FLAGS },
  { name: "PINGRESP with flags 0001 (0xd1)", after: [0xd1, 0x00], expect: E.E_FLAGS },
  // PUBLISH
  { name: "PUBLISH topic length beyond the frame", after: [0x30, 0x04, 0x00, 0x10, 0x61, 0x62], expect: E.E_MALFORMED },
  { name: "PUBLISH body of 1 byte", after: [0x30, 0x01, 0x00], expect: E.E_MALFORMED },
  { name: "PUBLISH QoS 1 without room for its packet id", after: [0x32, 0x04, 0x00, 0x02, 0x61, 0x62], expect: E.E_MALFORMED },
  { name: "PUBLISH topic invalid UTF-8 (C3 28)", after: publish([0xc3, 0x28]), expect: E.E_UTF8 },
  { name: "PUBLISH topic overlong UTF-8 (C0 AF)", after: publish([0x61, 0xc0, 0xaf]), expect: E.E_UTF8 },
  { name: "PUBLISH topic UTF-8 surrogate (ED A0 80)", after: publish([0xed, 0xa0, 0x80]), expect: E.E_UTF8 },
  { name: "PUBLISH topic truncated UTF-8 sequence (E2 82)", after: publish([0x61, 0xe2, 0x82]), expect: E.E_UTF8 },
  { name: "PUBLISH topic beyond U+10FFFF (F4 90 80 80)", after: publish([0xf4, 0x90, 0x80, 0x80]), expect: E.E_UTF8 },
  { name: "PUBLISH topic with U+0000", after: publish([0x61, 0x00, 0x62]), expect: E.E_UTF8 },
  { name: "PUBLISH topic with '+'", after: publish("a/+/b"), expect: E.E_TOPIC },
  { name: "PUBLISH topic with '#'", after: publish("a/#"), expect: E.E_TOPIC },
  { name: "PUBLISH empty topic", after: publish(""), expect: E.E_TOPIC },
  // [MQTT-3.3.1-4]: both QoS bits set. The codec reports it as a reserved-flags error (E_FLAGS), not E_QOS
  { name: "PUBLISH QoS 3", after: publish("a", "x", 3), expect: E.E_FLAGS },
  { name: "PUBLISH QoS 0 with DUP", after: publish("a", "x", 0, 0, 8), expect: E.E_FLAGS },
  { name: "PUBLISH QoS 1 with packet id 0", after: publish("a", "x", 1, 0), expect: E.E_PACKET_ID },
  { name: "PUBLISH QoS 2 with packet id 0", after: publish("a", "x", 2, 0), expect: E.E_PACKET_ID },
  // acknowledgements
  { name: "PUBACK with packet id 0", after: [0x40, 0x02, 0x00, 0x00], expect: E.E_PACKET_ID },
  { name: "PUBREL with packet id 0", after: [0x62, 0x02, 0x00, 0x00], expect: E.E_PACKET_ID },
  { name: "SUBACK with packet id 0", after: [0x90, 0x03, 0x00, 0x00, 0x01], expect: E.E_PACKET_ID },
  { name: "UNSUBACK with packet id 0", after: [0xb0, 0x02, 0x00, 0x00], expect: E.E_PACKET_ID },
  { name: "PUBACK of 3 bytes", after: [0x40, 0x03, 0x00, 0x01, 0x00], expect: E.E_MALFORMED },
  { name: "PUBACK of 1 byte", after: [0x40, 0x01, 0x01], expect: E.E_MALFORMED },
  { name: "SUBACK without a return code", after: [0x90, 0x02, 0x00, 0x01], expect: E.E_MALFORMED },
  { name: "SUBACK return code 3", after: [0x90, 0x03, 0x00, 0x01, 0x03], expect: E.E_MALFORMED },
  { name: "PINGRESP with a body", after: [0xd0, 0x01, 0x00], expect: E.E_MALFORMED },
  // packet types a client never receives
  { name: "CONNECT", after: frame(0x10, [...str("MQTT"), 4, 2, 0, 60, ...str("x")]), expect: E.E_PACKET_TYPE },
  { name: "SUBSCRIBE", after: frame(0x82, [0, 1, ...str("a"), 0]), expect: E.E_PACKET_TYPE },
  { name: "UNSUBSCRIBE", after: frame(0xa2, [0, 1, ...str("a")]), expect: E.E_PACKET_TYPE },
  { name: "PINGREQ", after: [0xc0, 0x00], expect: E.E_PACKET_TYPE },
  { name: "DISCONNECT", after: [0xe0, 0x00], expect: E.E_PACKET_TYPE },
  { name: "type 0", after: [0x00, 0x00], expect: E.E_PACKET_TYPE },
  { name: "type 15", after: [0xf0, 0x00], expect: E.E_PACKET_TYPE },
  { name: "type 15 with a body", after: [0xf0, 0x02, 0x00, 0x01], expect: E.E_PACKET_TYPE },
  { name: "a second CONNACK", after: CONNACK_OK, expect: E.E_PACKET_TYPE },
  // oversize frames (larger than the receive region) of types that are never streamed
  { name: "oversize PUBACK", after: big(0x40), expect: E.E_TOO_LARGE },
  { name: "oversize SUBACK", after: big(0x90), expect: E.E_TOO_LARGE },
  { name: "oversize UNSUBACK", after: big(0xb0), expect: E.E_TOO_LARGE },
  { name: "oversize PINGRESP", after: big(0xd0), expect: E.E_TOO_LARGE },
  { name: "oversize PUBREL", after: big(0x62), expect: E.E_TOO_LARGE },
  { name: "oversize type 15", after: big(0xf0), expect: E.E_TOO_LARGE },
  // a PUBLISH whose topic alone is larger than the receive region: reported, skipped, connection kept
  { name: "PUBLISH with a 1,100-byte topic", after: publish("t".repeat(1100), "x", 1, 7), expect: E.E_TOO_LARGE, survives: true },
  // CONNACK [MQTT-3.2.2-5]: refusals; only 3 (server unavailable) is retried
  { name: "CONNACK 1 (protocol version)", connack: [0x20, 0x02, 0x00, 0x01], expect: E.E_REFUSED_PROTOCOL, final: true },
  { name: "CONNACK 2 (identifier rejected)", connack: [0x20, 0x02, 0x00, 0x02], expect: E.E_REFUSED_ID, final: true },
  { name: "CONNACK 3 (server unavailable)", connack: [0x20, 0x02, 0x00, 0x03], expect: E.E_REFUSED_UNAVAILABLE },
  { name: "CONNACK 4 (bad user name or password)", connack: [0x20, 0x02, 0x00, 0x04], expect: E.E_REFUSED_CREDENTIALS, final: true },
  { name: "CONNACK 5 (not authorized)", connack: [0x20, 0x02, 0x00, 0x05], expect: E.E_REFUSED_AUTH, final: true },
  { name: "CONNACK 6 (reserved)", connack: [0x20, 0x02, 0x00, 0x06], expect: E.E_REFUSED, final: true },
  { name: "CONNACK 255 (reserved)", connack: [0x20, 0x02, 0x00, 0xff], expect: E.E_REFUSED, final: true },
  // a malformed CONNACK is not a refusal: the client closes and tries again
  { name: "CONNACK with flags 0001 (0x21)", connack: [0x21, 0x02, 0x00, 0x00], expect: E.E_FLAGS },
  { name: "CONNACK with reserved acknowledge flags", connack: [0x20, 0x02, 0x02, 0x00], expect: E.E_MALFORMED },
  { name: "CONNACK of 3 bytes", connack: [0x20, 0x03, 0x00, 0x00, 0x00], expect: E.E_MALFORMED },
  { name: "oversize CONNACK", connack: big(0x20), expect: E.E_MALFORMED },
  // something else before the CONNACK
  { name: "PUBLISH before CONNACK", connack: publish("a"), expect: E.E_PROTOCOL },
  { name: "PINGRESP before CONNACK", connack: [0xd0, 0x00], expect: E.E_PROTOCOL },
  { name: "SUBACK before CONNACK", connack: [0x90, 0x03, 0x00, 0x01, 0x00], expect: E.E_PROTOCOL },
];

// ---- the bad broker -----------------------------------------------------------------------------

interface BadBroker {
  port: number;
  /** Connections accepted, and CONNECTs read. */
  conns: number;
  connects: number;
  close(): Promise<void>;
}

/**
 * Reads each connection's CONNECT, then writes `script(n)` (n = 1, 2, ... per connection):
 * by default the n-th connection after the first gets a good CONNACK and nothing else.
 */
async function badBroker(script: (n: number) => number[][], hangup = 0): Promise<BadBroker> {
  const sockets = new Set<net.Socket>();
  const b: BadBroker = { port: 0, conns: 0, connects: 0, close: async () => {} };
  const server = net.createServer((s) => {
    const n = ++b.conns;
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    let buf = Buffer.alloc(0), connected = false;
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      // frames from the client: CONNECT first, then answer PINGREQ so a good session stays up
      for (;;) {
        let i = 1, len = 0, mul = 1, c: number;
        do {
          if (i >= buf.length) return;
          c = buf[i++];
          len += (c & 127) * mul;
          mul *= 128;
        } while (c & 128);
        if (buf.length < i + len) return;
        const type = buf[0] >> 4;
        buf = buf.subarray(i + len);
        if (type == 1 && !connected) {
          connected = true;
          b.connects++;
          for (const chunk of script(n)) if (!s.destroyed) s.write(Uint8Array.from(chunk));
          // a frame cut short would wait for the rest: hang up
          if (hangup) setTimeout(() => s.end(), hangup);
        } else if (type == 12 && !s.destroyed) s.write(Uint8Array.from([0xd0, 0x00]));
        else if (type == 14) s.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  b.port = (server.address() as net.AddressInfo).port;
  b.close = () => new Promise<void>((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  });
  return b;
}

interface Seen { errors: number[]; closes: number[]; connects: number; msgs: string[] }

function client(port: number, seen: Seen, id: string): Client {
  return createClient({
    host: "127.0.0.1", port, clientId: id, keepalive: 30,
    reconnect: { min: 10, max: 40, jitter: 0 },
    onConnect: () => seen.connects++,
    onError: (c) => seen.errors.push(c),
    onClose: (c) => seen.closes.push(c),
    onMessage: (t) => seen.msgs.push(t),
  });
}

/** Runs one corpus entry; resolves with a description of what went wrong, or "" when all is as expected. */
async function runEntry(e: Entry, k: number): Promise<string> {
  const broker = await badBroker((n) => {
    if (n > 1) return [CONNACK_OK];
    if (e.connack) return [e.connack];
    // a good session after the bad frame shows the connection survived, where it should
    return [CONNACK_OK, e.after!, ...(e.survives ? [publish("after/it", "ok")] : [])];
  });
  const seen: Seen = { errors: [], closes: [], connects: 0, msgs: [] };
  const c = client(broker.port, seen, "bad-" + k);
  const show = () => `errors [${seen.errors.map(errorName)}], closes [${seen.closes.map(errorName)}], connects ${seen.connects}, conns ${broker.conns}`;
  try {
    c.connect();
    await until(() => seen.errors.length > 0, 3000, () => `an error (${show()})`);
    if (e.survives) {
      await until(() => seen.msgs.length > 0, 2000, () => `the next message on the same connection (${show()})`);
      if (broker.conns != 1 || seen.closes.length) return `the connection did not survive: ${show()}`;
    } else if (e.final) {
      await sleep(250); // many backoff periods
      if (broker.conns != 1 || c.connected()) return `reconnected after a final error: ${show()}`;
    } else {
      await until(() => broker.connects >= 2 && c.connected(), 3000, () => `a reconnect (${show()})`);
    }
    if (seen.errors[0] !== e.expect) return `error ${errorName(seen.errors[0])}, expected ${errorName(e.expect)} (${show()})`;
    if (seen.errors.length != 1) return `more than one error: ${show()}`;
    if (!e.survives && seen.closes[0] !== e.expect) return `closed with ${errorName(seen.closes[0])}, expected ${errorName(e.expect)} (${show()})`;
    return "";
  } catch (err) {
    return String((err as Error).message);
  } finally {
    c.end();
    await broker.close();
  }
}

test("every corpus entry gives its named error; reconnect unless final; the connection survives where it should", async () => {
  const problems = (await Promise.all(corpus.map(runEntry))).map((p, i) => (p ? `${corpus[i].name}: ${p}` : "")).filter(Boolean);
  assert.equal(problems, [], problems.join("\n"));
  for (const e of corpus) assert.ok(CODES.has(e.expect) && !errorName(e.expect).startsWith("E?"), `${e.name}: a named code`);
});

test("a burst of random mutations of the corpus over real sockets: only named errors, never an exception", async () => {
  const rng = createRng();
  const frames = corpus.map((e) => e.after || e.connack!).filter((f) => f.length < 200);
  const valid = [publish("ok/topic", "payload", 1, 5), [0x40, 0x02, 0x00, 0x05], [0xd0, 0x00], [0x90, 0x03, 0x00, 0x02, 0x80]];
  const mutate = (): number[] => {
    const f = [...rng.pick(rng.chance(0.5) ? frames : valid)];
    for (let m = rng.range(0, 3); m--; ) {
      const i = rng.int(f.length);
      switch (rng.int(4)) {
        case 0: f[i] ^= 1 << rng.int(8); break;
        case 1: f[i] = rng.int(256); break;
        case 2: f.splice(i, 1); break;
        default: f.length = Math.max(1, i);
      }
    }
    return f;
  };
  const broker = await badBroker(() => [CONNACK_OK, ...Array.from({ length: rng.range(1, 4) }, mutate)], 20);
  const seen: Seen = { errors: [], closes: [], connects: 0, msgs: [] };
  const c = client(broker.port, seen, "burst");
  const uncaught: unknown[] = [];
  const onUncaught = (e: unknown) => uncaught.push(e);
  let closes: number[] = [];
  process.on("uncaughtException", onUncaught);
  try {
    c.connect();
    await sleep(1500);
  } finally {
    closes = seen.closes.slice(); // before end(), which reports an orderly close (0)
    process.off("uncaughtException", onUncaught);
    c.end();
    await broker.close();
  }
  const named = (x: number) => CODES.has(x) && !errorName(x).startsWith("E?");
  console.log(`  burst (seed ${rng.seed}): ${broker.conns} connections, ${seen.connects} sessions, ${seen.errors.length} errors ` +
    `(${[...new Set(seen.errors)].map(errorName).join(" ")}), ${seen.msgs.length} messages`);
  assert.equal(uncaught, [], "no exception escaped");
  assert.ok(broker.conns >= 20, "it kept reconnecting");
  assert.ok(seen.errors.every(named), `named errors only: ${seen.errors.filter((x) => !named(x))}`);
  assert.ok(closes.every((x) => x < 0 && named(x)), `closes: named codes only: ${closes.filter((x) => !named(x))}`);
});

test.run();
