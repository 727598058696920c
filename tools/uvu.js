#!/usr/bin/env node
// Runs uvu (through tsx) and fails when fewer tests passed than ran: uvu 0.5 swallows an error thrown in
// a test.before hook (the suite shows "(0 / n)" yet the run exits 0), so a broken setup would pass silently.
//   node tools/uvu.js <dir> [pattern]     the same arguments as uvu
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const tsx = createRequire(import.meta.url).resolve("tsx/cli");
const uvu = fileURLToPath(new URL("../node_modules/uvu/bin.js", import.meta.url));
const child = spawn(process.execPath, [tsx, uvu, ...process.argv.slice(2)], { stdio: ["inherit", "pipe", "inherit"] });
let tail = "";
child.stdout.on("data", (d) => {
  process.stdout.write(d);
  tail = (tail + d.toString()).slice(-2000);
});
child.on("close", (code, signal) => {
  const plain = tail.replace(/\x1b\[[0-9;]*m/g, "");
  const total = +(/Total:\s+(\d+)/.exec(plain) || [])[1];
  const passed = +(/Passed:\s+(\d+)/.exec(plain) || [])[1];
  if (code || signal) process.exit(code || 1);
  if (!(total >= 0) || passed !== total) {
    console.error(`uvu: ${passed} of ${total} tests passed: a suite's setup (test.before) failed or a test never ran`);
    process.exit(1);
  }
});
