// The least memory each Moddable entry's session needs in the real Moddable runtime, found by bisection:
//
//   node tools/engines/moddable-heap.js [--session hub,dps-ws] [--only stack|chunks|slots] [--no-record]
//
// The test app (tools/engines/moddable.js: the generated app, bundles preloaded as shipped) is built
// instrumented (`mcconfig -i`) with the manifest's `creation` set: the resource bisected at a trial value,
// the others ample, nothing allowed to grow (incremental 0), so running short ends the run (XS aborts:
// "not enough memory", "stack overflow"). A session passes when it completes (tools/engines/moddable.js
// scenarios) with exit code 0. Found: the least chunk heap (bytes, 512-byte steps), slot heap (slots,
// 16-slot steps) and stack (slots, 4-slot steps) with which it passes, and the margin against mcconfig's
// defaults (32,768 bytes, 2,048 slots, 384 slots). Each probe's result is cached
// (~/.cache/tinyhub/moddable-<hash>/heap-probes.json, keyed by the app's hash and the session), so a
// rerun with nothing changed takes seconds. Figures are written down in tools/engines/moddable-heap.json
// (committed: the bisection is too slow for every CI run; test/engines/moddable.test.ts copies them into
// engines-report.json, record("moddable", entry, figures), for the size report) and printed as a table.
//
// Slots are 32 bytes on this 64-bit host (16 on ESP32) and chunk figures include 64-bit pointers: the
// byte figures are upper bounds of what a 32-bit board needs; slot and stack counts carry over.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { buildApp, hubScenario, httpScenario, inputsHash, mqttScenario, storeScenario } from "./moddable.js";
import { buildModdable } from "./moddable-build.js";
import { record } from "./measure.js";
import { ROOT } from "./paths.js";
import { startHub } from "../hub/index.js";
import { ensureCerts } from "../hub/certs.js";

export const DEFAULTS = { chunks: 32768, slots: 2048, stack: 384 };
const AMPLE = { chunks: 262144, slots: 32768, stack: 4096 };
const STEP = { chunks: 512, slots: 16, stack: 4 };

/**
 * The sessions measured: entry (dist/moddable/<entry>.js), manifest, and how it runs.
 * @type {Record<string, { entry: string, manifest: string, what: string, run: (env: any, app: any, id: string) => Promise<any> }>}
 */
export const SESSIONS = {
  mqtt: { entry: "mqtt", manifest: "manifest.json", what: "MQTT over TCP (mosquitto)", run: (env, app, id) => mqttScenario({ app, broker: env.broker, id, via: "tcp" }) },
  "mqtt-tls": { entry: "mqtt", manifest: "manifest.json", what: "MQTT over TLS (mosquitto)", run: (env, app, id) => mqttScenario({ app, broker: env.broker, id, via: "tls" }) },
  ws: { entry: "ws", manifest: "manifest.json", what: "MQTT over WebSockets (mosquitto)", run: (env, app, id) => mqttScenario({ app, broker: env.broker, id, via: "ws" }) },
  classic: { entry: "classic", manifest: "manifest_classic.json", what: "MQTT on the classic Socket (mosquitto)", run: (env, app, id) => mqttScenario({ app, broker: env.broker, id, via: "tcp", classic: true }) },
  "classic-tls": { entry: "classic", manifest: "manifest_classic.json", what: "MQTT on the classic SecureSocket (mosquitto)", run: (env, app, id) => mqttScenario({ app, broker: env.broker, id, via: "tls", classic: true }) },
  hub: { entry: "hub", manifest: "manifest.json", what: "IoT Hub session over MQTT/TLS", run: (env, app, id) => hubScenario({ app, hub: env.hub, id, protocol: "mqtt" }) },
  "hub-ws": { entry: "hub-ws", manifest: "manifest.json", what: "IoT Hub session over MQTT/WebSockets/TLS", run: (env, app, id) => hubScenario({ app, hub: env.hub, id, protocol: "mqtt-ws" }) },
  "hub-http": { entry: "hub-http", manifest: "manifest.json", what: "IoT Hub over HTTPS", run: (env, app, id) => httpScenario({ app, hub: env.hub, id }) },
  dps: { entry: "dps", manifest: "manifest.json", what: "DPS registration, then the IoT Hub session over MQTT/TLS", run: (env, app, id) => hubScenario({ app, hub: env.hub, id, protocol: "mqtt", dps: true }) },
  "dps-ws": { entry: "dps", manifest: "manifest.json", what: "DPS registration, then the IoT Hub session over MQTT/WebSockets/TLS", run: (env, app, id) => hubScenario({ app, hub: env.hub, id, protocol: "mqtt-ws", dps: true }) },
  "mqtt-store": { entry: "mqtt-store", manifest: "manifest.json", what: "MQTT over TCP, the queue in files (30 QoS 1 messages)", run: (env, app, id) => storeScenario({ app, broker: env.broker, id, dir: env.dir }) },
  "hub-amqp": { entry: "hub-amqp", manifest: "manifest.json", what: "IoT Hub session over AMQP/TLS", run: (env, app, id) => hubScenario({ app, hub: env.hub, id, protocol: "amqp" }) },
  "hub-amqp-ws": { entry: "hub-amqp-ws", manifest: "manifest.json", what: "IoT Hub session over AMQP/WebSockets/TLS", run: (env, app, id) => hubScenario({ app, hub: env.hub, id, protocol: "amqp-ws" }) },
};

