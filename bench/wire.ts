// Bytes on the wire (issue 14): what one device costs on the network for each protocol, ours beside the official
// Azure IoT device SDK's, against the hub emulator (tools/hub) on 127.0.0.1.
//
// Each client goes through a counting TCP proxy in front of the emulator's port, so the counts are TCP payload
// bytes each way, TLS (handshake, records) and WebSocket framing included. For each client and protocol:
// connect, then send 1 + N telemetry messages (a 64-byte payload with two application properties), each after
// the previous one's acknowledgement. Reported, up (device to hub) and down (hub to device):
//   set-up       bytes from the first connection to the moment the device is connected, before the first send;
//   first        the first message (with a lazy connection, as HTTPS has, it carries the TLS handshake);
//   per message  (bytes after message 1 + N - bytes after message 1) / N: the steady state.
// Counts are read when the traffic has been quiet for QUIET ms (late TLS 1.3 session tickets, flow frames).
//
//   npx tsx bench/wire.ts          (npm run bench:wire) prints the table, writes bench/wire.md and that section
//                                  into bench/RESULTS.md (bench/run.ts keeps it when it renders RESULTS.md again)
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startHub } from "../tools/hub/index.js";
import { createDevice, errorName } from "../targets/node/index";
import { sdkClient, closeAll, HubAgent, Message } from "../test/sdk/helpers";
import { insertSection } from "./report";

const N = 20;
const QUIET = 150;
const PAYLOAD = '{"temperature":21.53,"humidity":48.25,"pressure":1013,"seq":000}';
const PROPS = { sensor: "th-1", level: "info" };
const TITLE = "Bytes on the wire (issue 14)";
const BENCH = path.dirname(fileURLToPath(import.meta.url));
if (Buffer.byteLength(PAYLOAD) != 64) throw new Error("payload is not 64 bytes");

// the whole run is bounded: a hung connection fails it instead of waiting forever
const deadline = setTimeout(() => { console.error("bench/wire: timed out after 120 s"); process.exit(1); }, 120_000);

type Count = { up: number; down: number };
type Proxy = { port: number; count: Count; close: () => void };

