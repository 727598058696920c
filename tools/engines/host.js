// The Node side of the engine bridge (test/engines/bridge.es5.js is the engine side): real TCP
// sockets and timers for code running inside an embedded engine, plus the reports its callbacks send.
// Only 127.0.0.1 is ever connected to: host names resolve through `names` (e.g. the hub
// emulator's host name -> 127.0.0.1) and anything else fails like an unreachable host.
// An "open" with `tls` is a TLS connection made here (node:tls, the certificate checked against the
// given CA and server name): the engine sees "open" once the handshake is done.
//
// An engine adapter (xs.js, duktape.js, quickjs.js) calls host.handle(msg, bytes) for each operation
// the engine sends and delivers the events host.onEvents hands it, in order, batched.
import net from "node:net";
import tls from "node:tls";

const E_TRANSPORT = -27;

/**
 * @typedef {{ ev: string, id: number, n?: number, err?: number, address?: string | null }} BridgeEvent
 * @typedef {{ name: string, value: any, at: number }} Report
 */

/**
 * @param {{ names?: Record<string, string>, log?: (line: string) => void }} [opts]
 */
export function createHost(opts = {}) {
  const names = { "127.0.0.1": "127.0.0.1", localhost: "127.0.0.1", ...(opts.names || {}) };
  /** @type {Map<number, net.Socket>} */
  const sockets = new Map();
  /** @type {Map<number, NodeJS.Timeout>} */
  const timers = new Map();
  /** @type {[BridgeEvent, Buffer | null][]} */
  let queue = [];
  /** @type {Map<number, number>} bytes written out per socket since the last drain event */
  const drained = new Map();
  let scheduled = false, closed = false;
  /** @type {number[] | null} timer fires held back (hold(true)) */
  let held = null;
  /** @type {Report[]} */
  const reports = [];
  /** @type {Set<() => void>} */
  const waiters = new Set();
  const stats = { opens: 0, writes: 0, bytesOut: 0, bytesIn: 0, timers: 0, events: 0 };
  /** @type {string[]} why connections failed (TLS handshake errors) */
  const errors = [];

  const host = {
    /** Set by the adapter: receives queued events in order (a batch at a time). */
    onEvents: /** @type {(batch: [BridgeEvent, Buffer | null][]) => void} */ (() => {}),
    reports,
    stats,
    errors,
    handle,
    until,
    take,
    /** Sockets and timers still open on the Node side. */
    live: () => ({ sockets: sockets.size, timers: timers.size }),
    drop,
    hold,
    close,
  };

  /** @param {BridgeEvent} ev @param {Buffer | null} [bytes] */
  function emit(ev, bytes = null) {
    if (closed) return;
    queue.push([ev, bytes]);
    schedule();
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      for (const [id, n] of drained) if (sockets.has(id)) queue.push([{ ev: "drain", id, n }, null]);
      drained.clear();
      if (!queue.length || closed) return;
      const batch = queue;
      queue = [];
      stats.events += batch.length;
      host.onEvents(batch);
    });
  }

  /** @param {any} msg @param {Buffer | Uint8Array | null} bytes */
  function handle(msg, bytes) {
    switch (msg.op) {
      case "open": return open(msg.id, msg.host, msg.port, msg.tls);
      case "write": {
        const s = sockets.get(msg.id);
        if (!s || !bytes) return;
        const n = bytes.length;
        stats.writes++;
        stats.bytesOut += n;
        s.write(Buffer.from(bytes), () => {
          // the ECMA-419 writable count comes back once the bytes are with the kernel (with a TLS record's framing)
          drained.set(msg.id, (drained.get(msg.id) || 0) + n + (msg.over || 0));
          schedule();
        });
        return;
      }
      case "close": {
        const s = sockets.get(msg.id);
        sockets.delete(msg.id);
        if (s) {
          // what was written goes out first (DISCONNECT), then FIN; no events reach the engine any more
          s.end();
          s.setTimeout(1000, () => s.destroy());
        }
        return;
      }
      case "timer": {
        stats.timers++;
        const fire = () => {
          if (!msg.repeat) timers.delete(msg.id);
          if (held) held.push(msg.id);
          else emit({ ev: "fire", id: msg.id });
        };
        timers.set(msg.id, msg.repeat ? setInterval(fire, msg.repeat) : setTimeout(fire, msg.ms));
        return;
      }
      case "clear": {
        const t = timers.get(msg.id);
        if (t) clearTimeout(t);
        timers.delete(msg.id);
        return;
      }
      case "resolve":
        return emit({ ev: "resolved", id: msg.id, address: names[msg.host] || null });
      case "report": {
        reports.push({ name: msg.name, value: msg.value, at: Date.now() });
        if (opts.log) opts.log(`report ${msg.name} ${JSON.stringify(msg.value)}`);
        for (const w of [...waiters]) w();
        return;
      }
      default:
        reports.push({ name: "exception", value: `unknown bridge op ${JSON.stringify(msg)}`, at: Date.now() });
    }
  }

  /**
   * @param {number} id @param {string} name @param {number} port
   * @param {{ servername?: string, ca?: string, cert?: string, key?: string, verify?: boolean, version?: number } | undefined} t
   */
  function open(id, name, port, t) {
    stats.opens++;
    const address = names[name];
    // nothing leaves this machine: an unknown name or address fails like an unreachable host
    if (address !== "127.0.0.1") return emit({ ev: "close", id, err: E_TRANSPORT });
    let failed = false;
    /** @type {net.Socket} */
    let s;
    if (t) {
      s = tls.connect({
        host: address,
        port,
        servername: t.servername && !net.isIP(t.servername) ? t.servername : undefined,
        // the name checked against the certificate: the server name the engine gave, not the address
        checkServerIdentity: (_, cert) => tls.checkServerIdentity(t.servername || name, cert),
        ca: pem(t.ca, "CERTIFICATE"),
        cert: pem(t.cert, "CERTIFICATE"),
        key: pem(t.key, "PRIVATE KEY"),
        rejectUnauthorized: t.verify !== false,
        // Moddable's protocolVersion: 0x303 is TLS 1.2, below it the session offers TLS 1.1 at most
        ...(t.version && t.version < 0x303 ? { maxVersion: "TLSv1.1", minVersion: "TLSv1" } : {}),
      });
      s.on("secureConnect", () => { if (sockets.get(id) == s) emit({ ev: "open", id }); });
      s.on("error", (e) => {
        errors.push(`tls ${id}: ${e.message}`);
        if (opts.log) opts.log(`tls ${id}: ${e.message}`);
      });
    } else {
      s = net.connect({ host: address, port });
      s.on("connect", () => { if (sockets.get(id) == s) emit({ ev: "open", id }); });
    }
    s.setNoDelay(true);
    sockets.set(id, s);
    s.on("data", (d) => {
      stats.bytesIn += d.length;
      if (sockets.get(id) == s) emit({ ev: "data", id }, d);
    });
    s.on("error", () => { failed = true; });
    s.once("drop", () => { failed = true; s.destroy(); });
    s.on("close", () => {
      if (sockets.get(id) != s) return;
      sockets.delete(id);
      emit({ ev: "close", id, err: failed ? E_TRANSPORT : 0 });
    });
  }

  /** PEM text as it is, base64 DER (as the engine side sends Moddable's binary certificates) wrapped as PEM. @param {string | undefined} v @param {string} label */
  function pem(v, label) {
    if (!v) return undefined;
    if (v.includes("-----BEGIN")) return v;
    return `-----BEGIN ${label}-----\n${(v.match(/.{1,64}/g) || []).join("\n")}\n-----END ${label}-----\n`;
  }

  /**
   * Resolves with the first report named `name` (after index `from`) that `pred` accepts.
   * @param {string} name @param {number} [ms] @param {(v: any) => boolean} [pred] @param {number} [from]
   * @returns {Promise<any>}
   */
  function until(name, ms = 5000, pred = () => true, from = 0) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const ex = reports.find((r) => r.name == "exception");
        if (ex) return finish(() => reject(new Error(`exception inside the engine: ${ex.value}`)));
        for (let i = from; i < reports.length; i++) {
          const r = reports[i];
          if (r.name == name && pred(r.value)) return finish(() => resolve(r.value));
        }
      };
      const t = setTimeout(() => finish(() => reject(new Error(`timed out after ${ms} ms waiting for report "${name}"; last reports: ${JSON.stringify(reports.slice(-8).map((r) => [r.name, r.value]))}`))), ms);
      /** @param {() => void} f */
      const finish = (f) => { clearTimeout(t); waiters.delete(check); f(); };
      waiters.add(check);
      check();
    });
  }

  /** Reports named `name` so far (removed from the list). @param {string} name */
  function take(name) {
    const out = [];
    for (let i = 0; i < reports.length; i++) {
      if (reports[i].name == name) {
        out.push(reports[i].value);
        reports.splice(i--, 1);
      }
    }
    return out;
  }

  /** The link breaks under the most recently opened socket: the engine sees it close with an error. */
  function drop() {
    const ids = [...sockets.keys()];
    if (!ids.length) return false;
    sockets.get(ids[ids.length - 1])?.emit("drop");
    return true;
  }

  /** Holds timer expiries back (true) or delivers the held ones and stops holding (false): lets a test order events. @param {boolean} on */
  function hold(on) {
    const h = held;
    held = on ? held || [] : null;
    if (!on && h) for (const id of h) emit({ ev: "fire", id });
  }

  /** Destroys every socket and timer; no more events. */
  function close() {
    closed = true;
    for (const s of sockets.values()) s.destroy();
    sockets.clear();
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
    queue = [];
    for (const w of [...waiters]) w();
  }

  return host;
}
