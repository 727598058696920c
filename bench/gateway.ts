// Issue 14, "Gateway multiplexing": 100 devices over one AMQP connection (createGateway) against 100 separate MQTT
// connections, on the emulator (tools/hub) on 127.0.0.1. Three processes so that memory is the clients' own: this
// one (orchestrator), the hub (--hub), and one client process per scenario (--client amqp|mqtt).
// Checks (exit 1 if any fails): every device connects; on the gateway one device's 2 s token renews while it and the
// others keep sending, one device with a wrong key is refused (E_AMQP_UNAUTHORIZED) and nothing else closes; the hub
// counts every message of every other device.
// Run: npx tsx --expose-gc bench/gateway.ts (npm run bench:gateway); the table goes by hand into bench/notes.md.
// --max-links n: the gateway's maxLinks (default 8 per device); --control: device 0's token is not renewed (must fail);
// GW_HUB_LOG=1: the hub's log on stderr.
import { fork, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as os from "node:os";
import { fileURLToPath } from "node:url";

const N = 100, MSGS = 10, LINKS = 8;
const TIMEOUT = 60000;
const mode = process.argv[2];
const SELF = fileURLToPath(import.meta.url);
const arg = (k: string) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : undefined; };

type Msg = { id?: number; [k: string]: any };

/** Request/answer over a child's (or the parent's) IPC channel. */
function rpc(p: { send?: (m: any) => any; on: (e: "message", f: (m: any) => void) => any }, serve?: (m: Msg) => Promise<any>) {
  let seq = 0;
  const wait = new Map<number, (v: any) => void>();
  p.on("message", async (m: Msg) => {
    if (m.re !== undefined && wait.has(m.re)) {
      wait.get(m.re)!(m.v);
      wait.delete(m.re);
    } else if (serve && m.id !== undefined) p.send!({ re: m.id, v: await serve(m) });
  });
  return (m: Msg) => new Promise<any>((res, rej) => {
    const id = ++seq, t = setTimeout(() => rej(new Error("no answer to " + m.cmd)), TIMEOUT);
    wait.set(id, (v) => (clearTimeout(t), res(v)));
    p.send!({ ...m, id });
  });
}

const until = async (cond: () => boolean, what: string, ms = TIMEOUT) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the hub: counts its server sockets and the telemetry per device
async function hubMain() {
  const net = await import("node:net");
  const live = new Set<any>();
  const emit = net.Server.prototype.emit;
  net.Server.prototype.emit = function (this: any, e: string, s: any, ...r: any[]) {
    if (e == "connection" && s && typeof s.on == "function") live.add(s), s.on("close", () => live.delete(s));
    return emit.apply(this, [e, s, ...r] as any);
  } as any;
  const { startHub } = await import("../tools/hub/index.js");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tinyhub-gw-bench-"));
  const hub: any = await startHub({ dir, log: process.env.GW_HUB_LOG ? (l: string) => console.error("hub: " + l) : false, mqttsPort: 0, httpsPort: 0, amqpsPort: 0, dpsPort: 0, adminPort: null, telemetryLimit: 10 } as any);
  const counts: Record<string, number> = {};
  hub.on("telemetry", (m: any) => void (counts[m.deviceId] = (counts[m.deviceId] || 0) + 1));
  rpc(process as any, async (m) => {
    if (m.cmd == "info") return { ports: hub.ports, ca: hub.ca.toString(), hubName: hub.hubName };
    if (m.cmd == "add") return m.ids.map((d: string) => (hub.registry.addDevice(d), hub.registry.connectionString(d)));
    if (m.cmd == "stats") return { sockets: live.size, counts };
    if (m.cmd == "close") {
      await hub.close();
      fs.rmSync(dir, { recursive: true, force: true });
      setTimeout(() => process.exit(0), 10);
      return true;
    }
  });
}

/** Device 0 on the gateway: a 2 s token, renewed after 1 s; --control: a clock 598 s late, so its 600 s token
 * expires 2 s after it is put with no renewal due (the hub detaches its links: the checks must then fail). */
const renewing = (control: boolean) => control ? { tokenLifetime: 600, time: () => Math.floor(Date.now() / 1000) - 598 } : { tokenLifetime: 2 };

