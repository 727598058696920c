import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync } from "node:fs";
import { parse } from "acorn";
import { inlineNumbers } from "../../tools/build-plugins.js";
import { read } from "../helpers/bundle";

// The Espruino build's step before the minifier (tools/build-plugins.js inlineConstants): a module-level number nothing
// assigns again is read as that number (in Espruino each module-level name is a variable for as long as the bundle is
// loaded, found by walking the scopes at every read). Each case is run before and after: same results.

/** Runs `code` (it defines run()), returning what run() returns. */
const run = (code: string): unknown => new Function(`${code}; return run();`)();

function same(code: string): { code: string; inlined: string[] } {
  const r = inlineNumbers(code);
  parse(r.code, { ecmaVersion: 5, sourceType: "script" });
  assert.equal(run(r.code), run(code), r.code);
  return r;
}

test("a negative and a positive constant are read as numbers where used, operators and all", () => {
  const r = same("var E_BIG = -21, T = 3; function run(){var a = 5; return [a-E_BIG, -E_BIG, E_BIG, T*2, typeof E_BIG]}");
  assert.equal(r.inlined, ["E_BIG", "T"]);
  assert.is(r.code, "var E_BIG = -21, T = 3; function run(){var a = 5; return [a-(-21), -(-21), (-21), (3)*2, typeof (-21)]}");
});

test("property names and labels stay", () => {
  const r = same("var K = 7; function run(){var o = { K: 1, K2: K }; K: for (;;) break K; return [o.K, o.K2, o['K']]}");
  assert.is(r.code, "var K = 7; function run(){var o = { K: 1, K2: (7) }; K: for (;;) break K; return [o.K, o.K2, o['K']]}");
});

test("a name assigned again, declared twice (a parameter or local that could shadow it), or not a number stays", () => {
  const r = same("var A = 1, B = 2, C = 3, D = 'x', F = null; function g(B){return B} function run(){var C = 9; A++; return [A, g(4), C, D, F]}");
  assert.equal(r.inlined, []);
});

test("the shipped Espruino bundles have no module-level numeric constant left to inline", () => {
  const files = readdirSync("dist/espruino").filter((f) => f.endsWith(".js"));
  assert.ok(files.length >= 8, `bundles built: ${files}`);
  for (const f of files) {
    const left = inlineNumbers(read(`dist/espruino/${f}`)).inlined;
    assert.equal(left, [], `${f}: ${left}`);
  }
});

test.run();
