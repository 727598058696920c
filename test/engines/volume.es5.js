// Many messages through a bundle inside an engine, for memory accounting (ES5, after bridge.es5.js):
//
//   V.mqtt(tinyhub, options)   an MQTT client subscribed to its own topic; V.run(n) publishes n more
//                              messages (even: QoS 0 text "msg-<i>", odd: QoS 1 64 binary bytes
//                              starting with i) and reports "idle" once all n came back, in order,
//                              and every QoS 1 was acknowledged
//   V.hub(tinyhub, options)    an IoT Hub device; V.run(n) sends n telemetry messages with properties
//                              (QoS 1) and a reported-properties patch every 500, reports "idle" once
//                              every one was acknowledged
//
// Backpressure is honoured: a publish answered E_OUTBOX_FULL (-20) is retried on onWritable (MQTT)
// or on the next acknowledgement (hub). A wrong, missing or reordered message reports "exception".
/* global Bridge */
/* exported V */
var V = (function () {
  var E_OUTBOX_FULL = -20;
  var lib, c = null, dev = null, target = 0, sent = 0, received = 0, acked = 0, patches = 0, asked = 0, patched = 0;
  var bin = new Uint8Array(64), topic = "", props = { seq: "", $contentType: "application/json", $contentEncoding: "utf-8" };
  var i;
  for (i = 0; i < bin.length; i++) bin[i] = (i * 13) & 255;

  function fail(what) {
    Bridge.report("exception", what);
  }

  function check() {
    if (sent == target && acked == target && (dev || received == target) && patched == patches)
      Bridge.report("idle", { sent: sent, received: received, acked: acked, patches: patched });
  }

  function onAck(err) {
    if (err) fail("acknowledgement error " + err + " after " + acked);
    acked++;
    if (dev) pump();
    check();
  }

  function onPatch(err) {
    if (err) fail("patchReported error " + err);
    patched++;
    check();
  }

  function pump() {
    var r, q;
    while (sent < target || patches > asked) {
      if (patches > asked) {
        // a reported-properties patch (QoS 0 request) waits for room like the telemetry
        r = dev.patchReported({ sent: sent }, onPatch);
        if (r == E_OUTBOX_FULL) return;
        if (r < 0) return fail("patchReported returned " + r);
        asked++;
        continue;
      }
      if (dev) {
        props.seq = "" + sent;
        r = dev.sendEvent('{"n":' + sent + "}", props, onAck);
      } else {
        q = sent & 1;
        if (q) {
          bin[0] = sent >> 24;
          bin[1] = (sent >> 16) & 255;
          bin[2] = (sent >> 8) & 255;
          bin[3] = sent & 255;
          r = c.publish(topic, bin, 1, false, onAck);
        } else r = c.publish(topic, "msg-" + sent, 0, false, null);
      }
      if (r == E_OUTBOX_FULL) return;
      if (r < 0) return fail("publish returned " + r + " at " + sent);
      if (!dev && !q) acked++;
      sent++;
      if (dev && sent % 500 == 0) patches++;
    }
  }

  function onMessage(t, p) {
    var n, k;
    if (t != topic) return fail("message on " + t);
    if (received & 1) {
      if (p.length != 64) return fail("QoS 1 message " + received + " has " + p.length + " bytes");
      n = ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
      for (k = 4; k < 64; k++) if (p[k] != ((k * 13) & 255)) return fail("QoS 1 message " + received + " byte " + k);
    } else {
      n = Bridge.text(p);
      if (n != "msg-" + received) return fail("QoS 0 message " + received + " is " + n);
      n = received;
    }
    if (n != received) return fail("message " + n + " arrived as number " + received);
    received++;
    check();
  }

  return {
    mqtt: function (tinyhub, o) {
      lib = tinyhub;
      topic = "vol/" + o.clientId;
      o.onConnect = function () {
        c.subscribe(topic, 1, function (err, granted) {
          if (err) fail("subscribe " + err);
          Bridge.report("ready", granted);
        });
      };
      o.onMessage = onMessage;
      o.onWritable = pump;
      o.onError = function (code) { fail("onError " + code); };
      o.onClose = function (code) { Bridge.report("close", code); };
      c = lib.createClient(o);
      c.connect();
    },
    hub: function (tinyhub, o) {
      lib = tinyhub;
      o.onConnect = function () { Bridge.report("ready", null); };
      o.onError = function (code) { fail("onError " + code); };
      o.onClose = function (code) { Bridge.report("close", code); };
      dev = lib.createDevice(o);
      if (typeof dev == "number") return fail("createDevice " + dev);
      dev.connect();
    },
    run: function (n) {
      target += n;
      pump();
      return sent;
    },
    end: function () {
      var d = dev || c;
      d.end(function () { Bridge.report("ended", null); });
      c = dev = null;
    },
    counts: function () {
      return { sent: sent, received: received, acked: acked, patches: patched };
    }
  };
})();
