import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toMethods } from "../../tools/qemu/methods.js";
import { extstrTable } from "../../tools/qemu/extstr.js";

// tools/qemu/methods.js: the QEMU bundle's functions become object-literal methods (no automatic
// .prototype object per closure in Duktape). The rewritten program must do what the original did,
// in Duktape 2.7 itself (the engine of the bench), and anything that needs constructors is left alone.

function duk(src: string): string {
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-methods-"));
  try {
    const file = join(dir, "t.js");
    writeFileSync(file, src);
    const r = spawnSync("duk", [file], { encoding: "utf8", timeout: 20000 });
    if (r.error || r.status !== 0) throw new Error(`duk: ${r.status} ${r.error?.message || ""} ${r.stderr}${r.stdout}`);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// an ES5 program in the shape terser gives: declarations used before they appear, nested scopes,
// IIFEs, callbacks, object literals with methods (some named like keywords), recursion
const PROGRAM = `!function () {
  var out = [];
  out.push(twice(3), fact(5));
  function twice(n) { return add(n, n); }
  function add(a, b) { return a + b; }
  function fact(n) { return n < 2 ? 1 : n * fact(n - 1); }
  function counter() {
    var c = 0;
    return { inc: function () { return ++c; }, get: function () { return c; }, "set": function (v) { c = v; }, delete: function () { c = 0; } };
  }
  var k = counter(); k.inc(); k.inc(); out.push(k.get()); k.set(7); out.push(k.get()); k.delete(); out.push(k.get());
  out.push(function (x) { return x * 10; }(4));
  out.push([1, 2, 3].map(function (x) { return later(x); }).join("+"));
  function later(x) { function inner() { return x + 100; } return inner(); }
  var o = { v: 5, self: function () { return this.v; } };
  out.push(o.self());
  out.push(function () { return arguments.length; }(1, 2, 3));
  out.push("prototype" in twice, "prototype" in o.self);
  print(JSON.stringify(out));
}();`;

test("the rewritten program prints the same in Duktape, and only functions without this/arguments changed", () => {
  const r = toMethods(PROGRAM);
  assert.is(r.refused, undefined);
  const before = duk(PROGRAM), after = duk(r.code);
  assert.match(before, /,true,true\]/, "every function has a .prototype before");
  assert.is(after, before.replace(",true,true]", ",false,true]"), "the same, but a converted function has no .prototype");
  assert.ok(r.converted.declarations >= 6, JSON.stringify(r.converted));
  assert.ok(r.converted.properties >= 4, JSON.stringify(r.converted));
  assert.ok(r.converted.expressions >= 2, JSON.stringify(r.converted));
  assert.match(r.code, /self: function \(\) \{ return this\.v; \}/, "a function using `this` is kept");
  assert.match(r.code, /function \(\) \{ return arguments\.length; \}/, "a function using `arguments` is kept");
  assert.match(r.code, /"delete" *\(\)/, "keyword method names are quoted (Duktape 2.7 does not parse them bare)");
  assert.match(r.code, /"get" *\(\)/);
});

test("a program that uses its own functions as constructors is left as it is", () => {
  for (const src of ["function F(){} var f = new F();", "function F(){} F.prototype.x = 1;", "var G = function(){}; new G;"]) {
    const r = toMethods(src);
    assert.is(r.code, src);
    assert.ok(r.refused, src);
  }
  assert.is(toMethods("var d = new Date(0), u = new Uint8Array(2); var x = Array.prototype.slice;").refused, undefined, "built-ins are fine");
});

test("extstr table: strings of 4+ printable bytes, sorted by length then bytes, escaped for C", () => {
  const t = extstrTable(["abcd", "ab", "zzzz", 'q"?\\x', "aaaaa", "abcd", "é-accent", "0123"]);
  assert.match(t, /#define EXTSTR_COUNT 5u/);
  const strings = [...t.matchAll(/^ {2}"(.*)\\0";?$/gm)].map((m) => m[1]);
  assert.equal(strings, ["0123", "abcd", "zzzz", "aaaaa", "q\\042\\077\\134x"]);
  assert.match(t, /extstr_off\[5\] = \{0,5,10,15,21\}/);
});

test.run();
