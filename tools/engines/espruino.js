// The shipped Espruino bundle (dist/espruino/<entry>.js) in the real Espruino interpreter (2v29, the
// Linux build of the source that runs on ESP32; tools/engines/espruino-build.js builds it), loaded the
// way a user loads it: written to Storage, then `require("tinyhub")` (or Modules.addCached).
//
//   1. a temp folder; the bundle's bytes go into its `espruino.flash` (the Linux build's stand-in for
//      the board's flash) as Storage file "tinyhub", by the interpreter itself running
//      `require("Storage").write("tinyhub", atob(...), offset, size)` chunk by chunk, as the Espruino
//      command-line tool and Web IDE upload a file; the test's driver (test/engines/glue-espruino.es5.js)
//      and S helpers (test/engines/session.es5.js) go there too ("drv", "drvS"), so that their code runs
//      from flash and takes few variables;
//   2. `espruino driver.js` there, a two-line file: the driver connects back to a control server here
//      (127.0.0.1, JSON lines), requires the bundle, reports its JsVars, then evaluates what the test
//      sends (at the global scope, as the REPL does) and sends back what the callbacks report;
//   3. the bundle's own Espruino glue (targets/espruino/transport.ts) opens real sockets with the
//      interpreter's `net` / `tls`. Each target the test names ({ mqtt: port, ... }) gets a TCP proxy
//      here (engine.ports[name] is where the engine must connect): host.drop() breaks the link of the
//      newest connection (a reset: the engine sees an error), host.live() counts the open ones.
//
// The Linux build has no usable REPL on a pipe, and its telnet console is fixed to port 2323, so
// parallel tests use the control connection instead. `variant` picks the build ("linux", "esp32",
// "esp8266"; see espruino-build.js); `board` a board's variable count (the driver's and helpers' own
// variables, measured once per build by scaffoldOf, come on top), `variables` the raw count.
// What the interpreter prints when it gives up (OUT OF MEMORY, ASSERT, Uncaught at the top level) and
// its exit become "exception" reports, so host.until() fails at once with the reason.
// TINYHUB_ESPRUINO_GDB=1 runs it under gdb with a backtrace at each failed assertion.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { espruinoBinary } from "./espruino-build.js";
import { createHost } from "./host.js";
import { bundlePath, script } from "./paths.js";

/** Bytes per Storage.write call of the upload (the Espruino tools send about this much per line). */
const CHUNK = 1024, RUN = 4 * CHUNK;
const dec = new TextDecoder("utf-8", { fatal: true });

/** JSON with every non-ASCII character escaped: the line reaches the interpreter as ASCII bytes. @param {any} v */
function asciiJson(v) {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
}

/** Report values: {__utf8: hex} (Bridge.text in the engine) becomes the decoded string, or null when not UTF-8. @param {string} _k @param {any} v */
function revive(_k, v) {
  if (v && typeof v == "object" && typeof v.__utf8 == "string" && Object.keys(v).length == 1) {
    try {
      return dec.decode(Buffer.from(v.__utf8, "hex"));
    } catch {
      return null;
    }
  }
  return v;
}

/**
 * Code as the Espruino IDE uploads it to a build without Unicode strings (ESP32, ESP8266): every character
 * above U+007F in it, written or as a \\u escape (a surrogate pair joined first), becomes the \\xHH escapes
 * of its UTF-8 bytes, so that such a build holds the text as its UTF-8 bytes; \\xHH escapes stay as they are.
 * @param {string} code
 */
export function utf8Source(code) {
  let out = "";
  /** @param {number} cp */
  const bytes = (cp) => [...Buffer.from(String.fromCodePoint(cp), "utf8")].map((b) => "\\x" + b.toString(16).padStart(2, "0")).join("");
  for (let i = 0; i < code.length; i++) {
    const ch = code[i];
    if (ch == "\\") {
      const m = /^u([0-9a-fA-F]{4})/.exec(code.slice(i + 1, i + 6));
      if (!m) {
        out += code.slice(i, i + 2); // \\, \\", \\xHH... as they are
        i++;
        continue;
      }
      let cp = parseInt(m[1], 16), used = 6;
      const lo = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(code.slice(i + 6, i + 12));
      if (cp >= 0xd800 && cp < 0xdc00 && lo) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (parseInt(lo[1], 16) - 0xdc00);
        used = 12;
      }
      out += cp < 0x80 ? code.slice(i, i + used) : bytes(cp);
      i += used - 1;
    } else {
      const cp = /** @type {number} */ (code.codePointAt(i));
      if (cp < 0x80) out += ch;
      else {
        out += bytes(cp);
        if (cp > 0xffff) i++;
      }
    }
  }
  return out;
}