/** A TCP proxy on 127.0.0.1 to `target`, counting the bytes of all its connections each way. */
async function proxy(target: number): Promise<Proxy> {
  const count = { up: 0, down: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((a) => {
    const b = net.connect(target, "127.0.0.1");
    for (const s of [a, b]) { sockets.add(s); s.on("error", () => { a.destroy(); b.destroy(); }); s.on("close", () => sockets.delete(s)); }
    a.on("data", (d) => void (count.up += d.length));
    b.on("data", (d) => void (count.down += d.length));
    a.pipe(b);
    b.pipe(a);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, count, close: () => { server.close(); for (const s of sockets) s.destroy(); } };
}

/** The counts once no byte has moved for QUIET ms (5 s at most). */
async function quiet(c: Count): Promise<Count> {
  const end = Date.now() + 5000;
  for (let last = ""; ;) {
    await new Promise((r) => setTimeout(r, QUIET));
    const now = c.up + "/" + c.down;
    if (now == last || Date.now() > end) return { ...c };
    last = now;
  }
}

/** A client under test: connect, send one message (resolves on its acknowledgement), close. */
interface Client { open(): Promise<void>; send(): Promise<void>; close(): Promise<void> }

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tinyhub-wire-"));
const hub = await startHub({ dir, log: false, mqttsPort: 0, httpsPort: 0, amqpsPort: 0, dpsPort: null, adminPort: null });
let devices = 0;

/** Ours: createDevice on `protocol`, to the proxy at 127.0.0.1 (the certificate's name for it: localhost). */
function ours(protocol: "mqtt" | "mqtt-ws" | "http" | "amqp" | "amqp-ws", port: number): Client {
  const id = "wire-" + ++devices;
  hub.registry.addDevice(id);
  const cs = hub.registry.connectionString(id).replace(/;GatewayHostName=[^;]*/, "") + ";GatewayHostName=127.0.0.1";
  let up: () => void, down: (e: Error) => void;
  const d: any = createDevice({
    connectionString: cs, protocol, port, tls: { ca: hub.ca, servername: "localhost" }, reconnect: false,
    onConnect: () => up(), onClose: (e: number) => down(new Error("closed: " + errorName(e))),
  } as any);
  if (typeof d == "number") throw new Error("createDevice: " + errorName(d));
  return {
    open: () => new Promise<void>((resolve, reject) => { up = resolve; down = reject; d.connect(); }),
    send: () => new Promise<void>((resolve, reject) => {
      const r = d.sendEvent(PAYLOAD, PROPS, (e: number) => (e ? reject(new Error("sendEvent: " + errorName(e))) : resolve()));
      if (r < 0) reject(new Error("sendEvent: " + errorName(r)));
    }),
    close: () => new Promise<void>((r) => d.end(() => r())),
  };
}

/**
 * The official SDK over `transport`, made by test/sdk/helpers.ts (which redirects its dials, keeping the TLS names
 * it chose, to the ports of the "hub" it is given: here the proxies'). Its HTTP transport gets a keep-alive agent,
 * as Node's default agent is: the helpers' agent opens a connection per request. (The Http transport's setOptions
 * calls back only when `http.receivePolicy` is given; no C2D listener is set, so it does not poll.)
 */
async function sdk(transport: "Mqtt" | "MqttWs" | "Http" | "Amqp" | "AmqpWs", ports: Record<string, number>): Promise<Client> {
  const id = "wire-" + ++devices;
  hub.registry.addDevice(id);
  const via = { ports, ca: hub.ca } as any;
  const agent = new HubAgent(ports.https, []);
  (agent as any).keepAlive = true;
  const { client } = await sdkClient(via, hub.registry.connectionString(id), transport, transport == "Http" ? { http: { agent, receivePolicy: { interval: 1 } } } : {});
  return {
    open: async () => void (await client.open()),
    send: async () => {
      const m = new Message(PAYLOAD);
      for (const [k, v] of Object.entries(PROPS)) m.properties.add(k, v);
      await client.sendEvent(m);
    },
    close: async () => { await client.close(); agent.destroy(); },
  };
}

type Row = { client: string; protocol: string; setup?: Count; first?: Count; per?: Count; note?: string };

async function measure(client: string, protocol: string, port: number, make: (port: number) => Client | Promise<Client>): Promise<Row> {
  const p = await proxy(port);
  try {
    const c = await make(p.port);
    await c.open();
    const setup = await quiet(p.count);
    await c.send();
    const one = await quiet(p.count);
    for (let i = 0; i < N; i++) await c.send();
    const all = await quiet(p.count);
    await c.close();
    const sub = (a: Count, b: Count) => ({ up: a.up - b.up, down: a.down - b.down });
    const per = sub(all, one);
    return { client, protocol, setup, first: sub(one, setup), per: { up: per.up / N, down: per.down / N } };
  } catch (e) {
    return { client, protocol, note: "failed: " + (e as Error).message };
  } finally {
    p.close();
  }
}

const P = hub.ports as { mqtts: number; https: number; amqps: number };
const rows: Row[] = [];
const cases: [string, "mqtt" | "mqtt-ws" | "http" | "amqp" | "amqp-ws", "Mqtt" | "MqttWs" | "Http" | "Amqp" | "AmqpWs", number][] = [
  ["MQTT", "mqtt", "Mqtt", P.mqtts],
  ["MQTT/WS", "mqtt-ws", "MqttWs", P.https],
  ["AMQP", "amqp", "Amqp", P.amqps],
  ["AMQP/WS", "amqp-ws", "AmqpWs", P.https],
  ["HTTPS", "http", "Http", P.https],
];
try {
  for (const [name, protocol, transport, port] of cases) {
    rows.push(await measure("tinyhub", name, port, (p) => ours(protocol, p)));
    // every SDK transport's dial goes to the one proxy: its https, mqtts or amqps port as the transport picks
    rows.push(await measure("Azure SDK", name, port, (p) => sdk(transport, { mqtts: p, https: p, amqps: p })));
  }
} finally {
  await closeAll(); // the SDK clients a failure left open (their timers)
  await hub.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

const int = (x: number) => Math.round(x).toLocaleString("en-US");
const table = [
  "| protocol | client | set-up ↑ | set-up ↓ | first message ↑ | first message ↓ | per message ↑ | per message ↓ | per message, both |",
  "|---|---|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map((r) => r.per
    ? `| ${r.protocol} | ${r.client} | ${int(r.setup!.up)} | ${int(r.setup!.down)} | ${int(r.first!.up)} | ${int(r.first!.down)} | ${int(r.per.up)} | ${int(r.per.down)} | ${int(r.per.up + r.per.down)} |`
    : `| ${r.protocol} | ${r.client} | ${r.note} |||||||`),
].join("\n");
console.log(table);

// the reading: the hand-written sentences of bench/wire.md come with the figures of this run
const per = (client: string, protocol: string) => { const r = rows.find((x) => x.client == client && x.protocol == protocol); return r?.per ? r.per.up + r.per.down : NaN; };
const setup = (client: string, protocol: string) => { const r = rows.find((x) => x.client == client && x.protocol == protocol); return r?.setup ? r.setup.up + r.setup.down : NaN; };
const body = `Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, \`npm run bench:wire\` (bench/wire.ts): N = ${N} telemetry messages
after a first one, each a ${Buffer.byteLength(PAYLOAD)}-byte payload with two application properties (\`sensor: th-1\`, \`level: info\`),
each sent after the previous one's acknowledgement (MQTT PUBACK, AMQP disposition, HTTP 204). Bytes are counted by a TCP proxy on
127.0.0.1 in front of the emulator's port, both ways, so TLS and WebSocket framing are included; ↑ is device to hub.
Set-up is everything before the first send; the first message is shown apart because a lazy connection (HTTPS) opens
there; per message = (after message ${N + 1} - after message 1) / ${N}. The SDK is \`azure-iot-device\` with its Mqtt,
MqttWs, Amqp, AmqpWs and Http transports, pointed at the proxies by test/sdk/helpers.ts (its HTTP on a keep-alive agent,
as Node's default agent is). Both clients use SAS keys and TLS 1.3 against the same emulator.

${table}

${reading()}`;

/** The first message's bytes over a steady one's, both ways. */
function extra(client: string, protocol: string): number {
  const r = rows.find((x) => x.client == client && x.protocol == protocol);
  return r?.first && r.per ? r.first.up + r.first.down - r.per.up - r.per.down : NaN;
}

function reading(): string {
  const m = per("tinyhub", "MQTT"), h = per("tinyhub", "HTTPS"), a = per("tinyhub", "AMQP");
  const sm = per("Azure SDK", "MQTT"), sh = per("Azure SDK", "HTTPS"), sa = per("Azure SDK", "AMQP"), sw = per("Azure SDK", "MQTT/WS");
  return `**Reading.** The binary protocols are the compact ones: in the steady state a message costs tinyhub ${int(m)}
bytes over MQTT and ${int(a)} over AMQP, against ${int(h)} over HTTPS (${(h / m).toFixed(1)}x MQTT), where every request
carries its request line, headers and a SAS token and every answer a status line and headers; an MQTT message is one
PUBLISH (the properties in its topic) and a 4-byte PUBACK, each in one TLS record (22 bytes of TLS 1.3 overhead), an AMQP
one a transfer and a disposition. Over MQTT/TLS the two clients send the same bytes (${int(sm)} per message). The SDK
costs more elsewhere: ${int(sa)} per message over AMQP (a longer transfer frame) and ${int(sh)} over HTTPS (longer
headers), and ${int(sw)} over MQTT/WS, where MQTT.js writes a PUBLISH in pieces and each piece becomes a WebSocket frame of
its own. WebSockets cost tinyhub ${int(per("tinyhub", "MQTT/WS") - m)} bytes more per MQTT message and
${int(per("tinyhub", "AMQP/WS") - a)} more per AMQP one; most of MQTT/WS's is downstream, where the emulator sends each 4-byte
PUBACK as several TLS records (76 bytes for both clients). Set-up is paid once and is mostly TLS: ${int(setup("tinyhub", "MQTT"))}
bytes for tinyhub over MQTT (about 2.9 KB of it the server's handshake flight with its certificate chain and session
tickets), ${int(setup("tinyhub", "AMQP"))} over AMQP (SASL, open, begin, the CBS link and put-token, the links). The SDK
attaches its AMQP telemetry link at the first send, so its set-up is smaller and its first message larger; both HTTPS
clients connect at the first request, whose ${int(extra("tinyhub", "HTTPS"))} bytes over a steady one (tinyhub) are the handshake: set-up too.`;
}

fs.writeFileSync(path.join(BENCH, "wire.md"), body + "\n");
const results = path.join(BENCH, "RESULTS.md");
fs.writeFileSync(results, insertSection(fs.readFileSync(results, "utf8"), TITLE, body));
console.log(`\nwrote bench/wire.md and the "${TITLE}" section of bench/RESULTS.md`);
clearTimeout(deadline);
