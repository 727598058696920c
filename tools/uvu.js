#!/usr/bin/env node
// The one test runner of every npm script: uvu (through tsx), with a count per suite. uvu 0.5 lets a suite whose
// setup (test.before) threw show "(0 / n)" and still exit 0, and a file whose suite never ran print nothing; so
// each file's suites are read from the output, and the run fails by name when a suite passed fewer tests than it
// has, or a file ran none.
//   node tools/uvu.js <dir> [pattern]     the same arguments as uvu
//   node tools/uvu.js --tier unit          every test file under test/ that is not SYSTEM, with tools/no-io.js
//                                          preloaded: a socket, a listen or a process there fails by name
//   node tools/uvu.js --tier system        the SYSTEM files: brokers, the emulator, engines, QEMU, processes
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** Test files (relative to test/) that need the network, a broker, the emulator, an engine or a process. */
const SYSTEM = new RegExp("^(" + [
  "(engines|qemu|load|bench|faults|badinput|hub|integration|sdk)/.*",
  "(build|crypto|ws)/duktape", "build/(size-breakdown|features|closures)", "http/client", "sessions/(device|https|protocol|pnp|dps|dps-http|dps-ws|upload|amqp|amqp-emulator|gateway)", "mqtt/heap", "amqp/(client|features)", "targets/(espruino|node-store)",
  "tools/(flash|moddable)", "ws/(mosquitto-ws|mqtt-ws|server)",
].join("|") + ")\\.test\\.ts$");
/** Random cases per run in the unit tier; the system tier runs these files again with their defaults (100,000 MQTT fuzz inputs...). */
const UNIT_COUNTS = { FUZZ_N: "10000", DIFF_N: "500", AMQP_FUZZ_N: "1000" };
const RERUN = /^(mqtt\/fuzz|amqp\/(fuzz|frames|types))\.test\.ts$/;

const tsx = createRequire(import.meta.url).resolve("tsx/cli");
const uvu = fileURLToPath(new URL("../node_modules/uvu/bin.js", import.meta.url));
const TEST = fileURLToPath(new URL("../test/", import.meta.url));
let args = process.argv.slice(2), node = [tsx], env = process.env;
if (args[0] === "--tier") {
  const files = readdirSync(TEST, { recursive: true }).map(String).map((f) => f.split("\\").join("/")).filter((f) => /\.test\.ts$/.test(f));
  const unit = args[1] === "unit", system = args[1] === "system";
  if (!unit && !system) throw new Error("--tier unit | system");
  const pick = files.filter((f) => SYSTEM.test(f) === system || (system && RERUN.test(f)));
  const esc = (f) => f.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  args = ["test", "^(" + pick.map(esc).join("|") + ")$"];
  // the unit tier in-process with tsx as a loader (the tsx command itself listens on an IPC socket)
  if (unit) node = ["--import", "tsx", "--import", fileURLToPath(new URL("./no-io.js", import.meta.url))];
  if (unit) env = { ...UNIT_COUNTS, ...env };
}
const child = spawn(process.execPath, [...node, uvu, ...args], { stdio: ["inherit", "pipe", "inherit"], env });
let out = "";
child.stdout.on("data", (d) => {
  process.stdout.write(d);
  out += d.toString();
});

/** Per file: its suites' [passed, total] in order. */
function suites(plain) {
  const files = new Map();
  let file = "";
  for (const line of plain.split("\n")) {
    const f = /^\s*(\S+\.test\.ts)\s*$/.exec(line);
    if (f) files.set((file = f[1]), []);
    for (const m of line.matchAll(/\((\d+) \/ (\d+)\)/g)) if (file) files.get(file).push([+m[1], +m[2]]);
  }
  return files;
}

child.on("close", (code, signal) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
  const total = +(/Total:\s+(\d+)/.exec(plain) || [])[1];
  const passed = +(/Passed:\s+(\d+)/.exec(plain) || [])[1];
  const bad = [];
  for (const [file, list] of suites(plain)) {
    if (!list.length) bad.push(`${file}: no suite ran`);
    list.forEach(([p, t], i) => p < t && bad.push(`${file}${list.length > 1 ? ` (suite ${i + 1})` : ""}: ${p} of ${t} passed`));
  }
  for (const b of bad) console.error(`uvu: ${b}`);
  if (code || signal) process.exit(code || 1);
  if (bad.length || !(total >= 0) || passed !== total) {
    console.error(`uvu: ${passed} of ${total} tests passed: a suite's setup (test.before) failed or a test never ran`);
    process.exit(1);
  }
});