/**
 * Writes Storage files (name -> bytes) into dir/espruino.flash with the interpreter `bin`, as the Espruino tool
 * uploads: `require("Storage").write(name, atob(...), offset, size)` a chunk at a time, one short script per
 * chunk (the flash file stays between runs), so the upload needs a few dozen variables whatever the file's size
 * and works on a board-sized build; then reads them back (length, CRC32).
 * @param {string} bin @param {string} dir @param {Record<string, Buffer>} files @param {Record<string, string>} [env]
 */
export function writeStorage(bin, dir, files, env = {}) {
  /** @param {string} code */
  const run = (code) => {
    writeFileSync(join(dir, "upload.js"), code + "\n");
    const r = spawnSync(bin, ["upload.js"], { cwd: dir, env: { ...process.env, ...env }, encoding: "latin1", timeout: 20000 });
    return { status: r.status, out: `${r.stdout || ""}${r.stderr || ""}` };
  };
  const fail = (/** @type {string} */ why, /** @type {{ status: number | null, out: string }} */ r) =>
    new Error(`writing Storage files ${Object.keys(files).join(", ")} failed (${why}, exit ${r.status}): ${r.out.slice(-1500)}`);
  for (const [name, bytes] of Object.entries(files)) {
    // RUN bytes a run, in CHUNK-byte writes: the script's text (~5.5 KB of base64) fits an ESP8266's 1,600 variables
    for (let at = 0; at < bytes.length; at += RUN) {
      const writes = [];
      for (let off = at; off < Math.min(at + RUN, bytes.length); off += CHUNK) {
        const b64 = bytes.subarray(off, off + CHUNK).toString("base64");
        writes.push(`s.write(${JSON.stringify(name)}, atob("${b64}"), ${off}${off == 0 ? `, ${bytes.length}` : ""});`);
      }
      const r = run(`var s = require("Storage");\n${writes.join("\n")}\nprint("WROTE");`);
      if (!/WROTE/.test(r.out) || /Uncaught|OUT OF MEMORY/.test(r.out)) throw fail(`${name} at ${at}`, r);
    }
  }
  const names = JSON.stringify(Object.keys(files)), sizes = JSON.stringify(Object.values(files).map((b) => b.length));
  const r = run(`var s = require("Storage"), ok = ${names}.map(function (n, i) { var back = s.read(n); return back && back.length == ${sizes}[i] ? E.CRC32(back) : "NOT STORED " + (back && back.length); }); print("STORED " + JSON.stringify(ok));`);
  const m = /STORED (\[.*\])/.exec(r.out);
  if (!m || /NOT STORED/.test(m[1])) throw fail("read back", r);
  const crcs = JSON.parse(m[1]);
  return Object.fromEntries(Object.entries(files).map(([name, bytes], i) => [name, { bytes: bytes.length, crc: crcs[i] }]));
}

/**
 * A TCP proxy per target: the engine connects here, the proxy to 127.0.0.1:port.
 * @param {Record<string, number>} targets
 */
