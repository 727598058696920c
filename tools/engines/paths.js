// Where the engine tests find the bundles and the engine-side scripts.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SCRIPTS = join(ROOT, "test", "engines");

/** Where the bundles are: dist/, or TINYHUB_DIST (a directory with espruino/ and moddable/) to test another build. */
export const DIST = process.env.TINYHUB_DIST ? resolve(process.env.TINYHUB_DIST) : join(ROOT, "dist");

/** A built bundle's absolute path (rel: "dist/<target>/<entry>.js"); an error naming the build command when it is missing. @param {string} rel */
export function bundlePath(rel) {
  const p = join(DIST, rel.replace(/^dist\//, ""));
  if (!existsSync(p)) throw new Error(`${rel} missing: run \`npm run build\` first`);
  return p;
}

/** An engine-side script from test/engines. @param {string} name */
export function script(name) {
  return readFileSync(join(SCRIPTS, name), "utf8");
}
