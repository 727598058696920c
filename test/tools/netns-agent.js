// Runs inside a private network namespace (`unshare -rn node netns-agent.js --own-net`: only a loopback
// interface, no route out, its own port numbers) and does what the test process asks, one JSON
// line per request on stdin, one JSON line per answer on stdout ({id, ok, ...} or {id, error}):
//   {op: "forward", port, path}   listen on 127.0.0.1:port (0: any) and pipe each connection to the
//                                 Unix socket `path` (the test serves it; the filesystem is shared)
//   {op: "spawn", name, cmd, args, cwd, log}   start a long-lived process; its stdin is a pipe that
//                                 stays open and silent (the Linux Espruino reads stdin in a thread: at
//                                 EOF, as from /dev/null, it floods its input queue with NUL bytes and
//                                 can corrupt it), stdout and stderr go to the file `log`
//   {op: "kill", name}            SIGKILL it and wait until it is gone
//   {op: "run", cmd, args, cwd, timeout}   run to the end: {code, signal, out}
//   {op: "listening", port, timeout}   wait until a socket listens on that TCP port here
// When stdin ends (the test finished or died) every process started here is killed and the agent exits.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import net from "node:net";
import { createInterface } from "node:readline";

const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((f) => existsSync(f));
/** @type {Map<string, import("node:child_process").ChildProcess>} */
const procs = new Map();
/** @type {Set<import("node:child_process").ChildProcess>} */
const runs = new Set();

/** @param {any} msg */
const answer = (msg) => process.stdout.write(JSON.stringify(msg) + "\n");

/** Is a socket listening on TCP port `port` in this namespace? @param {number} port */
function listening(port) {
  const hex = ":" + port.toString(16).toUpperCase().padStart(4, "0");
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    // columns: sl local_address rem_address st ...; st 0A = LISTEN
    if (text.split("\n").some((l) => { const c = l.trim().split(/\s+/); return c[1] && c[1].endsWith(hex) && c[3] == "0A"; })) return true;
  }
  return false;
}

/** @param {import("node:child_process").ChildProcess} p */
const gone = (p) => p.exitCode !== null || p.signalCode !== null;

/** @param {any} req */
async function handle(req) {
  switch (req.op) {
    case "forward": {
      const server = net.createServer((c) => {
        const u = net.connect(req.path);
        c.pipe(u).pipe(c);
        c.on("error", () => u.destroy());
        u.on("error", () => c.destroy());
      });
      await new Promise((resolve, reject) => server.once("error", reject).listen(req.port || 0, "127.0.0.1", () => resolve(undefined)));
      return { port: /** @type {net.AddressInfo} */ (server.address()).port };
    }
    case "spawn": {
      const fd = openSync(req.log, "a");
      // setpriv --pdeathsig: the process dies with the agent, however the agent ends
      const [cmd, args] = SETPRIV ? [SETPRIV, ["--pdeathsig", "SIGKILL", req.cmd, ...(req.args || [])]] : [req.cmd, req.args || []];
      const p = spawn(cmd, args, { cwd: req.cwd, env: { ...process.env, ...(req.env || {}) }, stdio: ["pipe", fd, fd] });
      closeSync(fd);
      p.on("error", () => {});
      procs.set(req.name, p);
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (gone(p)) throw new Error(`${req.cmd} ended at once (exit ${p.exitCode}, signal ${p.signalCode}); see ${req.log}`);
      return { pid: p.pid };
    }
    case "kill": {
      const p = procs.get(req.name);
      procs.delete(req.name);
      if (p && !gone(p)) {
        const closed = new Promise((resolve) => p.once("exit", resolve));
        p.kill("SIGKILL");
        await closed;
      }
      return {};
    }
    case "run": {
      const p = spawn(req.cmd, req.args || [], { cwd: req.cwd, stdio: ["ignore", "pipe", "pipe"] });
      runs.add(p);
      let out = "";
      p.stdout?.on("data", (d) => (out += d));
      p.stderr?.on("data", (d) => (out += d));
      const t = setTimeout(() => p.kill("SIGKILL"), req.timeout || 60000);
      const [code, signal] = await new Promise((resolve) => p.on("close", (c, s) => resolve([c, s])));
      clearTimeout(t);
      runs.delete(p);
      return { code, signal, out };
    }
    case "listening": {
      const end = Date.now() + (req.timeout || 5000);
      while (!listening(req.port)) {
        if (Date.now() > end) throw new Error(`nothing listens on port ${req.port} after ${req.timeout || 5000} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return {};
    }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

function killAll() {
  for (const p of [...procs.values(), ...runs]) if (!gone(p)) p.kill("SIGKILL");
}

// --own-net: this is a new namespace, whose loopback interface is down
if (process.argv.includes("--own-net")) {
  try {
    execFileSync("ip", ["link", "set", "lo", "up"], { stdio: "pipe" });
    answer({ ready: true, lo: true });
  } catch (e) {
    answer({ ready: true, lo: false, why: String(/** @type {any} */ (e).stderr || e).trim() });
  }
} else answer({ ready: true, lo: true });
createInterface({ input: process.stdin })
  .on("line", (line) => {
    const req = JSON.parse(line);
    handle(req).then(
      (r) => answer({ id: req.id, ok: true, ...r }),
      (e) => answer({ id: req.id, error: String(e && e.message ? e.message : e) }),
    );
  })
  .on("close", () => {
    killAll();
    process.exit(0);
  });
process.on("SIGTERM", () => {
  killAll();
  process.exit(0);
});
