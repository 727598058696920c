// RAM figures of the bundles inside the embedded engines, shared by the tests (test/engines) and
// tools/engines/report.js:
//
//   measureQuickJS(entry, target)  dist/espruino/<entry>.js in QuickJS: runtime.computeMemoryUsage()
//                                  .memory_used_size with nothing loaded, with the bundle loaded, after
//                                  a warm-up of 1,000 messages and after 10,000 messages in all
//   measureXS(entry, target)       dist/moddable/<entry>.js in Moddable XS: heap slots in use (after gc)
//                                  with the bundle loaded, after a warm-up and at the end of a session
//
//   measureHubSession(engine, entry, hub, deviceId)
//                                  allocation accounting of a whole IoT Hub session: dist/espruino/<entry>.js in
//                                  QuickJS (its own Espruino glue over the emulated net/tls) or dist/moddable/<entry>.js
//                                  in XS, entry hub (MQTT, the emulator's plain listener), hub-ws (MQTT over wss)
//                                  or hub-http (HTTPS): telemetry, twin GET and patch, C2D, desired updates and
//                                  direct methods (test/engines/alloc.es5.js, the hub's side tools/engines/hubdriver.js);
//                                  memory after a forced GC after the warm-up and after each step; QuickJS also
//                                  counts the typed arrays made per message by call site in the bundle
//
// `target` is {port} (a plain MQTT broker on 127.0.0.1) for "mqtt" and {hub, deviceId} (tools/hub,
// started with a plain listener) for "hub". The sessions are test/engines/volume.es5.js.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, script, bundlePath } from "./paths.js";
import { startQuickJSEngine } from "./quickjs.js";
import { startXSEngine } from "./xs.js";
import { driveHub } from "./hubdriver.js";

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

/** The protocol an IoT Hub entry speaks. @param {string} entry */
export function protocolOf(entry) {
  return entry == "hub-ws" ? "mqtt-ws" : entry == "hub-http" ? "http" : "mqtt";
}

/** A PEM certificate as `new Uint8Array([...])` (DER), the form Moddable takes. @param {string} pem */
function derLiteral(pem) {
  return `new Uint8Array([${Array.from(Buffer.from(pem.split("-----")[2].replace(/\s+/g, ""), "base64")).join(",")}])`;
}

/**
 * A full garbage collection in QuickJS, which has no gc() for scripts: its collector runs when the bytes in use
 * pass a threshold, so garbage cycles are made until a weakly held one is gone (the collector ran, and nothing
 * more is made after it). Reference counting frees everything else at once. Returns computeMemoryUsage().
 * @param {any} e a QuickJS engine
 */
async function quickjsGC(e) {
  const n = await e.eval(`(function () { var s = {}, w, n = 0; s.self = s; w = new WeakRef(s); s = null;
    while (w.deref() !== undefined && n < 1e7) { var a = {}; a.self = a; n++; } return n; })()`);
  if (!(n < 1e7)) throw new Error("QuickJS: no garbage collection after 10^7 cycles");
  return e.memory();
}

/** Least-squares slope of y over x. @param {number[]} x @param {number[]} y */
export function slope(x, y) {
  const n = x.length, mx = x.reduce((a, b) => a + b, 0) / n, my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx ? sxy / sxx : 0;
}

