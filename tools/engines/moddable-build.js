// Builds the Moddable SDK tools for a headless Linux host, once, into a cache outside the clone:
//
//   node tools/engines/moddable-build.js          build (or find) ~/.cache/tinyhub/moddable-<hash>/, print it
//   node tools/engines/moddable-build.js --env    the same, then print `export MODDABLE=... PATH=...` lines
//
// The source is the read-only Moddable SDK 8.2.3 tree in ../shared/engines/moddable (TINYHUB_ENGINES
// overrides ../shared/engines); <hash> is a hash of that tree and of this script's BUILD_VERSION, so an
// unchanged source is found again instantly (mclaunch is compiled beside it, named by its own hash). Steps (about 70 s on 2 cores):
// copy the tree, `make GOAL=release -f $XS_DIR/makefiles/lin/{xsc,xsid,xsl}.mk` and
// `make GOAL=release -f tools.mk` in build/makefiles/lin (mcconfig, mcrez... but not xsbug, which needs
// GTK), then compile mclaunch (tools/engines/mclaunch.c, the headless GLib launcher for an app's mc.so)
// into <cache>/moddable-<hash>/mclaunch/.
// Needs gcc, make, pkg-config and libglib2.0-dev.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ROOT } from "./paths.js";

/** Bumped when the build steps change (a new cache directory). */
const BUILD_VERSION = 1;
const MCLAUNCH = join(ROOT, "tools", "engines", "mclaunch.c");

/** ../shared/engines (or TINYHUB_ENGINES). */
export function enginesDir() {
  return process.env.TINYHUB_ENGINES ? process.env.TINYHUB_ENGINES : join(ROOT, "..", "shared", "engines");
}

/** ~/.cache/tinyhub (or TINYHUB_CACHE). */
export function cacheRoot() {
  return process.env.TINYHUB_CACHE || join(homedir(), ".cache", "tinyhub");
}

/** Every file of a tree (sorted relative paths). @param {string} dir */
function files(dir) {
  /** @type {string[]} */
  const out = [];
  const walk = (/** @type {string} */ d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() || e.isSymbolicLink()) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** A hash of the source tree and the build steps. @param {string} src */
export function sourceHash(src) {
  const h = createHash("sha256");
  h.update(`tinyhub moddable build ${BUILD_VERSION}\n`);
  for (const f of files(src)) {
    h.update(f + "\0");
    h.update(readFileSync(join(src, f)));
    h.update("\0");
  }
  return h.digest("hex").slice(0, 16);
}

/**
 * Runs a command; resolves with its output, rejects with the tail of it.
 * @param {string} cmd @param {string[]} args @param {{ cwd?: string, env?: NodeJS.ProcessEnv, log?: (s: string) => void }} o
 * @returns {Promise<string>}
 */
export function run(cmd, args, o = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: o.cwd, env: o.env || process.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const take = (/** @type {Buffer} */ b) => {
      out += b.toString();
      if (o.log) o.log(b.toString());
    };
    p.stdout.on("data", take);
    p.stderr.on("data", take);
    p.on("error", reject);
    p.on("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(" ")} (in ${o.cwd || "."}) exited with ${code}:\n${out.split("\n").slice(-40).join("\n")}`));
    });
  });
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** Is process `pid` alive? @param {number} pid */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return /** @type {any} */ (e).code == "EPERM";
  }
}

/**
 * Holds a lock directory while `fn` runs (other processes building the same thing wait). A lock whose
 * holder (its pid file) is gone, or older than `staleMs`, is taken over.
 * @template T @param {string} path @param {() => Promise<T>} fn @param {number} [staleMs]
 * @returns {Promise<T>}
 */
