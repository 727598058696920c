// An IoT Hub device session for allocation accounting inside an engine (ES5, after bridge.es5.js), the
// application side of tools/engines/measure.js measureHubSession; the hub's side (C2D, desired updates, direct
// methods) is tools/engines/hubdriver.js in the Node parent:
//
//   A.start(tinyhub, options, http, leak)
//                                    creates the device (createDevice(options)) with handlers for C2D, desired
//                                    properties and the direct method "ping", connects; reports "ready"
//                                    (MQTT: once connected; HTTPS: at once); `leak`: the application keeps 32 bytes
//                                    per acknowledged message (the canary the checks must catch)
//   A.run(n)                         sends n more telemetry messages (QoS 1; a JSON text and 64 bytes by turns,
//                                    properties), at most 4 in flight; over MQTT a twin GET and a reported patch
//                                    every 50 messages, over HTTPS a C2D poll every 25; reports "idle" (the counts)
//                                    once every one is answered
//   A.end()                          ends the device; reports "ended"
//   A.counts()                       sent, acked, twins, patches, c2d, c2dBytes, desired, methods, polls, errors
//
// A.census(true) counts the typed arrays made from then on (new Uint8Array / ArrayBuffer, Uint8Array#slice) by
// the innermost bundle frame on the stack: A.census(false) returns {site: count} and stops counting.
/* global Bridge */
/* exported A */
var A = (function () {
  var WINDOW = 4, E_OUTBOX_FULL = -20, E_HUB_POLL_FAST = -60;
  var dev = null, http = false, target = 0, sent = 0, acked = 0, twins = 0, twinsAsked = 0, patches = 0, patchesAsked = 0;
  var c2d = 0, c2dBytes = 0, desired = 0, methods = 0, polls = 0, errors = [], pumping = false, kept = null;
  var bin = new Uint8Array(64), props = { seq: "", $contentType: "application/json", $contentEncoding: "utf-8" };
  var i;
  for (i = 0; i < bin.length; i++) bin[i] = (i * 13) & 255;

  function counts() {
    return { sent: sent, acked: acked, twins: twins, patches: patches, c2d: c2d, c2dBytes: c2dBytes, desired: desired, methods: methods, polls: polls, errors: errors.slice(0, 10) };
  }

  function check() {
    if (sent == target && acked == target && twins == twinsAsked && patches == patchesAsked) Bridge.report("idle", counts());
  }

  function onAck(err) {
    if (err) errors.push("telemetry " + acked + ": " + err);
    acked++;
    if (kept) kept.push(new Uint8Array(32));
    pump();
    check();
  }

  function onTwin(err) {
    if (err) errors.push("getTwin " + err);
    twins++;
    check();
  }

  function onPatch(err) {
    if (err) errors.push("patchReported " + err);
    patches++;
    check();
  }

  function pump() {
    var r, n;
    if (pumping) return;
    pumping = true;
    while (sent < target && sent - acked < WINDOW) {
      n = sent;
      props.seq = "" + n;
      r = dev.sendEvent(n & 1 ? bin : '{"n":' + n + ',"t":21.5}', props, onAck);
      if (r == E_OUTBOX_FULL) break;
      if (r < 0) {
        errors.push("sendEvent " + n + ": " + r);
        Bridge.report("exception", "sendEvent returned " + r + " at " + n);
        break;
      }
      sent++;
      if (http) {
        if (n % 25 == 24) {
          dev.poll();
          polls++;
        }
      } else if (n % 50 == 10) {
        if (dev.getTwin(onTwin) > 0) twinsAsked++;
      } else if (n % 50 == 35) {
        if (dev.patchReported({ n: n, t: 21.5 }, onPatch) > 0) patchesAsked++;
      }
    }
    pumping = false;
  }

  // ---- the typed-array census ----
  var U8 = Uint8Array, AB = ArrayBuffer, slice = Uint8Array.prototype.slice, sites = null, counting = false;

  function note(what) {
    var lines, k, m, via = [], kind;
    if (!counting) return;
    counting = false;
    try {
      lines = ("" + new Error().stack).split("\n");
      // the innermost frame of the bundle, and the frames of the glue or the bridge on the way (E.toUint8Array,
      // the emulated socket...); frames of this script (evaluated as eval.js) are skipped
      for (k = 0; k < lines.length; k++) {
        m = /at (?:([^ ]+) )?\(?([^ ():]+):(\d+)(?::(\d+))?\)?\s*$/.exec(lines[k]);
        if (!m || m[2] == "eval.js") continue;
        if (m[2] == "bundle.js" || /tinyhub\//.test(m[2])) break;
        via.push((m[1] || "(anonymous)") + " in " + m[2]);
        m = null;
      }
      // the library's own (directly, or through E.toUint8Array / E.toString, natives that allocate on a board too)
      // or the test's bridge (the emulated sockets: their copies are the firmware's on a board)
      kind = m && (!via.length || (via.length == 1 && /^(toUint8Array|toString) in espruino/.test(via[0]))) ? "library" : "bridge";
      k = kind + ": " + what + (m ? " @" + m[2] + ":" + m[3] + ":" + (m[4] || "?") : "") + (via.length ? " via " + via.slice(0, 3).join(" < ") : "");
      sites[k] = (sites[k] || 0) + 1;
    } finally {
      counting = true;
    }
  }

  function census(on) {
    var r;
    if (on) {
      sites = {};
      /* eslint-disable no-global-assign */
      Uint8Array = new Proxy(U8, {
        construct: function (t, args, nt) {
          var x = Reflect.construct(t, args, nt === Uint8Array ? t : nt);
          if (!(args[0] instanceof AB)) note("new Uint8Array");
          return x;
        }
      });
      ArrayBuffer = new Proxy(AB, {
        construct: function (t, args, nt) {
          var x = Reflect.construct(t, args, nt === ArrayBuffer ? t : nt);
          note("new ArrayBuffer");
          return x;
        }
      });
      U8.prototype.slice = function () {
        var x = slice.apply(this, arguments);
        note("Uint8Array#slice");
        return x;
      };
      counting = true;
      return true;
    }
    counting = false;
    Uint8Array = U8;
    ArrayBuffer = AB;
    U8.prototype.slice = slice;
    r = sites;
    sites = null;
    return r;
  }

  return {
    start: function (tinyhub, o, isHttp, leak) {
      http = !!isHttp;
      kept = leak ? [] : null;
      o.onConnect = function () { if (!http) Bridge.report("ready", null); };
      o.onError = function (code) { if (code != E_HUB_POLL_FAST) errors.push("onError " + code); };
      o.onClose = function (code) { if (code) errors.push("onClose " + code); };
      o.onWritable = pump;
      o.onMessage = function (m) {
        c2dBytes += m.payload.length;
        if (m.offset + m.payload.length >= m.total) c2d++;
      };
      if (http) o.pollInterval = 3600;
      else {
        o.onDesired = function () { desired++; };
        o.methods = {
          ping: function (payload, respond) {
            methods++;
            respond(200, { n: payload && payload.n });
          }
        };
      }
      dev = tinyhub.createDevice(o);
      if (typeof dev == "number") return Bridge.report("exception", "createDevice " + dev);
      dev.connect();
      if (http) Bridge.report("ready", null);
    },
    run: function (n) {
      target += n;
      pump();
      check();
      return sent;
    },
    end: function () {
      dev.end(function () { Bridge.report("ended", null); });
    },
    counts: counts,
    census: census
  };
})();
