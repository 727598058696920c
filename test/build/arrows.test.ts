import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync } from "node:fs";
import { parse } from "acorn";
import { toArrows } from "../../tools/build-plugins.js";
import { read } from "../helpers/bundle";

// The Moddable build's last step (tools/build-plugins.js arrowClosures): functions made inside functions become arrow
// functions where that keeps their meaning (in XS an ordinary function carries a prototype object: 3 slots more).
// Each case is run before and after: same results, and the shapes that must stay, stay.

/** Runs module-less `code` (a function `f` and a call `run()`), returning what run() returns. */
function run(code: string): unknown {
  return new Function(`${code}; return run();`)();
}

/** The converted code, after checking it parses as a module and gives what the original gives. */
function same(code: string): string {
  const r = toArrows(code);
  parse(r.code, { ecmaVersion: 2022, sourceType: "module" });
  assert.equal(run(r.code), run(code), r.code);
  return r.code;
}

test("inner declarations become one var of arrows, first in their function; expressions become arrows", () => {
  const out = same("function run(){function g(x){return x+a}function h(y,z){var s=y*z;return s+g(1)}var a=2,k=function(n){return n*3};return [g(1),h(2,3),k(4),[1,2].map(function(v){return v*a})]}");
  assert.is(out, "function run(){var g=x=>x+a,h=(y,z)=>{var s=y*z;return s+g(1)};var a=2,k=n=>n*3;return [g(1),h(2,3),k(4),[1,2].map(v=>v*a)]}");
});

test("a declaration after another statement stays (var would leave it undefined before)", () => {
  const code = "function run(){var a=1;function g(){return a}return g()}";
  assert.is(toArrows(code).code, code);
});

test("hoisted declarations used before their place in the text still work as var arrows", () => {
  same("function run(){function g(){return h()}function h(){return 5}return g()}");
});

test("parentheses where the grammar asks: callee, member, operand, object-literal and sequence bodies", () => {
  const out = same("function run(){var a=0,b=[];b.push(a||function(){return 1});b.push(function(){return 2}.call(null));b.push((function(){return 3})());b.push(!function(){}());" +
    "b.push(function(){return {x:4}}().x);b.push(function(){return a,5}());b.push(typeof function(){});return b.map(function(f){return typeof f=='function'?f():f})}");
  assert.not.match(out, /function ?\(/, "every function converted");
});

test("functions that need to be functions stay", () => {
  const keep = [
    "function run(){var o={v:1,m:function(){return this.v}};return o.m()}",
    "function run(){function f(){return arguments.length}return f(1,2)}",
    "function run(){function F(){this.x=1}return new F().x}",
    "function run(){var F=function(){return{x:2}};return new F().x}",
    "function run(){var o={io:function(){return{x:3}}};return new o.io().x}",
    "function run(){var f=function n(k){return k?n(k-1)+1:0};return f(3)}",
    "function run(){var g=function*(){yield 1};return g().next().value}",
    "function run(){var o={m(){return 1},get z(){return 2}};return o.m()+o.z}",
    "function run(){function f(){return new.target===undefined}return f()}",
  ];
  for (const code of keep) {
    const r = toArrows(code);
    assert.is(r.converted, 0, code);
    assert.is(r.code, code);
    assert.equal(run(r.code), run(code));
  }
});

test("module-level functions stay (Moddable makes them once, in flash); a function inside an arrow is inner", () => {
  const r = toArrows("export function a(){return 1}var b=function(){return 2};var c=()=>function(){return 3};");
  assert.is(r.code, "export function a(){return 1}var b=function(){return 2};var c=()=>()=>3;");
});

test("a function's parameters keep their default values, converted too", () => {
  same("function run(){return (function(o=function(){return 7}){return o()})()}");
});

test("the shipped Moddable bundles: no inner function left that could be an arrow", () => {
  if (!existsSync("dist/moddable")) throw new Error("dist/moddable missing: run `npm run build` first");
  for (const f of readdirSync("dist/moddable").filter((f) => f.endsWith(".js"))) {
    const r = toArrows(read(`dist/moddable/${f}`));
    assert.is(r.converted, 0, `${f}: ${r.converted} more could be converted`);
  }
});

test.run();
