#!/usr/bin/env node
// Size report: raw, minified and gzip -9 bytes of every bundle in dist/, against size-budget.json.
//
//   node tools/size.js           print the table, write size-report.json and size-report.md
//   node tools/size.js --check   the same, and also fail when a budgeted bundle is missing (npm run test:size)
//
// Exits 1 when any bundle with a budget is over it. The embedded bundles are already minified;
// the Node bundle is minified here with terser (compress + mangle) to show what a user's build gets.

import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { minify } from "terser";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
const BUDGET = join(ROOT, "size-budget.json");
const REPORT_JSON = join(ROOT, "size-report.json");
const REPORT_MD = join(ROOT, "size-report.md");
// RAM figures written by the engine tests (test/engines) and the QEMU bench (test/qemu), when they ran
const ENGINES = join(ROOT, "engines-report.json");
const QEMU = join(ROOT, ".cache/qemu/last-run.json");

/**
 * RAM columns for a bundle, from the engine tests: JsVars in the real Espruino (loaded from Storage / with
 * Modules.addCached / the peak of its session on a board-sized build), the least heap the real Moddable runtime
 * runs its session in (chunk bytes / slots / stack slots, preloaded as shipped), QuickJS bytes after load / at the
 * end, XS (xsnap) slots, QEMU peak heap.
 */
function ram(name, engines, qemu) {
  const [target, entry] = name.split("/");
  const e = engines && engines.entries && engines.entries[entry];
  const kb = (n) => (n == null ? "" : (n / 1024).toFixed(1) + " KB");
  const r = { espruino: "", moddable: "", quickjs: "", xs: "", mcu: "" };
  if (e && target === "espruino" && e.espruino) r.espruino = `${e.espruino.storage} / ${e.espruino.cached} / ${e.espruino.peak}`;
  if (e && target === "moddable" && e.moddable && e.moddable.chunks) r.moddable = `${e.moddable.chunks} / ${e.moddable.slots} / ${e.moddable.stack}`;
  if (e && target === "espruino" && e.quickjs) r.quickjs = `${kb(e.quickjs.afterLoad)} / ${kb(e.quickjs.end)}`;
  if (e && target === "moddable" && e.xs) r.xs = `${e.xs.afterLoad} / ${e.xs.end}`;
  // the QEMU board runs the hub client (ES5, the Espruino build's code) in a 192 KB pool
  const full = Array.isArray(qemu) && qemu.find((q) => q.ok && q.expect === "pass" && q.heap);
  if (full && name === "espruino/hub") r.mcu = kb(full.heap.peak);
  return r;
}

/** Bundles measured: dist/<target>/<name>.js (the .cjs twin and .d.ts are not measured). */
function bundles() {
  if (!existsSync(DIST)) return [];
  const out = [];
  for (const target of readdirSync(DIST, { withFileTypes: true })) {
    if (!target.isDirectory()) continue;
    for (const f of readdirSync(join(DIST, target.name))) {
      if (f.endsWith(".js")) out.push(`${target.name}/${f.slice(0, -3)}`);
    }
  }
  return out.sort();
}

/** The minified code: as built for the embedded bundles, through terser for Node's. */
async function minified(entry, code) {
  if (!entry.startsWith("node/")) return code;
  const r = await minify(code, { module: true, ecma: 2020, compress: { passes: 2 }, mangle: true, format: { comments: false } });
  return r.code;
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

/** The library version from src/version.ts (the one place it is written). */
function version() {
  try {
    return /VERSION\s*=\s*"([^"]+)"/.exec(readFileSync(join(ROOT, "src/version.ts"), "utf8"))[1];
  } catch {
    return readJson(join(ROOT, "package.json"))?.version || "?";
  }
}

const signed = (n) => (n == null ? "" : n > 0 ? `+${n}` : `${n}`);

