// Rollup plugins shared by rollup.config.js and the QEMU firmware build (tools/qemu/build.js): what is linked in
// place of src/platform.ts and src/features.ts for a target and an entry.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as acornParse } from "acorn";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PORTABLE = join(ROOT, "src/platform.ts");
const FEATURES = join(ROOT, "src/features.ts");

/**
 * Links targets/<target>/platform.ts, when the target has one, wherever src/ imports src/platform.ts (the portable
 * primitives): the engine's own versions replace ours, as firmware links its own C functions.
 */
export function platformOf(target) {
  const own = join(ROOT, `targets/${target}/platform.ts`);
  return {
    name: "platform",
    async resolveId(source, importer, options) {
      // (the target's own file may re-export portable parts: src/platform.ts stays itself there)
      if (!/platform$/.test(source) || !importer || importer === own || !existsSync(own)) return null;
      const r = await this.resolve(source, importer, { ...options, skipSelf: true });
      return r && r.id === PORTABLE ? own : null;
    },
  };
}

/** src/features.ts with the given values (names as there, e.g. { QOS2: false }); the others keep theirs. */
export function featuresOf(values) {
  return {
    name: "features",
    load(id) {
      if (id !== FEATURES) return null;
      let code = readFileSync(FEATURES, "utf8");
      for (const [k, v] of Object.entries(values)) {
        const re = new RegExp(`export var ${k} = [^;]+;`);
        if (!re.test(code)) this.error(`src/features.ts has no ${k}`);
        code = code.replace(re, `export var ${k} = ${JSON.stringify(v)};`);
      }
      return code;
    },
  };
}

/**
 * Moddable only, after the minifier: every function made inside another function (a closure, made at run time)
 * that can be an arrow function becomes one. XS gives an ordinary `function` a `prototype` object (an instance and
 * two property slots: fxDefaultFunctionPrototype) made with the function; an arrow has none, so each closure costs
 * 3 slots less, for as long as it lives. A function stays as it is when it uses `this`, `arguments`, `new.target`,
 * `super` or `eval` (an arrow would see its caller's), when it is a generator, async, a method, a getter or a setter
 * (already without a prototype), when a function expression's own name is used inside it, or when its name is
 * called with `new` anywhere in the bundle (by name: its own, or the variable, property or assignment target it is the
 * value of, conservatively; `new` of anything else keeps every function). A function made
 * inside another and handed out is never constructed by the code it goes to: the bundles hand out callbacks, not
 * classes (a class the platform constructs, such as the TCP class given to the TLS socket, is module-level).
 * Module-level functions stay: Moddable makes them once, when it preloads the module, in flash.
 *
 * A declaration `function f(a){...}` first in its function's body (the minifier's hoist_funs puts them there, which
 * is what `var` needs: the value is there before any other statement runs) becomes `var f=(a)=>{...};`; one after
 * another statement, or inside a block, stays. An expression becomes `(a)=>{...}`, in parentheses where the
 * grammar asks for them (a callee, an operand).
 */
export function arrowClosures() {
  return {
    name: "arrow-closures",
    renderChunk(code) {
      // (no source map of its own: the Moddable bundles are not broken down by tools/size-breakdown.js)
      return { code: toArrows(code).code, map: null };
    },
  };
}

/** Where an arrow function stands without parentheses: as an AssignmentExpression. */
function bareArrowFits(node, parent, key) {
  switch (parent.type) {
    case "CallExpression":
    case "NewExpression":
      return key == "arguments";
    case "ArrayExpression": case "SpreadElement": case "ReturnStatement": case "ThrowStatement": case "SequenceExpression":
    case "VariableDeclarator": case "ArrowFunctionExpression": case "AssignmentPattern": case "YieldExpression":
      return true;
    case "Property":
      return key == "value";
    case "AssignmentExpression":
      return key == "right";
    case "ConditionalExpression":
      return key != "test";
    default:
      return false;
  }
}

/** Whether `test` holds for a node of the subtree `n`; the nodes `skip` says yes to are tested but not entered. */
function someNode(n, test, skip) {
  if (!n || typeof n.type != "string") return false;
  if (test(n)) return true;
  if (skip && skip(n)) return false;
  for (const k in n) {
    const v = n[k];
    if (Array.isArray(v) ? v.some((c) => someNode(c, test, skip)) : v && typeof v.type == "string" && someNode(v, test, skip)) return true;
  }
  return false;
}

