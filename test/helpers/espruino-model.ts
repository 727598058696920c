// A Node-side model of the Espruino APIs the espruino target touches, with the behaviours measured on
// Espruino 2v29 reproduced: socket 'data' events deliver binary strings, socket.write(Uint8Array) sends the
// array as decimal text ("16,2,0,255"), E.toUint8Array / E.toString convert, clearTimeout throws for an id
// that already fired. Real sockets underneath, so the adapter talks to a real broker.
import net from "node:net";
import tls from "node:tls";

export interface Model { written: string[]; sockets: number; restore(): void }

function socketModel(s: net.Socket, model: Model) {
  model.sockets++;
  const on = (event: string, fn: (...a: any[]) => void) => {
    if (event == "data") s.on("data", (d: Buffer) => fn(d.toString("latin1"))); // binary string
    else if (event == "close") s.on("close", () => fn());
    else if (event == "error") s.on("error", (e: any) => fn({ message: e.message }));
    else if (event == "drain") s.on("drain", () => fn());
  };
  return {
    on,
    write(data: unknown) {
      // Espruino: anything but a string is turned into text first, so bytes go out as "16,2,0,255"
      const str = typeof data == "string" ? data : String(Array.from(data as Uint8Array));
      model.written.push(str);
      return s.write(Buffer.from(str, "latin1"));
    },
    end() {
      s.end();
      s.destroy();
    },
  };
}

/** Espruino's mbedTLS takes DER only (a binary string); Node takes PEM. */
function der(v: unknown, label: string): string | undefined {
  if (v == null) return undefined;
  if (typeof v != "string" || v.includes("-----BEGIN")) throw new Error("HTTPS init failed! mbedtls_x509_crt_parse: Invalid format");
  return `-----BEGIN ${label}-----\n${Buffer.from(v, "latin1").toString("base64")}\n-----END ${label}-----\n`;
}

/** Installs the model's globals (require, E, setTimeout/clearTimeout with Espruino's throws); restore() removes them. */
export function installEspruino(tlsDefaults: tls.ConnectionOptions = {}): Model {
  const g = globalThis as any;
  const saved = { require: g.require, E: g.E, clearTimeout: g.clearTimeout };
  const model: Model = { written: [], sockets: 0, restore() { Object.assign(g, saved); if (!saved.require) delete g.require; if (!saved.E) delete g.E; } };
  const fired = new Set<unknown>();
  g.E = {
    toUint8Array: (s: string) => new Uint8Array(Buffer.from(s, /[^\x00-\xff]/.test(s) ? "utf8" : "latin1")),
    toString: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString("latin1"),
    // a Unicode build: a string with a character above U+00FF is a UTF-8 string
    // (socket data arrives as binary strings, one byte per character, as there)
    isUTF8: (s: string) => /[^\x00-\xff]/.test(s),
  };
  // process.memory(false).free: the glue checks it before it allocates (plenty here)
  const memory = (process as any).memory;
  (process as any).memory = () => ({ free: 100000, usage: 0, total: 100000 });
  const restoreMemory = () => ((process as any).memory = memory);
  g.require = (name: string) => {
    if (name == "net")
      return { connect: (o: any, cb: () => void) => socketModel(net.connect({ host: o.host, port: o.port }, cb), model) };
    if (name == "tls")
      return { connect: (o: any, cb: () => void) => socketModel(tls.connect({ host: o.host, port: o.port, ca: der(o.ca, "CERTIFICATE"), cert: der(o.cert, "CERTIFICATE"), key: der(o.key, "PRIVATE KEY"), servername: "localhost", ...tlsDefaults }, cb), model) };
    throw new Error(`Module ${name} not found`);
  };
  const clear = saved.clearTimeout;
  g.clearTimeout = (id: unknown) => {
    if (id === undefined || fired.has(id)) throw new Error("Unknown Timeout"); // Espruino throws here
    clear(id);
  };
  const set = setTimeout;
  g.setTimeout = (fn: () => void, ms: number) => {
    const t = set(() => (fired.add(t), fn()), ms);
    return t;
  };
  const restore = model.restore;
  model.restore = () => {
    restore();
    restoreMemory();
    g.setTimeout = set;
  };
  return model;
}