async function main() {
  const check = process.argv.includes("--check");
  const budget = readJson(BUDGET);
  if (!budget) {
    console.error(`size: cannot read ${relative(ROOT, BUDGET)}`);
    process.exit(1);
  }
  const limits = budget.entries || {};
  const previous = (readJson(REPORT_JSON) || {}).entries || {};

  const names = [...new Set([...bundles(), ...Object.keys(limits)])].sort();
  const entries = {};
  const problems = [];
  let passed = 0;

  for (const name of names) {
    const file = join(DIST, `${name}.js`);
    const limit = limits[name] || null;
    if (!existsSync(file)) {
      // a budget for a bundle that was not built: a failure when checking, a note otherwise
      if (check) problems.push(`${name}: dist/${name}.js missing (run npm run build)`);
      entries[name] = { missing: true, budget: limit };
      continue;
    }
    const code = readFileSync(file, "utf8");
    const raw = Buffer.byteLength(code);
    const small = await minified(name, code);
    const e = { raw, min: Buffer.byteLength(small), gzip: gzipSync(small, { level: 9 }).length, budget: limit };
    if (limit) {
      const over = [];
      if (limit.min != null && e.min > limit.min) over.push(`min ${e.min} > ${limit.min}`);
      if (limit.gzip != null && e.gzip > limit.gzip) over.push(`gzip ${e.gzip} > ${limit.gzip}`);
      if (over.length) problems.push(`${name}: over budget (${over.join(", ")})`);
      else passed++;
    }
    entries[name] = e;
  }

  // a goal relative to another entry ({ "over": "espruino/hub", "gzip": 2500 }: at most 2,500 gzip bytes more than it)
  for (const name of names) {
    const b = entries[name].budget, g = b && b.goal, base = g && g.over && entries[g.over];
    if (base && !base.missing) entries[name].budget = { ...b, goal: { gzip: base.gzip + g.gzip, over: `${g.over} + ${g.gzip}` } };
  }

  // table
  const engines = readJson(ENGINES);
  const qemu = readJson(QEMU);
  for (const name of names) if (entries[name] && !entries[name].missing) entries[name].ram = ram(name, engines, qemu);
  const head = ["entry", "raw", "min", "gzip", "budget min", "budget gzip", "min vs budget", "gzip vs budget", "goal min/gzip", "vs goal", "min vs last", "gzip vs last", "Espruino JsVars Storage/addCached/peak", "Moddable least chunks/slots/stack", "QuickJS load/end", "XS slots load/end", "MCU peak heap"];
  const rows = names.map((name) => {
    const e = entries[name];
    const b = e.budget || {};
    const p = previous[name] && !previous[name].missing ? previous[name] : null;
    const g = b.goal;
    if (e.missing) return [name, "not built", "", "", b.min ?? "", b.gzip ?? "", "", "", "", "", "", "", "", "", "", "", ""];
    return [
      name,
      e.raw,
      e.min,
      e.gzip,
      b.min ?? "-",
      b.gzip ?? "-",
      b.min != null ? signed(e.min - b.min) : "",
      b.gzip != null ? signed(e.gzip - b.gzip) : "",
      g ? `${g.min ?? "-"}/${g.gzip}` : "",
      g ? ((g.min == null || e.min <= g.min) && e.gzip <= g.gzip ? "met" : `${g.min == null ? "-" : signed(e.min - g.min)}/${signed(e.gzip - g.gzip)}`) : "",
      p ? signed(e.min - p.min) : "",
      p ? signed(e.gzip - p.gzip) : "",
      e.ram.espruino,
      e.ram.moddable,
      e.ram.quickjs,
      e.ram.xs,
      e.ram.mcu,
    ].map(String);
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join("  ");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));

  // reports (no timestamps, so an unchanged build leaves them unchanged)
  const v = version();
  writeFileSync(REPORT_JSON, JSON.stringify({ version: v, entries }, null, 2) + "\n");
  const md = [
    `# Size report: tinyhub ${v}`,
    "",
    "Bytes of each bundle in `dist/`: raw, minified (terser; the embedded bundles are built minified) and gzip -9 of the minified code. Budgets (enforced: over fails the build) and goals (the issue's targets, reported) from `size-budget.json`; written by `npm run size`.",
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i ? "---:" : "---")).join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
  ].join("\n");
  writeFileSync(REPORT_MD, md);

  for (const p of problems) console.error(`size: ${p}`);
  console.log(`\nsize: ${passed} passed, ${problems.length} failed`);
  if (problems.length) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
