// Rollup plugins shared by rollup.config.js and the QEMU firmware build (tools/qemu/build.js): what is linked in
// place of src/platform.ts and src/features.ts for a target and an entry.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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
