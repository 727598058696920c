import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { parse, tokenizer, tokTypes } from "acorn";
import { read, MISSING_GLOBALS, MISSING_METHODS } from "../helpers/bundle";

// What the bundles are made of: the Espruino file is ES5 syntax with CommonJS exports and touches no
// ES2015+ built-in; the Moddable file is an ES module importing only platform modules; the Node
// files load as ESM and CJS. Duktape runs the Espruino file for real in duktape.test.ts.



test("espruino/mqtt.js parses as ES5 (no arrow, let/const, class, template, shorthand, spread)", () => {
  const code = read("dist/espruino/mqtt.js");
  try {
    parse(code, { ecmaVersion: 5, sourceType: "script" });
  } catch (e: any) {
    const at = e.pos ?? 0;
    assert.unreachable(`not ES5: ${e.message} near ${JSON.stringify(code.slice(Math.max(0, at - 60), at + 60))}`);
  }
});

test("espruino/mqtt.js uses no ES2015+ global or method", () => {
  const code = read("dist/espruino/mqtt.js");
  const found: string[] = [];
  let prev: any = null;
  for (const t of tokenizer(code, { ecmaVersion: 5 })) {
    if (t.type === tokTypes.name) {
      const name = String((t as { value?: unknown }).value);
      const afterDot = prev && prev.type === tokTypes.dot;
      if (afterDot ? MISSING_METHODS.has(name) : MISSING_GLOBALS.has(name)) found.push((afterDot ? "." : "") + name);
    }
    prev = t;
  }
  assert.equal([...new Set(found)], [], `found ${found.join(", ")}`);
});

test("espruino/mqtt.js: CommonJS exports for Modules.addCached, no __esModule, no strict mode", () => {
  const code = read("dist/espruino/mqtt.js");
  assert.match(code, /exports\.createClient\s*=/);
  assert.not.match(code, /__esModule/);
  assert.not.match(code, /use strict/);
  assert.not.match(code, /\bimport\b|\bexport\b/);
  // text checks besides the parser: the cheap tell-tales of modern syntax
  for (const bad of ["=>", "class ", "let ", "const ", "...", "`"]) assert.not.ok(code.includes(bad), `contains ${bad}`);
});

test("espruino/mqtt.js: development code and error names are not in the bundle", () => {
  const code = read("dist/espruino/mqtt.js");
  // names such as E_OUTBOX_FULL or "outbox full" would come from src/errornames.ts
  assert.not.match(code, /E_[A-Z_]{3,}|OUTBOX|NOT_CONNECTED/i);
});

test("moddable/mqtt.js is an ES module importing only platform modules", () => {
  const code = read("dist/moddable/mqtt.js");
  const ast: any = parse(code, { ecmaVersion: 2020, sourceType: "module" });
  const imports = ast.body.filter((n: any) => n.type === "ImportDeclaration").map((n: any) => n.source.value);
  for (const m of imports) assert.match(m, /^(embedded:|timer$|time$)/, `unexpected import ${m}`);
  const exported = ast.body
    .filter((n: any) => n.type === "ExportNamedDeclaration")
    .flatMap((n: any) => n.specifiers.map((s: any) => s.exported.name));
  assert.ok(exported.includes("createClient"), `exports: ${exported}`);
});

test("node/index.js (ESM) and index.cjs (CJS) load and export the same createClient API", async () => {
  read("dist/node/index.js");
  read("dist/node/index.cjs");
  read("dist/node/index.d.ts");
  const esm = await import(pathToFileURL("dist/node/index.js").href);
  const cjs = createRequire(import.meta.url)("../../dist/node/index.cjs");
  assert.type(esm.createClient, "function");
  assert.type(cjs.createClient, "function");
  assert.equal(Object.keys(esm).sort(), Object.keys(cjs).sort());
  assert.match(readFileSync("dist/node/index.d.ts", "utf8"), /createClient/);
});

test.run();
