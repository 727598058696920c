// `tinyhub flash espruino --port /dev/ttyUSB0 app.js`: uploads a tinyhub bundle and an application to
// an Espruino board over its serial REPL, the way the Espruino tools do: Ctrl-C, reset(), the bundle
// as a cached module (Modules.addCached), then the application, each command one line prefixed with
// DLE (0x10) so the board does not echo it, then optionally save(). Any "Uncaught" reply fails the upload.
import { openSync, readFileSync } from "node:fs";
import tty from "node:tty";
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

export const summary = "upload a bundle + app to an Espruino board: tinyhub flash espruino --port /dev/ttyUSB0 [--bundle hub] [--save] app.js";

const DIST = fileURLToPath(new URL("../dist/espruino/", import.meta.url));

/** The REPL commands that install `bundle` as module "tinyhub" and run `app`. */
export function uploadCommands(bundle, app, save) {
  // one line each, so the board answers each with its prompt; the app as one eval keeps multi-line code whole
  const cmds = ["reset();", `Modules.addCached("tinyhub",${JSON.stringify(bundle)});`, `eval(${JSON.stringify(app)});`];
  if (save) cmds.push("save();");
  return cmds;
}

/** Writes the commands to an open serial port, waiting for the REPL's ">" prompt after each; resolves with the board's output. */
export function upload(port, commands, { baud = 115200, timeout = 10000, log = () => {} } = {}) {
  // raw, so the board's ">" prompt (no newline) reaches us; the speed may be refused by a pseudo-terminal
  execFileSync("stty", ["-F", port, "raw", "-echo"], { stdio: "ignore" });
  try {
    execFileSync("stty", ["-F", port, String(baud)], { stdio: "ignore" });
  } catch {}
  const fd = openSync(port, "r+");
  // tty streams read without blocking a thread, so the process can end when the upload is done
  const input = new tty.ReadStream(fd);
  const output = new tty.WriteStream(fd);
  let seen = "";
  let waiting = null;
  input.on("data", (d) => {
    seen += d.toString("latin1");
    if (waiting) waiting();
  });
  input.on("error", () => {});
  const prompt = (from) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no prompt from the board within ${timeout} ms; it said: ${seen.slice(from).slice(-200)}`)), timeout);
      waiting = () => {
        const got = seen.slice(from);
        if (/Uncaught/.test(got)) return clearTimeout(t), reject(new Error(`the board refused: ${got.trim().slice(0, 300)}`));
        if (/(^|\n)>\s*$/.test(got)) clearTimeout(t), resolve();
      };
      waiting();
    });
  const run = async () => {
    // Ctrl-C clears whatever the board was doing; it answers with a prompt
    output.write("\x03");
    await prompt(0).catch(() => {});
    for (const c of commands) {
      const from = seen.length;
      log(c.length > 80 ? c.slice(0, 77) + "..." : c);
      output.write("\x10" + c + "\n");
      await prompt(from);
    }
    return seen;
  };
  return run().finally(() => {
    input.destroy();
    output.destroy();
  });
}

export async function run(args) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { port: { type: "string" }, bundle: { type: "string", default: "hub" }, baud: { type: "string", default: "115200" }, save: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  const [target, app] = positionals;
  if (values.help || target !== "espruino" || !values.port || !app) {
    console.log(`usage: tinyhub flash espruino --port /dev/ttyUSB0 [--bundle mqtt|hub|dps|hub-ws|hub-http|ws] [--baud 115200] [--save] app.js
Uploads dist/espruino/<bundle>.js as module "tinyhub" (require("tinyhub") in app.js), then runs app.js.`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const bundle = readFileSync(`${DIST}${values.bundle}.js`, "utf8");
  const commands = uploadCommands(bundle, readFileSync(app, "utf8"), values.save);
  await upload(values.port, commands, { baud: +values.baud, log: (l) => console.log(`> ${l}`) });
  console.log(`uploaded ${bundle.length} bytes of tinyhub (${values.bundle}) and ${app}${values.save ? ", saved" : ""}`);
}
