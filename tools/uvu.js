#!/usr/bin/env node
// The one test runner of every npm script: uvu (through tsx), with a count per suite. uvu 0.5 lets a suite whose
// setup (test.before) threw show "(0 / n)" and still exit 0, and a file whose suite never ran print nothing; so
// each file's suites are read from the output, and the run fails by name when a suite passed fewer tests than it
// has, or a file ran none.
//   node tools/uvu.js <dir> [pattern]     the same arguments as uvu
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const tsx = createRequire(import.meta.url).resolve("tsx/cli");
const uvu = fileURLToPath(new URL("../node_modules/uvu/bin.js", import.meta.url));
const child = spawn(process.execPath, [tsx, uvu, ...process.argv.slice(2)], { stdio: ["inherit", "pipe", "inherit"] });
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
