// A real mosquitto for integration tests: started on 127.0.0.1 with free ports and a generated
// config in a temp dir, stopped by the test (and killed when this process exits, however it exits).
//
//   const b = await startMosquitto({ websockets: true, auth: { username: "u", password: "p" } });
//   b.ports.mqtt, b.ports.tls, b.ports.ws, b.ports.auth; b.caPem; await b.stop();
//
// Listeners (all bound to 127.0.0.1):
//   mqtt  plain MQTT, anonymous
//   tls   MQTT over TLS, anonymous; server certificate signed by a CA generated here with the openssl
//         CLI (CN localhost, SAN DNS:localhost + IP:127.0.0.1), generated once per process
//   ws    MQTT over WebSockets (subprotocol "mqtt"), anonymous, when `websockets: true`.
//         Debian's mosquitto 2.0.11 is built with libwebsockets 4.1.6. Two quirks it has: a websockets
//         listener alone does not start ("Unable to start any listening sockets"), which the plain
//         listener avoids; and it binds every interface unless `socket_domain ipv4` is given.
//   auth  plain MQTT with a password file (mosquitto_passwd -b), anonymous refused, when `auth` is given
//         (per_listener_settings true keeps the other listeners anonymous)
import { spawn, spawnSync, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const MOSQUITTO = process.env.MOSQUITTO || "/usr/sbin/mosquitto";
export const MOSQUITTO_PASSWD = process.env.MOSQUITTO_PASSWD || "/usr/bin/mosquitto_passwd";
const KEEP = !!process.env.TINYHUB_KEEP_TMP;

export interface MosquittoOptions {
  /** TLS listener (default true). */
  tls?: boolean;
  /** WebSockets listener (default false). */
  websockets?: boolean;
  /** A listener that requires this user name and password. */
  auth?: { username: string; password: string } | null;
  /** Persist sessions and messages in the temp dir, saved after every change (default false). */
  persistence?: boolean;
  /** More lines for the config file. */
  extra?: string[];
  /** Milliseconds to wait for the ports (default 10000). */
  startTimeout?: number;
  /**
   * Open-file limit for the broker (each connection is a descriptor): started through
   * `/bin/sh -c "ulimit -n N; exec mosquitto ..."` (the same pid once exec'd). Default: inherited.
   */
  fdLimit?: number;
}

export interface Ports { mqtt: number; tls: number; ws: number; auth: number }

export interface Mosquitto {
  /** 0 for a listener not configured. */
  ports: Ports;
  /** The CA certificate (PEM) that signed the TLS listener's certificate. */
  caPem: string;
  dir: string;
  configFile: string;
  logFile: string;
  /** The broker's log so far (log file and stdout/stderr). */
  log(): string;
  pid(): number;
  running(): boolean;
  /** SIGTERM (mosquitto saves its persistence file), wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no goodbye, no save. */
  kill9(): Promise<void>;
  /** SIGSTOP: the broker freezes, its sockets stay open (the kernel still accepts connections). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Starts it again on the same ports with the same config (stopping it first when running). */
  restart(): Promise<void>;
}

// ---- process-wide cleanup ------------------------------------------------------------------

const live = new Set<ChildProcess>();
const dirs: string[] = [];
let hooked = false;

function killAll() {
  for (const c of live) {
    try { c.kill("SIGKILL"); } catch { /* gone */ }
  }
  live.clear();
  if (!KEEP) for (const d of dirs) {
    try { fs.rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ }
  }
}

function hook() {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(128 + (os.constants.signals[sig] || 0));
    });
  }
}

/** A watchdog that kills `pid` when this process dies without cleaning up (its stdin pipe closes). */
function watchdog(pid: number): ChildProcess {
  const w = spawn("/bin/sh", ["-c", 'read _ ; kill -9 "$0" 2>/dev/null', String(pid)], { stdio: ["pipe", "ignore", "ignore"] });
  w.unref();
  (w.stdin as unknown as net.Socket).unref();
  w.on("error", () => {});
  return w;
}

// ---- helpers -------------------------------------------------------------------------------

/** A free TCP port on 127.0.0.1: listen on port 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function freePorts(n: number): Promise<number[]> {
  // hold them all open at once so we never get the same port twice
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      s.unref();
      await new Promise<void>((res, rej) => { s.once("error", rej); s.listen(0, "127.0.0.1", () => res()); });
      servers.push(s);
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr || r.error}`);
}

export interface Certs { dir: string; caPem: string; caFile: string; certFile: string; keyFile: string }

let certs: Certs | null = null;

/** The CA and server certificate, generated with the openssl CLI once per process. */
export function testCerts(): Certs {
  if (certs) return certs;
  hook();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tinyhub-certs-"));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, "server.ext"), [
    "basicConstraints=CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "",
  ].join("\n"));
  run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "30",
    "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=tinyhub test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  run("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-keyout", "server.key", "-out", "server.csr",
    "-subj", "/CN=localhost"], dir);
  run("openssl", ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
    "-sha256", "-days", "30", "-out", "server.crt", "-extfile", "server.ext"], dir);
  certs = {
    dir,
    caPem: fs.readFileSync(path.join(dir, "ca.crt"), "utf8"),
    caFile: path.join(dir, "ca.crt"),
    certFile: path.join(dir, "server.crt"),
    keyFile: path.join(dir, "server.key"),
  };
  return certs;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => { s.destroy(); resolve(false); });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(s: string, lines = 40): string {
  return s.split("\n").slice(-lines).join("\n");
}

