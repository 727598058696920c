import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync } from "node:fs";
import { bundleViolations, espruinoRegexProblems } from "../../tools/bundle-rules.js";
import { read } from "../helpers/bundle";

// The build refuses what the real engines refuse (tools/bundle-rules.js, run by rollup.config.js on each output).
// Each rule is shown catching the shape that broke a shipped bundle, and letting the corrected shape pass.

const esp = (code: string) => bundleViolations(code, "espruino");
const mod = (code: string) => bundleViolations(code, "moddable");
const one = (v: string[], what: RegExp) => {
  assert.is(v.length, 1, v.join("\n"));
  assert.match(v[0], what);
};

test("hoist: a function used by a statement before its declaration (createClient's onWritable: flush)", () => {
  one(esp("function c(){ var ev = { onWritable: flush }; function flush(){} return ev; }"), /hoist: function flush declared after/);
  assert.equal(esp("function c(){ function flush(){} var ev = { onWritable: flush }; return ev; }"), []);
});

test("hoist: a declaration after a return (the HMAC helper terser placed there)", () => {
  one(esp("function n(){ return h; function h(){} }"), /hoist: function h declared after/);
});

test("hoist: a declaration inside a block, and at the top level after a statement", () => {
  one(esp("if (a) { function f(){} }"), /declared inside a block/);
  one(esp("var a = f(); function f(){ return 1; }"), /hoist: function f/);
  assert.equal(esp("'use strict'; function f(){} var a = f();"), []);
});

test("regex: / unescaped in a class (the topic-filter check) ends the literal in Espruino", () => {
  one(esp("var r = /[^/][+#]|[+#][^\\/]|#\\//;"), /unescaped \/ in a character class/);
  assert.equal(esp("var r = /[^\\/][+#]|[+#][^\\/]|#\\//;"), []);
});

test("regex: the shapes Espruino's regex engine answers wrongly", () => {
  assert.equal(espruinoRegexProblems("(^|,)\\s*upgrade\\s*(,|$)").length, 2, "the old Connection-header check: ^ and $ in groups");
  assert.match(espruinoRegexProblems("x?")[0], /\? quantifier/);
  assert.match(espruinoRegexProblems(".{1,64}")[0], /\{n,m\}/);
  assert.match(espruinoRegexProblems("(ab)+")[0], /quantified group/);
  assert.match(espruinoRegexProblems("a|^b")[0], /anchor \^/);
  for (const ok of ["^[0-9]+$", "[ \\t]", "^HTTP\\/[0-9]\\.[0-9] [1-9][0-9][0-9]", "^[0-9a-fA-F]*", "[+#]", "\\s", "^[A-Za-z0-9_.%*?!(),:=@$'-]+$"])
    assert.equal(espruinoRegexProblems(ok), [], ok);
});

test("regex): a regex literal as the statement of an if or a loop is read as a division by Espruino", () => {
  one(esp('if (a) /x/.test(s) && f();'), /regex\): a regex literal right after/);
  one(esp('for (;;) /x/.test(s);'), /regex\)/);
  assert.equal(esp('function g(s) { return /x/.test(s); } if (a) { /x/.test(s) && f(); } var y = !/x/.test(s);'), []);
});

test("ide/: a regex literal after || is read as a division by the Espruino IDE and command-line tool", () => {
  one(esp("var e = !t || /[+#]/.test(t);"), /ide\/: a regex literal after "\|\|"/);
  one(esp("var e = a == 1 ? 0 : b && c || /x/.test(t);"), /ide\//);
  assert.equal(esp("function f(s) { return /x/.test(s) ? 1 : typeof /y/; } var e = /[+#]/.test(t) || !t; g(/z/, [/w/], !/v/.test(s));"), []);
});

test("length: an array's length assigned (in2.length = 0) throws in Espruino", () => {
  one(esp("function f(a){ a.length = 0; }"), /length: assignment/);
  one(esp("function f(a){ a.length--; }"), /length: assignment/);
  assert.equal(esp("function f(a){ a = []; return a.length; }"), []);
});

test("ascii: a raw non-ASCII character (the codec's \"\\u0100\" printed as itself) breaks the upload to Espruino", () => {
  one(esp('var U = "\u0100";'), /ascii: character U\+0100/);
  assert.equal(esp('var U = "\\u0100";'), []);
});

test("preload: a typed array made at module level (url.ts's CHAR) is read-only in a preloaded Moddable module", () => {
  one(mod("var CHAR = new Uint8Array(4); export function f(){ CHAR[0] = 1; }"), /preload: new Uint8Array at module level/);
  one(mod("const b = new ArrayBuffer(8);"), /preload: new ArrayBuffer/);
  assert.equal(mod("export function f(){ var b = new Uint8Array(4); b[0] = 1; return b; }"), []);
  assert.equal(esp("var CHAR = new Uint8Array(4);"), [], "Espruino has no preload");
});

test("every shipped bundle passes its target's rules", () => {
  for (const target of ["espruino", "moddable"]) {
    const files = readdirSync(`dist/${target}`).filter((f) => f.endsWith(".js"));
    assert.ok(files.length >= 6, `${target}: ${files}`);
    for (const f of files) assert.equal(bundleViolations(read(`dist/${target}/${f}`), target), [], `${target}/${f}`);
  }
});

test.run();
