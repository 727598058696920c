// The Espruino build (dist/espruino/<entry>.js, ES5) in QuickJS (quickjs-emscripten, WebAssembly,
// inside this Node process), for memory accounting: runtime.computeMemoryUsage() tells how many
// bytes the engine holds. The bridge functions cross the boundary synchronously: __send(json, bytes)
// from the engine, __deliver(json, bytes) into it.
import { readFileSync } from "node:fs";
import { createHost } from "./host.js";
import { espruinoCryptoModel } from "./crypto-model.js";
import { bundlePath, script } from "./paths.js";

/**
 * Starts a QuickJS runtime with dist/espruino/<entry>.js loaded as `tinyhub` (its exports).
 * @param {{ entry: string, names?: Record<string, string>, log?: (line: string) => void, memoryLimit?: number }} opts
 */
export async function startQuickJSEngine(opts) {
  const bundle = readFileSync(bundlePath(`dist/espruino/${opts.entry}.js`), "utf8");
  let mod;
  try {
    mod = await import("quickjs-emscripten");
  } catch (e) {
    throw new Error(`quickjs-emscripten is not installed (a devDependency): run \`npm ci\` (${/** @type {Error} */ (e).message})`);
  }
  const QuickJS = await mod.getQuickJS();
  const runtime = QuickJS.newRuntime();
  runtime.setMemoryLimit(opts.memoryLimit || 16 * 1024 * 1024);
  runtime.setMaxStackSize(512 * 1024);
  const vm = runtime.newContext();
  const host = createHost({ names: opts.names, log: opts.log });
  let disposed = false;

  /** Evaluates code; its value comes back as JSON (dumped). @param {string} code @param {string} [file] */
  function evaluate(code, file = "eval.js") {
    const r = vm.evalCode(code, file);
    if (r.error) {
      const err = vm.dump(r.error);
      r.error.dispose();
      throw new Error(`exception in QuickJS: ${err && err.stack ? `${err.name}: ${err.message}\n${err.stack}` : JSON.stringify(err)}`);
    }
    const v = vm.dump(r.value);
    r.value.dispose();
    return v;
  }

  /** computeMemoryUsage() as a plain object (memory_used_size, malloc_size, ...). */
  function memory() {
    const h = runtime.computeMemoryUsage();
    const m = vm.dump(h);
    h.dispose();
    return m;
  }

  try {
    const send = vm.newFunction("__send", (jsonH, bytesH) => {
      const msg = JSON.parse(vm.getString(jsonH));
      let bytes = null;
      if (bytesH && vm.typeof(bytesH) == "object") {
        const life = vm.getArrayBuffer(bytesH);
        bytes = Buffer.from(life.value);
        life.dispose();
      }
      host.handle(msg, bytes);
    });
    vm.setProp(vm.global, "__send", send);
    send.dispose();

    const empty = memory();
    evaluate(`var tinyhub = (function () { var exports = {}, module = { exports: exports };\n${bundle}\n; return module.exports; })();`, "bundle.js");
    const bundleOnly = memory();
    evaluate(script("bridge.es5.js"), "bridge.es5.js");
    // the Espruino bundle presumes Espruino's E (its text functions); the transport and clock come from the bridge
    evaluate(script("espruino.es5.js"), "espruino.es5.js");
    evaluate(await espruinoCryptoModel(), "espruino-crypto.js");
    evaluate(script("session.es5.js"), "session.es5.js");
    evaluate(script("glue-quickjs.es5.js"), "glue-quickjs.es5.js");
    const loaded = memory();
    const deliver = vm.getProp(vm.global, "__deliver");

    host.onEvents = (batch) => {
      if (disposed) return;
      const header = [], parts = [];
      for (const [ev, b] of batch) {
        if (b) {
          header.push({ ...ev, len: b.length });
          parts.push(b);
        } else header.push(ev);
      }
      const data = Buffer.concat(parts);
      const jsonH = vm.newString(JSON.stringify(header));
      const abH = vm.newArrayBuffer(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
      const r = vm.callFunction(deliver, vm.undefined, jsonH, abH);
      jsonH.dispose();
      abH.dispose();
      if (r.error) {
        host.reports.push({ name: "exception", value: JSON.stringify(vm.dump(r.error)), at: Date.now() });
        r.error.dispose();
      } else r.value.dispose();
    };

    return {
      engine: "quickjs",
      ownGlue: false,
      host,
      /** QuickJS memory (computeMemoryUsage) with nothing loaded, with the bundle only, and with bundle + bridge + helpers. */
      atLoad: { empty, bundle: bundleOnly, loaded },
      /** @param {string} code */
      eval: async (code) => evaluate(code),
      memory,
      dump: () => runtime.dumpMemoryUsage(),
      async close() {
        if (disposed) return;
        host.close();
        disposed = true;
        deliver.dispose();
        vm.dispose();
        runtime.dispose();
      },
    };
  } catch (e) {
    host.close();
    vm.dispose();
    runtime.dispose();
    throw e;
  }
}
