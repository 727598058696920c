#!/usr/bin/env node
// Where a device bundle's bytes come from, measured: the bundle is built as `npm run build` builds it (the configs
// of rollup.config.js, terser included) with source maps through to the minified code, and every character of the
// output is attributed to the source file it was minified from (the mapping segment it falls in; characters
// without a mapping, the module glue, are "(glue)"). Gzip is not additive, so the bundle's gzip bytes are split
// in proportion to each file's own gzip -9 size (the file's minified characters alone).
//
//   node tools/size-breakdown.js [espruino/mqtt-lean espruino/hub ...]   print a table per bundle (markdown)
//   node tools/size-breakdown.js --json                                   the figures as JSON
import { rollup } from "rollup";
import { gzipSync } from "node:zlib";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { decode } from "@jridgewell/sourcemap-codec";

process.env.TINYHUB_SOURCEMAP = "1";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEFAULT = ["espruino/mqtt-lean", "espruino/mqtt", "espruino/hub", "espruino/hub-http"];

/** Minified bytes of `code` per source file, by the source map `map`. @returns {Map<string, string>} file -> its characters */
export function attribute(code, map) {
  const lines = code.split("\n"), parts = new Map();
  const add = (file, text) => parts.set(file, (parts.get(file) || "") + text);
  decode(map.mappings).forEach((segs, i) => {
    const line = lines[i] || "";
    let at = 0, file = "(glue)";
    for (const s of segs) {
      add(file, line.slice(at, s[0]));
      at = s[0];
      file = s.length > 1 ? map.sources[s[1]] : "(glue)";
    }
    add(file, line.slice(at) + (i < lines.length - 1 ? "\n" : ""));
  });
  return parts;
}

/** Builds `target/name` as rollup.config.js does, with a source map; rows per source file, biggest first. */
export async function breakdown(id) {
  const configs = (await import(`../rollup.config.js?${Date.now()}`)).default;
  const c = configs.find((c) => !Array.isArray(c.output) && c.output.file == `dist/${id}.js`);
  if (!c) throw new Error(`no bundle dist/${id}.js in rollup.config.js`);
  const b = await rollup({ ...c, onwarn: () => {} });
  const { output } = await b.generate({ ...c.output, file: undefined, sourcemap: "hidden", sourcemapExcludeSources: true });
  await b.close();
  const chunk = output[0];
  const parts = new Map([...attribute(chunk.code, chunk.map)].filter(([, t]) => t.length));
  const total = Buffer.byteLength(chunk.code), gzip = gzipSync(chunk.code, { level: 9 }).length;
  const own = new Map([...parts].map(([f, t]) => [f, gzipSync(t, { level: 9 }).length]));
  const ownSum = [...own.values()].reduce((a, b) => a + b, 0);
  // sources are relative to the output's folder (no file given: the root)
  const name = (f) => (f == "(glue)" ? f : relative(ROOT, resolve(ROOT, f)));
  const rows = [...parts].map(([f, t]) => ({ file: name(f), bytes: Buffer.byteLength(t), gzip: Math.round((gzip * own.get(f)) / ownSum) }));
  rows.sort((a, b) => b.bytes - a.bytes);
  return { id, bytes: total, gzip, rows };
}

if (process.argv[1] && fileURLToPath(import.meta.url) == process.argv[1]) {
  const args = process.argv.slice(2), json = args.includes("--json");
  const ids = args.filter((a) => !a.startsWith("--"));
  const all = [];
  for (const id of ids.length ? ids : DEFAULT) all.push(await breakdown(id));
  if (json) console.log(JSON.stringify(all, null, 2));
  else
    for (const r of all) {
      console.log(`\n\`dist/${r.id}.js\`: ${r.bytes} / ${r.gzip} bytes\n\n| source | minified | share | gzip share |\n|---|---:|---:|---:|`);
      for (const x of r.rows) console.log(`| ${x.file.startsWith("(") ? x.file : "`" + x.file + "`"} | ${x.bytes} | ${((100 * x.bytes) / r.bytes).toFixed(1)} % | ${x.gzip} |`);
    }
}
