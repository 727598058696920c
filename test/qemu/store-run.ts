// The QEMU board's power-cut run (targets/qemu/store-app.ts): the firmware publishes `count` numbered QoS 1 messages
// to the hub emulator with its queue in a host file (targets/qemu/store.ts, semihosting); QEMU is killed with
// SIGKILL at `kills` random points (RAM gone, the host file kept) and booted again over the same file, from the
// message after the last one whose publish returned ("q n" on the console), so a message lost is the store's loss.
// Every other kill (the 1st, 3rd, ...) comes while the link is cut (the harness drops the bytes both ways from a few
// messages before it): the messages queued meanwhile were never at the hub, so without a store they are lost.
// The hub's captured telemetry is the count: lost, first deliveries out of order, duplicates.
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootDevice } from "../../tools/qemu/harness.js";
import type { BenchHub } from "../../tools/qemu/session.js";
import { hubUserName } from "../../src/iothub/mqtt";
import { sasToken, deviceResourceUri } from "../../src/iothub/sas";
import { journal } from "../../src/store";
import { createOutbox, recordSize } from "../../src/memory";
import { MemStore } from "../helpers/memstore";
import { sizePublish } from "../../src/mqtt/codec";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** The store-app's client buffer (its bufferSize). */
export const BUFFER = 2048;

export interface PowerCutOptions {
  elf: string;
  count: number;
  kills: number;
  /** The control: no store (the app's path ""). */
  noStore?: boolean;
  /** The device's id (default: a new one). */
  deviceId?: string;
  /** A host file to start from (its bytes are copied in first), and the first message to publish. */
  log?: Uint8Array;
  from?: number;
  /** Messages to wait for at the hub in the last boot (default: count - from). */
  expect?: number;
  /** ms for the whole run. */
  timeout: number;
  trace?: (line: string) => void;
}

export interface PowerCut {
  count: number;
  kills: number;
  lost: number[];
  /** Messages as first delivered. */
  first: number[];
  /** Deliveries beyond the first of each message. */
  duplicates: number;
  /** First deliveries out of order. */
  outOfOrder: number;
  /** Per kill: the message reached, and the unacknowledged records a restart restores from the file, its load code. */
  at: number[];
  restored: number[];
  loadCodes: number[];
  /** Per boot that found messages in the store: ms from QEMU's start to the first of them at the hub. */
  resendMs: number[];
  /** Bytes of a message's PUBLISH frame (message 100's: the log takes it + 5 when queued, 7 when acknowledged). */
  frame: number;
  /** Bytes written to the store (appends and replaces, all boots) and write calls. */
  wrote: number;
  writes: number;
  /** The load code of the file at the end. */
  endCode: number;
  /** Error codes the device printed; boots. */
  errors: number[];
  starts: number;
  ms: number;
  /** The console of the last boot (for a failure's message). */
  lines: string[];
}

