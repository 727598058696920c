// A TCP fault proxy on 127.0.0.1: sits between a client and a server and, on command, breaks the
// link the ways networks break. Every accepted connection gets its own upstream connection; bytes
// are forwarded in order, each direction through a small queue that the faults act on.
//
//   const px = await startFaultProxy(brokerPort);   // px.port is where the client connects
//   px.cut();             // cut every live connection after a random number of further bytes (FIN both ways)
//   px.cut({ dir: "down", after: 7 });               // ... after exactly 7 more bytes towards the client
//   px.reset();           // RST to both ends (socket.resetAndDestroy())
//   px.fragment(500);     // for 500 ms every byte is its own write (the peer sees 1-byte chunks)
//   px.delay(100, 400);   // for 400 ms every chunk is held 100 ms before it goes on
//   px.stall();           // hold every byte of the live connections from now on, send nothing, close nothing
//   px.stall(300);        // ... and let it all go after 300 ms
//   px.refuse(true);      // new connections are closed at once (a broker that is down)
//   px.hold(true);        // nothing moves on any connection, new ones included, until hold(false) (not a fault:
//                         // a freeze under the test's control that released stalls cannot undo)
//   await px.close();
//
// A fault aimed at live connections when there are none is armed for the next one accepted
// (a client that is reconnecting meets it then). px.counts has the faults injected by kind, px.hits
// those that met a connection: a cut whose byte came, a reset or stall of a live connection, a
// fragment or delay window that some bytes went through.
import * as net from "node:net";

export type Direction = "up" | "down"; // up: client -> server, down: server -> client

export interface FaultCounts { cut: number; reset: number; fragment: number; delay: number; stall: number; refused: number }

export interface FaultProxy {
  port: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Live connection pairs. */
  live(): number;
  /** Bytes forwarded per direction. */
  bytes: { up: number; down: number };
  counts: FaultCounts;
  hits: FaultCounts;
  cut(o?: { dir?: Direction; after?: number; max?: number }): void;
  reset(): void;
  fragment(ms: number): void;
  delay(ms: number, forMs: number): void;
  stall(releaseAfterMs?: number): void;
  refuse(on: boolean): void;
  hold(on: boolean): void;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

interface Chunk { data: Buffer; at: number }

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const tick = () => new Promise<void>((r) => setImmediate(r));

/** One client connection and its upstream twin. */
class Pair {
  dead = false;
  stalled = false;
  upReady = false;
  /** bytes left before a cut, per direction (-1: none armed) */
  cutLeft = { up: -1, down: -1 };
  private q = { up: [] as Chunk[], down: [] as Chunk[] };
  private busy = { up: false, down: false };
  private ended = { up: false, down: false };

  constructor(private px: Proxy, readonly client: net.Socket, readonly server: net.Socket) {}

  push(dir: Direction, data: Buffer) {
    if (this.dead) return;
    this.q[dir].push({ data, at: Date.now() });
    this.pump(dir);
  }

  /** The source of `dir` sent FIN: pass it on once the queue is empty. */
  end(dir: Direction) {
    this.ended[dir] = true;
    this.pump(dir);
  }

  release() {
    this.stalled = false;
    this.kick();
  }

  kick() {
    this.pump("up");
    this.pump("down");
  }

  async pump(dir: Direction) {
    if (this.busy[dir]) return;
    this.busy[dir] = true;
    try {
      const q = this.q[dir], to = dir == "up" ? this.server : this.client;
      while (!this.dead && !this.stalled && !this.px.held && (dir == "down" || this.upReady)) {
        const c = q[0];
        if (!c) {
          if (this.ended[dir]) to.end();
          break;
        }
        const d = this.px.delayMs && Date.now() < this.px.delayUntil ? this.px.delayMs : 0;
        const wait = c.at + d - Date.now();
        if (wait > 0) {
          await sleep(wait);
          continue;
        }
        q.shift();
        let data = c.data, cutNow = false;
        if (d) this.px.hit("delay", this.px.delayUntil);
        const left = this.cutLeft[dir];
        if (left >= 0 && data.length >= left) {
          data = data.subarray(0, left);
          cutNow = true;
        } else if (left >= 0) this.cutLeft[dir] = left - data.length;
        if (Date.now() < this.px.fragmentUntil && data.length) {
          this.px.hit("fragment", this.px.fragmentUntil);
          for (let i = 0; i < data.length && !this.dead; i++) {
            to.write(data.subarray(i, i + 1));
            this.px.bytes[dir]++;
            await tick();
          }
        } else if (data.length) {
          to.write(data);
          this.px.bytes[dir] += data.length;
        }
        if (cutNow) {
          // the bytes before the cut go out, then FIN to both ends
          this.px.hits.cut++;
          this.kill(false);
          break;
        }
      }
    } finally {
      this.busy[dir] = false;
    }
  }