export async function withLock(path, fn, staleMs = 20 * 60 * 1000) {
  for (;;) {
    try {
      mkdirSync(path);
      writeFileSync(join(path, "pid"), String(process.pid));
      break;
    } catch (e) {
      if (/** @type {any} */ (e).code != "EEXIST") throw e;
      try {
        const pid = existsSync(join(path, "pid")) ? Number(readFileSync(join(path, "pid"), "utf8")) : 0;
        const age = Date.now() - statSync(path).mtimeMs;
        if (age > staleMs || (pid && !alive(pid)) || (!pid && age > 5000)) rmSync(path, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      await sleep(300);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

/**
 * @typedef {{ dir: string, bin: string, mclaunch: string, hash: string, env: Record<string, string>, built: boolean, ms: number }} ModdableTools
 */

/** The environment mcconfig needs: MODDABLE, and the tools on PATH. @param {string} dir */
export function moddableEnv(dir) {
  const bin = join(dir, "build", "bin", "lin", "release");
  return { MODDABLE: dir, PATH: `${bin}:${process.env.PATH || "/usr/bin:/bin"}` };
}

/**
 * The Moddable tools built from ../shared/engines/moddable, from the cache when they are there.
 * @param {{ log?: (s: string) => void, output?: (s: string) => void }} [o] `log`: the steps; `output`: what the commands print
 * @returns {Promise<ModdableTools>}
 */
export async function buildModdable(o = {}) {
  const started = Date.now();
  const src = join(enginesDir(), "moddable");
  if (!existsSync(join(src, "xs"))) throw new Error(`no Moddable source in ${src} (set TINYHUB_ENGINES to the folder holding moddable/)`);
  const hash = sourceHash(src);
  const root = cacheRoot();
  mkdirSync(root, { recursive: true });
  const dir = join(root, `moddable-${hash}`);
  const stamp = join(dir, ".tinyhub-built.json");
  const bin = join(dir, "build", "bin", "lin", "release");
  const launcher = join(dir, "mclaunch", `mclaunch-${createHash("sha256").update(readFileSync(MCLAUNCH)).digest("hex").slice(0, 12)}`);
  const result = (/** @type {boolean} */ built) => ({ dir, bin, mclaunch: launcher, hash, env: moddableEnv(dir), built, ms: Date.now() - started });
  if (existsSync(stamp) && existsSync(launcher)) return result(false);
  const log = o.log || (() => {});
  // mclaunch: the GLib launcher of an app's mc.so (tools/engines/mclaunch.c), against screen.h of this tree
  const compileLauncher = async () => {
    log("cc mclaunch\n");
    mkdirSync(join(dir, "mclaunch"), { recursive: true });
    const glib = (await run("pkg-config", ["--cflags", "--libs", "glib-2.0"])).trim().split(/\s+/);
    await run("cc", ["-O2", "-Wall", "-DmxLinux=1", `-I${join(dir, "build", "simulators", "modules")}`, "-o", launcher + ".tmp", MCLAUNCH, ...glib, "-ldl"], { log: o.output });
    renameSync(launcher + ".tmp", launcher);
  };
  return withLock(`${dir}.lock`, async () => {
    if (existsSync(stamp)) {
      if (!existsSync(launcher)) await compileLauncher();
      return result(false);
    }
    rmSync(dir, { recursive: true, force: true });
    log(`copying ${src} to ${dir}\n`);
    cpSync(src, dir, { recursive: true });
    // the source may be read-only (CI lays it without write bits): the build writes into the copy
    const writable = (/** @type {string} */ d) => {
      chmodSync(d, 0o755);
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) writable(p);
        else if (e.isFile()) chmodSync(p, statSync(p).mode | 0o200);
      }
    };
    writable(dir);
    const env = { ...process.env, ...moddableEnv(dir), XS_DIR: join(dir, "xs"), BUILD_DIR: join(dir, "build") };
    const cwd = join(dir, "build", "makefiles", "lin");
    for (const tool of ["xsc", "xsid", "xsl"]) {
      log(`make ${tool}\n`);
      await run("make", ["GOAL=release", "-j2", "-f", join(dir, "xs", "makefiles", "lin", `${tool}.mk`)], { cwd, env, log: o.output });
    }
    log("make tools\n");
    await run("make", ["GOAL=release", "-j2", "-f", "tools.mk"], { cwd, env, log: o.output });
    for (const tool of ["xsc", "xsl", "mcconfig", "mcrez"])
      if (!existsSync(join(bin, tool))) throw new Error(`the Moddable build made no ${tool} in ${bin}`);
    await compileLauncher();
    const r = result(true);
    writeFileSync(stamp, JSON.stringify({ hash, source: src, built: new Date().toISOString(), ms: r.ms }, null, 2) + "\n");
    return r;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const verbose = process.argv.includes("--verbose");
  const write = (/** @type {string} */ s) => process.stderr.write(s);
  buildModdable({ log: write, output: verbose ? write : undefined }).then(
    (m) => {
      if (process.argv.includes("--env")) for (const [k, v] of Object.entries(m.env)) console.log(`export ${k}=${JSON.stringify(v)}`);
      else console.log(`moddable tools ${m.built ? "built" : "cached"} in ${(m.ms / 1000).toFixed(1)} s: MODDABLE=${m.dir}`);
    },
    (e) => {
      console.error(String(e && e.stack || e));
      process.exit(1);
    },
  );
}