// ---- the broker ----------------------------------------------------------------------------

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  hook();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tinyhub-mosquitto-"));
  dirs.push(dir);
  const wantTls = opts.tls !== false, wantWs = !!opts.websockets, auth = opts.auth || null;
  const [mqtt, tlsPort, ws, authPort] = await freePorts(4);
  const ports: Ports = { mqtt, tls: wantTls ? tlsPort : 0, ws: wantWs ? ws : 0, auth: auth ? authPort : 0 };
  const c = wantTls ? testCerts() : null;
  const logFile = path.join(dir, "mosquitto.log"), outFile = path.join(dir, "stdout.log");
  const configFile = path.join(dir, "mosquitto.conf");

  const conf: string[] = [
    "# generated by test/helpers/mosquitto.ts",
    "per_listener_settings true",
    `log_dest file ${logFile}`,
    "log_type error", "log_type warning", "log_type notice", "log_type information",
    "connection_messages true",
    "log_timestamp_format %H:%M:%S",
  ];
  // as root, mosquitto would switch to the "mosquitto" user and lose access to our 0700 temp dir
  if (process.getuid && process.getuid() === 0) conf.push("user root");
  if (opts.persistence) {
    conf.push("persistence true", `persistence_location ${dir}${path.sep}`, "persistence_file mosquitto.db",
      // save after every change: a kill -9 loses as little as mosquitto allows
      "autosave_on_changes true", "autosave_interval 1");
  } else conf.push("persistence false");
  conf.push(...(opts.extra || []));
  conf.push("", `listener ${mqtt} 127.0.0.1`, "allow_anonymous true");
  if (c) conf.push("", `listener ${tlsPort} 127.0.0.1`, "allow_anonymous true",
    `cafile ${c.caFile}`, `certfile ${c.certFile}`, `keyfile ${c.keyFile}`);
  if (wantWs) conf.push("", `listener ${ws} 127.0.0.1`, "socket_domain ipv4", "protocol websockets", "allow_anonymous true");
  if (auth) {
    const pw = path.join(dir, "passwd");
    fs.writeFileSync(pw, "", { mode: 0o600 });
    run(MOSQUITTO_PASSWD, ["-b", pw, auth.username, auth.password], dir);
    conf.push("", `listener ${authPort} 127.0.0.1`, "allow_anonymous false", `password_file ${pw}`);
  }
  fs.writeFileSync(configFile, conf.join("\n") + "\n");

  let child: ChildProcess | null = null, dog: ChildProcess | null = null, exited: Promise<void> = Promise.resolve();

  function log(): string {
    let s = "";
    try { s += fs.readFileSync(outFile, "utf8"); } catch { /* none yet */ }
    try { s += fs.readFileSync(logFile, "utf8"); } catch { /* none yet */ }
    return s;
  }

  async function launch() {
    const out = fs.openSync(outFile, "a");
    const p = opts.fdLimit
      ? spawn("/bin/sh", ["-c", `ulimit -n ${opts.fdLimit | 0} && exec "$0" -c "$1"`, MOSQUITTO, configFile], { stdio: ["ignore", out, out] })
      : spawn(MOSQUITTO, ["-c", configFile], { stdio: ["ignore", out, out] });
    fs.closeSync(out);
    let gone = false;
    exited = new Promise<void>((resolve) => {
      p.once("exit", () => { gone = true; live.delete(p); resolve(); });
      p.once("error", () => { gone = true; live.delete(p); resolve(); });
    });
    child = p;
    live.add(p);
    p.unref(); // a forgotten broker must not keep the test run alive; the exit hook kills it
    if (p.pid) dog = watchdog(p.pid);
    const until = Date.now() + (opts.startTimeout || 10000);
    const want = [ports.mqtt, ports.tls, ports.ws, ports.auth].filter((x) => x);
    for (;;) {
      if (gone) throw new Error(`mosquitto exited during startup (config ${configFile}, log ${logFile}):\n${tail(log())}`);
      const ok = await Promise.all(want.map(canConnect));
      if (ok.every((x) => x) && !gone) return;
      if (Date.now() > until) {
        await signal("SIGKILL");
        throw new Error(`mosquitto did not open ports ${want.join(",")} in time (log ${logFile}):\n${tail(log())}`);
      }
      await sleep(25);
    }
  }

  async function signal(sig: NodeJS.Signals) {
    const p = child;
    if (!p) return;
    if (dog) { try { dog.kill("SIGKILL"); } catch { /* gone */ } dog = null; }
    if (p.exitCode === null && p.signalCode === null) {
      p.kill(sig);
      if (sig != "SIGKILL") p.kill("SIGCONT"); // a paused broker must wake up to act on SIGTERM
      const t = setTimeout(() => p.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    child = null;
  }

  await launch();

  return {
    ports,
    caPem: c ? c.caPem : "",
    dir,
    configFile,
    logFile,
    log,
    pid: () => (child && child.pid) || 0,
    running: () => !!child && child.exitCode === null && child.signalCode === null,
    stop: () => signal("SIGTERM"),
    kill9: () => signal("SIGKILL"),
    pause() { if (child) child.kill("SIGSTOP"); },
    resume() { if (child) child.kill("SIGCONT"); },
    async restart() {
      await signal("SIGTERM");
      await launch();
    },
  };
}

/** How many mosquitto processes this module has running (for tests asserting cleanup). */
export function liveBrokers(): number {
  return live.size;
}
