// `tinyhub flash espruino`: the upload over a pseudo-terminal that plays the board's REPL, and the
// uploaded commands then run in Duktape (ES5, like Espruino): the bundle loads as a module and the app uses it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const tmp = mkdtempSync(join(tmpdir(), "tinyhub-flash-"));

async function board(record: string) {
  const p = spawn("python3", ["test/tools/fake-espruino.py", record, "20"], { stdio: ["ignore", "pipe", "inherit"] });
  const line: string = await new Promise((r) => createInterface({ input: p.stdout! }).once("line", r));
  return { tty: line.trim(), stop: () => p.kill() };
}

test("uploads the bundle as module tinyhub and runs the app; the result runs in Duktape", async () => {
  const record = join(tmp, "got.txt");
  const app = join(tmp, "app.js");
  writeFileSync(app, [
    "var th = require(\"tinyhub\");",
    "var d = th.createDevice({",
    "  connectionString: \"HostName=h.azure-devices.net;DeviceId=dev1;SharedAccessKey=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",",
    "  transport: { open: function () {}, write: function (b, o, n) { return n; }, close: function () {} },",
    "  clock: { now: function () { return 0; }, set: function () { return 1; }, clear: function () {} }",
    "});",
    "print(typeof d.sendEvent + \" \" + typeof d.connect);",
  ].join("\n"));
  const b = await board(record);
  try {
    const out = execFileSync("node", ["tools/cli.js", "flash", "espruino", "--port", b.tty, "--bundle", "hub", app], { encoding: "utf8", timeout: 15000 });
    assert.match(out, /uploaded \d+ bytes of tinyhub \(hub\)/);
  } finally {
    b.stop();
  }
  const lines = readFileSync(record, "utf8").split("\n").filter(Boolean);
  assert.is(lines[0], "reset();");
  assert.ok(lines[1].startsWith('Modules.addCached("tinyhub",'));
  assert.ok(lines[2].startsWith("eval("));
  // what the board got, run in Duktape with Espruino's module cache modelled
  const prelude = `var reset = function () {}, Modules = { c: {}, addCached: function (n, s) { this.c[n] = s; } };
function require(n) { var m = { exports: {} }; new Function("exports", "module", Modules.c[n])(m.exports, m); return m.exports; }
var Date = this.Date;`;
  const script = join(tmp, "board.js");
  writeFileSync(script, prelude + "\n" + lines.join("\n"));
  const printed = execFileSync("duk", [script], { encoding: "utf8" });
  assert.is(printed.trim(), "function function");
});

test("a command the board refuses fails the upload with its message", async () => {
  const record = join(tmp, "got2.txt");
  const app = join(tmp, "bad.js");
  writeFileSync(app, "FAIL_ME();");
  const b = await board(record);
  let err = "";
  try {
    execFileSync("node", ["tools/cli.js", "flash", "espruino", "--port", b.tty, "--bundle", "mqtt", app], { encoding: "utf8", stdio: "pipe", timeout: 15000 });
  } catch (e: any) {
    err = String(e.stderr);
  } finally {
    b.stop();
  }
  assert.match(err, "Uncaught ReferenceError");
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
