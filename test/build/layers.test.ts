// The layer map (README "Layout") as a test: every import in src/ and targets/ points down a layer or within its
// own, never up. A pure codec that imports a session, src/ that imports a target, tools or Node, or one target that
// imports another fails here by file and specifier.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Layers from the bottom; a file may import its own layer or any below it. */
const LAYERS: [string, RegExp][] = [
  ["base", /^src\/(bytes|errors|types|features|version|platform|options)\.ts$|^src\/crypto\//],
  ["buffer", /^src\/memory\.ts$/],
  ["iothub codec", /^src\/iothub\//],
  // the journal keeps the MQTT outbox's records: it knows their kinds from src/mqtt/state.ts
  ["protocols", /^src\/(mqtt|http|ws|amqp)\/|^src\/store\.ts$/],
  ["sessions", /^src\/sessions\/|^src\/errornames\.ts$/],
];

function layer(file: string): number {
  const i = LAYERS.findIndex(([, re]) => re.test(file));
  if (i < 0) throw new Error(`${file}: in no layer of test/build/layers.test.ts`);
  return i;
}

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true })
    .map((f) => join(dir, String(f)).split("\\").join("/"))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
}

/** The module specifiers a file imports or re-exports (type-only ones included). */
function imports(file: string): string[] {
  const code = readFileSync(join(ROOT, file), "utf8").replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, "");
  return [...code.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"|^\s*import\s*"([^"]+)"/gm)].map((m) => m[1] || m[2]);
}

/** The repository path an import resolves to, or the bare specifier. */
function target(file: string, spec: string): string {
  if (!spec.startsWith(".")) return spec;
  const p = relative(ROOT, resolve(ROOT, dirname(file), spec)).split("\\").join("/");
  return p.endsWith(".ts") || p.endsWith(".js") ? p : p + ".ts";
}

test("src/: each import points down a layer or within its own; nothing outside src/", () => {
  const bad: string[] = [];
  for (const f of files("src")) {
    for (const s of imports(f)) {
      const t = target(f, s);
      if (!t.startsWith("src/")) bad.push(`${f} imports ${s} (src/ imports only src/)`);
      else if (layer(t) > layer(f)) bad.push(`${f} (${LAYERS[layer(f)][0]}) imports ${t} (${LAYERS[layer(t)][0]})`);
    }
  }
  assert.equal(bad, []);
});

test("the pure IoT Hub codec imports no session, no MQTT, no HTTP", () => {
  for (const f of files("src/iothub")) for (const s of imports(f)) assert.not.match(target(f, s), /^src\/(sessions|mqtt|http|ws)\//, `${f}: ${s}`);
});

test("targets/: a target imports src/ and its own folder, never another target or tools/", () => {
  const bad: string[] = [];
  for (const f of files("targets")) {
    const own = f.split("/").slice(0, 2).join("/") + "/";
    for (const s of imports(f)) {
      const t = target(f, s);
      if (s.startsWith(".") && !t.startsWith("src/") && !t.startsWith(own)) bad.push(`${f} imports ${s}`);
    }
  }
  assert.equal(bad, []);
});

test("the checks see what they check: a session import in the codec would be reported", () => {
  assert.ok(layer("src/sessions/device.ts") > layer("src/iothub/sas.ts"));
  assert.is(target("src/iothub/sas.ts", "../sessions/device"), "src/sessions/device.ts");
  assert.ok(imports("src/sessions/device.ts").includes("../mqtt/client"));
  assert.throws(() => layer("src/unknown/x.ts"), /in no layer/);
});

test.run();