/** The primary session of each entry (its figures are the entry's columns). */
export const PRIMARY = { mqtt: "mqtt", ws: "ws", classic: "classic", hub: "hub", "hub-ws": "hub-ws", "hub-http": "hub-http", dps: "dps", "hub-amqp": "hub-amqp", "hub-amqp-ws": "hub-amqp-ws", "mqtt-store": "mqtt-store" };

/** A manifest `creation` with chunks, slots and stack as given and nothing growing. @param {{ chunks: number, slots: number, stack: number }} c */
export function creationOf(c) {
  return { chunk: { initial: c.chunks, incremental: 0 }, heap: { initial: c.slots, incremental: 0 }, stack: c.stack };
}

/** A free port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = /** @type {import("node:net").AddressInfo} */ (s.address()).port;
      s.close(() => resolve(port));
    });
  });
}

/** mosquitto on 127.0.0.1: plain, TLS (the emulator's certificates) and WebSockets listeners. @param {string} dir @param {any} certs */
async function startMosquitto(dir, certs) {
  const [port, tlsPort, wsPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, "cert.pem"), certs.cert);
  writeFileSync(join(dir, "key.pem"), certs.key);
  const conf = [
    "per_listener_settings true", "persistence false", "log_dest none",
    ...(process.getuid && process.getuid() === 0 ? ["user root"] : []),
    `listener ${port} 127.0.0.1`, "allow_anonymous true",
    `listener ${tlsPort} 127.0.0.1`, "allow_anonymous true", `cafile ${certs.caPath}`, `certfile ${join(dir, "cert.pem")}`, `keyfile ${join(dir, "key.pem")}`,
    `listener ${wsPort} 127.0.0.1`, "socket_domain ipv4", "protocol websockets", "allow_anonymous true",
  ];
  writeFileSync(join(dir, "mosquitto.conf"), conf.join("\n") + "\n");
  const p = spawn(process.env.MOSQUITTO || "/usr/sbin/mosquitto", ["-c", join(dir, "mosquitto.conf")], { stdio: "ignore" });
  // stopped with this process, however it ends
  process.once("exit", () => p.kill());
  for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM"])) process.once(sig, () => process.exit(130));
  const { connect } = await import("node:net");
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const s = connect({ host: "127.0.0.1", port: wsPort }, () => { s.destroy(); r(true); });
      s.on("error", () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { broker: { port, tlsPort, wsPort, caPem: certs.ca }, stop: () => p.kill() };
}

/**
 * Bisection of every resource for the sessions named.
 * @param {{ sessions?: string[], only?: string[], record?: boolean, log?: (s: string) => void }} [o]
 */
