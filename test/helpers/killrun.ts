// The power-cut run on Node: a device process (test/helpers/store-device.ts) publishes `count` numbered QoS 1
// messages through a real broker with a file store, and is killed with SIGKILL at `kills` random points, each time
// restarted over the same file; a subscriber here counts what the broker delivers. The device restarts from the
// message after the last one whose publish returned (its "q n" line), so any message lost is the store's fault.
import { spawn, ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, errorName, journal } from "../../targets/node/index";
import { createOutbox, recordSize } from "../../src/memory";
import { MemStore } from "./memstore";

const DEVICE = fileURLToPath(new URL("./store-device.ts", import.meta.url));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface KillRunOptions {
  port: number;
  count: number;
  kills: number;
  /** fsync each write (default true). */
  sync?: boolean;
  /** The control: a device without a store. */
  noStore?: boolean;
  bufferSize?: number;
  /** ms for the whole run. */
  timeout?: number;
  log?: (line: string) => void;
}

export interface KillRun {
  count: number;
  kills: number;
  /** Messages never delivered. */
  lost: number[];
  /** Deliveries beyond the first of each message, and those with the DUP flag. */
  duplicates: number;
  dupFlag: number;
  /** First deliveries out of order (a message first seen after a later one). */
  outOfOrder: number;
  /** Per kill: messages whose publish had returned, records restored from the log at the restart, how the log loaded. */
  restored: number[];
  loadCodes: number[];
  /** The device's starts, errors it printed, log bytes at the end, ms. */
  starts: number;
  errors: string[];
  ms: number;
}

/** The records a client with `bufferSize` would restore from the log file at `path`, and the load's code. */
function inspect(path: string, bufferSize: number): [number, number] {
  if (!existsSync(path)) return [0, 0];
  const m = createOutbox(bufferSize, bufferSize >> 1), code = journal(new MemStore(readFileSync(path)))._load(m);
  let n = 0;
  for (let p = m._head; p < m._tail; p += recordSize(m, p)) n++;
  return [n, code];
}