async function startProxies(targets) {
  /** @type {{ client: net.Socket, server: net.Socket, name: string }[]} */
  const pairs = [];
  /** @type {net.Server[]} */
  const servers = [];
  /** @type {Record<string, number>} */
  const ports = {};
  for (const [name, port] of Object.entries(targets)) {
    const srv = net.createServer((client) => {
      const server = net.connect({ host: "127.0.0.1", port });
      const pair = { client, server, name };
      pairs.push(pair);
      const gone = () => {
        const i = pairs.indexOf(pair);
        if (i >= 0) pairs.splice(i, 1);
        client.destroy();
        server.destroy();
      };
      client.setNoDelay(true);
      server.setNoDelay(true);
      client.on("error", gone);
      server.on("error", () => (typeof client.resetAndDestroy == "function" ? client.resetAndDestroy() : client.destroy()));
      client.on("close", gone);
      server.on("close", () => client.end());
      client.pipe(server);
      server.pipe(client);
    });
    await new Promise((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(0, "127.0.0.1", () => resolve(undefined));
    });
    servers.push(srv);
    ports[name] = /** @type {net.AddressInfo} */ (srv.address()).port;
  }
  return {
    ports,
    live: () => pairs.length,
    /** Resets the newest connection towards the engine (RST) and closes its upstream side. */
    drop() {
      const p = pairs.pop();
      if (!p) return false;
      if (typeof p.client.resetAndDestroy == "function") p.client.resetAndDestroy();
      else p.client.destroy();
      p.server.destroy();
      return true;
    },
    async close() {
      for (const p of pairs.splice(0)) {
        p.client.destroy();
        p.server.destroy();
      }
      await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
    },
  };
}

/**
 * Starts the real Espruino interpreter with dist/espruino/<entry>.js loaded as global `tinyhub`.
 * @param {import("./espruino.d.ts").EspruinoOptions} opts
 * @returns {Promise<import("./espruino.d.ts").EspruinoEngine>}
 */
