// The shipped Moddable bundles in the real Moddable runtime: the app `tinyhub moddable <dir>` generates
// (tools/moddable-command.js: manifest_base + manifest_net + targets/moddable/manifest.json, which
// preloads every tinyhub module), with its main.js replaced by tools/engines/moddable-main.js, built
// with `mcconfig -m -p lin` (`-i` instrumented) and run headless by mclaunch.
//
//   const app = await buildApp({ manifest: "manifest.json" });          // or "manifest_classic.json"
//   const run = launch(app);                                            // an mclaunch process
//   await run.until("ready"); run.send({ scenario: "mqtt", ... }); await run.until("connect");
//
// Apps are cached by a hash of everything they are built from (the generated manifest, main.js, the
// bundles in dist/moddable or TINYHUB_DIST, the targets/moddable manifests, the creation settings, the
// Moddable build): ~/.cache/tinyhub/moddable-<hash>/apps/<app hash>.so. A build runs in a working
// project per manifest and build kind, so a change rebuilds only what changed (2-5 s; 20-40 s the
// first time, when the XS core and the TLS natives compile).
//
// The Linux ECMA-419 sockets have no DNS: devices connect to 127.0.0.1 (IoT Hub: GatewayHostName).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DIST, ROOT } from "./paths.js";
import { buildModdable, run, withLock } from "./moddable-build.js";
import { moddableProject } from "../moddable-command.js";

/** The imports each manifest gets before tools/engines/moddable-main.js. */
const IMPORTS = {
  "manifest.json": [
    'import Timer from "timer";',
    'import Resource from "Resource";',
    'import { createClient as mqttClient } from "tinyhub/mqtt";',
    'import { createClient as wsClient } from "tinyhub/ws";',
    'import { createDevice as hubDevice } from "tinyhub/hub";',
    'import { createDevice as wsDevice } from "tinyhub/hub-ws";',
    'import { createDevice as httpDevice } from "tinyhub/hub-http";',
    'import { provision, deriveKey } from "tinyhub/dps";',
    'import { createClient as storeClient, fileStore } from "tinyhub/mqtt-store";',
    'import { File } from "file";',
    'import { createDevice as amqpDevice, C2D_REJECT, C2D_ABANDON, C2D_LATER } from "tinyhub/hub-amqp";',
    'import { createDevice as amqpWsDevice } from "tinyhub/hub-amqp-ws";',
    "const classicTransport = null;",
  ],
  "manifest_classic.json": [
    'import Timer from "timer";',
    'import Resource from "Resource";',
    'import { createClient as mqttClient } from "tinyhub/mqtt";',
    'import { createDevice as hubDevice } from "tinyhub/hub";',
    'import { moddableClassicTransport as classicTransport } from "tinyhub/classic";',
    "const wsClient = null, wsDevice = null, httpDevice = null, provision = null, deriveKey = null, storeClient = null, fileStore = null, File = null, amqpDevice = null, amqpWsDevice = null, C2D_REJECT = 1, C2D_ABANDON = 2, C2D_LATER = 3;",
  ],
};

/** mcconfig's defaults for `creation` (tools/mcconfig.js filterCreation): 32 KB chunks, 2,048 slots, 384 stack slots. */
export const DEFAULT_CREATION = { chunk: { initial: 32768, incremental: 1024 }, heap: { initial: 2048, incremental: 64 }, stack: 384 };

/**
 * The files of the package as an app sees it (targets/moddable manifests and stub, dist/moddable bundles).
 * @returns {Record<string, Buffer>}
 */
function packageFiles() {
  /** @type {Record<string, Buffer>} */
  const files = {};
  for (const f of ["manifest.json", "manifest_classic.json", "notls.js", "DigiCertGlobalRootG2.der"]) files[`targets/moddable/${f}`] = readFileSync(join(ROOT, "targets", "moddable", f));
  const dist = join(DIST, "moddable");
  if (!existsSync(dist)) throw new Error(`${dist} missing: run \`npm run build\` first`);
  for (const f of readdirSync(dist).filter((f) => f.endsWith(".js")).sort()) files[`dist/moddable/${f}`] = readFileSync(join(dist, f));
  return files;
}