/** Whether `fn` (its parameters and body) has a node for which `test` holds, inner functions entered unless `skip`. */
const inFunction = (fn, test, skip) => [...fn.params, fn.body].some((n) => someNode(n, test, skip));

/**
 * Whether something in `fn` stops its conversion: this, super, new.target, arguments or eval of its own (nested
 * arrows included; an inner ordinary function has its own this and arguments, a class is looked into: its extends
 * and keys are ours).
 */
function blocksArrow(fn) {
  return inFunction(
    fn,
    (n) => n.type == "ThisExpression" || n.type == "Super" || n.type == "MetaProperty" || (n.type == "Identifier" && (n.name == "arguments" || n.name == "eval")),
    (n) => n.type == "FunctionExpression" || n.type == "FunctionDeclaration",
  );
}

/** Whether identifier `name` is used inside `fn` (its own name, for recursion). */
const usesName = (fn, name) => inFunction(fn, (n) => n.type == "Identifier" && n.name == name);

/**
 * `code` (an ES module) with the functions made inside functions written as arrow functions where that keeps its
 * meaning (see arrowClosures); `converted`: how many, `kept`: why the others stayed, by reason.
 * @param {string} code @returns {{ code: string, converted: number, kept: Record<string, number> }}
 */
export function toArrows(code) {
  const ast = acornParse(code, { ecmaVersion: 2022, sourceType: "module" });
  // names called with `new` anywhere
  const constructed = new Set();
  /** @type {{ at: number, del: number, text: string }[]} */
  const edits = [];
  const kept = {};
  let converted = 0;
  const keep = (why) => (kept[why] = (kept[why] || 0) + 1);
  /** @type {{ node: any, parent: any, key: string, grand: any }[]} */
  const fns = [];
  /** converted declarations by the block they open: their first and last edits */
  const runs = new Map();
  const walk = (n, parent, key, grand, depth) => {
    if (!n || typeof n.type != "string") return;
    // `new f()`, `new x.f()`: f, by name
    if (n.type == "NewExpression") {
      const c = n.callee.type == "MemberExpression" && !n.callee.computed ? n.callee.property : n.callee;
      constructed.add(c.type == "Identifier" ? c.name : "*");
    }
    if ((n.type == "FunctionExpression" || n.type == "FunctionDeclaration") && depth > 0) fns.push({ node: n, parent, key, grand });
    const d = depth + (/Function/.test(n.type) ? 1 : 0);
    for (const k in n) {
      const v = n[k];
      if (Array.isArray(v)) for (const c of v) walk(c, n, k, parent, d);
      else if (v && typeof v.type == "string") walk(v, n, k, parent, d);
    }
  };
  walk(ast, null, "", null, 0);
  for (const { node, parent, key, grand } of fns) {
    if (node.generator || node.async) keep("generator or async");
    else if ((parent.type == "Property" && (parent.method || parent.kind != "init")) || parent.type == "MethodDefinition") keep("method");
    else if (blocksArrow(node)) keep("this, arguments, new.target, super or eval");
    else if (constructed.has("*") || namesOf(node, parent).some((n) => constructed.has(n))) keep("called with new");
    else if (node.type == "FunctionExpression" && node.id && usesName(node, node.id.name)) keep("uses its own name");
    else if (node.type == "FunctionDeclaration" && !(parent.type == "BlockStatement" && grand && /Function/.test(grand.type) && leading(parent, node))) keep("declaration not first in its function");
    else {
      const open = code.indexOf("(", node.id ? node.id.end : node.start), p = node.params, b = node.body.body;
      // `(a)` -> `a`, `{return x}` -> `x` (in parentheses when it is an object literal or a sequence)
      const bare = p.length == 1 && p[0].type == "Identifier" && code.slice(open, node.body.start) == `(${p[0].name})`;
      const x = b.length == 1 && b[0].type == "ReturnStatement" && b[0].argument;
      const first = { at: node.start, del: open - node.start + (bare ? 1 : 0), text: "" };
      if (node.type == "FunctionDeclaration") {
        const end = { at: node.end, del: 0, text: ";" };
        first.text = `var ${node.id.name}=`;
        edits.push(first, end);
        (runs.get(parent) || runs.set(parent, []).get(parent)).push({ node, first, end });
      } else {
        const wrap = !bareArrowFits(node, parent, key) && !(code[node.start - 1] == "(" && code[node.end] == ")");
        edits.push(first);
        if (wrap) (first.text = "("), edits.push({ at: node.end, del: 0, text: ")" });
      }
      if (bare) edits.push({ at: p[0].end, del: 1, text: "" });
      edits.push({ at: node.body.start, del: 0, text: "=>" });
      if (x) {
        const paren = x.type == "SequenceExpression" || code[x.start] == "{";
        edits.push({ at: node.body.start, del: x.start - node.body.start, text: paren ? "(" : "" }, { at: x.end, del: node.body.end - x.end, text: paren ? ")" : "" });
      }
      converted++;
    }
  }
  // declarations one after the other: one `var a=...,b=...;`
  for (const [block, list] of runs)
    for (let i = 1; i < list.length; i++)
      if (block.body.indexOf(list[i].node) == block.body.indexOf(list[i - 1].node) + 1) {
        list[i - 1].end.text = ",";
        list[i].first.text = `${list[i].node.id.name}=`;
      }
  // applied from the end: the ranges replaced (`function name`) never overlap; where an insertion (the `;` after a
  // declaration) meets the start of a replaced range, the replacement goes first, the insertion then before it
  edits.sort((a, b) => b.at - a.at || b.del - a.del);
  let out = code;
  for (const e of edits) out = out.slice(0, e.at) + e.text + out.slice(e.at + e.del);
  return { code: out, converted, kept };
}