export async function killRun(o: KillRunOptions): Promise<KillRun> {
  const t0 = Date.now(), log = o.log || (() => {});
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-killrun-"));
  const path = join(dir, "outbox.log"), topic = "store/" + process.pid + "/" + t0;
  const bufferSize = o.bufferSize || 2048;
  const seen = new Map<number, number>(), first: number[] = [];
  const received = () => { let n = 0; for (const v of seen.values()) n += v; return n; };
  let dupFlag = 0, subUp = false;
  const sub = createClient({
    host: "127.0.0.1",
    port: o.port,
    clientId: "killrun-sub-" + process.pid,
    clean: false,
    reconnect: { min: 50, max: 300 },
    bufferSize: 8192,
    onConnect: () => (subUp = true),
    onMessage: (t, p, info) => {
      const n = +Buffer.from(p).toString();
      const k = seen.get(n) || 0;
      seen.set(n, k + 1);
      if (!k) first.push(n);
      if (info.dup) dupFlag++;
    },
  });
  sub.connect();
  let child: ChildProcess | null = null;
  try {
    for (const end = Date.now() + 5000; !subUp; await sleep(5)) if (Date.now() > end) throw new Error("subscriber: no CONNACK");
    await new Promise<void>((res, rej) => sub.subscribe(topic, 1, (e) => (e ? rej(new Error("SUBACK " + errorName(e))) : res())));

    // kill points: message numbers, spread at random over the run
    const points: number[] = [];
    for (let i = 0; i < o.kills; i++) points.push(1 + Math.floor(Math.random() * (o.count - 1)));
    points.sort((a, b) => a - b);
    const restored: number[] = [], loadCodes: number[] = [], errors: string[] = [];
    let next = 0, starts = 0, queuedAll = false;
    const deadline = t0 + (o.timeout || 120000);

    /** Starts the device from `next`; resolves with its process and a way to wait for a queued message number. */
    const start = () => {
      starts++;
      queuedAll = false;
      const c = spawn(process.execPath, ["--import", "tsx", DEVICE, JSON.stringify({ port: o.port, path, from: next, to: o.count, topic, clientId: "killrun-dev-" + process.pid, sync: o.sync, noStore: o.noStore, bufferSize })], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let partial = "", stderr = "";
      const waiters: { n: number; res: () => void }[] = [];
      c.stdout!.setEncoding("latin1");
      c.stdout!.on("data", (d: string) => {
        const lines = (partial + d).split("\n");
        partial = lines.pop()!;
        for (const l of lines) {
          if (l.startsWith("q ")) next = Math.max(next, +l.slice(2) + 1);
          else if (l == "d") queuedAll = true;
          else if (l.startsWith("e ")) errors.push(errorName(+l.slice(2)));
          for (let i = waiters.length - 1; i >= 0; i--) if (next > waiters[i].n || queuedAll) waiters.splice(i, 1)[0].res();
        }
      });
      c.stderr!.on("data", (d) => (stderr += d));
      const exited = new Promise<void>((res) => c.once("exit", () => res()));
      return {
        c,
        exited,
        stderr: () => stderr,
        /** Resolves once message n's publish returned (or all were, or the device ended). */
        queued: (n: number) => new Promise<void>((res) => { if (next > n || queuedAll) res(); else { waiters.push({ n, res }); exited.then(res); } }),
      };
    };

    for (const point of points) {
      const d = start();
      child = d.c;
      await d.queued(Math.max(point, next));
      if (Date.now() > deadline) throw new Error("time is up before the kills were done");
      // a little later, at no particular instruction: mid-append, mid-compaction, mid-resend...
      await sleep(Math.random() * 15);
      d.c.kill("SIGKILL");
      await d.exited;
      if (d.c.exitCode !== null && d.c.exitCode !== 0) throw new Error(`the device failed (exit ${d.c.exitCode}): ${d.stderr().slice(-2000)}`);
      const [n, code] = inspect(path, bufferSize);
      restored.push(n);
      loadCodes.push(code);
      log(`kill ${restored.length} at message ${next - 1}: ${n} stored unacknowledged${code ? `, log ${errorName(code)}` : ""}`);
    }
    // the last run: everything through, every message at the subscriber
    const d = start();
    child = d.c;
    // until all arrived, or (all queued) nothing more arrives for 1.5 s
    for (let last = -1, quiet = Date.now(); Date.now() < deadline && first.length < o.count; await sleep(20)) {
      if (received() != last) (last = received()), (quiet = Date.now());
      else if (queuedAll && Date.now() - quiet > 1500) break;
    }
    await sleep(300); // late duplicates
    d.c.kill("SIGKILL");
    await d.exited;
    child = null;
    const lost: number[] = [];
    for (let i = 0; i < o.count; i++) if (!seen.has(i)) lost.push(i);
    let outOfOrder = 0;
    for (let i = 1; i < first.length; i++) if (first[i] < first[i - 1]) outOfOrder++;
    return { count: o.count, kills: points.length, lost, duplicates: received() - seen.size, dupFlag, outOfOrder, restored, loadCodes, starts, errors, ms: Date.now() - t0 };
  } finally {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    sub.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line for the test's output. */
export function killReport(r: KillRun): string {
  const stored = r.restored.reduce((a, b) => a + b, 0);
  return `${r.count} QoS 1 messages, ${r.kills} kill -9 (${r.starts} device starts) in ${r.ms} ms: lost ${r.lost.length}, ` +
    `duplicates ${r.duplicates} (DUP flag on ${r.dupFlag}), out of order ${r.outOfOrder}; unacknowledged messages in the store at the kills: ` +
    `${stored} (per kill ${r.restored.join(",")})` + (r.loadCodes.some((c) => c) ? `; loads ${r.loadCodes.map((c) => (c ? errorName(c) : "ok")).join(",")}` : "") +
    (r.errors.length ? `; device errors ${r.errors.join(",")}` : "");
}
