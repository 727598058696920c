// Bundles: one file per target and feature, so an application pays only for what it imports.
//
//   dist/node/index.{js,cjs,d.ts}   from targets/node/index.ts   (ESM + CJS + types, not minified)
//   dist/espruino/<feature>.js      from targets/espruino/<feature>.ts  (ES5, CommonJS exports, minified)
//   dist/moddable/<feature>.js      from targets/moddable/<feature>.ts  (ES2020 module, minified)
//
// To add a feature bundle, add one line to FEATURES below. An entry whose source file does not
// exist yet is skipped with a warning, so features can be listed before they are written.

import { existsSync } from "node:fs";
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";
import { dts } from "rollup-plugin-dts";
import { bundleViolations } from "./tools/bundle-rules.js";
import { platformOf, featuresOf } from "./tools/build-plugins.js";

/** [target, feature]: input targets/<target>/<feature>.ts, output dist/<target>/<feature>.js */
const FEATURES = [
  ["espruino", "mqtt"],
  ["moddable", "mqtt"],
  ["espruino", "mqtt-store"], // MQTT with queued messages kept in Storage across a power cut
  ["espruino", "hub"], ["moddable", "hub"], // IoT Hub over MQTT
  ["espruino", "dps"], ["moddable", "dps"], // Device Provisioning
  ["espruino", "hub-ws"], ["moddable", "hub-ws"], // IoT Hub over MQTT or MQTT over WebSockets
  ["espruino", "hub-http"], ["moddable", "hub-http"], // IoT Hub over HTTPS
  ["espruino", "ws"], ["moddable", "ws"], // MQTT over WebSockets, any broker
  ["moddable", "classic"], // the classic Socket/SecureSocket transport
];

/** Features an entry leaves out (src/features.ts): the IoT Hub entries have no QoS 2, which the hub refuses. */
const NO_QOS2 = { QOS2: false };
const ENTRY_FEATURES = { hub: NO_QOS2, "hub-ws": NO_QOS2, "hub-http": NO_QOS2, dps: NO_QOS2 };

/** Platform modules the Moddable build imports at run time (resolved by mcconfig, not bundled). */
const MODDABLE_EXTERNAL = /^(embedded:|timer$|time$|crypt$|socket$|securesocket$)/;

/** Per-target compiler and minifier settings. */
const TARGETS = {
  espruino: { tsconfig: "tsconfig.espruino.json", target: "ES5", ecma: 5, module: false },
  moddable: { tsconfig: "tsconfig.moddable.json", target: "ES2020", ecma: 2020, module: true },
};

/** Terser for the embedded bundles: internal fields start with `_` and are renamed too. */
function minify(ecma, module) {
  return terser({
    ecma,
    module,
    toplevel: true,
    // hoist_funs: function declarations first in their scope, since Espruino does not hoist them
    compress: { passes: 3, ecma, toplevel: true, unsafe_arrows: false, hoist_funs: true },
    mangle: { toplevel: true, properties: { regex: /^_/ } },
    // ascii_only: "\u0100" stays an escape; a raw non-ASCII character in the file reaches Espruino as bytes
    format: { ecma, comments: false, ascii_only: true },
  });
}

/** Fails the build on a shape the target's real engine refuses (tools/bundle-rules.js), in the final code. */
function engineRules(target) {
  return {
    name: "engine-rules",
    generateBundle(_, bundle) {
      for (const f of Object.values(bundle)) {
        const v = f.type == "chunk" ? bundleViolations(f.code, target) : [];
        if (v.length) this.error(`${f.fileName}: what ${target} refuses (tools/bundle-rules.js):\n  ${v.join("\n  ")}`);
      }
    },
  };
}

function skipped(input) {
  console.warn(`rollup.config.js: skipping ${input} (not written yet)`);
}

const onwarn = (warning, warn) => {
  // type errors are `npm run test:types`' job (the plugin checks the whole tsconfig, unrelated files
  // included); the build reports only what concerns bundling
  if (warning.plugin === "typescript") return;
  warn(warning);
};

const configs = [];

// Node: one entry with everything, as ESM, CJS and one bundled .d.ts
const NODE_INPUT = "targets/node/index.ts";
if (existsSync(NODE_INPUT)) {
  const external = (id) => id.startsWith("node:") || /^(net|tls|crypto|events)$/.test(id);
  configs.push(
    {
      input: NODE_INPUT,
      external,
      onwarn,
      plugins: [typescript({ tsconfig: "tsconfig.node.json", compilerOptions: { target: "ES2020", allowJs: false }, include: ["src/**/*.ts", "targets/node/**/*.ts"] })],
      output: [
        { file: "dist/node/index.js", format: "es", sourcemap: false },
        { file: "dist/node/index.cjs", format: "cjs", exports: "named", sourcemap: false },
      ],
    },
    {
      input: NODE_INPUT,
      external,
      onwarn,
      plugins: [dts({ tsconfig: "tsconfig.node.json" })],
      output: { file: "dist/node/index.d.ts", format: "es" },
    },
  );
} else skipped(NODE_INPUT);

for (const [target, feature] of FEATURES) {
  const t = TARGETS[target];
  const input = `targets/${target}/${feature}.ts`;
  if (!existsSync(input)) {
    skipped(input);
    continue;
  }
  configs.push({
    input,
    external: target === "moddable" ? (id) => MODDABLE_EXTERNAL.test(id) : [],
    onwarn,
    treeshake: { moduleSideEffects: false, propertyReadSideEffects: false },
    plugins: [
      platformOf(target),
      featuresOf(ENTRY_FEATURES[feature] || {}),
      typescript({ tsconfig: t.tsconfig, compilerOptions: { target: t.target }, include: ["src/**/*.ts", `targets/${target}/**/*.ts`] }),
    ],
    output: t.module
      ? { file: `dist/${target}/${feature}.js`, format: "es", plugins: [minify(t.ecma, true), engineRules(target)] }
      : {
          // Espruino: `exports.createClient = ...` for Modules.addCached + require; no __esModule, no 'use strict'
          file: `dist/${target}/${feature}.js`,
          format: "cjs",
          exports: "named",
          esModule: false,
          strict: false,
          freeze: false,
          generatedCode: "es5",
          plugins: [minify(t.ecma, false), engineRules(target)],
        },
  });
}

export default configs;
