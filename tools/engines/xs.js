// The Moddable build (dist/moddable/<entry>.js) in Moddable XS (xsnap), unmodified: the shipped file is
// imported inside an XS Compartment whose module loader answers its platform imports with one-line
// modules exporting the bridge's classes (test/engines/bridge.es5.js):
//
//   "embedded:io/socket/tcp"      Bridge.TCP            (ECMA-419 TCP)
//   "embedded:io/socket/tcp/tls"  Bridge.TLS            (Moddable's ECMA-419 TLS socket, TLS done by Node)
//   "socket"                      { Socket }            (the classic Socket)
//   "securesocket"                Bridge.SecureSocket   (the classic SecureSocket)
//   "timer"                       Bridge.Timer
//   "time"                        { ticks }: milliseconds from the bridge's clock (Moddable's Time.ticks)
//   "crypt"                       a model of Moddable's Digest (SHA-1, SHA-256) over the portable code
//                                 (tools/engines/crypto-model.js), with XS's Uint8Array toBase64/fromBase64
//
// (Files in a directory cannot serve both "embedded:io/socket/tcp" and "embedded:io/socket/tcp/tls", hence
// the Compartment: its loadNowHook hands XS each module's source text, sent from here.)
import { readFileSync } from "node:fs";
import { createHost } from "./host.js";
import { bundlePath, script } from "./paths.js";
import { startXS } from "./xsnap.js";
import { moddableCryptoModel } from "./crypto-model.js";

const dec = new TextDecoder();

/** The platform modules, as sources evaluated inside the Compartment (whose globals hold Bridge). */
const PLATFORM = {
  "embedded:io/socket/tcp": "export default Bridge.TCP;",
  "embedded:io/socket/tcp/tls": "export default Bridge.TLS;",
  socket: "export const Socket = Bridge.Socket; export default { Socket };",
  securesocket: "export default Bridge.SecureSocket;",
  timer: "export default Bridge.Timer;",
  time: "export default { get ticks() { return Date.now(); } };",
};

/**
 * Starts an XS worker with the bridge and imports dist/moddable/<entry>.js as `tinyhub` (its exports;
 * with `extra` entries, the exports of all of them in one object).
 * @param {{ entry: string, extra?: string[], names?: Record<string, string>, log?: (line: string) => void }} opts
 */
export async function startXSEngine(opts) {
  const entries = [opts.entry, ...(opts.extra || [])];
  const model = await moddableCryptoModel();
  const sources = { ...PLATFORM, crypt: model.crypt };
  for (const e of entries) sources[`tinyhub/${e}`] = readFileSync(bundlePath(`dist/moddable/${e}.js`), "utf8");
  const host = createHost({ names: opts.names, log: opts.log });
  let xs;
  try {
    xs = startXS({
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
    await xs.evaluate(script("bridge.es5.js") + "\n;" + script("session.es5.js") + "\n;" + script("glue-xs.js") + "\n;" + model.script);
    const bridge = (await xs.evaluate("gc()")).meter.currentHeapCount;
    // the Compartment sees the bridge and the host provider (device.network.dns); the sources are dropped once imported
    await xs.evaluate(`(function (src, names) {
      const c = new Compartment({
        globals: { Bridge, device: globalThis.device, PortableCrypto },
        resolveHook: (specifier) => specifier,
        loadNowHook(specifier) {
          if (!(specifier in src)) throw new Error("no module " + specifier);
          return { source: new ModuleSource(src[specifier]) };
        },
      });
      const all = names.map((n) => c.importNow("tinyhub/" + n));
      src = null;
      globalThis.tinyhub = all.length == 1 ? all[0] : Object.assign({}, ...all);
    })(${JSON.stringify(sources)}, ${JSON.stringify(entries)})`);
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
      /** xsnap's meter without a collection (currentHeapCount: slots in use, those freed since the last gc included). */
      async meter() {
        return (await worker.evaluate("0")).meter;
      },
      /** Heap slots in use after a garbage collection. */
      async heapSlots() {
        return (await worker.evaluate("gc()")).meter.currentHeapCount;
      },
      async close() {
        host.close();
        await worker.close();
      },
    };
  } catch (e) {
    host.close();
    if (xs) await xs.close();
    throw e;
  }
}
