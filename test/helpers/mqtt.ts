// The MQTT side of the test helpers: the reference codec (mqtt-packet) and a harness that runs
// our reader + decoders over a byte stream, decoding every frame from a guarded exact-length copy.
import mqttPacket from 'mqtt-packet';
import { createReader } from '../../src/mqtt/reader';
import {
  decodeConnack, decodeAck, decodeEmpty, decodePublish, PublishHeader,
  CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP,
} from '../../src/mqtt/codec';
import { E_PACKET_TYPE, E_TOO_LARGE } from '../../src/errors';
import { guarded, AT } from './bytes';

export type Packet = { cmd: string; [field: string]: unknown };

/** Parses bytes with mqtt-packet (MQTT 3.1.1): the packets, or the first error's message. */
export function refParse(bytes: Uint8Array): Packet[] | string {
  const parser = mqttPacket.parser({ protocolVersion: 4 }), out: Packet[] = [];
  let err = '';
  parser.on('packet', (p: any) => out.push(p));
  parser.on('error', (e: Error) => (err = err || e.message));
  parser.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  return err || out;
}

/** The one packet in `bytes` as mqtt-packet parses it, reduced to the fields `like` names. */
export function refParseOne(bytes: Uint8Array, like: Packet): Packet | string {
  const r = refParse(bytes);
  if (typeof r == 'string') return r;
  if (r.length != 1) return `${r.length} packets`;
  return pick(r[0], like);
}

/** Keeps only the keys of `like` (recursively for plain objects); Buffers become hex. */
export function pick(p: any, like: any): any {
  if (p instanceof Uint8Array) return Buffer.from(p).toString('hex');
  if (like == null || typeof like != 'object' || Array.isArray(like) || like instanceof Uint8Array) return p;
  const o: any = {};
  for (const k of Object.keys(like)) o[k] = pick(p?.[k], like[k]);
  return o;
}

/** Serialises a packet with mqtt-packet (MQTT 3.1.1). */
export function refGenerate(p: Packet): Uint8Array {
  return new Uint8Array(mqttPacket.generate({ protocolVersion: 4, ...p } as any));
}

/** One decoded frame: a packet in mqtt-packet's shape (payload as hex), or a negative error code. */
export type Decoded = Packet | number;

/**
 * Decodes one complete body (or, for PUBLISH, its first part) the way the client does, from a
 * guarded copy: any read outside b[0..len) throws.
 */
export function decodeBody(hdr: number, body: Uint8Array, total: number): Decoded {
  const t = hdr >> 4, b = guarded(body), len = body.length;
  let r: number;
  // only a PUBLISH may be larger than the receive region (it is streamed); the client refuses anything else
  if (t != PUBLISH && len < total) return E_TOO_LARGE;
  switch (t) {
    case CONNACK:
      r = decodeConnack(b, AT, len, hdr);
      return r < 0 ? r : { cmd: 'connack', sessionPresent: r == 1 };
    case PUBLISH: {
      const p: PublishHeader = { topic: '', qos: 0, retain: false, dup: false, id: 0, hlen: 0 };
      r = decodePublish(b, AT, len, hdr, p);
      if (r < 0) return r;
      if (r != p.hlen || r > len) throw new Error(`decodePublish returned ${r}, hlen ${p.hlen}, len ${len}`);
      const o: Packet = { cmd: 'publish', topic: p.topic, qos: p.qos, dup: p.dup, retain: p.retain, payload: '' };
      if (p.qos) o.messageId = p.id;
      o.payload = Buffer.from(body.subarray(r)).toString('hex');
      o.hlen = r;
      o.total = total;
      return o;
    }
    case PUBACK: case PUBREC: case PUBREL: case PUBCOMP: case SUBACK: case UNSUBACK:
      r = decodeAck(b, AT, len, hdr);
      if (r < 0) return r;
      if (t == SUBACK) return { cmd: 'suback', messageId: r, granted: Array.from(body.subarray(2)) };
      return { cmd: ['puback', 'pubrec', 'pubrel', 'pubcomp', '', '', '', 'unsuback'][t - PUBACK], messageId: r };
    case PINGRESP:
      r = decodeEmpty(len, hdr);
      return r < 0 ? r : { cmd: 'pingresp' };
  }
  return E_PACKET_TYPE;
}

/**
 * Feeds `chunks` to a reader of capacity `cap` and decodes every frame. A PUBLISH larger than
 * `cap` arrives in parts: its header is decoded from the first part and the payload is joined.
 * Returns the decoded frames, each frame's header byte and whole body (hex), and the reader's
 * result (0 or the code that stopped it).
 */
export function readAll(chunks: Uint8Array[], cap = 4096): { frames: Decoded[]; hdrs: number[]; bodies: string[]; result: number } {
  const buf = new Uint8Array(cap), frames: Decoded[] = [], hdrs: number[] = [], bodies: string[] = [];
  let cur: Decoded = 0, parts: string[] = [];
  const reader = createReader(buf, cap, (hdr, total, pos, len) => {
    const part = Buffer.from(buf.subarray(0, len)).toString('hex');
    if (pos == 0) {
      cur = decodeBody(hdr, buf.subarray(0, len), total);
      parts = [];
    }
    parts.push(part);
    if (pos + len == total) {
      const body = parts.join('');
      if (typeof cur != 'number' && cur.cmd == 'publish') cur.payload = body.substring(2 * (cur.hlen as number));
      frames.push(cur);
      hdrs.push(hdr);
      bodies.push(body);
    }
    return 0;
  });
  let result = 0;
  for (const c of chunks) if ((result = reader.feed(c)) < 0) break;
  return { frames, hdrs, bodies, result };
}

/** Hex of a payload given as a string (UTF-8) or bytes. */
export function payloadHex(p: string | Uint8Array): string {
  return (typeof p == 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)).toString('hex');
}
