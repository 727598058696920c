// Codec micro-benchmark: our codec against mqtt-packet (the reference codec MQTT.js uses), same
// process, same run, rounds interleaved (ours first on even rounds, theirs first on odd rounds).
//
//   ours encode:  sizePublish + encodePublish into one preallocated buffer (what client.publish does)
//   ours decode:  reader.feed(frame) -> onPart -> decodePublish + the payload view (what the client does)
//   theirs:       mqttPacket.generate(packet) and parser.parse(frame) with a 'packet' listener
//
// Both decoders are fed the same frame bytes (made by mqtt-packet). Each measurement is a batch
// calibrated to about `ms` milliseconds; the figure is the median of `rounds` batches.
//
// Run alone: node --import tsx bench/codec.ts [--smoke]   (prints one JSON line)
import mqttPacket from "mqtt-packet";
import { pathToFileURL } from "node:url";
import { createReader } from "../src/mqtt/reader";
import {
  sizePublish, encodePublish, sizeSubscribe, encodeSubscribe, decodePublish, decodeAck, PublishHeader, PUBLISH, SUBACK,
} from "../src/mqtt/codec";

export interface CodecCase {
  name: string;
  op: "encode" | "decode";
  packet: string;
  bytes: number;
  ours: number;
  theirs: number;
  ratio: number;
  oursRounds: number[];
  theirsRounds: number[];
}

export interface CodecResult { rounds: number; batchMs: number; cases: CodecCase[] }

let sink = 0; // every result flows here so nothing is optimised away

const TOPIC = "devices/sensor-0007/messages/events";
const FILTER = "devices/sensor-0007/commands/#";

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y), m = s.length >> 1;
  return s.length & 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

type Batch = (n: number) => void;

/** Ops per second of one batch of n. */
function rate(fn: Batch, n: number): number {
  const t0 = process.hrtime.bigint();
  fn(n);
  const ns = Number(process.hrtime.bigint() - t0);
  return (n * 1e9) / ns;
}

/** The batch size that takes about `ms` (after a warm-up that also lets the JIT settle). */
function calibrate(fn: Batch, ms: number): number {
  let n = 64;
  for (;;) {
    const t0 = process.hrtime.bigint();
    fn(n);
    const el = Number(process.hrtime.bigint() - t0) / 1e6;
    if (el >= ms / 4) return Math.max(1, Math.round((n * ms) / el));
    n *= 4;
  }
}

function pair(name: string, op: "encode" | "decode", packet: string, bytes: number, ours: Batch, theirs: Batch, rounds: number, ms: number): CodecCase {
  // warm both up first (calibration runs each several times), then two unmeasured rounds
  const no = calibrate(ours, ms), nt = calibrate(theirs, ms);
  rate(ours, no); rate(theirs, nt);
  rate(ours, no); rate(theirs, nt);
  const a: number[] = [], b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r & 1) { b.push(rate(theirs, nt)); a.push(rate(ours, no)); }
    else { a.push(rate(ours, no)); b.push(rate(theirs, nt)); }
  }
  const o = median(a), t = median(b);
  return { name, op, packet, bytes, ours: Math.round(o), theirs: Math.round(t), ratio: +(o / t).toFixed(2), oursRounds: a.map(Math.round), theirsRounds: b.map(Math.round) };
}

