#!/usr/bin/env node
// Keeps the README's generated sections true: the error-code table (from src/errors.ts and
// src/iothub/errors.ts) and the size table (from size-report.json, written by `npm run size`).
//
//   node tools/readme.js          rewrite the sections in README.md
//   node tools/readme.js --check  exit 1 if the error table is stale (npm test runs this)
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const README = join(ROOT, "README.md");
const ERROR_FILES = ["src/errors.ts", "src/iothub/errors.ts"];

/** Every `export const E_X = -n; // meaning` line of the error files. */
export function errorRows() {
  const rows = [];
  for (const f of ERROR_FILES) {
    const p = join(ROOT, f);
    if (!existsSync(p)) continue;
    for (const line of readFileSync(p, "utf8").split("\n")) {
      const m = /^export const (E_\w+) = (-\d+);\s*\/\/\s*(.*)$/.exec(line);
      if (m) rows.push([+m[2], m[1], m[3].trim()]);
    }
  }
  return rows.sort((a, b) => b[0] - a[0]);
}

function errorTable() {
  return ["| code | name | meaning |", "|---:|---|---|", ...errorRows().map(([c, n, d]) => `| ${c} | \`${n}\` | ${d.replace(/\|/g, "\\|")} |`)].join("\n");
}

/** What each bundle offers (rollup.config.js ENTRIES), by bundle name; the Node bundle has everything. */
async function features() {
  const { ABOUT } = await import("../rollup.config.js");
  return (n) => (n.startsWith("node/") ? "everything, for Node" : ABOUT[n.split("/")[1]] || "-");
}

function sizeTable(about) {
  const p = join(ROOT, "size-report.json");
  if (!existsSync(p)) return null;
  const { entries } = JSON.parse(readFileSync(p, "utf8"));
  const rows = Object.entries(entries).filter(([, e]) => !e.missing);
  return [
    "| bundle | features | minified | gzip | budget (min / gzip) | goal (min / gzip) | Espruino JsVars: Storage / addCached / session peak | Moddable least heap: chunk B / slots / stack | MCU peak heap |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(([n, e]) => `| \`dist/${n}.js\` | ${about(n)} | ${e.min} | ${e.gzip} | ${e.budget ? `${e.budget.min} / ${e.budget.gzip}` : "-"} | ${e.budget && e.budget.goal ? `${e.budget.goal.min ?? "-"} / ${e.budget.goal.gzip}` : "-"} | ${(e.ram && e.ram.espruino) || "-"} | ${(e.ram && e.ram.moddable) || "-"} | ${(e.ram && e.ram.mcu) || "-"} |`),
  ].join("\n");
}

function replace(text, name, body) {
  const re = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
  if (!re.test(text)) throw new Error(`README.md has no ${name} section`);
  return text.replace(re, (_, a, b) => `${a}\n${body}\n${b}`);
}

const text = readFileSync(README, "utf8");
if (process.argv.includes("--check")) {
  const want = replace(text, "errors", errorTable());
  if (want !== text) {
    console.error("readme: the error table in README.md is stale; run `node tools/readme.js`");
    process.exit(1);
  }
  console.log("readme: error table up to date");
} else {
  let out = replace(text, "errors", errorTable());
  const s = sizeTable(await features());
  if (s) out = replace(out, "sizes", s);
  writeFileSync(README, out);
}