// ---- a client process: one scenario
async function clientMain(kind: "amqp" | "mqtt") {
  const T = await import("../targets/node/index");
  rpc(process as any, async (m) => {
    if (m.cmd == "run") return run(m);
    if (m.cmd == "stop") return stopAll && (await stopAll()), true;
    if (m.cmd == "exit") setTimeout(() => process.exit(0), 10);
    return true;
  });
  const gc = (globalThis as any).gc as undefined | (() => void);
  const mem = () => {
    if (gc) gc(), gc();
    const u = process.memoryUsage();
    return { heap: u.heapUsed, rss: u.rss };
  };
  let stopAll: (() => Promise<void>) | null = null;

  async function run(m: any) {
    const { info, css, bad } = m;
    const fails: string[] = [];
    const fail = (s: string) => (fails.push(s), console.error("  FAIL " + s));
    const ids: string[] = m.ids;
    let opens = 0;
    const inner = T.nodeTransport;
    const closes: Record<string, number[]> = {}, errors: Record<string, number[]> = {};
    let connects = 0;
    const m0 = mem();
    const t0 = performance.now();
    const devs: any[] = [];
    let gw: any = null;
    const counted = () => {
      const t = inner();
      return { open: (h: any, p: any, tl: any, e: any) => (opens++, t.open(h, p, tl, e)), write: (b: any, o: any, n: any) => t.write(b, o, n), close: () => t.close() };
    };
    const hooks = (id: string) => ({
      reconnect: false,
      onConnect: () => connects++,
      onClose: (e: number) => (closes[id] = closes[id] || []).push(e),
      onError: (e: number) => (errors[id] = errors[id] || []).push(e),
    });
    if (kind == "amqp") {
      const sharedT = counted();
      // every device's 8 links (and the refused device's $cbs pair) on the one connection
      gw = T.createGateway({
        host: "127.0.0.1", hostname: info.hubName, port: info.ports.amqps, tls: { ca: info.ca },
        maxLinks: m.maxLinks, bufferSize: m.bufferSize, transport: sharedT,
        onClose: (e: number) => stopAll || fail("the gateway's connection closed: " + T.errorName(e)),
      });
      ids.forEach((id, i) => {
        const d = gw.addDevice({ connectionString: css[i], ...hooks(id), methods: { ping: (_p: any, r: any) => r(200, {}) }, ...(i == 0 ? renewing(m.control) : {}) });
        if (typeof d == "number") throw new Error("addDevice " + id + ": " + T.errorName(d));
        devs.push(d);
        d.connect();
      });
    } else {
      ids.forEach((id, i) => {
        const d = T.createDevice({ connectionString: css[i], protocol: "mqtt", port: info.ports.mqtts, tls: { ca: info.ca }, transport: counted(), ...hooks(id) } as any);
        if (typeof d == "number") throw new Error("createDevice " + id + ": " + T.errorName(d));
        devs.push(d);
        d.connect();
      });
    }
    await until(() => connects == N || Object.keys(closes).length > 0, "all connected", 20000).catch((e) => fail(e.message));
    const connectMs = performance.now() - t0;
    if (connects != N) fail(`connected ${connects} of ${N}: ` + JSON.stringify(closes) + " " + JSON.stringify(errors));
    const m1 = mem();

    // telemetry: every device sends MSGS messages one after the other, all devices at once
    const send = (d: any, p: string) => new Promise<number>((res) => {
      const go = () => {
        const r = d.sendEvent(p, { n: 1 }, res);
        if (r == T.E_OUTBOX_FULL || r == T.E_BUSY) setTimeout(go, 2);
        else if (r < 0) res(r);
      };
      go();
    });
    let badClose: number[] | null = null;
    if (kind == "amqp") {
      // the wrong key, while the others send
      const b = gw.addDevice({ connectionString: bad.cs, reconnect: false, onClose: (e: number) => (badClose = badClose || []).push(e), onConnect: () => fail("the wrong key connected") });
      b.connect();
    }
    const lat: number[] = [];
    const t1 = performance.now();
    await Promise.all(devs.map(async (d, i) => {
      for (let k = 0; k < MSGS; k++) {
        const s = performance.now();
        const e = await send(d, `{"d":${i},"k":${k}}`);
        lat.push(performance.now() - s);
        if (e) fail(`${ids[i]} message ${k}: ${T.errorName(e)}`);
      }
    }));
    const rttMs = performance.now() - t1;
    let renew = "";
    if (kind == "amqp") {
      await until(() => badClose != null, "the wrong key's refusal", 10000).catch((e) => fail(e.message));
      if (!badClose || (badClose as number[])[0] != T.E_AMQP_UNAUTHORIZED) fail("the wrong key: " + JSON.stringify(badClose && (badClose as number[]).map(T.errorName)));
      // device 0 (2 s token, renewed each second) keeps sending past 3 expiries, with everyone else
      const until3 = t0 + 6500;
      let n0 = 0;
      while (performance.now() < until3) {
        const ps = devs.map((d, i) => send(d, "late " + i).then((e) => e && fail(`${ids[i]} late: ${T.errorName(e)}`)));
        await Promise.all(ps);
        n0++;
        await sleep(500);
      }
      renew = `${n0} rounds to ${((performance.now() - t0) / 1000).toFixed(1)} s`;
      m.lateRounds = n0;
    }
    for (const id of ids) if (closes[id] || errors[id]) fail(`${id}: closes ${closes[id] && closes[id].map(T.errorName)} errors ${errors[id] && errors[id].map(T.errorName)}`);
    lat.sort((a, b) => a - b);
    stopAll = async () => {
      if (gw) await new Promise<void>((r) => gw.end(() => r()));
      else await Promise.all(devs.map((d) => new Promise<void>((r) => d.end(() => r()))));
    };
    return {
      fails, opens, connectMs, rttMs, renew,
      lateRounds: m.lateRounds || 0,
      p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)],
      heap: m1.heap - m0.heap, rss: m1.rss - m0.rss, gc: !!gc,
    };
  }
}