/** A device id no other run uses. */
export function newId(): string {
  return `store-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Records a client with the app's buffer would restore from the file, and the load's code. */
export function inspect(path: string): [number, number] {
  if (!existsSync(path)) return [0, 0];
  const m = createOutbox(BUFFER, BUFFER >> 1), code = journal(new MemStore(readFileSync(path)))._load(m);
  let n = 0;
  for (let p = m._head; p < m._tail; p += recordSize(m, p)) n++;
  return [n, code];
}

export async function powerCutRun(hub: BenchHub, o: PowerCutOptions): Promise<PowerCut> {
  const t0 = Date.now(), trace = o.trace || (() => {});
  const id = o.deviceId || newId();
  hub.registry.addDevice(id);
  const key = /SharedAccessKey=([^;]+)/.exec(hub.registry.connectionString(id))![1];
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-qemu-store-"));
  const path = join(dir, "outbox.log");
  if (o.log) writeFileSync(path, o.log);
  const seen = new Map<number, number>(), first: number[] = [];
  // the current boot: when it started, the messages before it (a resend is one of them), when the first arrived
  let bootAt = 0, before = 0, resendAt = 0;
  const onTelemetry = (m: any) => {
    if (m.deviceId !== id) return;
    let n: number;
    try { n = JSON.parse(m.body.toString()).n; } catch { return; }
    const k = seen.get(n) || 0;
    seen.set(n, k + 1);
    if (!k) first.push(n);
    // (once the harness forwarded this boot's CONNECT: not a late one of the boot before)
    if (n < before && device && device.stats.connections && !resendAt) resendAt = Date.now();
  };
  hub.on("telemetry", onTelemetry);
  const deadline = t0 + o.timeout;
  const at: number[] = [], restored: number[] = [], loadCodes: number[] = [], resendMs: number[] = [], errors: number[] = [];
  o.from = o.from || 0;
  let next = o.from, wrote = 0, writes = 0, starts = 0, lines: string[] = [], device: any = null;

  const boot = async () => {
    starts++;
    let w = [0, 0], queuedAll = false, failed = "";
    const [stored] = inspect(path);
    bootAt = Date.now();
    before = stored ? next : 0;
    resendAt = 0;
    device = null;
    const d = await bootDevice({
      elf: o.elf,
      broker: { port: hub.ports.plain! },
      config: {
        path: o.noStore ? "" : path,
        user: hubUserName(hub.hubName, id),
        pass: sasToken(deviceResourceUri(hub.hubName, id), key, Math.floor(Date.now() / 1000) + 3600),
        clientId: id,
        topic: `devices/${id}/messages/events/`,
        from: next,
        n: o.count,
        time: Date.now(),
      },
      timeoutMs: Math.max(1000, deadline - Date.now()),
      log: trace,
      onLine: (l: string) => {
        let m;
        if ((m = /^q (\d+)$/.exec(l))) next = Math.max(next, +m[1] + 1);
        else if ((m = /^w (\d+) (\d+)$/.exec(l))) w = [+m[1], +m[2]];
        else if (l == "all queued") queuedAll = true;
        else if ((m = /^error (-\d+)$/.exec(l))) errors.push(+m[1]);
        else if (/E_NO_MEMORY|FAIL|uncaught/.test(l)) failed = l;
      },
    });
    device = d;
    lines = d.lines;
    return {
      d,
      queuedAll: () => queuedAll,
      failed: () => failed,
      /** Kills QEMU (if still running) and adds up what the boot wrote. */
      async end() {
        d.kill();
        const exit = await d.exited;
        wrote += w[0];
        writes += w[1];
        if (resendAt) resendMs.push(resendAt - bootAt);
        if (failed || exit.code) throw new Error(`the board failed (exit ${exit.code}): ${failed}\n${d.lines.slice(-30).join("\n")}`);
      },
    };
  };

  try {
    const points = Array.from({ length: o.kills }, () => 1 + Math.floor(Math.random() * (o.count - 1))).sort((a, b) => a - b);
    for (const [i, point] of points.entries()) {
      const from = next, b = await boot();
      let gone = false;
      b.d.exited.then(() => (gone = true));
      // waits for message `to` queued; gives up after 1 s without progress (the outbox may be full during a cut)
      const reach = async (to: number) => {
        for (let last = next, since = Date.now(); next <= to && !b.queuedAll() && !gone && !b.failed(); await sleep(2)) {
          if (Date.now() > deadline) throw new Error(`time is up before kill ${at.length + 1} (at message ${point}; reached ${next})`);
          if (next != last) (last = next), (since = Date.now());
          else if (next > from && Date.now() - since > 1000) break;
        }
      };
      if (!(i & 1)) {
        await reach(point - 6);
        b.d.cutting = true;
        trace(`cut before kill ${i + 1}`);
      }
      await reach(point);
      // a little later, at no particular instruction: mid-append, mid-compaction, mid-resend...
      await sleep(Math.random() * 15);
      await b.end();
      const [n, code] = inspect(path);
      at.push(next - 1);
      restored.push(n);
      loadCodes.push(code);
      trace(`kill ${at.length} at message ${next - 1}: ${n} unacknowledged in the store${code ? ` (load ${code})` : ""}`);
    }
    // the last boot: everything through, every message at the hub (or, all queued, nothing more for 1.5 s)
    const b = await boot();
    for (let last = -1, quiet = Date.now(); Date.now() < deadline && first.length < (o.expect ?? o.count - o.from); await sleep(20)) {
      const got = [...seen.values()].reduce((a, v) => a + v, 0);
      if (got != last) (last = got), (quiet = Date.now());
      else if (b.queuedAll() && Date.now() - quiet > 1500) break;
      if (b.failed()) break;
    }
    await sleep(300); // late duplicates
    await b.end();
    device = null;
    const endCode = inspect(path)[1];
    const lost: number[] = [];
    for (let i = o.from || 0; i < o.count; i++) if (!seen.has(i)) lost.push(i);
    let outOfOrder = 0, received = 0;
    for (let i = 1; i < first.length; i++) if (first[i] < first[i - 1]) outOfOrder++;
    for (const v of seen.values()) received += v;
    return { count: o.count, kills: points.length, lost, first, frame: sizePublish(`devices/${id}/messages/events/`, '{"n":100}', 1), duplicates: received - seen.size, outOfOrder, at, restored, loadCodes, resendMs, wrote, writes, endCode, errors, starts, ms: Date.now() - t0, lines };
  } finally {
    if (device) device.kill();
    hub.off("telemetry", onTelemetry);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line for the test's output. */
export function report(r: PowerCut): string {
  const avg = (a: number[]) => (a.length ? Math.round(a.reduce((x, y) => x + y, 0) / a.length) : NaN);
  return `${r.count} QoS 1 messages, ${r.kills} kills (SIGKILL, ${r.starts} boots) in ${(r.ms / 1000).toFixed(1)} s: lost ${r.lost.length}, ` +
    `duplicates ${r.duplicates}, out of order ${r.outOfOrder}; at the kills (messages ${r.at.join(",")}) unacknowledged in the store ${r.restored.join(",")}` +
    (r.loadCodes.some((c) => c) ? ` (loads ${r.loadCodes.join(",")})` : "") +
    `; store writes ${r.wrote} bytes in ${r.writes} calls: ${(r.wrote / r.count).toFixed(1)} bytes per message of ${r.frame} bytes (ADD ${r.frame + 5} + DEL 7, the rest compactions)` +
    (r.resendMs.length ? `; boot to first resend at the hub ${avg(r.resendMs)} ms (${Math.min(...r.resendMs)}-${Math.max(...r.resendMs)})` : "") +
    (r.errors.length ? `; device errors ${r.errors.join(",")}` : "");
}
