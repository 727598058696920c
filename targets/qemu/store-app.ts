// The QEMU power-cut application: an MQTT client with its queue in a host file (store.ts, through semihosting)
// publishes numbered QoS 1 telemetry to the hub emulator. The test (test/qemu/store.test.ts) kills QEMU at random
// points (the board's power cut: RAM gone, the host file kept) and boots it again with the same file; the client
// restores what it had queued and resends it. The harness sends one configuration line on the link first:
//
//   { path: the store's host file ("": no store, the control), user, pass, clientId, topic, from: first message,
//     n: messages in all, time: wall clock }
//
// Console lines: "q <i>" once publish(i) returned (i is stored), "connected", "error <code>", "all queued" once
// all n were; "w <bytes> <calls>" (bytes written to the store by appends and replaces) after each change.

/// <reference path="./natives.d.ts" />
import { createClient, Client } from "../../src/mqtt/client";
import { E_OUTBOX_FULL, E_NO_MEMORY } from "../../src/errors";
import { qemuClock, qemuTransport, startLoop, run } from "./transport";
import { hostFile } from "./store";
import { journal, Store } from "../../src/store";

interface Config { path: string; user: string; pass: string; clientId: string; topic: string; from: number; n: number; time: number }

var cfg: Config, client: Client, next = 0, wrote = 0, writes = 0;

/** The host file's Store, its writes counted (the figure: store bytes per message). */
function counted(st: Store): Store {
  function count(r: number): number {
    if (r > 0) wrote += r;
    writes++;
    __print("w " + wrote + " " + writes);
    return r;
  }
  return {
    read: st.read,
    append: function (pos, buf, off, len) {
      return count(st.append(pos, buf, off, len));
    },
    replace: function (pos, buf, off, len, last) {
      return count(st.replace(pos, buf, off, len, last));
    },
  };
}

function pump() {
  var r: number;
  while (next < cfg.n) {
    r = client.publish(cfg.topic, '{"n":' + next + "}", 1);
    if (r == E_OUTBOX_FULL) return; // onWritable calls again
    if (r < 0) {
      __print("error " + r);
      qemuClock.set(pump, 200);
      return;
    }
    __print("q " + next++);
    // now and then a turn of the loop: acknowledgements come in while the device publishes
    if (!(next % 4)) return void qemuClock.set(pump, 2);
  }
  __print("all queued");
}

function main() {
  cfg = JSON.parse(__config());
  __setTime(cfg.time);
  next = cfg.from;
  client = createClient({
    host: "hub",
    clientId: cfg.clientId,
    username: cfg.user,
    password: cfg.pass,
    clean: false,
    keepalive: 10,
    bufferSize: 2048,
    reconnect: { min: 200, max: 1000, jitter: 0.2 },
    transport: qemuTransport(),
    clock: qemuClock,
    store: cfg.path ? journal(counted(hostFile(cfg.path))) : null,
    onConnect: function () {
      __print("connected");
    },
    onError: function (code: number) {
      __print("error " + code);
    },
    onWritable: function () {
      qemuClock.set(pump, 0);
    },
  });
  client.connect();
  pump();
}

startLoop(function (code: number, e: unknown) {
  __print((code == E_NO_MEMORY ? "E_NO_MEMORY (-32) " : "FAIL uncaught ") + e);
  __exit(code == E_NO_MEMORY ? 32 : 2);
});
run(main);