  /** Ends both sockets: FIN (after what was written), or RST. */
  kill(rst: boolean) {
    if (this.dead) return;
    this.dead = true;
    this.px.pairs.delete(this);
    for (const s of [this.client, this.server]) {
      if (rst && typeof (s as any).resetAndDestroy == "function" && !s.destroyed && !s.connecting) (s as any).resetAndDestroy();
      else if (rst) s.destroy();
      else s.end(() => s.destroy());
      // a socket still flushing after end() must not linger
      setTimeout(() => s.destroy(), 1000).unref();
    }
  }
}

type Armed = (p: Pair) => void;

class Proxy implements FaultProxy {
  port = 0;
  accepted = 0;
  bytes = { up: 0, down: 0 };
  counts: FaultCounts = { cut: 0, reset: 0, fragment: 0, delay: 0, stall: 0, refused: 0 };
  hits: FaultCounts = { cut: 0, reset: 0, fragment: 0, delay: 0, stall: 0, refused: 0 };
  /** the window (by its end time) last counted as a hit, per kind */
  private hitWindow: { [k: string]: number } = {};
  pairs = new Set<Pair>();
  fragmentUntil = 0;
  delayUntil = 0;
  delayMs = 0;
  private refusing = false;
  held = false;
  private armed: Armed[] = [];
  private timers = new Set<NodeJS.Timeout>();
  server: net.Server;

  constructor(private targetPort: number, private targetHost: string) {
    this.server = net.createServer((c) => this.accept(c));
  }

  live() {
    return this.pairs.size;
  }

  /** Counts a fragment or delay window once, when bytes first go through it. */
  hit(kind: "fragment" | "delay", window: number) {
    if (this.hitWindow[kind] === window) return;
    this.hitWindow[kind] = window;
    this.hits[kind]++;
  }

  private later(fn: () => void, ms: number) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private accept(client: net.Socket) {
    this.accepted++;
    client.on("error", () => {});
    if (this.refusing) {
      this.counts.refused++;
      this.hits.refused++;
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const server = net.connect({ host: this.targetHost, port: this.targetPort });
    server.setNoDelay(true);
    server.on("error", () => {});
    const p = new Pair(this, client, server);
    this.pairs.add(p);
    server.on("connect", () => {
      p.upReady = true;
      p.pump("up");
    });
    client.on("data", (d: Buffer) => p.push("up", d));
    server.on("data", (d: Buffer) => p.push("down", d));
    client.on("end", () => p.end("up"));
    server.on("end", () => p.end("down"));
    // an error or an abrupt close on either side ends the pair (a refused upstream included)
    client.on("close", () => p.kill(false));
    server.on("close", () => p.kill(false));
    const armed = this.armed;
    this.armed = [];
    for (const f of armed) f(p);
  }

  /** Applies `f` to every live pair, or to the next one accepted when there is none. */
  private each(f: Armed) {
    if (this.pairs.size) for (const p of [...this.pairs]) f(p);
    else this.armed.push(f);
  }

  cut(o: { dir?: Direction; after?: number; max?: number } = {}) {
    this.counts.cut++;
    this.each((p) => {
      const dir = o.dir || (Math.random() < 0.5 ? "up" : "down");
      const after = o.after != null ? o.after : Math.floor(Math.random() * (o.max || 64));
      p.cutLeft[dir] = after;
      if (after == 0) {
        this.hits.cut++;
        p.kill(false);
      } else p.pump(dir);
    });
  }

  reset() {
    this.counts.reset++;
    let first = true;
    this.each((p) => {
      if (first && !p.dead) this.hits.reset++;
      first = false;
      p.kill(true);
    });
  }

  fragment(ms: number) {
    this.counts.fragment++;
    this.fragmentUntil = Date.now() + ms;
  }

  delay(ms: number, forMs: number) {
    this.counts.delay++;
    this.delayMs = ms;
    this.delayUntil = Date.now() + forMs;
  }

  stall(releaseAfterMs?: number) {
    this.counts.stall++;
    let first = true;
    this.each((p) => {
      if (first) this.hits.stall++;
      first = false;
      p.stalled = true;
      if (releaseAfterMs != null) this.later(() => p.release(), releaseAfterMs);
    });
  }

  refuse(on: boolean) {
    this.refusing = on;
  }

  hold(on: boolean) {
    this.held = on;
    if (!on) for (const p of this.pairs) p.kick();
  }

  async close() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.armed = [];
    for (const p of [...this.pairs]) p.kill(true);
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Starts a proxy on 127.0.0.1 (a free port) forwarding to targetHost:targetPort. */
export async function startFaultProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<FaultProxy> {
  const px = new Proxy(targetPort, targetHost);
  await new Promise<void>((resolve, reject) => {
    px.server.once("error", reject);
    px.server.listen(0, "127.0.0.1", () => resolve());
  });
  px.port = (px.server.address() as net.AddressInfo).port;
  return px;
}
