// Bundles: one file per target and feature, so an application pays only for what it imports.
//
//   dist/node/index.{js,cjs,d.ts}   from targets/node/index.ts   (ESM + CJS + types, not minified)
//   dist/espruino/<feature>.js      from targets/espruino/<feature>.ts  (ES5, CommonJS exports, minified)
//   dist/moddable/<feature>.js      from targets/moddable/<feature>.ts  (ES2020 module, minified)
//
// To add a feature bundle, add one line to ENTRIES below (its exports, generated around the target's entry glue).

import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";
import { dts } from "rollup-plugin-dts";
import { bundleViolations } from "./tools/bundle-rules.js";
import { platformOf, featuresOf, closuresOf, arrowClosures, inlineConstants } from "./tools/build-plugins.js";

/**
 * The device entries, one line each: what it offers (the size report's feature column), the targets it is built for, the features it leaves out (src/features.ts;
 * the IoT Hub has no QoS 2, which it refuses) and its exports as generated ES5. `entry(core, vars[, transport])`
 * (targets/<target>/entry.ts) wraps a core function with the target's transport and clock, filled into a copy of
 * the caller's options, after the target's memory check; `@` stands for the target's folder. Built as
 * dist/<target>/<name>.js.
 */
const BOTH = ["espruino", "moddable"];
const NO_QOS2 = { QOS2: false, EDGE: false, UPLOAD: false, FAST: false };
const LEAN = { QOS2: false, SOURCES: false, EDGE: false, UPLOAD: false };
// AMQP devices: the encoder without the kinds of value a device never sends (src/features.ts AMQP_ALL_TYPES)
const AMQP_DEVICE = { ...NO_QOS2, AMQP_ALL_TYPES: false, AMQP_ALL_FIELDS: false, AMQP_CLIENT_ALL: false };
const WS = `function (o) { return wsTransport(platformTransport(), o.ws || { path: "/mqtt" }); }`;
const ENTRIES = {
  mqtt: ["MQTT 3.1.1: QoS 0/1/2, will, streaming receive, in-order resend, keep-alive, reconnect", BOTH, {}, `import { createClient as core } from "src/mqtt/client";
export var createClient = entry(core, CLIENT_VARS);`],
  "mqtt-lean": ["MQTT 3.1.1, lean: QoS 0/1, keep-alive, reconnect with in-order resend, full validation of what arrives", ["espruino"], LEAN, `import { createClient as core } from "src/mqtt/client";
export var createClient = entry(core, CLIENT_VARS);`],
  "mqtt-store": ["mqtt + queued messages kept in flash across a power cut (Espruino Storage, Moddable files)", BOTH, {}, `import { createClient as core } from "src/mqtt/client";
export { @Store } from "@/store";
export var createClient = entry(core, STORE_VARS);`],
  hub: ["IoT Hub over MQTT/TLS: telemetry, C2D, twin, methods, SAS renewal (QoS 0/1)", BOTH, NO_QOS2, `import { createDevice as core } from "src/sessions/device";
export var createDevice = entry(core, DEVICE_VARS);`],
  dps: ["DPS registration over MQTT/TLS (QoS 0/1): symmetric key, enrollment group (deriveKey), X.509", BOTH, { ...LEAN, FAST: false }, `import { provision as core } from "src/sessions/provision";
export { deriveKey } from "src/sessions/provision";
export var provision = entry(core, CLIENT_VARS);`],
  "hub-ws": ["hub, over MQTT/TLS or MQTT/WebSockets/TLS (QoS 0/1)", BOTH, NO_QOS2, `import { createDevice as mqtt } from "src/sessions/device";
import { selectProtocol } from "src/sessions/protocol";
import { wsTransport } from "src/ws/transport";
export var createDevice = entry(function (o) { return selectProtocol(o, { mqtt: mqtt, ws: wsTransport }); }, DEVICE_VARS);`],
  "hub-amqp": ["IoT Hub over AMQP 1.0/TLS: telemetry, C2D (complete, reject, abandon; now or later), twin, methods, SAS token on $cbs renewed on the live connection", BOTH, AMQP_DEVICE, `import { createAmqpDevice as core } from "src/sessions/amqp";
import { E_HUB_PROTOCOL } from "src/iothub/errors";
export { C2D_REJECT, C2D_ABANDON, C2D_LATER } from "src/sessions/amqp";
export var createDevice = entry(function (o) { return o.protocol && o.protocol != "amqp" ? E_HUB_PROTOCOL : core(o); }, DEVICE_VARS);`],
  "hub-amqp-ws": ["hub-amqp, over AMQP/TLS or AMQP/WebSockets/TLS (443, AMQPWSB10)", BOTH, AMQP_DEVICE, `import { createAmqpDevice as amqp } from "src/sessions/amqp";
import { selectProtocol } from "src/sessions/protocol";
import { wsTransport } from "src/ws/transport";
export { C2D_REJECT, C2D_ABANDON, C2D_LATER } from "src/sessions/amqp";
export var createDevice = entry(function (o) { return selectProtocol(o, { amqp: amqp, ws: wsTransport }, "amqp"); }, DEVICE_VARS);`],
  "hub-http": ["IoT Hub over HTTPS: telemetry, batches, C2D polling", BOTH, NO_QOS2, `import { createHttpDevice as core } from "src/sessions/https";
import { selectProtocol } from "src/sessions/protocol";
export { C2D_COMPLETE, C2D_REJECT, C2D_ABANDON, C2D_LATER } from "src/sessions/https";
export var createHttpDevice = entry(core, DEVICE_VARS);
export function createDevice(o) { return selectProtocol(o, { http: createHttpDevice }, "http"); }`],
  ws: ["mqtt over WebSockets (any broker)", BOTH, {}, `import { createClient as core } from "src/mqtt/client";
import { wsTransport } from "src/ws/transport";
export { wsTransport, platformTransport as @Transport };
export var createClient = entry(core, CLIENT_VARS, ${WS});`],
};
/** The store each target's mqtt-store entry exports (targets/<target>/store.ts). */
const STORE = { espruino: "storageStore", moddable: "fileStore" };
/** Entries that are files of their own: [target, name] from targets/<target>/<name>.ts. */
const FILES = [["moddable", "classic"]]; // the classic Socket/SecureSocket transport