// ---- the orchestrator
async function main() {
  const self = SELF;
  const hubP = fork(self, ["--hub"], { stdio: "inherit" });
  const hubAsk = rpc(hubP);
  const kill = (c: ChildProcess) => c.exitCode === null && c.kill();
  const deadline = setTimeout(() => {
    console.error("FAIL: the bench took over 3 minutes");
    kill(hubP);
    process.exit(1);
  }, 180000);
  const fails: string[] = [];
  const rows: any[] = [];
  try {
    const info = await hubAsk({ cmd: "info" });
    for (const kind of ["amqp", "mqtt"] as const) {
      const ids = Array.from({ length: N }, (_, i) => `${kind}-${String(i).padStart(3, "0")}`);
      const css: string[] = await hubAsk({ cmd: "add", ids });
      const [badCs] = await hubAsk({ cmd: "add", ids: [kind + "-badkey"] });
      const bad = { cs: badCs.replace(/SharedAccessKey=[^;]+/, "SharedAccessKey=" + Buffer.from("not the key at all").toString("base64")) };
      const before = await hubAsk({ cmd: "stats" });
      const cp = fork(self, ["--client", kind], { stdio: "inherit" });
      const ask = rpc(cp);
      const maxLinks = +(arg("--max-links") || (N + 1) * LINKS), bufferSize = +(arg("--buffer") || 16384);
      const r = await ask({ cmd: "run", info, ids, css, bad, maxLinks, bufferSize, control: process.argv.includes("--control") });
      const st = await hubAsk({ cmd: "stats" });
      const sockets = st.sockets - before.sockets;
      for (const [i, id] of ids.entries()) {
        const want = MSGS + (kind == "amqp" ? r.lateRounds : 0);
        const got = (st.counts[id] || 0) - (before.counts[id] || 0);
        if (got != want) r.fails.push(`hub: ${id} has ${got} messages, not ${want}` + (i == 0 && kind == "amqp" ? " (the renewing device)" : ""));
      }
      if ((st.counts[kind + "-badkey"] || 0) != 0) r.fails.push("hub: messages from the wrong key");
      if (kind == "amqp" && sockets != 1) r.fails.push(`hub: ${sockets} sockets for the gateway`);
      if (kind == "mqtt" && sockets != N) r.fails.push(`hub: ${sockets} sockets for ${N} MQTT devices`);
      await ask({ cmd: "stop" });
      await ask({ cmd: "exit" }).catch(() => {});
      kill(cp);
      rows.push({ kind, sockets, ...r, maxLinks: kind == "amqp" ? maxLinks : 0, bufferSize });
      for (const f of r.fails) fails.push(kind + ": " + f);
      console.error(`${kind}: ${r.fails.length ? r.fails.length + " failures" : "all checks passed"}${r.renew ? "; renewing device: " + r.renew : ""}`);
    }
    await hubAsk({ cmd: "close" }).catch(() => {});
  } catch (e: any) {
    fails.push(e.stack || String(e));
  }
  clearTimeout(deadline);
  kill(hubP);
  const kb = (b: number) => (b / 1024).toLocaleString("en-US", { maximumFractionDigits: 0 }) + " KB";
  const ms = (x: number) => x.toFixed(0) + " ms";
  const [a, q] = rows;
  const table = [
    `| ${N} devices | one AMQP connection (createGateway) | ${N} MQTT connections (createDevice) |`,
    "|---|---:|---:|",
    `| sockets open at the hub | ${a?.sockets ?? "-"} | ${q?.sockets ?? "-"} |`,
    `| client heap used, delta after GC | ${a ? kb(a.heap) : "-"} | ${q ? kb(q.heap) : "-"} |`,
    `| client RSS, delta | ${a ? kb(a.rss) : "-"} | ${q ? kb(q.rss) : "-"} |`,
    `| time to connect all ${N} | ${a ? ms(a.connectMs) : "-"} | ${q ? ms(q.connectMs) : "-"} |`,
    `| ${N}×${MSGS} telemetry, each device sending in turn, all at once: total | ${a ? ms(a.rttMs) : "-"} | ${q ? ms(q.rttMs) : "-"} |`,
    `| per message round trip (send to the hub's accept), median / p99 | ${a ? ms(a.p50) + " / " + ms(a.p99) : "-"} | ${q ? ms(q.p50) + " / " + ms(q.p99) : "-"} |`,
  ].join("\n");
  console.log(table);
  if (a) console.log(`\ngateway: maxLinks ${a.maxLinks} (${LINKS} per device, ${N} + the refused one), bufferSize ${a.bufferSize}; GC ${a.gc ? "forced" : "not exposed (run with --expose-gc)"}`);
  if (fails.length) {
    console.error("\nFAILED:\n" + fails.join("\n"));
    process.exit(1);
  }
}

if (mode == "--hub") hubMain().catch((e) => (console.error(e), process.exit(1)));
else if (mode == "--client") clientMain(process.argv[3] as any).catch((e) => (console.error(e), process.exit(1)));
else main().then(() => process.exit(0), (e) => (console.error(e), process.exit(1)));