/** The names function `node` goes by: its own, the variable, property or assignment target it is the value of. */
function namesOf(node, parent) {
  const out = node.id ? [node.id.name] : [];
  const t = parent.type == "VariableDeclarator" ? parent.id : parent.type == "AssignmentExpression" ? parent.left : parent.type == "Property" ? parent.key : null;
  if (t && t.type == "Identifier") out.push(t.name);
  if (t && t.type == "MemberExpression" && !t.computed) out.push(t.property.name);
  return out;
}

/** Whether declaration `node` is among the function declarations that open `block` (directives aside). */
function leading(block, node) {
  for (const s of block.body) {
    if (s === node) return true;
    if (s.type != "FunctionDeclaration" && !(s.type == "ExpressionStatement" && s.directive)) return false;
  }
  return false;
}

/**
 * Espruino: the text of `file` between the lines `// espruino: begin` and `// espruino: end` moved to its line
 * `// espruino: here` (inside a function), before compiling. Espruino keeps each module-level function in variables
 * (its name, code link, scope link, parameters) for as long as the bundle is loaded, but a function inside another
 * one only while that one's scope lives: moved into createDevice, the device's functions cost nothing until a device
 * is made. Made inside a function, each costs 3 more (its scope link becomes an array of two scopes): paid back by
 * `param`, the device the moved functions took as their first parameter (`d: HubDevice`), which is then the
 * enclosing function's own variable: the parameter goes, and so does the argument (`d` or `this`) at each call, and a
 * wrapper left calling one with its own arguments (`function (code) { closed(code); }`) becomes that function.
 * `inline`: functions of other modules called once there, marked for the minifier to write in place (their one
 * `return` expression), so that the bundle does not keep them as functions (about 8 variables each while loaded).
 * Moddable wants the opposite (XS copies the byte code of a function made at run time into RAM): its build is left
 * as written.
 */
