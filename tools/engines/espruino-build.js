#!/usr/bin/env node
// Builds the real Espruino interpreter (2v29, the Linux target of the same source that runs on
// ESP32 and Espruino boards) from the read-only source in ../shared/engines/espruino (or
// TINYHUB_ENGINES/espruino) into a cache outside the clone:
//
//   ~/.cache/tinyhub/espruino-<variant>-<hash>/bin/espruino
//
// <hash> covers the source tree, the variant's patches and board file (and RECIPE), so a rerun
// is instant and any change rebuilds. The source is copied (it is read-only in CI), patched for the
// variant, made a git work tree with one commit (Espruino's scripts run `git log` for the
// version), then `make -j2` with the variant's BOARD. Set TINYHUB_CACHE to use another cache root.
//
// Variants:
//   linux    boards/LINUX.py unchanged: what `BOARD=LINUX make` gives (variables allocated in blocks
//            of 4096 as needed, ESPR_UNICODE_SUPPORT, mbedTLS buffers taken from the variable pool)
//   esp32    tools/engines/espruino/TINYHUB_ESP32.py: the JsVar format of an ESP32 build (16383
//            variables, 14-bit references), no Unicode, mbedTLS allocating outside the pool as
//            ESP-IDF's TLS does; ESPRUINO_VARIABLES=<n> in the environment sets the count at run time;
//            RELEASE=1 as board firmware (no asserts)
//   esp8266  tools/engines/espruino/TINYHUB_ESP8266.py: an ESP8266's JsVar format (11-bit references as
//            its 1,600 variables have; up to 2,047), no Unicode, no TLS; ESPRUINO_VARIABLES sets the count;
//            RELEASE=1
//
// CLI: node tools/engines/espruino-build.js [--variant linux|esp32|esp8266 | --all]  prints the binary path(s)
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");

/** The engine sources: TINYHUB_ENGINES or <repo>/../shared/engines. */
export const ENGINES = process.env.TINYHUB_ENGINES ? resolve(process.env.TINYHUB_ENGINES) : join(ROOT, "..", "shared", "engines");
export const SOURCE = join(ENGINES, "espruino");
const CACHE = process.env.TINYHUB_CACHE ? resolve(process.env.TINYHUB_CACHE) : join(homedir(), ".cache", "tinyhub");

/** Bump when the build steps below change in a way that changes the binary. */
const RECIPE = "1: copy, patch, git commit, make -j2 BOARD=<board>";

/**
 * A source patch: in `file`, `find` (which must occur exactly once, or at least once with `all`) becomes `replace`.
 * @typedef {{ file: string, find: string, replace: string, all?: boolean, why: string }} Patch
 */

/** Run-time variable count (JSVAR_MALLOC builds): ESPRUINO_VARIABLES=<n>, at most the board's count. @type {Patch} */
const RUNTIME_VARIABLES = {
  file: "targets/linux/main.c",
  find: "#define TEST_DIR \"tests/\"\n",
  replace:
    "#define TEST_DIR \"tests/\"\n" +
    "\n" +
    "// tinyhub: ESPRUINO_VARIABLES=<n> sets the number of variables (JSVAR_MALLOC builds, n <= JSVAR_CACHE_SIZE)\n" +
    "#ifdef JSVAR_MALLOC\n" +
    "static unsigned int tinyhubVariables(void) {\n" +
    "  const char *v = getenv(\"ESPRUINO_VARIABLES\");\n" +
    "  int n = v ? atoi(v) : 0;\n" +
    "  return (n > 0 && n <= JSVAR_CACHE_SIZE) ? (unsigned int)n : JSVAR_CACHE_SIZE;\n" +
    "}\n" +
    "#define JSVAR_CACHE_SIZE_AT_RUN tinyhubVariables()\n" +
    "#else\n" +
    "#define JSVAR_CACHE_SIZE_AT_RUN JSVAR_CACHE_SIZE\n" +
    "#endif\n",
  why: "one binary for every board size: the count is read when the interpreter starts",
};

/** Every start-up (`espruino file.js`, `-e`, the REPL) initialises the variables with the run-time count. @type {Patch} */
const RUNTIME_VARIABLES_USE = {
  file: "targets/linux/main.c",
  find: "jsvInit(JSVAR_CACHE_SIZE);",
  replace: "jsvInit(JSVAR_CACHE_SIZE_AT_RUN);",
  all: true,
  why: "as above",
};

