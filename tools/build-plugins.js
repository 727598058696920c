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