export function closuresOf(file, param, inline = []) {
  const id = join(ROOT, file);
  return {
    name: "closures",
    transform(code, at) {
      if (at !== id) return null;
      const b = code.indexOf("// espruino: begin\n"), e = code.indexOf("// espruino: end\n"), h = code.indexOf("  // espruino: here\n");
      if (b < 0 || e < b || h < e) this.error(`${file}: the markers // espruino: begin, end, here (in that order) are missing`);
      let moved = code.slice(b, e), rest = code.slice(h);
      if (param) {
        // (the TypeScript plugin may have compiled the file already: the type is optional)
        const first = new RegExp(`\\bfunction (\\w+)\\(${param.name}(?:: ${param.type})?(, |\\))`, "g"), names = [];
        moved = moved.replace(first, (_, n, after) => (names.push(n), `function ${n}(${after == ")" ? ")" : ""}`));
        if (!names.length) this.error(`${file}: no function takes ${param.name}: ${param.type} first`);
        const call = new RegExp(`(^|[^\\w.$])(${names.join("|")})\\((?:${param.name}|this)(, |\\))`, "g");
        const unwrap = /function \(([^()]*)\) \{\s*(\w+)\(([^()]*)\);\s*\}/g;
        const fix = (t) =>
          t.replace(call, (_, pre, n, after) => `${pre}${n}(${after == ")" ? ")" : ""}`).replace(unwrap, (w, ps, n, args) =>
            names.includes(n) && ps.split(",").map((x) => x.split(":")[0].trim()).join(",") == args.split(",").map((x) => x.trim()).join(",") ? n : w);
        moved = fix(moved);
        rest = fix(rest);
      }
      for (const n of inline) {
        const at = new RegExp(`(^|[^\\w.$])(${n}\\()`, "g");
        if (!at.test(rest)) this.error(`${file}: no call of ${n} in createDevice`);
        rest = rest.replace(at, "$1/*@__INLINE__*/ $2");
      }
      return { code: code.slice(0, b) + code.slice(e, h) + moved + rest, map: null };
    },
  };
}

/**
 * Espruino: a module-level variable holding a number that nothing assigns again (an error code, a packet type) is
 * written as that number wherever it is read, before the minifier. Espruino keeps each such name as a variable for
 * as long as the bundle is loaded and finds it by walking the scopes at every read; terser keeps the name when the
 * number is the longer text (`A` for -21, mangled).
 */
export function inlineConstants() {
  return {
    name: "inline-constants",
    renderChunk(code) {
      // (no source map: the size breakdown maps the minified code back through terser's, which starts here)
      return { code: inlineNumbers(code).code, map: null };
    },
  };
}

/**
 * `code` (an ES5 script, as the Espruino chunk is) with its constant numbers' names read as the numbers: `inlined`
 * names them. A name declared more than once anywhere (a parameter or local of the same name could shadow it) stays.
 * @param {string} code @returns {{ code: string, inlined: string[] }}
 */
export function inlineNumbers(code) {
  const ast = acornParse(code, { ecmaVersion: 5, sourceType: "script" });
  /** @type {Map<string, number>} */
  const declared = new Map();
  const assigned = new Set(), reads = [];
  const declare = (id) => id && declared.set(id.name, (declared.get(id.name) || 0) + 1);
  // names declared (variables, functions, parameters, catch), assigned, and read (not a property name, a label or a
  // declaration's own name)
  const walk = (n, parent, key) => {
    if (!n || typeof n.type != "string") return;
    if (n.type == "VariableDeclarator") declare(n.id);
    else if (n.type == "FunctionDeclaration" || n.type == "FunctionExpression") declare(n.id), n.params.forEach(declare);
    else if (n.type == "CatchClause") declare(n.param);
    else if ((n.type == "AssignmentExpression" || n.type == "UpdateExpression") && (n.left || n.argument).type == "Identifier") assigned.add((n.left || n.argument).name);
    else if (n.type == "Identifier" && !/^(id|params|param|label)$/.test(key) && !(key == "property" && !parent.computed) && !(parent.type == "Property" && key == "key")) reads.push(n);
    for (const k in n) {
      const c = n[k];
      if (Array.isArray(c)) c.forEach((x) => walk(x, n, k));
      else if (c && typeof c.type == "string") walk(c, n, k);
    }
  };
  walk(ast, null, "");
  /** @type {Map<string, string>} */
  const value = new Map();
  const num = (x) => x && ((x.type == "Literal" && typeof x.value == "number") || (x.type == "UnaryExpression" && x.operator == "-" && num(x.argument)));
  for (const s of ast.body)
    if (s.type == "VariableDeclaration")
      for (const d of s.declarations)
        if (num(d.init) && declared.get(d.id.name) == 1 && !assigned.has(d.id.name)) value.set(d.id.name, `(${code.slice(d.init.start, d.init.end)})`);
  // from the end, so that the offsets before stay
  let out = code;
  for (const n of reads.filter((x) => value.has(x.name)).sort((a, b) => b.start - a.start)) out = out.slice(0, n.start) + value.get(n.name) + out.slice(n.end);
  return { code: out, inlined: [...value.keys()] };
}
