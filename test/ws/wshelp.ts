// Helpers for the WebSocket tests: the `ws` package's own frame codec as the reference server side,
// and the handshake answers a server gives.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { hex } from '../helpers/bytes';

const require = createRequire(import.meta.url);
// not in @types/ws: the frame codec inside the `ws` package
const { Sender, Receiver } = require('ws') as { Sender: any; Receiver: any };

export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The accept value for `key`, computed with node:crypto (independent of src/). */
export const acceptFor = (key: string) => createHash('sha1').update(key + GUID).digest('base64');

/** A server's frame as `ws` writes it (unmasked); `key` masks it like a client's. */
export function wsFrame(payload: ArrayLike<number>, opcode: number, fin = true, key?: ArrayLike<number>): Uint8Array {
  const parts: Buffer[] = Sender.frame(Buffer.from(Uint8Array.from(payload)), {
    opcode, fin, mask: !!key, readOnly: true, generateMask: key ? (m: Buffer) => m.set(key) : undefined,
  });
  return new Uint8Array(Buffer.concat(parts));
}

/** A close frame's payload: the status, big-endian, then the reason. */
export const closeBody = (code: number, reason = '') => [code >> 8, code & 255, ...Buffer.from(reason)];

/**
 * What `ws`'s receiver, as a server (so every frame must be masked, §5.1), reads in a client's bytes:
 * "binary <hex>", "text <hex>", "ping <hex>", "pong <hex>", "close <code> <hex>", or "error <message>".
 */
export function serverRead(bytes: ArrayLike<number>): string[] {
  const out: string[] = [];
  const r = new Receiver({ isServer: true, skipUTF8Validation: true, maxPayload: 0 });
  r.on('message', (d: Buffer, binary: boolean) => out.push(`${binary ? 'binary' : 'text'} ${hex(d)}`));
  r.on('ping', (d: Buffer) => out.push(`ping ${hex(d)}`));
  r.on('pong', (d: Buffer) => out.push(`pong ${hex(d)}`));
  r.on('conclude', (code: number, d: Buffer) => out.push(`close ${code} ${hex(d)}`));
  r.on('error', (e: Error) => out.push(`error ${e.message}`));
  r.write(Buffer.from(Uint8Array.from(bytes)));
  return out;
}

/** The masking keys of a client's frames (after the handshake), to check they change per frame. */
export function maskKeys(bytes: ArrayLike<number>): string[] {
  const b = Uint8Array.from(bytes), keys: string[] = [];
  for (let i = 0; i < b.length; ) {
    let n = b[i + 1] & 127, p = i + 2;
    if (n == 126) (n = (b[p] << 8) | b[p + 1]), (p += 2);
    else if (n == 127) (n = Number(Buffer.from(b.subarray(p, p + 8)).readBigUInt64BE())), (p += 8);
    keys.push(hex(b.subarray(p, p + 4)));
    i = p + 4 + n;
  }
  return keys;
}

/** A 101 answer; `omit`/`set` change its header fields (lower-case names). */
export function response101(key: string, set: Record<string, string | null> = {}): string {
  const h: Record<string, string | null> = {
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-accept': acceptFor(key),
    'sec-websocket-protocol': 'mqtt',
    ...set,
  };
  let s = 'HTTP/1.1 101 Switching Protocols\r\n';
  for (const k of Object.keys(h)) if (h[k] != null) s += `${k}: ${h[k]}\r\n`;
  return s + '\r\n';
}

/** The Sec-WebSocket-Key of a request. */
export function keyOf(request: string): string {
  const m = /\r\nSec-WebSocket-Key: ([^\r]*)\r\n/.exec(request);
  if (!m) throw new Error('no key in ' + JSON.stringify(request));
  return m[1];
}