/** A hash of what the apps are built from besides the Moddable build: the bundles, the targets/moddable files, main.js. */
export function inputsHash() {
  const h = createHash("sha256");
  for (const [name, data] of Object.entries(packageFiles())) h.update(`${name}\0`).update(data).update("\0");
  h.update(readFileSync(join(ROOT, "tools", "engines", "moddable-main.js")));
  return h.digest("hex").slice(0, 16);
}

/** Writes a file only when its content differs (make keeps what did not change). @param {string} path @param {string | Buffer} data */
function put(path, data) {
  if (existsSync(path) && readFileSync(path).equals(Buffer.from(data))) return;
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, data);
}

/**
 * The generated project with our main.js: manifest.json as `tinyhub moddable` writes it, its include
 * of targets/moddable/manifest.json pointed at the staged package (`pkg`, beside the project) and, when
 * given, `creation` settings added.
 * @param {string} manifest "manifest.json" or "manifest_classic.json" (the one the README says to include instead)
 * @param {object | undefined} creation
 */
export function appFiles(manifest, creation) {
  if (!IMPORTS[/** @type {keyof IMPORTS} */ (manifest)]) throw new Error(`unknown manifest ${manifest}`);
  const gen = moddableProject("app");
  const m = JSON.parse(gen["manifest.json"]);
  const i = m.include.findIndex((/** @type {string} */ p) => p.endsWith("targets/moddable/manifest.json"));
  if (i < 0) throw new Error("the generated manifest does not include targets/moddable/manifest.json");
  m.include[i] = `../pkg/targets/moddable/${manifest}`;
  // its resources (IoT Hub's root certificate) from the staged package too
  m.resources["*"] = m.resources["*"].map((/** @type {string} */ r) => r.replace(/^.*targets\/moddable\//, "../pkg/targets/moddable/"));
  // the file module for the store scenario, as an app that keeps its queue in files includes it (README)
  if (manifest == "manifest.json") m.include.push("$(MODDABLE)/modules/files/file/manifest.json");
  if (creation) m.creation = creation;
  const main = IMPORTS[/** @type {keyof IMPORTS} */ (manifest)].join("\n") + "\n\n" + readFileSync(join(ROOT, "tools", "engines", "moddable-main.js"), "utf8");
  return { "manifest.json": JSON.stringify(m, null, "\t") + "\n", "main.js": main };
}

/**
 * @typedef {{ so: string, mclaunch: string, hash: string, cached: boolean, ms: number, warnings: string[] }} App
 */

/**
 * Builds (or finds in the cache) the test app for a manifest.
 * @param {{ manifest?: string, creation?: object, instrument?: boolean, log?: (s: string) => void }} [o]
 * @returns {Promise<App>}
 */
export async function buildApp(o = {}) {
  const started = Date.now();
  const manifest = o.manifest || "manifest.json";
  const tools = await buildModdable({ log: o.log });
  const pkg = packageFiles();
  const files = appFiles(manifest, o.creation);
  const h = createHash("sha256");
  h.update(`${tools.hash}\n${manifest}\n${o.instrument ? "instrument" : "release"}\n`);
  for (const [name, data] of [...Object.entries(files), ...Object.entries(pkg)]) h.update(`${name}\0`).update(data).update("\0");
  const hash = h.digest("hex").slice(0, 16);
  const apps = join(tools.dir, "apps");
  const so = join(apps, `${hash}.so`);
  const meta = join(apps, `${hash}.json`);
  const cachedResult = () => ({ so, mclaunch: tools.mclaunch, hash, cached: true, ms: Date.now() - started, warnings: existsSync(meta) ? JSON.parse(readFileSync(meta, "utf8")).warnings : [] });
  if (existsSync(so)) return cachedResult();
  mkdirSync(apps, { recursive: true });
  // one build at a time per Moddable build: the XS core objects of a build kind are shared by its apps
  return withLock(join(apps, "build.lock"), async () => {
    if (existsSync(so)) return cachedResult();
    const kind = `${manifest == "manifest.json" ? "th419" : "thclassic"}`;
    const work = join(apps, "work", kind);
    for (const [name, data] of Object.entries(pkg)) put(join(work, "pkg", name), data);
    const dir = join(work, kind);
    for (const [name, data] of Object.entries(files)) put(join(dir, name), data);
    const args = ["-m", "-p", "lin", ...(o.instrument ? ["-i"] : [])];
    if (o.log) o.log(`mcconfig ${args.join(" ")} (${kind}${o.creation ? " " + JSON.stringify(o.creation) : ""})\n`);
    const out = await run("mcconfig", args, { cwd: dir, env: { ...process.env, ...tools.env } });
    const built = join(tools.dir, "build", "bin", "lin", "mc", o.instrument ? "instrument" : "release", kind, "mc.so");
    if (!existsSync(built)) throw new Error(`mcconfig made no ${built}:\n${out}`);
    const warnings = out.split("\n").filter((l) => l.startsWith("### ")).map((l) => l.slice(4));
    copyFileSync(built, so + ".tmp");
    renameSync(so + ".tmp", so);
    writeFileSync(meta, JSON.stringify({ manifest, creation: o.creation || null, instrument: !!o.instrument, warnings }, null, 1) + "\n");
    return { so, mclaunch: tools.mclaunch, hash, cached: false, ms: Date.now() - started, warnings };
  });
}

/**
 * @typedef {{ ev: string, [k: string]: any }} Report
 * @typedef {{
 *   pid: number | undefined,
 *   reports: Report[], lines: string[],
 *   instruments: number[][],
 *   send(o: object): void,
 *   until(ev: string, ms?: number, pred?: (r: Report) => boolean): Promise<Report>,
 *   exited: Promise<{ code: number | null, signal: string | null }>,
 *   exit: { code: number | null, signal: string | null } | null,
 *   abort(): Report | undefined,
 *   kill(): void,
 *   output(): string,
 * }} Run
 */

/**
 * Runs an app under mclaunch: its JSON lines become `reports`, other lines `lines` ("instruments: ..."
 * lines of an instrumented build also go to `instruments`); `send` writes one JSON line to its stdin.
 * @param {{ so: string, mclaunch: string }} app @param {{ timeoutMs?: number, log?: (line: string) => void }} [o]
 * @returns {Run}
 */
export function launch(app, o = {}) {
  const p = spawn(app.mclaunch, [app.so, String(o.timeoutMs || 60000)], { stdio: ["pipe", "pipe", "pipe"] });
  /** @type {Report[]} */
  const reports = [];
  /** @type {string[]} */
  const lines = [];
  /** @type {number[][]} */
  const instruments = [];
  /** @type {{ ev: string, pred: (r: Report) => boolean, resolve: (r: Report) => void }[]} */
  let waiting = [];
  let rest = "", err = "";
  /** @type {{ code: number | null, signal: string | null } | null} */
  let exit = null;
  const line = (/** @type {string} */ l) => {
    if (o.log) o.log(l);
    if (l.startsWith("{")) {
      try {
        const r = JSON.parse(l);
        reports.push(r);
        waiting = waiting.filter((w) => {
          if (w.ev != r.ev || !w.pred(r)) return true;
          w.resolve(r);
          return false;
        });
        return;
      } catch {
        /* not a report */
      }
    }
    if (l.startsWith("instruments: ")) instruments.push(l.slice(13).split(",").map(Number));
    else lines.push(l);
  };
  p.stdout.on("data", (b) => {
    const parts = (rest + b.toString("utf8")).split("\n");
    rest = parts.pop() || "";
    parts.forEach(line);
  });
  p.stderr.on("data", (b) => (err += b.toString()));
  p.stdin.on("error", () => {});
  const exited = new Promise((resolve) => {
    p.on("close", (code, signal) => {
      if (rest) line(rest);
      rest = "";
      exit = { code, signal };
      resolve(exit);
    });
    p.on("error", (e) => {
      err += String(e);
      exit = { code: -1, signal: null };
      resolve(exit);
    });
  });
  const output = () => [...lines, ...reports.map((r) => JSON.stringify(r)), err].join("\n");
  return {
    pid: p.pid,
    reports,
    lines,
    instruments,
    exited: /** @type {Promise<{ code: number | null, signal: string | null }>} */ (exited),
    get exit() {
      return exit;
    },
    send(msg) {
      if (!exit) p.stdin.write(JSON.stringify(msg) + "\n");
    },
    until(ev, ms = 10000, pred = () => true) {
      const found = reports.find((r) => r.ev == ev && pred(r));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { ev, pred, resolve: (/** @type {Report} */ r) => { clearTimeout(t); resolve(r); } };
        const t = setTimeout(() => {
          waiting = waiting.filter((x) => x !== w);
          reject(new Error(`no "${ev}" report within ${ms} ms; the app said:\n${output().split("\n").slice(-30).join("\n")}`));
        }, ms);
        waiting.push(w);
        exited.then(() => setTimeout(() => {
          if (!waiting.includes(w)) return;
          waiting = waiting.filter((x) => x !== w);
          clearTimeout(t);
          reject(new Error(`the app exited (${JSON.stringify(exit)}) before "${ev}"; it said:\n${output().split("\n").slice(-30).join("\n")}`));
        }, 0));
      });
    },
    abort() {
      return reports.find((r) => r.ev == "abort");
    },
    kill() {
      if (!exit) p.kill("SIGKILL");
    },
    output,
  };
}