export async function startEspruinoEngine(opts) {
  const variant = opts.variant || "linux";
  const mode = opts.storage === false ? "cached" : opts.entry ? "storage" : "none";
  const bin = await espruinoBinary({ variant });
  // a board's count: the test's own driver and helpers get their variables on top of it
  const scaffold = opts.board ? await scaffoldOf(variant) : 0;
  const variables = opts.board ? opts.board + scaffold : opts.variables;
  const env = variables ? { ESPRUINO_VARIABLES: String(variables) } : {};
  // the board variants have 8-bit strings: their code arrives with its text as UTF-8 bytes, as the IDE sends it
  const eightBit = opts.utf8Source ?? variant != "linux";
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-espruino-"));
  const log = opts.log || (() => {});
  /** @type {import("node:child_process").ChildProcess | null} */
  let child = null;
  let ctlServer = /** @type {net.Server | null} */ (null), proxies = /** @type {Awaited<ReturnType<typeof startProxies>> | null} */ (null);
  const host = createHost({ log: opts.log });
  let output = "", closed = false, exit = /** @type {string | null} */ (null);
  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
  const waiting = new Map();
  let nextId = 0;
  /** @type {net.Socket | null} */
  let ctl = null;

  const cleanup = async () => {
    closed = true;
    host.close();
    if (ctl) ctl.destroy();
    if (child && child.exitCode === null && child.signalCode === null) {
      const c = child;
      await new Promise((r) => {
        c.once("exit", r);
        c.kill("SIGKILL");
      });
    }
    if (ctlServer) await new Promise((r) => /** @type {net.Server} */ (ctlServer).close(() => r(undefined)));
    if (proxies) await proxies.close();
    if (!process.env.TINYHUB_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  };

  try {
    // the driver and the S helpers go to Storage too, so that their code runs from flash as the bundle's
    // does: a board-sized run must not spend its variables on the test's own code
    /** @type {Record<string, Buffer>} */
    const files = {
      drv: Buffer.from(script("glue-espruino.es5.js") + "\nexports.Bridge = Bridge;\n", "latin1"),
      drvS: Buffer.from(script("session.es5.js") + "\nexports.S = S;\n", "latin1"),
    };
    if (opts.entry) files.tinyhub = readFileSync(bundlePath(`dist/espruino/${opts.entry}.js`));
    // uploaded by the same build, a chunk per run as the Espruino tool does (the upload's memory is not the session's)
    const storedFiles = writeStorage(bin, dir, files);
    const stored = opts.entry ? storedFiles.tinyhub : null;
    proxies = await startProxies(opts.targets || {});

    // the control connection: the driver connects once
    /** @type {(s: net.Socket) => void} */
    let accepted = () => {};
    const connected = new Promise((resolve) => (accepted = resolve));
    ctlServer = net.createServer((s) => {
      if (ctl) return s.destroy();
      ctl = s;
      accepted(s);
    });
    await new Promise((resolve, reject) => {
      /** @type {net.Server} */ (ctlServer).once("error", reject);
      /** @type {net.Server} */ (ctlServer).listen(0, "127.0.0.1", () => resolve(undefined));
    });
    const ctlPort = /** @type {net.AddressInfo} */ (ctlServer.address()).port;

    // the Linux build's pool made three blocks big up front (see grow() in the driver): room for two TLS connections
    const grow = opts.grow ?? (variant == "linux" ? 3 * 4096 : 0);
    writeFileSync(
      join(dir, "driver.js"),
      // BARE: what the interpreter holds before anything of the test is loaded
      `var BARE = process.memory().usage, CTL_PORT = ${ctlPort}, MODE = ${JSON.stringify(mode)}, SAMPLE_MS = ${opts.sampleMs || 20}, GROW = ${grow}, tinyhub, S;\n` +
        `var Bridge = require("drv").Bridge;\n`,
    );
    // TINYHUB_ESPRUINO_GDB=1: under gdb, with a backtrace at each failed assertion (the Linux build keeps its asserts)
    const [cmd, args] = process.env.TINYHUB_ESPRUINO_GDB
      ? (writeFileSync(join(dir, "gdb.cmd"), "set pagination off\nbreak jsAssertFail\ncommands\nbt 30\ncontinue\nend\nrun\nbt 30\n"),
        ["gdb", ["-q", "-batch", "-x", "gdb.cmd", "--args", bin, "driver.js"]])
      : [bin, ["driver.js"]];
    const c = (child = spawn(cmd, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] }));
    let partial = "";
    /** @param {Buffer} d */
    const onOutput = (d) => {
      const text = d.toString("latin1");
      output = (output + text).slice(-30000);
      // whole lines only: the console writes a line in pieces, escape sequences between them
      const lines = (partial + text).split("\n");
      partial = /** @type {string} */ (lines.pop());
      for (const line of lines) {
        const l = line.replace(/\x1b\[[0-9;]*[A-Za-z]|\r/g, "").replace(/^>+/, "").trim();
        if (!l) continue;
        log(`espruino: ${l}`);
        // what the interpreter prints when it gives up: a test must see it, not a timeout
        // (an exception in a callback comes as a report through process.on("uncaughtException"))
        if (/OUT OF MEMORY|Execution Interrupted|^Uncaught |ASSERT\(|ASSERT FAILED|EXITING/.test(l)) host.handle({ op: "report", name: "exception", value: `printed by Espruino: ${l}` }, null);
        else if (/^ERROR:|^WARNING:/.test(l)) host.handle({ op: "report", name: "console", value: l }, null);
      }
    };
    c.stdout?.on("data", onOutput);
    c.stderr?.on("data", onOutput);
    const exited = new Promise((resolve) => {
      c.on("exit", (code, signal) => {
        exit = signal ? `killed by ${signal}` : `exit ${code}`;
        for (const w of waiting.values()) w.reject(new Error(`the interpreter ended (${exit}) before answering; output:\n${tail(output)}`));
        waiting.clear();
        if (!closed) host.handle({ op: "report", name: "exception", value: `the interpreter ended (${exit}); output:\n${tail(output)}` }, null);
        resolve(undefined);
      });
    });

    const sock = /** @type {net.Socket} */ (await Promise.race([
      connected,
      exited.then(() => { throw new Error(`espruino ${opts.entry || ""} ended (${exit}) before connecting back; output:\n${tail(output)}`); }),
      timeout(10000, () => `espruino did not connect back within 10 s; output:\n${tail(output)}`),
    ]));

    /** @type {(v: any) => void} */
    let onReady = () => {};
    /** @type {(e: Error) => void} */
    let onFail = () => {};
    const ready = new Promise((resolve, reject) => { onReady = resolve; onFail = reject; });
    let inbuf = "";
    sock.setEncoding("latin1");
    sock.on("data", (d) => {
      inbuf += d;
      let i;
      while ((i = inbuf.indexOf("\n")) >= 0) {
        const line = inbuf.slice(0, i);
        inbuf = inbuf.slice(i + 1);
        let m;
        try {
          m = JSON.parse(line, revive);
        } catch (e) {
          host.reports.push({ name: "exception", value: `bad line from the driver: ${line.slice(0, 200)}`, at: Date.now() });
          continue;
        }
        if (m.op == "report") host.handle({ op: "report", name: m.name, value: m.value }, null);
        else if (m.op == "result") {
          const w = waiting.get(m.id);
          waiting.delete(m.id);
          if (w && m.error !== undefined) w.reject(new Error(`exception in Espruino: ${m.error}`));
          else if (w) w.resolve(m.value);
        } else if (m.op == "ready") onReady(m.figures);
        else if (m.op == "failed") onFail(new Error(`loading dist/espruino/${opts.entry}.js in Espruino (${mode}) failed: ${m.error}\noutput:\n${tail(output)}`));
      }
    });
    sock.on("error", () => {});

    const figures = await Promise.race([
      ready,
      exited.then(() => { throw new Error(`espruino ended (${exit}) while loading dist/espruino/${opts.entry}.js; output:\n${tail(output)}`); }),
      timeout(10000, () => `dist/espruino/${opts.entry}.js did not load within 10 s; output:\n${tail(output)}`),
    ]);
    // a load that printed an error (a SyntaxError reported by the lexer is printed, not thrown) is a failed load
    const printed = host.reports.filter((r) => r.name == "exception");
    if (opts.entry && (printed.length || !figures.exports.length))
      throw new Error(`loading dist/espruino/${opts.entry}.js in Espruino (${mode}) failed: exports ${JSON.stringify(figures.exports)}; ${printed.map((r) => r.value).join(" | ")}\noutput:\n${tail(output)}`);

    /** @param {string} code @param {number} [ms] */
    const evaluate = (code, ms = 10000) => {
      if (closed || exit) return Promise.reject(new Error(`the interpreter is not running (${exit || "closed"}); output:\n${tail(output)}`));
      const id = ++nextId;
      return new Promise((resolve, reject) => {
        // an interpreter that stops answering (out of memory, a busy loop) fails the call, with what it printed
        const t = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`no answer from Espruino within ${ms} ms to ${code.slice(0, 120)}; reports ${JSON.stringify(host.reports.slice(-5).map((r) => [r.name, r.value]))}; output:\n${tail(output)}`));
        }, ms);
        waiting.set(id, {
          resolve: (v) => { clearTimeout(t); resolve(v); },
          reject: (e) => { clearTimeout(t); reject(e); },
        });
        sock.write(asciiJson({ op: "eval", id, code: eightBit ? utf8Source(code) : code }) + "\n");
      });
    };

    const px = proxies;
    host.live = () => ({ sockets: px.live(), timers: 0 });
    host.drop = () => px.drop();

    if (opts.helpers !== false) {
      await evaluate('S = require("drvS").S; 1');
      // the S helpers' own JsVars: left out of the session figures with the driver's (`base`)
      figures.helpers = (await evaluate("Bridge.usage()")) - figures.loaded;
    } else figures.helpers = 0;
    figures.board = opts.board || null;
    figures.scaffold = figures.base - figures.bare + figures.helpers;

    return {
      engine: "espruino",
      ownGlue: true,
      variant,
      host,
      ports: px.ports,
      pid: c.pid,
      dir,
      stored,
      atLoad: figures,
      eval: evaluate,
      memory: () => evaluate("Bridge.memory()"),
      output: () => output,
      async close() {
        if (closed) return;
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** @type {Map<string, Promise<number>>} */
const scaffolds = new Map();

/**
 * Variables the test's driver and S helpers take in `variant` beyond the bare interpreter (measured once:
 * nothing loaded, all the build's variables).
 * @param {string} variant
 */
export function scaffoldOf(variant) {
  let p = scaffolds.get(variant);
  if (!p) {
    p = (async () => {
      const e = await startEspruinoEngine({ variant: /** @type {any} */ (variant) });
      try {
        return e.atLoad.scaffold;
      } finally {
        await e.close();
      }
    })();
    scaffolds.set(variant, p);
    p.catch(() => scaffolds.delete(variant));
  }
  return p;
}

/** @param {string} s */
function tail(s) {
  return s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").split("\n").filter((l) => l.trim() && !/^(\s*_|\||\s+\|_\||Espruino is Open|only by sales|http:\/\/espruino|\s*\^\s*$)/.test(l)).slice(-25).join("\n");
}

/** @param {number} ms @param {() => string} why @returns {Promise<never>} */
function timeout(ms, why) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(why())), ms).unref());
}