/** What each bundle offers, by name (tools/readme.js shows it beside the bytes). */
export const ABOUT = { ...Object.fromEntries(Object.entries(ENTRIES).map(([n, e]) => [n, e[0]])), classic: "the classic Socket/SecureSocket transport for mqtt" };

/** The generated source of entry `name` for `target`: imports resolved to files, the entry glue imported. */
function entrySource(target, name) {
  const code = ENTRIES[name][3]
    .replace(/"(src|@)\/([^"]+)"/g, (_, at, path) => `"${ROOT}/${at == "@" ? `targets/${target}` : "src"}/${path}.ts"`)
    .replace(/@Transport/g, `${target}Transport`)
    .replace(/@Store/g, STORE[target]);
  return `import { entry, platformTransport, CLIENT_VARS, DEVICE_VARS, STORE_VARS } from "${ROOT}/targets/${target}/entry.ts";\n${code}\n`;
}

/** Serves the generated entries as virtual modules `entry:<target>/<name>`. */
function entries() {
  return {
    name: "entries",
    resolveId: (id) => (id.startsWith("entry:") ? "\0" + id : null),
    load(id) {
      if (!id.startsWith("\0entry:")) return null;
      const [target, name] = id.slice(7).split("/");
      return entrySource(target, name);
    },
  };
}

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
    // hoist_funs: function declarations first in their scope, since Espruino does not hoist them.
    // reduce_funcs off for Moddable (module): a module-level function used once stays there, not copied into the
    // function that calls it. Moddable preloads the bundles: module-level functions are made once, in flash, but
    // XS copies the byte code of every function made at run time (a closure) into the chunk heap, so a helper
    // inlined into createDevice cost its code in RAM for each device (and at each call, inside a callback).
    // keep_fargs off: a parameter no code reads goes (no bundle reads a function's length; Espruino keeps each one
    // as a variable of the function).
    compress: { passes: 3, ecma, toplevel: true, unsafe_arrows: false, hoist_funs: true, reduce_funcs: !module, keep_fargs: false },
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
const ROOT = fileURLToPath(new URL(".", import.meta.url)).replace(/\/$/, "");

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

const builds = [
  ...Object.entries(ENTRIES).flatMap(([name, [, targets, features]]) => targets.map((target) => [target, name, `entry:${target}/${name}`, features])),
  ...FILES.map(([target, name]) => [target, name, `targets/${target}/${name}.ts`, {}]),
];
// TINYHUB_ONLY=espruino/hub-amqp (a regex): only the device bundles it matches (a quicker build while measuring one)
const only = process.env.TINYHUB_ONLY ? new RegExp(process.env.TINYHUB_ONLY) : null;
for (const [target, feature, input, features] of builds) {
  const t = TARGETS[target];
  if (only && !only.test(`${target}/${feature}`)) continue;
  configs.push({
    input,
    external: target === "moddable" ? (id) => MODDABLE_EXTERNAL.test(id) : [],
    onwarn,
    treeshake: { moduleSideEffects: false, propertyReadSideEffects: false },
    plugins: [
      entries(),
      platformOf(target),
      // the QoS 0 paths are for Espruino's interpreter (src/features.ts FAST)
      featuresOf(target == "moddable" ? { ...features, FAST: false } : features),
      // Espruino: the device's functions inside createDevice, made per device rather than kept loaded
      ...(target == "espruino" ? [closuresOf("src/sessions/device.ts", { name: "d", type: "HubDevice" }, ["deviceResourceUri", "c2dFilter"])] : []),
      // TINYHUB_SOURCEMAP=1: source maps through to the minified code (tools/size-breakdown.js attributes the bytes)
      typescript({ tsconfig: t.tsconfig, compilerOptions: { target: t.target, ...(process.env.TINYHUB_SOURCEMAP ? { sourceMap: true, inlineSources: false } : {}) }, include: ["src/**/*.ts", `targets/${target}/**/*.ts`] }),
    ],
    output: t.module
      ? // Moddable: closures as arrow functions after the minifier (3 slots less each in XS; tools/build-plugins.js)
        { file: `dist/${target}/${feature}.js`, format: "es", plugins: [minify(t.ecma, true), arrowClosures(), engineRules(target)] }
      : {
          // Espruino: `exports.createClient = ...` for Modules.addCached + require; no __esModule, no 'use strict'
          file: `dist/${target}/${feature}.js`,
          format: "cjs",
          exports: "named",
          esModule: false,
          strict: false,
          freeze: false,
          generatedCode: "es5",
          plugins: [inlineConstants(), minify(t.ecma, false), engineRules(target)],
        },
  });
}

export default configs;