/** mbedTLS allocates from the C heap, not from the variable pool (as ESP-IDF's TLS on an ESP32). @type {Patch} */
const TLS_OUTSIDE_POOL = {
  file: "libs/crypto/mbedtls/config.h",
  find: "#define MBEDTLS_PLATFORM_CALLOC_MACRO(X,Y) jsvMalloc((X)*(Y))\n#define MBEDTLS_PLATFORM_FREE_MACRO(X) jsvFree(X)\n",
  replace: "#include <stdlib.h> /* tinyhub: TLS memory outside the variable pool, as on ESP32 (ESP-IDF's mbedTLS) */\n#define MBEDTLS_PLATFORM_CALLOC_MACRO calloc\n#define MBEDTLS_PLATFORM_FREE_MACRO free\n",
  why: "ESP32 builds take TLS record buffers (~33 KB) from the system heap; the Linux build takes them from JsVars",
};

/**
 * release: RELEASE=1 (no asserts, as board firmware is built: an internal inconsistency goes on instead of
 * stopping the interpreter with "ASSERT ... EXITING"); the linux variant keeps Espruino's asserts.
 * @type {Record<string, { board: string, boardFile: string | null, patches: Patch[], release: boolean, about: string }>}
 */
export const VARIANTS = {
  linux: { board: "LINUX", boardFile: null, patches: [], release: false, about: "boards/LINUX.py as shipped" },
  esp32: {
    board: "TINYHUB_ESP32",
    boardFile: join(HERE, "espruino", "TINYHUB_ESP32.py"),
    release: true,
    patches: [RUNTIME_VARIABLES, RUNTIME_VARIABLES_USE, TLS_OUTSIDE_POOL],
    about: "ESP32-shaped: 16383-variable JsVar format (count set by ESPRUINO_VARIABLES), no Unicode, TLS outside the pool",
  },
  esp8266: {
    board: "TINYHUB_ESP8266",
    boardFile: join(HERE, "espruino", "TINYHUB_ESP8266.py"),
    release: true,
    patches: [RUNTIME_VARIABLES, RUNTIME_VARIABLES_USE],
    about: "ESP8266-shaped: the JsVar format of 1,600 variables (up to 2,047, count set by ESPRUINO_VARIABLES), no Unicode, no TLS",
  },
};

/** Files of a tree, sorted, as paths relative to it (build products and .git skipped). @param {string} dir */
function files(dir) {
  /** @type {string[]} */
  const out = [];
  /** @param {string} d */
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const rel = relative(dir, p);
      if (rel == ".git" || rel == "gen" || rel == "bin" || rel == "obj") continue;
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push(rel);
    }
  };
  walk(dir);
  return out;
}

/** Hash of the source tree (paths and contents), cached per process. */
let sourceHash = "";
function hashSource() {
  if (sourceHash) return sourceHash;
  if (!existsSync(join(SOURCE, "Makefile"))) throw new Error(`Espruino source not found at ${SOURCE} (set TINYHUB_ENGINES to the folder holding espruino/)`);
  const h = createHash("sha256");
  for (const rel of files(SOURCE)) {
    h.update(rel + "\0");
    h.update(readFileSync(join(SOURCE, rel)));
    h.update("\0");
  }
  return (sourceHash = h.digest("hex"));
}

/** The cache directory of a variant (not necessarily built yet). @param {string} variant */
export function espruinoDir(variant = "linux") {
  const v = VARIANTS[variant];
  if (!v) throw new Error(`unknown Espruino variant ${JSON.stringify(variant)} (${Object.keys(VARIANTS).join(", ")})`);
  const h = createHash("sha256");
  h.update(hashSource());
  h.update(JSON.stringify({ RECIPE, variant, board: v.board, release: v.release, patches: v.patches }));
  if (v.boardFile) h.update(readFileSync(v.boardFile));
  return join(CACHE, `espruino-${variant}-${h.digest("hex").slice(0, 16)}`);
}

/** @param {string} cmd @param {string[]} args @param {string} cwd @param {string} logFile @param {Record<string, string>} env */
function run(cmd, args, cwd, logFile, env) {
  return new Promise((resolvePromise, reject) => {
    const c = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    /** @type {Buffer[]} */
    const out = [];
    c.stdout.on("data", (d) => out.push(d));
    c.stderr.on("data", (d) => out.push(d));
    c.on("error", reject);
    c.on("close", (code) => {
      const text = Buffer.concat(out).toString();
      writeFileSync(logFile, text, { flag: "a" });
      if (code == 0) resolvePromise(text);
      else reject(new Error(`${cmd} ${args.join(" ")} failed (exit ${code}) in ${cwd}; log ${logFile}:\n${text.split("\n").slice(-25).join("\n")}`));
    });
  });
}

