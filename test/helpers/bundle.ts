// Shared by the bundle checks (test/build, test/targets): reading a built file and what no engine may be
// asked for.
import { existsSync, readFileSync } from "node:fs";

/** A built file, or a clear error when the build has not run. */
export function read(file: string): string {
  if (!existsSync(file)) throw new Error(`${file} missing: run \`npm run build\` first`);
  return readFileSync(file, "utf8");
}

/** Built-ins some engine lacks (Espruino: no Map/Set/Symbol/Promise...; Duktape 2.7: no Promise/Map). */
export const MISSING_GLOBALS = new Set([
  "Map", "Set", "WeakMap", "WeakSet", "WeakRef", "Symbol", "Promise", "Proxy", "Reflect", "BigInt",
  "TextEncoder", "TextDecoder", "Buffer", "globalThis", "queueMicrotask", "structuredClone", "console",
]);

/**
 * Methods missing on some engine: typed arrays have only subarray/set/index access everywhere
 * (Duktape: no slice/fill/from); ES2015+ Array/String/Object methods. Names are mangled, so a
 * string's `.slice` cannot be told from a typed array's: use substring/substr on strings.
 */
export const MISSING_METHODS = new Set([
  "slice", "fill", "from", "of", "copyWithin", "includes", "find", "findIndex", "findLast", "at",
  "flat", "flatMap", "entries", "values", "startsWith", "endsWith", "padStart", "padEnd", "repeat",
  "codePointAt", "fromCodePoint", "trimStart", "trimEnd", "assign", "setPrototypeOf", "getOwnPropertySymbols",
  "isInteger", "isFinite", "isNaN", "trunc", "sign", "imul", "clz32", "log2", "hypot",
]);
