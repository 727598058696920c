// Preloaded into the unit tier (tools/uvu.js --tier unit): a test that opens a socket, listens, or starts a
// process fails by name here, so the unit tier stays pure (fake transports and clocks, no broker, emulator or engine).
import net from "node:net";
import child from "node:child_process";
import dgram from "node:dgram";

function refuse(what) {
  return function () {
    throw new Error(`unit tier: ${what} (network and processes belong in test:system)`);
  };
}

net.Socket.prototype.connect = refuse("a socket connect");
net.Server.prototype.listen = refuse("a server listen");
dgram.Socket.prototype.bind = refuse("a UDP bind");
for (const k of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"]) child[k] = refuse("child_process." + k);
(await import("node:module")).syncBuiltinESMExports();