// ---- scenarios: the Node side of tools/engines/moddable-main.js ------------------------------------

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** A PEM certificate's DER bytes as hex (how the scenario main.js takes a CA). @param {string} pem */
export function derHex(pem) {
  return Buffer.from(pem.split("-----")[2].replace(/\s+/g, ""), "base64").toString("hex");
}

/** The bytes S.bytes / bytes() in main.js make. @param {number} n @param {number} seed */
export function testBytes(n, seed = 0) {
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = (i * 7 + seed) & 255;
  return u;
}

/**
 * @typedef {{ port: number, tlsPort?: number, wsPort?: number, caPem?: string }} Broker the MQTT broker (mosquitto) on 127.0.0.1
 * @typedef {{ app: App, timeoutMs?: number, log?: (line: string) => void }} RunOptions
 * @typedef {{ ok: boolean, error: string | null, run: Run, ms: number, [k: string]: any }} Outcome
 */

/**
 * Runs `steps` against a fresh app process; the outcome is ok when every step passed, the app ended
 * with exit code 0 and nothing aborted. Never throws: `error` says what went wrong.
 * @param {RunOptions} o @param {(run: Run, out: Outcome) => Promise<void>} steps
 * @returns {Promise<Outcome>}
 */
async function session(o, steps) {
  const started = Date.now();
  const run = launch(o.app, { timeoutMs: o.timeoutMs || 30000, log: o.log });
  /** @type {Outcome} */
  const out = { ok: false, error: null, run, ms: 0 };
  try {
    await run.until("ready", 10000);
    await steps(run, out);
    const exit = await Promise.race([run.exited, sleep(5000).then(() => null)]);
    if (!exit) throw new Error("the app did not exit after its session");
    if (run.abort()) throw new Error(`XS abort ${JSON.stringify(run.abort())}:\n${run.output()}`);
    if (exit.code !== 0) throw new Error(`the app exited with ${JSON.stringify(exit)}:\n${run.output().split("\n").slice(-30).join("\n")}`);
    out.ok = true;
  } catch (e) {
    const a = run.abort();
    out.error = (a ? `XS abort (status ${a.status}; ${run.lines.filter((l) => /abort|overflow|memory/i.test(l)).join("; ")}): ` : "") + String(/** @type {any} */ (e)?.message || e);
  } finally {
    run.kill();
    await run.exited;
    out.ms = Date.now() - started;
  }
  return out;
}

