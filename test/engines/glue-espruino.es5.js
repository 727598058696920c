// The driver inside the real Espruino interpreter: tools/engines/espruino.js writes it to Storage as the
// module "drv" and runs a driver.js that declares `var BARE, CTL_PORT, MODE, SAMPLE_MS, GROW, tinyhub, S`
// and then `var Bridge = require("drv").Bridge`.
// It connects back to the Node test over TCP (127.0.0.1:CTL_PORT, JSON lines both ways), loads the
// bundle the way a user does and reports how many JsVars that took:
//
//   MODE "storage"  require("tinyhub"): the bundle was written to Storage before (the board's flash)
//   MODE "cached"   Modules.addCached("tinyhub", <the text in RAM>) then require("tinyhub")
//   MODE "none"     nothing loaded (the interpreter and this driver alone)
//
// Then Node sends snippets to evaluate ({op:"eval", id, code}), at the global scope like code typed
// at the REPL, and the answer goes back ({op:"result", id, value} or {op:"result", id, error}).
// Bridge.report(name, value) sends what the application callbacks saw ({op:"report", ...}), the
// interface test/engines/session.es5.js (the S helpers) expects. The bundle talks to the network with
// its own Espruino glue over the interpreter's real `net` and `tls`: nothing of the bridge is in
// between.
//
// JsVars: process.memory().usage (after a garbage collection) is sampled at every report, at every
// evaluation and every SAMPLE_MS: Bridge.memory() gives the latest, the highest and the count of samples.
/* global BARE, CTL_PORT, MODE, SAMPLE_MS, GROW, tinyhub */
/* exported Bridge */
var Bridge = (function () {
  var ctl = null, inbuf = "", queue = [], peak = 0, last = 0, samples = 0, keep = null;

  function usage() {
    last = process.memory().usage;
    samples++;
    if (last > peak) peak = last;
    return last;
  }

  function send(o) {
    if (ctl) ctl.write(JSON.stringify(o) + "\n");
  }

  function hex(u) {
    var s = "", i;
    for (i = 0; i < u.length; i++) s += (u[i] < 16 ? "0" : "") + u[i].toString(16);
    return s;
  }

  /** UTF-8 bytes as text: decoded by the Node side (null there when not valid UTF-8), not by this engine. */
  function text(u) {
    return { __utf8: hex(u) };
  }

  function report(name, value) {
    usage();
    send({ op: "report", name: name, value: value === undefined ? null : value });
  }

  /** Client sockets and timers the application holds (the control socket, the sampling timer and the string timeout running this left out). */
  function pending() {
    var hidden = global["\xFF"], cc = hidden.HttpCC || [], t = hidden.timers || [], sockets = 0, timers = 0, i, k;
    for (i = 0; i < cc.length; i++) if (cc[i] !== ctl) sockets++;
    for (k in t) if (+k !== keep && typeof t[k].cb != "string") timers++;
    return { sockets: sockets, timers: timers, lookups: 0 };
  }

  function memory() {
    var m = process.memory();
    return { usage: m.usage, total: m.total, blocksize: m.blocksize, peak: peak, samples: samples, flags: E.getErrorFlags() };
  }

  function describe(e) {
    return e && e.stack ? String(e) + "\n" + e.stack : String(e);
  }

  // one snippet per tick, evaluated by a string timeout: Espruino runs those at the global scope, so
  // `var c = ...` in a snippet defines a global, as at the REPL (eval inside a function would not)
  function next() {
    return queue.shift();
  }

  function done(q, r) {
    usage();
    if (r.e !== undefined) send({ op: "result", id: q.id, error: r.e });
    else send({ op: "result", id: q.id, value: r.v === undefined ? null : r.v });
  }

  function onLine(line) {
    var m = JSON.parse(line);
    if (m.op == "eval") {
      queue.push(m);
      setTimeout("__q = Bridge.next(); try { __r = { v: eval(__q.code) }; } catch (__e) { __r = { e: Bridge.describe(__e) }; } Bridge.done(__q, __r); __q = __r = undefined;", 0);
    } else if (m.op == "quit") {
      ctl.end();
      clearInterval(keep);
    }
  }

  // The Linux build's pool grows (in blocks of 4096 variables) only when a single variable cannot be had:
  // mbedTLS there takes its ~16.7 KB buffers from the pool as flat strings, which must be contiguous and
  // never make it grow, so a second TLS connection fails once the first block is fragmented. GROW
  // variables taken and freed up front give it room (usage figures count variables in use, not the pool).
  function grow(n) {
    var g = [], i;
    for (i = 0; i < n / 2; i++) g.push({});
    g = undefined;
    E.getErrorFlags(); // reads and clears the LOW_MEMORY flag that growing raised
  }

  function load() {
    var base, t, loaded, src, f;
    if (GROW) grow(GROW);
    base = usage();
    t = getTime();
    if (MODE == "storage") {
      tinyhub = require("tinyhub");
    } else if (MODE == "cached") {
      // the text in RAM, as the REPL or the Web IDE's upload leaves it (Storage hands out a flash string)
      src = require("Storage").read("tinyhub") + "";
      Modules.addCached("tinyhub", src);
      src = undefined;
      tinyhub = require("tinyhub");
    } else tinyhub = {};
    t = getTime() - t;
    loaded = usage();
    f = memory();
    f.bare = BARE;
    f.base = base;
    f.loaded = loaded;
    f.bundle = loaded - base;
    f.loadMs = Math.round(t * 1000);
    f.exports = Object.keys(tinyhub);
    return f;
  }

  process.on("uncaughtException", function (e) {
    report("exception", describe(e));
  });
  E.on("errorFlag", function (flags) {
    report("errorFlag", flags);
  });

  ctl = require("net").connect({ host: "127.0.0.1", port: CTL_PORT }, function () {
    var f;
    try {
      f = load();
    } catch (e) {
      send({ op: "failed", error: describe(e) });
      return;
    }
    send({ op: "ready", figures: f });
  });
  ctl.on("data", function (d) {
    var i;
    inbuf += d;
    while ((i = inbuf.indexOf("\n")) >= 0) {
      onLine(inbuf.substr(0, i));
      inbuf = inbuf.substr(i + 1);
    }
  });
  ctl.on("close", function () {
    ctl = null;
    clearInterval(keep);
  });
  // samples memory between events, and keeps the interpreter's loop alive while the test drives it
  keep = setInterval(usage, SAMPLE_MS);

  return { report: report, text: text, hex: hex, pending: pending, memory: memory, next: next, done: done, describe: describe, usage: usage };
})();
