// A small driver for the xsnap worker (Moddable XS, built by @agoric/xsnap) that speaks its
// netstring protocol on fds 3/4 directly. @agoric/xsnap's own JS API needs SES (`@endo/init`
// locks down the whole Node process), which a test runner cannot afford; the wire protocol is
// small enough to speak here:
//
//   parent -> worker   "e<code>"   evaluate a script          "?<bytes>"  globalThis.handleCommand(ArrayBuffer)
//                      "/<bytes>"  answer to the worker's issueCommand()         "q" quit
//   worker -> parent   ".<meter JSON>\x01<reply bytes>"  done (meter: currentHeapCount, compute, allocate)
//                      "!<message>"                       uncaught exception
//                      "?<bytes>"                         issueCommand(ArrayBuffer) from inside XS: answered with "/..."
//
// Inside XS: `print`, `issueCommand`, `handleCommand`, `gc`, `performance.now`, `TextEncoder`/`TextDecoder`,
// `harden`, `setImmediate`; no console, no setTimeout.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The xsnap-worker binary that `npm ci` builds in node_modules/@agoric/xsnap (Linux and macOS). */
export function xsnapBinary() {
  const require = createRequire(import.meta.url);
  let pkg;
  try {
    pkg = dirname(require.resolve("@agoric/xsnap/package.json"));
  } catch {
    throw new Error("@agoric/xsnap is not installed (a devDependency): run `npm ci`");
  }
  const platform = { linux: "lin", darwin: "mac" }[process.platform];
  if (!platform) throw new Error(`xsnap does not run on ${process.platform}`);
  const bin = join(pkg, "xsnap-native", "xsnap", "build", "bin", platform, "release", "xsnap-worker");
  if (!existsSync(bin))
    throw new Error(`${bin} missing: @agoric/xsnap's install script builds it (npm ci with scripts allowed; needs make and a C compiler)`);
  return bin;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Starts an XS worker.
 * @param {{ onQuery?: (msg: Uint8Array) => Uint8Array | string | void, onPrint?: (line: string) => void,
 *   meteringLimit?: number, name?: string, cwd?: string }} [opts]
 *   onQuery answers the worker's synchronous issueCommand() (return value sent back, empty when void).
 */
export function startXS(opts = {}) {
  const bin = xsnapBinary();
  // -l 0: no per-crank computation limit (a session runs many cranks, each short)
  const args = [opts.name || "tinyhub-engines"];
  if (opts.meteringLimit !== undefined) args.push("-l", String(opts.meteringLimit));
  const child = spawn(bin, args, { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe", "pipe", "pipe", "ignore", "ignore", "ignore", "ignore"] });
  const toXS = /** @type {import("node:stream").Writable} */ (child.stdio[3]);
  const fromXS = /** @type {import("node:stream").Readable} */ (child.stdio[4]);
  let stderr = "", outBuf = "", exited = false, exitInfo = "";
  /** @type {{ resolve: (v: any) => void, reject: (e: Error) => void } | null} */
  let pending = null;
  /** @type {Promise<any>} */
  let baton = Promise.resolve();

  child.stderr.on("data", (d) => { stderr += d; if (stderr.length > 20000) stderr = stderr.slice(-20000); });
  child.stdout.on("data", (d) => {
    outBuf += d;
    let i;
    while ((i = outBuf.indexOf("\n")) >= 0) {
      const line = outBuf.slice(0, i);
      outBuf = outBuf.slice(i + 1);
      if (opts.onPrint) opts.onPrint(line);
    }
  });
  toXS.on("error", () => {});
  child.on("error", (e) => fail(e));
  child.on("exit", (code, signal) => {
    exited = true;
    exitInfo = signal ? `signal ${signal}` : `code ${code}`;
    fail(new Error(`xsnap exited (${exitInfo})${stderr ? ": " + stderr.trim() : ""}`));
  });

  /** @param {Error} e */
  function fail(e) {
    const p = pending;
    pending = null;
    if (p) p.reject(e);
  }

  /** @param {Uint8Array} prefix @param {Uint8Array | string} body */
  function send(prefix, body) {
    const b = typeof body == "string" ? enc.encode(body) : body;
    const len = prefix.length + b.length;
    toXS.write(Buffer.concat([Buffer.from(`${len}:`), prefix, b, Buffer.from(",")]));
  }

  // netstring reader
  let acc = Buffer.alloc(0);
  fromXS.on("data", (d) => {
    acc = acc.length ? Buffer.concat([acc, d]) : d;
    for (;;) {
      const colon = acc.indexOf(58); // ':'
      if (colon < 0) return;
      const len = +acc.subarray(0, colon).toString();
      if (acc.length < colon + 1 + len + 1) return;
      const msg = acc.subarray(colon + 1, colon + 1 + len);
      acc = acc.subarray(colon + 2 + len);
      onMessage(new Uint8Array(msg));
    }
  });

  /** @param {Uint8Array} msg */
  function onMessage(msg) {
    const kind = msg[0];
    if (kind == 63 /* ? */) {
      let answer;
      try {
        answer = opts.onQuery ? opts.onQuery(msg.subarray(1)) : undefined;
      } catch (e) {
        answer = undefined;
        fail(/** @type {Error} */ (e));
      }
      send(enc.encode("/"), answer == null ? new Uint8Array(0) : answer);
      return;
    }
    const p = pending;
    pending = null;
    if (!p) return;
    if (kind == 46 /* . */) {
      const sep = msg.indexOf(1, 1);
      const meter = sep >= 0 ? JSON.parse(dec.decode(msg.subarray(1, sep))) : {};
      p.resolve({ reply: msg.subarray(sep < 0 ? 1 : sep + 1), meter });
    } else if (kind == 33 /* ! */) {
      p.reject(new Error(`exception in XS: ${dec.decode(msg.subarray(1))}`));
    } else p.reject(new Error(`xsnap protocol error: ${dec.decode(msg.subarray(0, 80))}`));
  }

  /**
   * One request at a time (the worker is single-threaded and answers in order).
   * @param {string} prefix @param {Uint8Array | string} body
   * @returns {Promise<{ reply: Uint8Array, meter: { currentHeapCount: number, compute: number, allocate: number } }>}
   */
  function request(prefix, body) {
    const run = () => new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`xsnap has exited (${exitInfo}): ${stderr.trim()}`));
      pending = { resolve, reject };
      send(enc.encode(prefix), body);
    });
    const r = baton.then(run, run);
    baton = r.catch(() => {});
    return r;
  }

  return {
    pid: child.pid,
    /** Evaluates a script (sloppy-mode global code, like eval). */
    evaluate: (/** @type {string} */ code) => request("e", code),
    /** Runs an ES module file (its imports resolved by XS: relative or absolute paths). */
    runModule: (/** @type {string} */ path) => request("m", path),
    /** Calls globalThis.handleCommand(ArrayBuffer) in the worker; its ArrayBuffer result is the reply. */
    command: (/** @type {Uint8Array | string} */ msg) => request("?", msg),
    stderr: () => stderr,
    /** Quits the worker (and kills it if it does not go within a second). */
    close() {
      return new Promise((resolve) => {
        if (exited) return resolve(undefined);
        const t = setTimeout(() => child.kill("SIGKILL"), 1000);
        child.once("exit", () => { clearTimeout(t); resolve(undefined); });
        try { send(enc.encode("q"), ""); toXS.end(); } catch { child.kill("SIGKILL"); }
      });
    },
    kill() { if (!exited) child.kill("SIGKILL"); },
  };
}