/** Reports named `ev` so far. @param {Run} run @param {string} ev */
const all = (run, ev) => run.reports.filter((r) => r.ev == ev);

/** Waits until `cond` holds. @param {() => boolean} cond @param {number} ms @param {string} what */
async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * MQTT against a broker, through tinyhub/mqtt (or tinyhub/ws, or the classic transport): subscribe,
 * QoS 0/1/2 published from the SUBACK callback and received back, a 3,000-byte message from a Node
 * client received in chunks, DISCONNECT. `observed`: what a Node client subscribed to the same topics
 * received (topic, payload, qos).
 * @param {RunOptions & { broker: Broker, id: string, via?: "tcp" | "tls" | "ws", classic?: boolean }} o
 */
export async function mqttScenario(o) {
  const { default: mqtt } = await import("mqtt");
  const P = `md/${o.id}`, via = o.via || "tcp";
  /** @type {{ topic: string, payload: Buffer, qos: number }[]} */
  const observed = [];
  const obs = await mqtt.connectAsync(`mqtt://127.0.0.1:${o.broker.port}`, { clientId: `obs-${o.id}`, reconnectPeriod: 0 });
  obs.on("message", (topic, payload, packet) => observed.push({ topic, payload, qos: packet.qos }));
  await obs.subscribeAsync(`${P}/#`, { qos: 2 });
  try {
    const r = await session(o, async (run, out) => {
      out.observed = observed;
      const port = via == "tls" ? o.broker.tlsPort : via == "ws" ? o.broker.wsPort : o.broker.port;
      if (!port) throw new Error(`the broker has no ${via} listener`);
      run.send({ scenario: "mqtt", host: "127.0.0.1", port, id: o.id, prefix: P, client: via == "ws" ? "ws" : "mqtt", classic: !!o.classic,
        tls: via == "tls" ? { ca: derHex(/** @type {string} */ (o.broker.caPem)) } : null });
      await run.until("connect", 10000);
      await run.until("sub", 5000);
      for (const d of ["done0", "done1", "done2"]) await run.until(d, 5000);
      await run.until("message", 5000, (m) => m.topic == P + "/t/two");
      await obs.publishAsync(P + "/t/big", Buffer.from(testBytes(3000, 5)), { qos: 1 });
      await until(() => all(run, "message").filter((m) => m.topic == P + "/t/big").reduce((n, m) => n + m.length, 0) >= 3000, 5000, "the 3,000-byte message");
      await until(() => observed.filter((m) => m.topic.startsWith(P + "/t/")).length >= 4, 3000, "the observer's copies");
      await sleep(50); // a duplicate would arrive by now
      run.send({ op: "end" });
      await run.until("ended", 5000);
    });
    return r;
  } finally {
    await obs.endAsync(true).catch(() => {});
  }
}

