// `tinyhub flash espruino --port /dev/ttyUSB0|tcp://host:port|aa:bb:cc:dd:ee:ff [--bundle hub] [--save] app.js`:
// writes a tinyhub bundle to the board's Storage as the file "tinyhub" and the app beside it, then runs
// the app, which `require("tinyhub")`s the bundle from flash (its functions run from flash, not RAM).
//
// The upload is done by the official Espruino command-line tool (npm package `espruino`, the code of
// the Web IDE), which speaks serial, Bluetooth LE and TCP (a board's or the Linux build's telnet
// console). What we ask of it (see `plan`):
//   - `--storage tinyhub:<bundle> --storage <name>:<app>`: both files go to Storage byte for byte
//     (`require("Storage").write(name, atob(...), offset)`, 384 bytes a line). The app is never
//     uploaded as code, so the tool never scans it for `require()` and never resolves "tinyhub"
//     itself (a module it found, locally or on espruino.com, would be sent with Modules.addCached,
//     which the board's require() prefers to the Storage file);
//   - a small code file of ours: after the tool's `reset()` and the writes, it prints the length
//     and CRC32 of each stored file (checked here against the local files), then `load(<name>)`
//     (or `load()` with --save: the app is `.bootcde` and runs at every boot);
//   - `--board <json>` (built-in modules listed) so the tool neither queries `process.env` nor
//     downloads board data from espruino.com; `--config MODULE_URL=` so it fetches no module;
//     `--no-ble` unless the port is a Bluetooth address; `-t` sets the board's clock (SAS tokens
//     need the time);
//   - over TCP, `SERIAL_THROTTLE_SEND=2` and `STORAGE_UPLOAD_METHOD=1`: no pauses, TCP's own flow
//     control is enough (Espruino reads the socket only when its input buffer has room). Over
//     serial and Bluetooth the tool's defaults stay: small writes and a 250 ms pause after each
//     Storage.write line, since XON/XOFF comes too late on a UART to stop lost bytes.
// The tool exits 0 even when the board crashed or refused a line, so its output is checked here:
// any "Uncaught", "ASSERT", "Unable to connect" or a stored file whose length or CRC differs fails.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

export const summary = "write a bundle + app to an Espruino board's Storage: tinyhub flash espruino --port /dev/ttyUSB0|tcp://host:port [--bundle hub] [--save] app.js";

const DIST = fileURLToPath(new URL("../dist/espruino/", import.meta.url));
const require = createRequire(import.meta.url);

