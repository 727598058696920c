// Where the JsVars of a bundle loaded from Storage go, per top-level name, in the real Espruino interpreter
// (the Linux build, tools/engines/espruino-build.js):
//
//   TINYHUB_ENGINES=../shared/engines node tools/engines/espruino-jsvars.js dist/espruino/mqtt-lean.js
//
// The bundle is written to Storage and `require`d (as tools/engines/espruino.js loads it), then trace() prints
// the module's scope, the object every function of the bundle links to. Each name's variables are counted in
// that dump: a function costs 5 (its name, the function, its code's name and flash string, its scope link)
// plus 1 per parameter; a regex about 14; an array about 1 per element plus 2; a string 1 per ~24 characters.
// Names stay as the build left them (minified): a build without mangling shows the source's names.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { espruinoBinary } from "./espruino-build.js";
import { writeStorage } from "./espruino.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: node tools/engines/espruino-jsvars.js <bundle.js>");
  process.exit(2);
}
const bin = await espruinoBinary({ variant: "linux" });
const dir = mkdtempSync(join(tmpdir(), "tinyhub-jsvars-"));
try {
  writeStorage(bin, dir, { m: readFileSync(file) });
  writeFileSync(
    join(dir, "run.js"),
    `var B = process.memory().usage, m = require("m"), k, sc; print("LOADED " + (process.memory().usage - B));
for (k in m) if (typeof m[k] == "function") { sc = m[k]["\\xFFsco"]; break; }
print("SCOPE"); trace(sc);\n`,
  );
  const r = spawnSync(bin, ["run.js"], { cwd: dir, encoding: "latin1", timeout: 20000, maxBuffer: 1e8 });
  const out = `${r.stdout}${r.stderr}`;
  const loaded = /LOADED (\d+)/.exec(out);
  if (!loaded || out.indexOf("SCOPE") < 0) throw new Error(`loading ${file} failed:\n${out.slice(-2000)}`);
  /** @type {{ name: string, lines: string[] }[]} */
  const groups = [];
  for (const l of out.slice(out.indexOf("SCOPE")).split("\n").slice(1)) {
    const ind = /^( *)#/.exec(l);
    if (!ind) continue;
    // the scope's own children are indented by two spaces
    if (ind[1].length == 2) groups.push({ name: /"((?:[^"\\]|\\.)*)"/.exec(l)?.[1] ?? "?", lines: [] });
    groups[groups.length - 1]?.lines.push(l);
  }
  const rows = groups.map((g) => {
    let vars = 0, params = 0;
    for (const l of g.lines)
      for (const m of l.matchAll(/#\d+\[[^\]]*\] ([A-Za-z][^#]*?)(?=#|$)/g)) {
        if (m[1].trim().startsWith("...")) continue; // a variable shown before (the scope itself)
        const blocks = /\[(\d+) blocks\]/.exec(m[1]);
        vars += blocks && !/FlashString/.test(m[1]) ? +blocks[1] : 1;
        if (/Name Param/.test(m[1])) params++;
      }
    const what = /\] (Function|Object|Array|String|Uint8Array|RegExp|NULL|undefined|= int)/.exec(g.lines[0].replace(/^.*?"\s+/, ""))?.[1] ?? "";
    return { name: g.name, vars, params, what };
  });
  rows.sort((a, b) => b.vars - a.vars);
  for (const x of rows) console.log(`${String(x.vars).padStart(4)} ${String(x.params).padStart(3)} params  ${x.what.padEnd(10)} ${x.name}`);
  const sum = rows.reduce((s, x) => s + x.vars, 0), fns = rows.filter((x) => x.what == "Function");
  console.log(`${file}: ${loaded[1]} JsVars after require from Storage; ${sum} under ${rows.length} top-level names (${fns.length} functions, ${fns.reduce((s, x) => s + x.params, 0)} parameters); the rest is the module object and its scope`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