/**
 * MQTT with the client's queue in files (mqtt-store: fileStore over the `file` module, `o.dir` a writable directory):
 * `o.count` (default 30) QoS 1 messages through mosquitto, each written to the store before publish returns, each
 * acknowledged with no error; then the client ends.
 * @param {{ app: any, broker: any, id: string, dir: string, count?: number, log?: (s: string) => void, timeoutMs?: number }} o
 */
export async function storeScenario(o) {
  const n = o.count || 30;
  return session(o, async (run) => {
    run.send({ scenario: "store", host: "127.0.0.1", port: o.broker.port, id: o.id, path: join(o.dir, o.id), topic: `md/${o.id}/store`, from: 0, to: n, connect: true });
    await run.until("connect", 10000);
    await until(() => all(run, "ack").length >= n, 15000, `${n} PUBACKs`);
    const bad = all(run, "ack").filter((a) => a.err);
    if (bad.length) throw new Error(`acknowledged with errors: ${JSON.stringify(bad)}`);
    run.send({ op: "end" });
    await run.until("ended", 5000);
  });
}

/**
 * A full IoT Hub session against the emulator (tools/hub), over MQTT/TLS (`protocol` "mqtt", the mqtts
 * port), MQTT over WebSockets (`"mqtt-ws"`, wss on the https port), AMQP/TLS (`"amqp"`, the amqps port) or AMQP
 * over WebSockets (`"amqp-ws"`, wss on the https port) (over AMQP, C2D also rejected, abandoned and settled later:
 * `feedback` the hub's), optionally after DPS registration
 * (`dps: true`: the device provisions, then connects from inside the DPS answer; `dps: "group"`: through an
 * enrollment group, the device given the group key and deriving its own with deriveKey). The device sends
 * telemetry with properties, gets the twin and patches reported properties from onConnect; the hub sends
 * a C2D message, a desired-properties update and three direct methods (200, 501 unknown, 500 throwing).
 * `telemetry`, `twin`, `methods`, `c2dLeft`: what the hub side saw.
 * @param {RunOptions & { hub: any, id: string, protocol?: "mqtt" | "mqtt-ws" | "amqp" | "amqp-ws", classic?: boolean, dps?: boolean | "group", bufferSize?: number }} o
 */
