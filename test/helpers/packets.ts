// Random MQTT packets with their expected readings, for the differential and fuzz tests.
import {
  encodeConnect, encodePublish, encodeAck, encodeSubscribe, encodeUnsubscribe, encodeEmpty, sizeConnect, sizePublish, sizeSubscribe, sizeUnsubscribe,
  ConnectFields, Payload, PUBACK, PUBREC, PUBREL, PUBCOMP, PINGREQ, DISCONNECT,
} from '../../src/mqtt/codec';
import * as E from '../../src/errors';
import { randomTopic, Rng } from './rng';
import { payloadHex, Packet } from './mqtt';

/** A payload of 0..5000 bytes (mostly small), as bytes or as a UTF-8 string. */
export function payload(rng: Rng): Payload {
  const n = rng.chance(0.7) ? rng.int(65) : rng.chance(0.66) ? rng.int(1025) : rng.int(5001);
  return rng.chance(0.3) ? randomTopic(rng, Math.max(1, n >> 2)) : rng.bytes(n);
}
export const id = (rng: Rng) => (rng.chance(0.1) ? rng.pick([1, 255, 256, 65535]) : rng.range(1, 65535));
export const qos = (rng: Rng) => rng.int(3) as 0 | 1 | 2;
export const buf = (p: Payload) => (typeof p == 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p));

/** A random topic filter: levels of text, '+' or '' and maybe a final '#'. */
export function filter(rng: Rng): string {
  const levels: string[] = [];
  for (let n = rng.range(1, 5), i = 0; i < n; i++) levels.push(rng.chance(0.2) ? '+' : rng.chance(0.05) ? '' : randomTopic(rng, 6).replace(/\//g, ''));
  if (rng.chance(0.2)) levels.push('#');
  const f = levels.join('/');
  return f || '#';
}

/** Random fields for one client-sent packet: our encoder's call, its size, and what mqtt-packet must parse. */
export function randomOutgoing(rng: Rng): { encode: (b: Uint8Array, o: number) => number; size: number; ref: Packet } {
  switch (rng.int(6)) {
    case 0: {
      const c: ConnectFields = { clientId: rng.chance(0.1) ? '' : randomTopic(rng, 23), keepalive: rng.int(65536), clean: true };
      if (c.clientId) c.clean = rng.chance(0.5);
      const ref: Packet = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: c.clientId, keepalive: c.keepalive, clean: c.clean };
      if (rng.chance(0.5)) {
        c.will = { topic: randomTopic(rng), payload: payload(rng), qos: qos(rng), retain: rng.chance(0.5) };
        ref.will = { topic: c.will.topic, payload: buf(c.will.payload), qos: c.will.qos, retain: c.will.retain };
      }
      if (rng.chance(0.6)) ref.username = c.username = randomTopic(rng, 60);
      if (c.username != null && rng.chance(0.7)) ref.password = buf((c.password = payload(rng)));
      return { encode: (b, o) => encodeConnect(b, o, c), size: sizeConnect(c), ref };
    }
    case 1: case 2: {
      const t = randomTopic(rng), p = payload(rng), q = qos(rng), r = rng.chance(0.3), d = q > 0 && rng.chance(0.3), i = id(rng);
      const ref: Packet = { cmd: 'publish', topic: t, payload: buf(p), qos: q, retain: r, dup: d };
      if (q) ref.messageId = i;
      return { encode: (b, o) => encodePublish(b, o, t, p, q, r, d, i), size: sizePublish(t, p, q), ref };
    }
    case 3: {
      const type = rng.pick([PUBACK, PUBREC, PUBREL, PUBCOMP]), i = id(rng);
      return { encode: (b, o) => encodeAck(b, o, type, i), size: 4, ref: { cmd: ['puback', 'pubrec', 'pubrel', 'pubcomp'][type - PUBACK], messageId: i } };
    }
    case 4: {
      const f = filter(rng), q = rng.chance(0.3) ? -1 : qos(rng), i = id(rng);
      const ref: Packet = q < 0 ? { cmd: 'unsubscribe', messageId: i, unsubscriptions: [f] } : { cmd: 'subscribe', messageId: i, subscriptions: [{ topic: f, qos: q }] };
      return q < 0
        ? { encode: (b, o) => encodeUnsubscribe(b, o, i, f), size: sizeUnsubscribe(f), ref }
        : { encode: (b, o) => encodeSubscribe(b, o, i, f, q), size: sizeSubscribe(f, q), ref };
    }
    default: {
      const type = rng.pick([PINGREQ, DISCONNECT]);
      return { encode: (b, o) => encodeEmpty(b, o, type), size: 2, ref: { cmd: type == PINGREQ ? 'pingreq' : 'disconnect' } };
    }
  }
}

/** A random packet a client receives, for mqtt-packet's generate(), and what our decoders must give for it. */
export function randomIncoming(rng: Rng): { ref: Packet; expect: Packet | number } {
  switch (rng.int(7)) {
    case 0: {
      const rc = rng.chance(0.7) ? 0 : rng.range(1, rng.chance(0.9) ? 5 : 255), sp = rng.chance(0.5);
      const expect = rc == 0 ? { cmd: 'connack', sessionPresent: sp } : rc < 6 ? -10 - rc : E.E_REFUSED;
      return { ref: { cmd: 'connack', sessionPresent: sp, returnCode: rc }, expect };
    }
    case 1: case 2: case 3: {
      const p = payload(rng), q = qos(rng), dup = rng.chance(0.3), ref: Packet = { cmd: 'publish', topic: randomTopic(rng), payload: buf(p), qos: q, retain: rng.chance(0.3), dup };
      if (q) ref.messageId = id(rng);
      // DUP on QoS 0 is malformed [MQTT-3.3.1-2]
      const expect = !q && dup ? E.E_FLAGS : { ...ref, payload: payloadHex(p), ...(q ? {} : { messageId: undefined }) };
      return { ref, expect };
    }
    case 4: {
      const cmd = rng.pick(['puback', 'pubrec', 'pubrel', 'pubcomp', 'unsuback']), i = id(rng);
      return { ref: { cmd, messageId: i }, expect: { cmd, messageId: i } };
    }
    case 5: {
      const granted = Array.from({ length: rng.range(1, 12) }, () => rng.pick([0, 1, 2, 0x80])), i = id(rng);
      return { ref: { cmd: 'suback', messageId: i, granted }, expect: { cmd: 'suback', messageId: i, granted } };
    }
    default:
      return { ref: { cmd: 'pingresp' }, expect: { cmd: 'pingresp' } };
  }
}

