// The Espruino build (dist/espruino/<entry>.js, ES5, CommonJS exports) in Duktape 2.7: a small C host
// (dukhost.c, compiled here against Debian's libduktape, the `duk` CLI's engine) runs one script -
// the bundle wrapped like a module, the bridge, the session helpers and a loop that reads JSON
// lines from stdin - and writes JSON lines to stdout. Its memory is capped with `ulimit -v`.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost } from "./host.js";
import { espruinoCryptoModel } from "./crypto-model.js";
import { bundlePath, ROOT, script } from "./paths.js";

const HOST_C = join(ROOT, "tools", "engines", "dukhost.c");

/** Compiles dukhost.c (cached by content hash); a clear error when gcc or duktape-dev is missing. */
export function dukHost() {
  const src = readFileSync(HOST_C);
  const hash = createHash("sha256").update(src).digest("hex").slice(0, 12);
  const dir = join(ROOT, "node_modules", ".cache", "tinyhub-engines");
  const bin = join(dir, `dukhost-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  if (!existsSync("/usr/include/duktape.h") && !existsSync("/usr/local/include/duktape.h"))
    throw new Error("duktape.h not found: install the Debian packages `duktape` and `duktape-dev` (bash .ci/run does)");
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync("gcc", ["-O2", "-o", tmp, HOST_C, "-lduktape", "-lm"], { encoding: "utf8" });
  if (r.error) throw new Error(`cannot run gcc to build the Duktape host (${r.error.message}): install gcc, duktape and duktape-dev`);
  if (r.status !== 0) throw new Error(`building the Duktape host failed: ${r.stderr}`);
  renameSync(tmp, bin);
  return bin;
}

/**
 * Starts Duktape with dist/espruino/<entry>.js loaded as `tinyhub` (its exports).
 * With `espruino: true` the Espruino APIs the bundle's own glue uses are emulated over the bridge
 * (test/engines/espruino.es5.js: require("net"), E.toString/E.toUint8Array, setTimeout/clearTimeout), so
 * the bundle runs with no transport or clock given, as on a board.
 * @param {{ entry: string, names?: Record<string, string>, log?: (line: string) => void, memoryKB?: number, timeoutMs?: number, espruino?: boolean }} opts
 */
export async function startDuktapeEngine(opts) {
  const bundle = readFileSync(bundlePath(`dist/espruino/${opts.entry}.js`), "utf8");
  const bin = dukHost();
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-duk-"));
  const files = [join(dir, "bundle.js"), join(dir, "session.js")];
  // the bundle inside a module function, as Espruino's Modules.addCached / require would run it
  writeFileSync(files[0], `var tinyhub = (function () { var exports = {}, module = { exports: exports };\n${bundle}\n; return module.exports; })();\n`);
  // the Espruino bundle presumes E and the crypto module; require("net") etc. serve only its own glue
  writeFileSync(files[1], [script("bridge.es5.js"), script("espruino.es5.js"), await espruinoCryptoModel(), script("session.es5.js"), script("glue-duk.es5.js")].join("\n"));
  const host = createHost({ names: opts.names, log: opts.log });
  const kb = opts.memoryKB || 65536;
  const child = spawn("bash", ["-c", `ulimit -v ${kb} && exec "$0" "$@"`, bin, ...files], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "", out = "", seq = 0, exited = false, exitInfo = "";
  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
  const calls = new Map();
  /** @type {(v: any) => void} */
  let ready = () => {};
  /** @type {(e: Error) => void} */
  let failStart = () => {};
  const started = new Promise((res, rej) => { ready = res; failStart = rej; });

  child.stdin.on("error", () => {});
  child.stderr.on("data", (d) => {
    stderr += d;
    if (opts.log) opts.log(`duk stderr: ${String(d).trim()}`);
  });
  child.stdout.on("data", (d) => {
    out += d;
    let i;
    while ((i = out.indexOf("\n")) >= 0) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      let m;
      try {
        m = JSON.parse(line);
      } catch {
        host.reports.push({ name: "exception", value: `bad line from duk: ${line.slice(0, 200)}`, at: Date.now() });
        continue;
      }
      if (m.op == "result") {
        const c = calls.get(m.seq);
        calls.delete(m.seq);
        if (c) m.error ? c.reject(new Error(`exception in Duktape: ${m.error}`)) : c.resolve(m.value);
      } else if (m.op == "ready") ready({ empty: m.heaps[0], bundle: m.heaps[1], loaded: m.heap });
      else host.handle(m, m.b64 !== undefined ? Buffer.from(m.b64, "base64") : null);
    }
  });
  child.on("exit", (code, signal) => {
    exited = true;
    exitInfo = signal ? `signal ${signal}` : `code ${code}`;
    const e = new Error(`duk host exited (${exitInfo})${stderr ? ": " + stderr.trim() : ""}`);
    failStart(e);
    for (const c of calls.values()) c.reject(e);
    calls.clear();
    if (code !== 0 || signal) host.reports.push({ name: "exception", value: e.message, at: Date.now() });
  });

  /** @param {any} msg */
  function send(msg) {
    if (!exited) child.stdin.write(JSON.stringify(msg) + "\n");
  }

  host.onEvents = (batch) => send({ evs: batch.map(([ev, b]) => (b ? { ...ev, b64: b.toString("base64") } : ev)) });

  /** @param {string} code @returns {Promise<any>} */
  function evaluate(code) {
    return new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`duk host has exited (${exitInfo}): ${stderr.trim()}`));
      const s = ++seq;
      calls.set(s, { resolve, reject });
      send({ eval: code, seq: s });
    });
  }

  let atLoad;
  try {
    const t = setTimeout(() => failStart(new Error(`duk host did not start in time: ${stderr}`)), opts.timeoutMs || 10000);
    atLoad = await started;
    clearTimeout(t);
  } catch (e) {
    child.kill("SIGKILL");
    host.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  return {
    engine: "duktape",
    /** The bundle uses its own target glue (no transport/clock to pass). */
    ownGlue: !!opts.espruino,
    host,
    pid: child.pid,
    /** Duktape heap bytes in use after GC: the engine alone, with the bundle loaded, and with the bridge and helpers too ({used, peak, allocs}). */
    atLoad,
    eval: evaluate,
    /** Duktape heap bytes after a full GC. */
    heap: () => evaluate("__gc(), __heap()"),
    stderr: () => stderr,
    async close() {
      host.close();
      if (!exited) {
        const gone = new Promise((r) => child.once("exit", r));
        send({ quit: true });
        child.stdin.end();
        const t = setTimeout(() => child.kill("SIGKILL"), 2000);
        await gone;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