/** @type {Map<string, Promise<string>>} */
const building = new Map();

/**
 * The path of the built interpreter for `variant` (default "linux"), building it first when the
 * cache has none (about 25 s on 2 cores for linux, less for the trimmed board variants).
 * @param {{ variant?: string, log?: (line: string) => void }} [o]
 * @returns {Promise<string>}
 */
export function espruinoBinary(o = {}) {
  const variant = o.variant || "linux";
  const dir = espruinoDir(variant);
  const bin = join(dir, "bin", "espruino");
  if (existsSync(join(dir, ".built"))) return Promise.resolve(bin);
  let p = building.get(dir);
  if (!p) {
    p = build(variant, dir, o.log || (() => {}));
    building.set(dir, p);
    p.catch(() => building.delete(dir));
  }
  return p;
}

/** @param {string} variant @param {string} dir @param {(line: string) => void} log */
async function build(variant, dir, log) {
  const v = VARIANTS[variant];
  const started = Date.now();
  mkdirSync(CACHE, { recursive: true });
  // built beside the final place and renamed into it: a concurrent or interrupted build never leaves half a tree there
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  rmSync(tmp, { recursive: true, force: true });
  const logFile = `${tmp}.log`;
  log(`espruino-build: ${variant} (${v.about}) in ${dir}`);
  try {
    cpSync(SOURCE, tmp, { recursive: true });
    execFileSync("chmod", ["-R", "u+w", tmp]);
    if (v.boardFile) cpSync(v.boardFile, join(tmp, "boards", `${v.board}.py`));
    for (const p of v.patches) {
      const f = join(tmp, p.file);
      const text = readFileSync(f, "utf8");
      const n = text.split(p.find).length - 1;
      if (n == 0 || (n > 1 && !p.all)) throw new Error(`patch for ${p.file} (${p.why}): the text to replace is there ${n} times`);
      chmodSync(f, 0o644);
      writeFileSync(f, text.split(p.find).join(p.replace));
    }
    mkdirSync(join(tmp, "gen"), { recursive: true });
    mkdirSync(join(tmp, "bin"), { recursive: true });
    const git = { GIT_AUTHOR_NAME: "tinyhub", GIT_AUTHOR_EMAIL: "tinyhub@localhost", GIT_COMMITTER_NAME: "tinyhub", GIT_COMMITTER_EMAIL: "tinyhub@localhost", GIT_CONFIG_NOSYSTEM: "1" };
    await run("git", ["init", "-q"], tmp, logFile, git);
    await run("git", ["add", "-A"], tmp, logFile, git);
    await run("git", ["-c", "commit.gpgsign=false", "commit", "-q", "-m", `Espruino 2v29 source for tinyhub (${variant})`], tmp, logFile, git);
    await run("make", ["-j2"], tmp, logFile, v.release ? { BOARD: v.board, RELEASE: "1" } : { BOARD: v.board });
    if (!existsSync(join(tmp, "bin", "espruino"))) throw new Error(`make finished but ${tmp}/bin/espruino is missing; log ${logFile}`);
    // only the binary and what explains it stay: the object files are 100+ MB
    rmSync(join(tmp, "obj"), { recursive: true, force: true });
    writeFileSync(join(tmp, ".built"), JSON.stringify({ variant, board: v.board, about: v.about, source: SOURCE, seconds: (Date.now() - started) / 1000 }) + "\n");
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // another process finished the same build first: use its copy
      if (!existsSync(join(dir, ".built"))) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
    rmSync(logFile, { force: true });
    // older builds of this variant (another source or recipe) go
    for (const name of readdirSync(CACHE)) {
      if (new RegExp(`^espruino-${variant}-[0-9a-f]{16}$`).test(name) && join(CACHE, name) != dir) rmSync(join(CACHE, name), { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  log(`espruino-build: ${variant} built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return join(dir, "bin", "espruino");
}

if (process.argv[1] && resolve(process.argv[1]) == fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf("--variant");
  const variants = args.includes("--all") ? Object.keys(VARIANTS) : [i >= 0 ? args[i + 1] : "linux"];
  const log = (/** @type {string} */ l) => console.error(l);
  try {
    for (const variant of variants) console.log(await espruinoBinary({ variant, log }));
  } catch (e) {
    console.error(/** @type {Error} */ (e).message);
    process.exit(1);
  }
}