export function hubScenario(o) {
  const hub = o.hub, id = o.id, ws = o.protocol == "mqtt-ws" || o.protocol == "amqp-ws", amqp = o.protocol == "amqp" || o.protocol == "amqp-ws";
  const tls = { ca: derHex(hub.ca) };
  const then = { scenario: "hub", protocol: o.protocol, port: ws ? hub.ports.https : amqp ? hub.ports.amqps : hub.ports.mqtts, tls, classic: !!o.classic, bufferSize: o.bufferSize };
  return session(o, async (run, out) => {
    if (o.dps) {
      const keys = o.dps == "group" ? { groupKey: hub.registry.addGroupEnrollment(`${id}-group`).key } : { key: hub.registry.addEnrollment(id).key };
      run.send({ scenario: "dps", idScope: hub.dpsIdScope, registrationId: id, ...keys, host: "127.0.0.1", port: hub.ports.dps, tls, then });
      out.provisioned = await run.until("provisioned", 10000);
      if (out.provisioned.err) throw new Error(`provision failed: ${out.provisioned.err}`);
    } else {
      hub.registry.addDevice(id);
      run.send({ ...then, cs: hub.registry.connectionString(id).replace(/GatewayHostName=[^;]*/, "GatewayHostName=127.0.0.1") });
    }
    await run.until("connect", 10000);
    out.connected = hub.connected(id);
    for (const ev of ["sent", "twin", "patched"]) await run.until(ev, 5000);
    await until(() => hub.telemetry.some((/** @type {any} */ m) => m.deviceId == id), 3000, "the hub to record the telemetry");
    hub.sendC2D(id, "h\u00e9llo device \u2713", { color: "blue", "$.mid": "c2d-1", "n\u00f6": "n\u00f6ne \u2713" });
    await run.until("c2d", 5000);
    await until(() => hub.c2dQueue(id).length == 0, 3000, "the hub to see the C2D message acknowledged");
    if (amqp) {
      // AMQP settles by the answer: rejected (dead-lettered), released (abandoned: delivered again, then completed)
      /** @type {any[]} */
      const feedback = [];
      const f = (/** @type {any} */ x) => x.deviceId == id && feedback.push(x);
      hub.on("feedback", f);
      hub.sendC2D(id, "rej\u00e9ct me", { answer: "reject", "$.mid": "c2d-2" });
      hub.sendC2D(id, "ab\u00e4ndon me", { answer: "abandon", "$.mid": "c2d-3" });
      // and one settled after the callback returned (C2D_LATER, then complete(lockToken) from a timer)
      hub.sendC2D(id, "l\u00e4ter", { answer: "later", "$.mid": "c2d-4" });
      await until(() => feedback.length >= 3 && hub.c2dQueue(id).length == 0, 5000, "the hub's feedback on the rejected, the abandoned and the later message");
      hub.off("feedback", f);
      out.feedback = feedback.map((x) => [x.messageId, x.statusCode]);
    }
    out.desiredVersion = hub.updateDesired(id, { interval: 5, "n\u00e4": "gr\u00fc\u00df \u2713" });
    await run.until("desired", 5000);
    out.methods = [
      await hub.invokeMethod(id, "reboot", { delay: 1, t: "gr\u00fc\u00df \u2713" }, 5000),
      await hub.invokeMethod(id, "nosuch", null, 5000),
      await hub.invokeMethod(id, "fail", null, 5000),
    ];
    run.send({ op: "end" });
    await run.until("ended", 5000);
    await until(() => !hub.connected(id), 3000, "the hub to see the device go");
    out.telemetry = hub.telemetry.filter((/** @type {any} */ m) => m.deviceId == id);
    out.twin = hub.getTwin(id);
    out.c2dLeft = hub.c2dQueue(id).length;
  });
}

