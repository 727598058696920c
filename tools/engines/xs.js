// The Moddable build (dist/moddable/<entry>.js) in Moddable XS (xsnap), unmodified: XS resolves its
// platform imports "embedded:io/socket/tcp" and "timer" as files in the worker's working directory,
// so a temporary directory holds two one-line modules exporting the bridge's ECMA-419 TCP class and
// Timer (test/engines/bridge.es5.js), and the shipped file is imported as it is.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost } from "./host.js";
import { bundlePath, script } from "./paths.js";
import { startXS } from "./xsnap.js";

const dec = new TextDecoder();

/**
 * Starts an XS worker with the bridge and imports dist/moddable/<entry>.js as `tinyhub` (its exports).
 * @param {{ entry: string, names?: Record<string, string>, log?: (line: string) => void }} opts
 */
export async function startXSEngine(opts) {
  const bundle = bundlePath(`dist/moddable/${opts.entry}.js`);
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-xs-"));
  const host = createHost({ names: opts.names, log: opts.log });
  let xs;
  try {
    mkdirSync(join(dir, "embedded:io", "socket"), { recursive: true });
    writeFileSync(join(dir, "embedded:io", "socket", "tcp"), "export default globalThis.Bridge.TCP;\n");
    writeFileSync(join(dir, "timer"), "export default globalThis.Bridge.Timer;\n");
    writeFileSync(join(dir, "main.js"), `import * as lib from ${JSON.stringify(bundle)};\nglobalThis.tinyhub = lib;\n`);

    xs = startXS({
      cwd: dir,
      name: `tinyhub-${opts.entry}`,
      onPrint: (line) => opts.log && opts.log(`xs: ${line}`),
      onQuery: (msg) => {
        const nl = msg.indexOf(10);
        host.handle(JSON.parse(dec.decode(msg.subarray(0, nl))), nl + 1 < msg.length ? msg.subarray(nl + 1) : null);
      },
    });
    const worker = xs;
    host.onEvents = (batch) => {
      const parts = [], header = [];
      for (const [ev, bytes] of batch) {
        if (bytes) {
          header.push({ ...ev, len: bytes.length });
          parts.push(bytes);
        } else header.push(ev);
      }
      const msg = Buffer.concat([Buffer.from(JSON.stringify(header) + "\n"), ...parts]);
      worker.command(msg).catch((e) => host.reports.push({ name: "exception", value: String(e.message || e), at: Date.now() }));
    };

    const empty = (await xs.evaluate("gc()")).meter.currentHeapCount;
    await xs.evaluate(script("bridge.es5.js") + "\n;" + script("session.es5.js") + "\n;" + script("glue-xs.js"));
    const bridge = (await xs.evaluate("gc()")).meter.currentHeapCount;
    await xs.runModule(join(dir, "main.js"));
    const loaded = (await xs.evaluate("gc()")).meter.currentHeapCount;

    return {
      engine: "xs",
      /** The bundle uses its own target glue (the Moddable transport and clock over the bridge's TCP and Timer). */
      ownGlue: true,
      host,
      /** XS heap slots (after gc): empty machine, with the bridge, and with the bundle imported. */
      slots: { empty, bridge, loaded, bundle: loaded - bridge },
      /** Evaluates `code` as a script inside XS; its value comes back through JSON. @param {string} code */
      async eval(code) {
        const r = await worker.evaluate(`__eval(${JSON.stringify(code)})`);
        return r.reply.length ? JSON.parse(dec.decode(r.reply)) : null;
      },
      /** Heap slots in use after a garbage collection. */
      async heapSlots() {
        return (await worker.evaluate("gc()")).meter.currentHeapCount;
      },
      async close() {
        host.close();
        await worker.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    host.close();
    if (xs) await xs.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