/**
 * A whole IoT Hub session (telemetry, twin, C2D, desired, methods) of an entry inside an engine, measured after
 * forced garbage collections: after the warm-up and after each of `readings` steps of messages / readings.
 *   quickjs: dist/espruino/<entry>.js with its own Espruino glue (net/tls emulated over the bridge, as on a
 *            board): memory_used_size, malloc_count (live blocks), obj_count (typed arrays and ArrayBuffers
 *            included: binary_object_count is always 0 in quickjs-emscripten's build), str_count, atom_count per
 *            reading; with `census`, that many more messages with every typed array made counted by its call
 *            site in the bundle (the innermost bundle frame on the stack)
 *   xs:      dist/moddable/<entry>.js with its own Moddable glue over the bridge: heap slots after gc() per
 *            reading; when the engine offers meter() (slots in use without a gc), slots allocated per message
 * `hub`: the emulator with plain (for entry "hub") and https (hub-ws, hub-http) listeners.
 * @param {"quickjs" | "xs"} engine @param {"hub" | "hub-ws" | "hub-http"} entry @param {any} hub @param {string} deviceId
 * @param {{ warmup?: number, messages?: number, readings?: number, census?: number, timeoutMs?: number, log?: (l: string) => void,
 *   events?: { c2dEvery?: number, desiredEvery?: number, methodEvery?: number }, leak?: boolean }} [o] `events`: how often the hub's
 *   side acts (hubdriver.js); `leak`: the application keeps 32 bytes per message (a canary)
 */