/**
 * IoT Hub over HTTPS (tinyhub/hub-http) against the emulator: telemetry with properties, a batch from
 * its callback, then polling, which receives (and completes) a C2D message queued before the start.
 * @param {RunOptions & { hub: any, id: string }} o
 */
export function httpScenario(o) {
  const hub = o.hub, id = o.id;
  return session(o, async (run, out) => {
    hub.registry.addDevice(id);
    hub.sendC2D(id, "h\u00e9llo device \u2713", { color: "blue", "$.cid": "c-9" });
    run.send({ scenario: "http", cs: hub.registry.connectionString(id).replace(/GatewayHostName=[^;]*/, "GatewayHostName=127.0.0.1"), port: hub.ports.https, tls: { ca: derHex(hub.ca) } });
    for (const ev of ["sent", "batch"]) await run.until(ev, 10000);
    await run.until("c2d", 8000);
    await run.until("connect", 5000);
    await until(() => hub.c2dQueue(id).length == 0, 3000, "the hub to see the C2D message completed");
    run.send({ op: "end" });
    await run.until("ended", 5000);
    out.telemetry = hub.telemetry.filter((/** @type {any} */ m) => m.deviceId == id);
  });
}

/**
 * The app's resource `o.name` as the app reads it (`new Resource(name)`): `out.resource` is { size, sum } of its bytes,
 * or { error } when the app has no such resource.
 * @param {{ app: App, name: string, log?: (s: string) => void }} o @returns {Promise<Outcome>}
 */
export function resourceScenario(o) {
  return session(o, async (run, out) => {
    run.send({ scenario: "resource", name: o.name });
    out.resource = await run.until("resource", 5000);
  });
}

/**
 * A TLS handshake that must fail (`ca`: a CA that did not sign the server's certificate, or `servername`:
 * a name the certificate does not have) against the emulator's mqtts port (its amqps port with `protocol` "amqp"):
 * the device must see the connection close (E_TRANSPORT), the app go on, and then connect with the right settings.
 * @param {RunOptions & { hub: any, id: string, ca?: string, servername?: string, protocol?: "mqtt" | "amqp" }} o
 */
export function tlsFailureScenario(o) {
  const hub = o.hub, id = o.id;
  return session(o, async (run, out) => {
    hub.registry.addDevice(id);
    const cs = hub.registry.connectionString(id).replace(/GatewayHostName=[^;]*/, "GatewayHostName=127.0.0.1");
    const bad = { ca: derHex(o.ca || hub.ca), servername: o.servername }, protocol = o.protocol, port = protocol == "amqp" ? hub.ports.amqps : hub.ports.mqtts;
    run.send({ scenario: "hub", protocol, cs, port, tls: bad, expectClose: true, retry: { scenario: "hub", protocol, cs, port, tls: { ca: derHex(hub.ca) } } });
    out.close = await run.until("close", 10000);
    // the same machine, still running, connects with the right CA and name
    await run.until("connect", 10000);
    out.connected = hub.connected(id);
    await run.until("patched", 5000);
    run.send({ op: "end" });
    await run.until("ended", 5000);
  });
}
