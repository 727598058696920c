// Our AMQP device in the tests, with what it reports kept: connects, closes, errors (C2D and desired filled by the
// tests' own handlers); and a transport that can be held back, with the telemetry that fills the outbox meanwhile.
import * as assert from "uvu/assert";
import { createDevice, errorName, nodeTransport } from "../../targets/node/index";
import type { AmqpDevice } from "../../targets/node/index";
import type { Transport, TransportEvents } from "../../src/types";

export type Watched = { d: AmqpDevice; ev: { connects: number; closes: number[]; errors: number[]; c2d: any[]; desired: any[] } };

/** Polls `cond` every few milliseconds for `ms` at most. */
export async function until(cond: () => boolean, what: string, ms = 10000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** createDevice over AMQP (no reconnect unless `o` asks) with its events recorded. */
export function watched(o: any): Watched {
  const ev: Watched["ev"] = { connects: 0, closes: [], errors: [], c2d: [], desired: [] };
  const d = createDevice({
    protocol: "amqp", reconnect: false,
    onConnect: () => ev.connects++, onClose: (e: number) => ev.closes.push(e), onError: (e: number) => ev.errors.push(e),
    ...o,
  }) as unknown as AmqpDevice;
  assert.type(d, "object");
  return { d, ev };
}

/** Connects and waits for onConnect (fails with the codes of onClose and onError). */
export async function connected(k: Watched) {
  k.d.connect();
  await until(() => k.ev.connects > 0 || k.ev.closes.length > 0, "onConnect");
  assert.is(k.ev.connects, 1, "connected: " + k.ev.closes.map(errorName) + " " + k.ev.errors.map(errorName));
}

/**
 * Node's transport, but write() takes nothing while `blocked` (`seen` watches what it does take); drain() unblocks and
 * calls the client's onWritable.
 */
export function gate(seen?: (b: Uint8Array, off: number, len: number) => void) {
  const tr = nodeTransport();
  let ev: TransportEvents;
  const g = {
    blocked: false,
    transport: {
      open: (h, p, t, e) => tr.open(h, p, t, (ev = e)),
      write: (b, off, len) => {
        if (g.blocked) return 0;
        if (seen) seen(b, off, len);
        return tr.write(b, off, len);
      },
      close: () => tr.close(),
    } as Transport,
    drain() {
      g.blocked = false;
      ev.onWritable();
    },
  };
  return g;
}

/** Telemetry queued until the outbox refuses it, large then one byte: only its spare bytes are left free. The count. */
export function fill(d: AmqpDevice, done?: (err: number) => void): number {
  let sent = 0;
  for (const size of [200, 1]) while (d.sendEvent(new Uint8Array(size), null, done) >= 0) sent++;
  return sent;
}