export function runCodec(opts: { smoke?: boolean } = {}): CodecResult {
  const rounds = opts.smoke ? 1 : 7, ms = opts.smoke ? 5 : 80;
  const cases: CodecCase[] = [];
  const out = new Uint8Array(8192);
  const rx = new Uint8Array(8192);
  const hdr: PublishHeader = { topic: "", qos: 0, retain: false, dup: false, id: 0, hlen: 0 };

  // our reader, as the client wires it: onPart decodes PUBLISH (header + payload view) or SUBACK
  let view: Uint8Array | null = null;
  const reader = createReader(rx, rx.length, (h, total, pos, len) => {
    const t = h >> 4;
    if (t == PUBLISH) {
      const r = decodePublish(rx, 0, len, h, hdr);
      if (r < 0) return r;
      view = rx.subarray(r, len);
      sink += view.length + hdr.id;
      return 0;
    }
    if (t == SUBACK) {
      const r = decodeAck(rx, 0, len, h);
      sink += r + rx[2];
      return r < 0 ? r : 0;
    }
    return -100;
  });

  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", (p: any) => {
    sink += p.messageId + (p.payload ? p.payload.length : p.granted.length);
  });
  parser.on("error", (e: Error) => { throw e; });

  for (const [label, size] of [["16 B", 16], ["256 B", 256], ["4 KB", 4096]] as const) {
    const payload = Buffer.alloc(size, 0x61);
    const pkt = { cmd: "publish" as const, topic: TOPIC, payload, qos: 1 as const, messageId: 1, retain: false, dup: false };
    const frame = mqttPacket.generate(pkt);
    // sanity: both sides produce the same bytes, and both decoders read this frame
    const n = encodePublish(out, 0, TOPIC, payload, 1, false, false, 1);
    if (n != frame.length || !Buffer.from(out.subarray(0, n)).equals(frame)) throw new Error("encoders disagree for PUBLISH " + label);
    if (reader.feed(frame) != 0 || view!.length != size) throw new Error("our decoder failed for PUBLISH " + label);

    cases.push(pair(`PUBLISH ${label}`, "encode", "PUBLISH", frame.length,
      (k) => {
        for (let i = 0; i < k; i++) {
          const id = (i & 0x7fff) + 1;
          if (sizePublish(TOPIC, payload, 1) > out.length) throw new Error("too large");
          sink += encodePublish(out, 0, TOPIC, payload, 1, false, false, id);
        }
      },
      (k) => {
        for (let i = 0; i < k; i++) {
          pkt.messageId = (i & 0x7fff) + 1;
          sink += mqttPacket.generate(pkt).length;
        }
      }, rounds, ms));

    cases.push(pair(`PUBLISH ${label}`, "decode", "PUBLISH", frame.length,
      (k) => { for (let i = 0; i < k; i++) if (reader.feed(frame) < 0) throw new Error("decode failed"); },
      (k) => { for (let i = 0; i < k; i++) parser.parse(frame); }, rounds, ms));
  }

  {
    const pkt = { cmd: "subscribe" as const, messageId: 1, subscriptions: [{ topic: FILTER, qos: 1 as const }] };
    const frame = mqttPacket.generate(pkt);
    const n = encodeSubscribe(out, 0, 1, FILTER, 1);
    if (n != frame.length || !Buffer.from(out.subarray(0, n)).equals(frame)) throw new Error("encoders disagree for SUBSCRIBE");
    cases.push(pair("SUBSCRIBE", "encode", "SUBSCRIBE", frame.length,
      (k) => {
        for (let i = 0; i < k; i++) {
          if (sizeSubscribe(FILTER, 1) > out.length) throw new Error("too large");
          sink += encodeSubscribe(out, 0, (i & 0x7fff) + 1, FILTER, 1);
        }
      },
      (k) => {
        for (let i = 0; i < k; i++) {
          pkt.messageId = (i & 0x7fff) + 1;
          sink += mqttPacket.generate(pkt).length;
        }
      }, rounds, ms));
  }

  {
    const frame = mqttPacket.generate({ cmd: "suback", messageId: 1, granted: [1] });
    if (reader.feed(frame) != 0) throw new Error("our decoder failed for SUBACK");
    cases.push(pair("SUBACK", "decode", "SUBACK", frame.length,
      (k) => { for (let i = 0; i < k; i++) if (reader.feed(frame) < 0) throw new Error("decode failed"); },
      (k) => { for (let i = 0; i < k; i++) parser.parse(frame); }, rounds, ms));
  }

  if (sink == 0.5) console.log(sink);
  return { rounds, batchMs: ms, cases };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(runCodec({ smoke: process.argv.includes("--smoke") })));
}