export async function measureHubSession(engine, entry, hub, deviceId, o = {}) {
  const warmup = o.warmup ?? 200, messages = o.messages ?? 1000, steps = o.readings ?? 4, census = engine == "quickjs" ? o.census || 0 : 0;
  const protocol = protocolOf(entry), http = protocol == "http", tls = protocol != "mqtt";
  const names = { [hub.hubName]: "127.0.0.1" };
  const e = engine == "quickjs" ? await startQuickJSEngine({ entry, names, log: o.log }) : await startXSEngine({ entry, names, log: o.log });
  const started = Date.now(), total = warmup + messages + census;
  hub.registry.addDevice(deviceId);
  // the hub's side stops 100 messages before the end: every event reaches the device before it ends
  const driver = driveHub(hub, deviceId, { http, stopAt: total - 100, ...o.events });
  const ms = o.timeoutMs || 60000;
  let sent = 0;
  /** @param {number} n */
  const run = async (n) => {
    sent += n;
    await e.eval(`A.run(${n})`);
    return e.host.until("idle", ms, (/** @type {any} */ v) => v.acked == sent);
  };
  /** @type {() => Promise<any>} */
  const reading = engine == "quickjs"
    ? async () => {
        const m = await quickjsGC(e);
        return { memory_used_size: m.memory_used_size, malloc_count: m.malloc_count, obj_count: m.obj_count, str_count: m.str_count, atom_count: m.atom_count };
      }
    : async () => ({ slots: await /** @type {any} */ (e).heapSlots() });
  try {
    const ca = !tls ? "null" : engine == "quickjs" ? `{ ca: ${JSON.stringify(hub.ca)} }` : `{ ca: ${derLiteral(hub.ca)} }`;
    await e.eval(script("alloc.es5.js"));
    await e.eval(`A.start(tinyhub, { connectionString: ${JSON.stringify(hub.registry.connectionString(deviceId))}, port: ${tls ? hub.ports.https : hub.ports.plain}, ` +
      `tls: ${ca}${protocol == "mqtt-ws" ? ', protocol: "mqtt-ws"' : ""}, bufferSize: 4096, reconnect: false, requestTimeout: 10000 }, ${http}, ${!!o.leak}); 1`);
    await e.host.until("ready", 15000);
    await run(warmup);
    // steps without messages, before and after those with: what the measuring itself leaves per step (XS keeps a
    // few slots per evaluated script); the median of their differences
    const control = [await reading()];
    for (let k = 1; k <= 2; k++) {
      await run(0);
      control.push(await reading());
    }
    /** @type {any[]} */
    const readings = [control[control.length - 1]];
    const at = [0];
    for (let k = 1; k <= steps; k++) {
      const n = Math.round((messages * k) / steps) - Math.round((messages * (k - 1)) / steps);
      await run(n);
      readings.push(await reading());
      at.push(at[k - 1] + n);
    }
    const after = [readings[readings.length - 1]];
    for (let k = 1; k <= 2; k++) {
      await run(0);
      after.push(await reading());
    }
    // slots allocated (XS), when the engine can tell the slots in use without collecting (meter()): a slot is
    // counted as it is taken, a collection recounts what lives. Each step of 20 messages starts after a gc(), with
    // more than 200,000 of xsnap's 256K slots free: a step that took fewer than that cannot have run out of slots,
    // so no collection ran in it (xsnap collects when the free slots or its 32 MB of chunks run out).
    let allocated = null;
    if (engine == "xs" && typeof (/** @type {any} */ (e).meter) == "function") {
      let slots = 0, counted = 0;
      const meter = async () => (await /** @type {any} */ (e).meter()).currentHeapCount;
      await reading();
      const idle = await meter(), evalCost = (await meter()) - idle;
      for (let k = 0; k < 10; k++) {
        const live = (await reading()).slots;
        const a = await meter();
        await run(20);
        const b = await meter();
        if (live < 56000 && b - a < 200000) {
          // less the step's own evaluation (A.run) and the meter reading, about what an empty one costs each
          slots += b - a - 2 * evalCost;
          counted += 20;
        }
      }
      allocated = counted ? { messages: counted, slots, evalCost } : null;
    }
    /** @type {Record<string, number> | null} */
    let sites = null;
    if (census) {
      await e.eval("A.census(true)");
      await run(census);
      sites = await e.eval("A.census(false)");
    }
    const counts = await e.eval("A.counts()");
    await e.eval("A.end()");
    await e.host.until("ended", 5000);
    // what the engine still holds of the bridge: sockets, timers, lookups (given a second to close)
    let pending;
    for (let t = Date.now(); ; ) {
      pending = await e.eval("Bridge.pending()");
      if (!(pending.sockets || pending.timers || pending.lookups) || Date.now() - t > 1000) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const side = await driver.stop();
    const key = engine == "quickjs" ? "memory_used_size" : "slots";
    const y = readings.map((r) => r[key]);
    /** @param {any[]} a */
    const diffs = (a) => a.slice(1).map((r, k) => r[key] - a[k][key]);
    const d = [...diffs(control), ...diffs(after)].sort((p, q) => p - q);
    // per step of measuring, without messages
    const perStep = (d[1] + d[2]) / 2;
    return {
      engine, entry, protocol, bundle: `dist/${engine == "quickjs" ? "espruino" : "moddable"}/${entry}.js`,
      warmup, messages, census, sent, at, readings, counts, hub: side, pending,
      unit: engine == "quickjs" ? "bytes" : "slots",
      /** memory_used_size (QuickJS) or slots (XS) after forced GCs: end minus warm, less what the same number of steps without messages left (perStep each) */
      growth: y[y.length - 1] - y[0] - perStep * steps,
      rawGrowth: y[y.length - 1] - y[0],
      perStep,
      control: [...control, ...after].map((r) => r[key]),
      /** the least-squares slope of the readings (the measuring's own share taken out) per 1,000 messages */
      slopePer1k: Math.round(slope(at, y.map((v, k) => v - perStep * k)) * 1000),
      allocated,
      sites: sites && bundleSites(engine, entry, sites),
      ms: Date.now() - started,
    };
  } finally {
    await driver.stop();
    await e.close();
  }
}

/**
 * Census sites "what @bundle.js:line:column" with the bundle's code around the column (the bundles are minified).
 * @param {string} engine @param {string} entry @param {Record<string, number>} sites
 */
function bundleSites(engine, entry, sites) {
  const code = readFileSync(bundlePath(`dist/${engine == "quickjs" ? "espruino" : "moddable"}/${entry}.js`), "utf8").split("\n");
  return Object.entries(sites).map(([site, count]) => {
    const m = /@bundle\.js:(\d+):(\d+)/.exec(site);
    let near = "";
    // QuickJS counts lines from the wrapper's first line (the bundle starts on line 2) and columns from 1
    if (m) {
      const line = code[+m[1] - 2] || "", col = +m[2] - 1;
      near = line.slice(Math.max(0, col - 40), col + 50);
    }
    return { site, count, near };
  }).sort((a, b) => b.count - a.count);
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