/** The Storage file the bundle is written to: the app's `require("tinyhub")` finds it there. */
export const MODULE_FILE = "tinyhub";
/** Espruino's limit on a Storage file name (2v29). */
const NAME_MAX = 28;
/** The line the board prints for each stored file: `tinyhub-flash stored "<name>" <length> <crc32>`. */
const STORED = /tinyhub-flash stored "([^"]*)" (-?\d+) (\d+|-)/;
/** Board output that means the upload or the app failed. */
const FAILED = /Uncaught|ASSERT\(|HARD RESET|Out of Memory|Prompt not detected/;

/** The command-line tool's script (node_modules/espruino/bin/espruino-cli.js). */
export function espruinoCli() {
  return require.resolve("espruino/bin/espruino-cli.js");
}

/** How the tool reaches the board: "tcp" (tcp://host[:port]), "ble" (a Bluetooth address) or "serial". @param {string} port */
export function portKind(port) {
  if (/^tcp:\/\//i.test(port)) return "tcp";
  if (/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(port)) return "ble";
  return "serial";
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE, as Espruino's E.CRC32) of bytes, unsigned. @param {Uint8Array} bytes */
export function crc32(bytes) {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 255] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * What to run: the tool's arguments (relative to a work folder) and the files to put in that folder.
 * @param {{ port: string, bundle: Uint8Array, app?: Uint8Array | null, appName?: string, save?: boolean, baud?: number, verbose?: boolean }} o
 * @returns {{ args: string[], files: Record<string, Uint8Array | string>, stored: Record<string, { length: number, crc: number }>, appFile: string | null }}
 */
export function plan(o) {
  const kind = portKind(o.port);
  const app = o.app || null;
  if (o.save && !app) throw new Error("--save needs an app: it is stored as .bootcde");
  const appFile = app ? (o.save ? ".bootcde" : o.appName || "app.js") : null;
  if (appFile && (appFile.length > NAME_MAX || appFile == MODULE_FILE || !/^[\w.-]+$/.test(appFile)))
    throw new Error(`the app's Storage name ${JSON.stringify(appFile)} must be 1-${NAME_MAX} letters, digits, '.', '_' or '-', and not "${MODULE_FILE}"`);
  /** @type {Record<string, Uint8Array | string>} */
  const files = { "bundle.js": o.bundle, "board.json": JSON.stringify({ info: { builtin_modules: ["Storage"] } }) + "\n" };
  const stored = { [MODULE_FILE]: { length: o.bundle.length, crc: crc32(o.bundle) } };
  const args = ["-p", o.port, "--board", "board.json", "--config", "MODULE_URL=", "-t", "--storage", `${MODULE_FILE}:bundle.js`];
  if (app && appFile) {
    files["app.js"] = app;
    stored[appFile] = { length: app.length, crc: crc32(app) };
    args.push("--storage", `${appFile}:app.js`);
  }
  if (kind != "ble") args.push("--no-ble");
  if (kind == "serial") args.push("-b", String(o.baud || 115200));
  if (kind == "tcp") args.push("--config", "SERIAL_THROTTLE_SEND=2", "--config", "STORAGE_UPLOAD_METHOD=1");
  if (o.verbose) args.push("-v");
  // sent after the tool's reset() and Storage writes: one statement a line, as the REPL takes it
  files["upload.js"] =
    `(function(){var S=require("Storage");${JSON.stringify(Object.keys(stored))}.forEach(function(n){var s=S.read(n);` +
    `print("tinyhub-flash stored "+JSON.stringify(n)+" "+(s?s.length:-1)+" "+(s&&E.CRC32?E.CRC32(s)>>>0:"-"));});})();\n` +
    (appFile ? (o.save ? "load();\n" : `load(${JSON.stringify(appFile)});\n`) : "");
  args.push("upload.js");
  return { args, files, stored, appFile };
}

/**
 * Checks the tool's output: the board's lines ("--] " stripped), and an error message when the upload
 * failed (null when every file arrived intact and nothing failed).
 * @param {string} out the tool's stdout and stderr
 * @param {Record<string, { length: number, crc: number }>} stored
 */
export function check(out, stored) {
  // eslint-disable-next-line no-control-regex
  const clean = out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
  const board = clean.split("\n").filter((l) => l.startsWith("--] ")).map((l) => l.slice(4));
  /** @param {string} why */
  const fail = (why) => ({ board, error: why });
  if (/Unable to connect!/.test(clean) || !/\nConnected\n/.test("\n" + clean)) return fail(`could not connect to the board: ${clean.trim().split("\n").slice(-3).join(" / ")}`);
  const bad = board.find((l) => FAILED.test(l)) || clean.split("\n").find((l) => /Prompt not detected|RECEIVE ERROR/.test(l));
  if (bad) return fail(`the board said: ${bad.trim()}`);
  for (const [name, want] of Object.entries(stored)) {
    const line = board.map((l) => STORED.exec(l)).find((m) => m && m[1] == name);
    if (!line) return fail(`the board did not confirm Storage file "${name}" (upload cut short?)`);
    if (+line[2] != want.length) return fail(`Storage file "${name}" has ${line[2]} bytes on the board, ${want.length} sent`);
    if (line[3] != "-" && +line[3] != want.crc) return fail(`Storage file "${name}" arrived corrupted (CRC32 ${line[3]} on the board, ${want.crc} sent)`);
  }
  return { board, error: /** @type {string | null} */ (null) };
}

/**
 * Runs the tool in a temporary folder; resolves with its output once it exits (it exits by itself
 * half a second after the board goes quiet; after `listen` ms past the upload it is stopped).
 * @param {string[]} args @param {Record<string, Uint8Array | string>} files
 * @param {{ timeout?: number, listen?: number, onLine?: (line: string) => void }} [o]
 */
export function runCli(args, files, { timeout = 120000, listen = 3000, onLine = () => {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-flash-"));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [espruinoCli(), ...args], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let partial = "";
    /** @type {NodeJS.Timeout | undefined} */
    let stop;
    const kill = () => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL");
    const timer = setTimeout(() => {
      out += `\ntinyhub: no end of upload within ${timeout / 1000} s\n`;
      kill();
    }, timeout);
    /** @param {Buffer} d */
    const take = (d) => {
      const s = d.toString("latin1");
      out += s;
      partial += s;
      const lines = partial.split("\n");
      partial = lines.pop() || "";
      for (const l of lines) onLine(l);
      // the upload is done: keep showing the app's output a little, then let go
      if (!stop && /Upload Complete/.test(out)) stop = setTimeout(kill, listen);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", (e) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(stop);
      if (partial) onLine(partial);
      rmSync(dir, { recursive: true, force: true });
      resolve({ out, code, signal });
    });
  });
}

/** The bundle file for --bundle: a name in dist/espruino/ or a path to a .js file. @param {string} bundle */
export function bundleFile(bundle) {
  return /[\\/]|\.js$/.test(bundle) ? bundle : `${DIST}${bundle}.js`;
}

export async function run(/** @type {string[]} */ args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      port: { type: "string", short: "p" },
      bundle: { type: "string", default: "hub" },
      baud: { type: "string", default: "115200" },
      save: { type: "boolean" },
      name: { type: "string" },
      timeout: { type: "string", default: "120" },
      verbose: { type: "boolean", short: "v" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [target, app] = positionals;
  if (values.help || target !== "espruino" || !values.port || (values.save && !app)) {
    console.log(`usage: tinyhub flash espruino --port <port> [--bundle mqtt|hub|dps|hub-ws|hub-http|hub-amqp|hub-amqp-ws|mqtt-lean|mqtt-store|ws|file.js] [--save] [--name app.js]
                      [--baud 115200] [--timeout 120] [--verbose] [app.js]

Writes the bundle to the board's Storage as "tinyhub" (require("tinyhub") loads it from flash) and
app.js beside it, then runs the app with load("app.js"). With --save the app is stored as .bootcde
instead: it runs now and at every boot. Without app.js only the bundle is written.
<port>: a serial port (/dev/ttyUSB0, COM3), tcp://host[:port] (a telnet console), or a Bluetooth
address (aa:bb:cc:dd:ee:ff). The upload is done by the Espruino command-line tool (npm "espruino").`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const file = bundleFile(values.bundle);
  let banner = false;
  const p = plan({
    port: values.port,
    bundle: readFileSync(file),
    app: app ? readFileSync(app) : null,
    appName: values.name || (app ? basename(app) : undefined),
    save: values.save,
    baud: +values.baud,
    verbose: values.verbose,
  });
  const { out } = await runCli(p.args, p.files, {
    timeout: +values.timeout * 1000,
    onLine: (l) => {
      // eslint-disable-next-line no-control-regex
      const s = l.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
      if (values.verbose) return console.log(s);
      if (!s.startsWith("--] ")) return;
      const b = s.slice(4);
      // the logo reset() and load() print
      if (/^ ?_{4} +_ ?$/.test(b)) banner = true;
      if (banner) return void (banner = !/espruino\.com\/Donate/.test(b));
      if (b.trim() && b.trim() != ">") console.log(`board| ${b}`);
    },
  });
  const r = check(out, p.stored);
  if (r.error) throw new Error(`upload failed: ${r.error}${values.verbose ? "" : "\n(the Espruino tool said:)\n" + out.trim().split("\n").slice(-15).join("\n")}`);
  const what = `${basename(file)} (${p.stored[MODULE_FILE].length} bytes) as Storage file "${MODULE_FILE}"`;
  if (!p.appFile) console.log(`stored ${what}; require("${MODULE_FILE}") loads it from flash`);
  else console.log(`stored ${what} and ${app} as "${p.appFile}"; ${values.save ? "it runs now and at every boot" : `running it (load("${p.appFile}"))`}`);
}