export async function measureHeaps(o = {}) {
  const log = o.log || ((/** @type {string} */ s) => process.stderr.write(s));
  const names = o.sessions || Object.keys(SESSIONS);
  const kinds = /** @type {("chunks" | "slots" | "stack")[]} */ (o.only || ["chunks", "slots", "stack"]);
  const tools = await buildModdable({ log });
  const cacheFile = join(tools.dir, "heap-probes.json");
  /** @type {Record<string, { ok: boolean, error: string | null }>} */
  const cache = existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, "utf8")) : {};
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-moddable-heap-"));
  const hub = await startHub({ dir, log: false, plainPort: null, adminPort: null });
  mkdirSync(join(dir, "mosquitto"));
  const mosq = await startMosquitto(dir, ensureCerts(join(dir, "mosquitto"), ["localhost", "127.0.0.1"]));
  mkdirSync(join(dir, "store"));
  const env = { hub, broker: mosq.broker, dir: join(dir, "store") };
  let n = 0;
  /** @param {string} name @param {{ chunks: number, slots: number, stack: number }} c */
  const probe = async (name, c) => {
    const s = SESSIONS[name];
    const app = await buildApp({ manifest: s.manifest, instrument: true, creation: creationOf(c) });
    const key = `${app.hash} ${name}`;
    // a run that fails without running out (no XS abort: a timeout on a busy machine) is tried again
    for (let tries = 0; !cache[key]; tries++) {
      const r = await s.run(env, app, `heap-${name}-${process.pid}-${n++}`);
      if (!r.ok && !r.run.abort()) {
        if (tries < 2) continue;
        throw new Error(`${name} with ${JSON.stringify(c)} failed without an XS abort: ${r.error}`);
      }
      cache[key] = { ok: r.ok, error: r.ok ? null : String(r.error).split("\n")[0].slice(0, 200) };
      writeFileSync(cacheFile, JSON.stringify(cache, null, 1) + "\n");
    }
    return cache[key];
  };
  /** @type {Record<string, any>} */
  const results = {};
  try {
    for (const name of names) {
      const s = SESSIONS[name];
      if (!s) throw new Error(`unknown session ${name} (${Object.keys(SESSIONS).join(", ")})`);
      const ample = await probe(name, AMPLE);
      if (!ample.ok) throw new Error(`${name} fails even with ample memory: ${ample.error}`);
      /** @type {Record<string, any>} */
      const r = { session: s.what };
      for (const kind of kinds) {
        // the least value (a multiple of the step) with which the session passes
        let lo = STEP[kind], hi = AMPLE[kind], why = "";
        // the default first: most sessions are near it
        const d = await probe(name, { ...AMPLE, [kind]: DEFAULTS[kind] });
        log(`${name} ${kind} ${DEFAULTS[kind]}: ${d.ok ? "passes" : "fails (" + d.error + ")"}\n`);
        if (d.ok) hi = DEFAULTS[kind];
        else lo = DEFAULTS[kind];
        while (hi - lo > STEP[kind]) {
          const mid = Math.round((lo + hi) / 2 / STEP[kind]) * STEP[kind];
          const p = await probe(name, { ...AMPLE, [kind]: mid });
          log(`${name} ${kind} ${mid}: ${p.ok ? "passes" : "fails (" + p.error + ")"}\n`);
          if (p.ok) hi = mid;
          else {
            lo = mid;
            why = p.error || "";
          }
        }
        r[kind] = hi;
        r[`${kind}Failure`] = why;
        r[`${kind}Margin`] = Math.round((1 - hi / DEFAULTS[kind]) * 1000) / 10;
      }
      results[name] = r;
    }
  } finally {
    mosq.stop();
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (o.record !== false && kinds.length == 3) {
    /** @type {Record<string, any>} */
    const saved = existsSync(SAVED) ? JSON.parse(readFileSync(SAVED, "utf8")) : { sessions: {} };
    Object.assign(saved.sessions, results);
    saved.note = "least chunk heap (bytes), slot heap (slots) and stack (slots) each session passes with in the real Moddable runtime (instrumented lin build, 64-bit: 32-byte slots; bundles preloaded as shipped); margins in % against mcconfig's defaults (32768 B, 2048 slots, 384 slots). Written by node tools/engines/moddable-heap.js.";
    saved.measured = new Date().toISOString();
    saved.inputs = inputsHash();
    saved.moddable = tools.hash;
    writeFileSync(SAVED, JSON.stringify(saved, null, 2) + "\n");
    recordSaved();
  }
  return results;
}

/** Where the figures are written down (committed). */
export const SAVED = join(ROOT, "tools", "engines", "moddable-heap.json");

/**
 * Records the figures written down in tools/engines/moddable-heap.json into engines-report.json, one entry
 * each (the entry's primary session's chunks / slots / stack and margins, every session under `sessions`);
 * `current`: whether they were measured with the bundles and main.js there are now.
 * @returns {Record<string, any>} what was recorded, by entry
 */
export function recordSaved() {
  if (!existsSync(SAVED)) return {};
  const saved = JSON.parse(readFileSync(SAVED, "utf8"));
  let current = false;
  try {
    current = saved.inputs == inputsHash();
  } catch {
    /* no dist: not current */
  }
  const byEntry = /** @type {Record<string, Record<string, any>>} */ ({});
  for (const [name, r] of Object.entries(saved.sessions)) if (SESSIONS[name]) (byEntry[SESSIONS[name].entry] ||= {})[name] = r;
  /** @type {Record<string, any>} */
  const out = {};
  for (const [entry, sessions] of Object.entries(byEntry)) {
    const primary = sessions[/** @type {keyof PRIMARY} */ (PRIMARY[/** @type {keyof PRIMARY} */ (entry)])] || Object.values(sessions)[0];
    out[entry] = {
      bundle: `dist/moddable/${entry}.js`,
      note: saved.note,
      session: primary.session,
      chunks: primary.chunks, slots: primary.slots, stack: primary.stack,
      chunksMargin: primary.chunksMargin, slotsMargin: primary.slotsMargin, stackMargin: primary.stackMargin,
      sessions,
      measured: saved.measured,
      current,
    };
    record("moddable", entry, out[entry]);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (/** @type {string} */ name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1].split(",") : undefined;
  };
  measureHeaps({ sessions: opt("--session"), only: opt("--only"), record: !args.includes("--no-record") }).then(
    (results) => {
      console.log("| session | chunks (B) | margin | slots | margin | stack (slots) | margin |");
      console.log("|---|---:|---:|---:|---:|---:|---:|");
      for (const [name, r] of Object.entries(results))
        console.log(`| ${name}: ${r.session} | ${r.chunks ?? ""} | ${r.chunksMargin ?? ""} % | ${r.slots ?? ""} | ${r.slotsMargin ?? ""} % | ${r.stack ?? ""} | ${r.stackMargin ?? ""} % |`);
    },
    (e) => {
      console.error(String(e && e.stack || e));
      process.exit(1);
    },
  );
}
