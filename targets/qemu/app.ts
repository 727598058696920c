// The QEMU bench application: an IoT Hub device session inside Duktape on the emulated
// Cortex-M3. The harness (tools/qemu) sends one JSON configuration line on the link first:
//
//   { cs: connection string, time: wall clock in ms since the epoch, n: numbered messages,
//     every: ms between them, ka: keep-alive seconds, deadline: ms before giving up }
//
// and reads the progress lines printed here on the console. The scenario:
//   1. connect with a SAS token (signed on the device with the wall clock it was given)
//   2. telemetry with properties, acknowledged
//   3. twin get, reported patch                       -> "ready"
//   4. the cloud (the test) sends a C2D message, a desired patch and a direct method
//   5. n numbered QoS 1 messages, `every` ms apart; the test cuts the link during them, the
//      keep-alive notices, the client reconnects and resends; "all acked" when all n are
//   6. end(), heap figures, exit 0
// Any failure prints "FAIL ..." and exits 1; running out of JS heap prints E_NO_MEMORY and
// exits 32.

/// <reference path="./natives.d.ts" />
import { createDevice, Device, C2DMessage } from "../../src/sessions/device";
import { utf8Read } from "../../src/bytes";
import { E_NO_MEMORY, E_OUTBOX_FULL } from "../../src/errors";
import { qemuClock, qemuTransport, startLoop, run } from "./transport";

interface Config { cs: string; time: number; n: number; every: number; ka: number; deadline: number }

var cfg: Config, dev: Device, connects = 0, next = 1, acked = 0, seen: { [k: string]: number } = {},
  ackedBy: { [n: number]: number } = {}, bursting = false, ended = false;

function log(s: string) {
  __print(s);
}

function heap(what: string) {
  var h = __heap();
  log("heap " + what + " used=" + h[0] + " peak=" + h[1] + " fails=" + h[2] + " pool=" + h[3]);
}

function fail(why: string) {
  if (ended) return;
  ended = true;
  log("FAIL " + why);
  heap("at failure");
  __exit(1);
}

function text(p: Uint8Array): string {
  var s = utf8Read(p, 0, p.length);
  return typeof s == "string" ? s : "?";
}

/** 4 and 5: the cloud's three messages arrived - start the numbered messages. */
function cloudSeen(what: string) {
  seen[what] = 1;
  if (seen.c2d && seen.desired && seen.method && !bursting) {
    bursting = true;
    heap("before burst");
    log("burst " + cfg.n);
    qemuClock.set(send, 0);
  }
}

function send() {
  var i = next, r: number;
  if (i > cfg.n) return;
  r = dev.sendEvent('{"n":' + i + "}", null, function (err: number) {
    if (err) return fail("message " + i + " done " + err);
    if (ackedBy[i]) return;
    ackedBy[i] = 1;
    log("acked " + i);
    if (++acked == cfg.n) finish();
  });
  if (r == E_OUTBOX_FULL) {
    log("outbox full at " + i);
  } else if (r < 0) return fail("sendEvent " + i + " " + r);
  else {
    log("sent " + i);
    next++;
  }
  qemuClock.set(send, cfg.every);
}

function finish() {
  log("all acked");
  heap("session");
  dev.end(function () {
    ended = true;
    log("ended");
    __gc();
    heap("after gc");
    log("done");
    __exit(0);
  });
}

/** 2 and 3: telemetry with properties, twin get, reported patch. */
function firstSession() {
  var r = dev.sendEvent('{"hello":"qemu"}', { kind: "hello", board: "mps2-an385", $contentType: "application/json", $contentEncoding: "utf-8" }, function (err: number) {
    log("hello acked " + err);
    if (err) return fail("hello " + err);
    dev.getTwin(function (err: number, twin?: any) {
      log("twin " + err + " " + JSON.stringify(twin && twin.desired));
      if (err) return fail("twin " + err);
      dev.patchReported({ bench: "qemu", engine: "duktape", pool: __heap()[3] }, function (err: number, version?: number) {
        log("reported " + err + " " + version);
        if (err) return fail("reported " + err);
        heap("ready");
        log("ready");
      });
    });
  });
  if (r < 0) fail("hello sendEvent " + r);
}

function main() {
  var d: Device | number;
  cfg = JSON.parse(__config());
  __setTime(cfg.time);
  log("app start " + new Date().toISOString());
  heap("app start");
  d = createDevice({
    connectionString: cfg.cs,
    tls: null, // the link carries plain MQTT; the harness talks to the hub's plain listener
    keepalive: cfg.ka,
    reconnect: { min: 500, max: 2000, jitter: 0.2 },
    transport: qemuTransport(),
    clock: qemuClock,
    time: function () {
      return Date.now() / 1000;
    },
    onConnect: function () {
      log("connected " + ++connects);
      if (connects == 1) firstSession();
    },
    onClose: function (code: number) {
      log("closed " + code);
    },
    onError: function (code: number) {
      log("error " + code);
    },
    onMessage: function (m: C2DMessage) {
      log("c2d " + text(m.payload) + " " + JSON.stringify(m.properties));
      cloudSeen("c2d");
    },
    onDesired: function (patch: any, version: number, whole?: boolean) {
      log((whole ? "desired since " : "desired ") + JSON.stringify(patch) + " " + version);
      if (!whole) cloudSeen("desired");
    },
    methods: {
      echo: function (payload: any, respond) {
        log("method echo " + JSON.stringify(payload));
        respond(200, { echo: payload, heapPeak: __heap()[1] });
        cloudSeen("method");
      },
    },
  });
  if (typeof d == "number") return fail("createDevice " + d);
  dev = d;
  qemuClock.set(function () {
    fail("deadline: " + acked + " of " + cfg.n + " acknowledged");
  }, cfg.deadline);
  dev.connect();
}

startLoop(function (code: number, e: unknown) {
  if (code == E_NO_MEMORY) log("E_NO_MEMORY (" + code + ") " + e);
  else log("FAIL uncaught " + e);
  ended = true;
  __exit(code == E_NO_MEMORY ? 32 : 2);
});
run(main);
