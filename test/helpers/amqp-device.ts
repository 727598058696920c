// Our AMQP device in the tests, with what it reports kept: connects, closes, errors (C2D and desired filled by the
// tests' own handlers).
import * as assert from "uvu/assert";
import { createDevice, errorName } from "../../targets/node/index";
import type { AmqpDevice } from "../../targets/node/index";

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
