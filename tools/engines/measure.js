// RAM figures of the bundles inside the embedded engines, shared by the tests (test/engines) and
// tools/engines/report.js:
//
//   measureQuickJS(entry, target)  dist/espruino/<entry>.js in QuickJS: runtime.computeMemoryUsage()
//                                  .memory_used_size with nothing loaded, with the bundle loaded, after
//                                  a warm-up of 1,000 messages and after 10,000 messages in all
//   measureXS(entry, target)       dist/moddable/<entry>.js in Moddable XS: heap slots in use (after gc)
//                                  with the bundle loaded, after a warm-up and at the end of a session
//
// `target` is {port} (a plain MQTT broker on 127.0.0.1) for "mqtt" and {hub, deviceId} (tools/hub,
// started with a plain listener) for "hub". The sessions are test/engines/volume.es5.js.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, script } from "./paths.js";
import { startQuickJSEngine } from "./quickjs.js";
import { startXSEngine } from "./xs.js";

export const REPORT = join(ROOT, "engines-report.json");

/**
 * @typedef {{ port: number } | { hub: any, deviceId: string }} Target
 */

/** Engine names for the target, and the V.mqtt/V.hub call that starts the session. @param {string} entry @param {Target} target @param {string} id @param {string} extra */
function session(entry, target, id, extra) {
  if (entry == "mqtt") {
    if (!("port" in target)) throw new Error("mqtt needs {port}");
    return { names: {}, start: `V.mqtt(tinyhub, { host: "127.0.0.1", port: ${target.port}, clientId: ${JSON.stringify(id)}, keepalive: 60, reconnect: false${extra} }); 1` };
  }
  if (!("hub" in target)) throw new Error("hub needs {hub, deviceId}");
  const hub = target.hub;
  const cs = hub.registry.connectionString(target.deviceId);
  return {
    names: { [hub.hubName]: "127.0.0.1" },
    start: `V.hub(tinyhub, { connectionString: ${JSON.stringify(cs)}, port: ${hub.ports.plain}, tls: null, reconnect: false${extra} }); 1`,
  };
}

/**
 * @param {any} e engine
 * @param {number} total
 * @param {number} ms
 */
async function runTo(e, total, ms) {
  const before = await e.eval("V.counts().sent");
  await e.eval(`V.run(${total - before})`);
  return e.host.until("idle", ms, (/** @type {any} */ v) => v.acked == total);
}

/**
 * dist/espruino/<entry>.js in QuickJS through `messages` messages; memory_used_size figures in bytes.
 * @param {string} entry @param {Target} target
 * @param {{ messages?: number, warmup?: number, timeoutMs?: number }} [o]
 */
export async function measureQuickJS(entry, target, o = {}) {
  const messages = o.messages || 10000, warmup = o.warmup || 1000;
  const id = `qjs-${entry}-${process.pid}`;
  const s = session(entry, target, id, ", transport: Bridge.transport(), clock: Bridge.clock");
  const e = await startQuickJSEngine({ entry, names: s.names });
  const started = Date.now();
  try {
    await e.eval(script("volume.es5.js"));
    await e.eval(s.start);
    await e.host.until("ready", 10000);
    const connected = e.memory().memory_used_size;
    await runTo(e, warmup, o.timeoutMs || 30000);
    const warm = e.memory();
    const last = await runTo(e, messages, o.timeoutMs || 30000);
    const end = e.memory();
    await e.eval("V.end()");
    await e.host.until("ended", 5000);
    const pending = await e.eval("Bridge.pending()");
    return {
      bundle: `dist/espruino/${entry}.js`,
      messages,
      warmup,
      /** memory_used_size: nothing loaded, bundle loaded, connected, after the warm-up, at the end */
      empty: e.atLoad.empty.memory_used_size,
      afterLoad: e.atLoad.bundle.memory_used_size,
      bundleBytes: e.atLoad.bundle.memory_used_size - e.atLoad.empty.memory_used_size,
      connected,
      warm: warm.memory_used_size,
      end: end.memory_used_size,
      growth: end.memory_used_size - warm.memory_used_size,
      objects: { warm: warm.obj_count, end: end.obj_count },
      counts: last,
      pending,
      ms: Date.now() - started,
    };
  } finally {
    await e.close();
  }
}

/**
 * dist/moddable/<entry>.js in XS through `messages` messages; heap slot counts after gc().
 * @param {string} entry @param {Target} target
 * @param {{ messages?: number, warmup?: number, timeoutMs?: number }} [o]
 */
export async function measureXS(entry, target, o = {}) {
  const messages = o.messages || 1000, warmup = o.warmup || 100;
  const id = `xs-${entry}-${process.pid}`;
  const s = session(entry, target, id, "");
  const e = await startXSEngine({ entry, names: s.names });
  const started = Date.now();
  try {
    await e.eval(script("volume.es5.js"));
    await e.eval(s.start);
    await e.host.until("ready", 10000);
    const connected = await e.heapSlots();
    await runTo(e, warmup, o.timeoutMs || 30000);
    const warm = await e.heapSlots();
    const last = await runTo(e, messages, o.timeoutMs || 30000);
    const atEnd = await e.heapSlots();
    await e.eval("V.end()");
    await e.host.until("ended", 5000);
    const pending = await e.eval("Bridge.pending()");
    const ended = await e.heapSlots();
    return {
      bundle: `dist/moddable/${entry}.js`,
      messages,
      warmup,
      /** XS heap slots in use after gc(): empty machine, bridge loaded, bundle loaded (and its share), connected, warm, end, after end() */
      empty: e.slots.empty,
      bridge: e.slots.bridge,
      afterLoad: e.slots.loaded,
      bundleSlots: e.slots.bundle,
      connected,
      warm,
      end: atEnd,
      growth: atEnd - warm,
      ended,
      counts: last,
      pending,
      ms: Date.now() - started,
    };
  } finally {
    await e.close();
  }
}

/**
 * Merges figures into engines-report.json: {generated, entries: {<entry>: {<engine>: figures}}}.
 * @param {string} engine @param {string} entry @param {object} figures
 */
export function record(engine, entry, figures) {
  let r = { note: "", generated: "", entries: /** @type {Record<string, Record<string, object>>} */ ({}) };
  try {
    if (existsSync(REPORT)) r = JSON.parse(readFileSync(REPORT, "utf8"));
  } catch {
    /* rewritten below */
  }
  r.note = "RAM of the bundles inside embedded engines (test/engines, tools/engines/report.js): quickjs = bytes (runtime.computeMemoryUsage().memory_used_size) of dist/espruino/<entry>.js; xs = heap slots in use after gc() of dist/moddable/<entry>.js; duktape = bytes of the Duktape heap (dist/espruino).";
  r.generated = new Date().toISOString();
  r.entries = r.entries || {};
  r.entries[entry] = r.entries[entry] || {};
  r.entries[entry][engine] = figures;
  writeFileSync(REPORT, JSON.stringify(r, null, 2) + "\n");
  return r;
}
