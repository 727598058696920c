// Helpers for the sessions the tests drive inside an engine (ES5, after bridge.es5.js): callbacks
// that report what they saw to the Node parent, which evaluates small snippets like
// `S.c.subscribe("t/#", 2, S.done("suback"))` and waits for the reports.
/* global Bridge */
/* exported S */
var S = (function () {
  /** A callback (err, value) that reports {err, value} under `tag`. */
  function done(tag) {
    return function (err, value) {
      Bridge.report(tag, { err: err, value: value === undefined ? null : value });
    };
  }

  function sum(u) {
    var s = 0, i;
    for (i = 0; i < u.length; i++) s = (s * 31 + u[i]) >>> 0;
    return s;
  }

  function payload(p) {
    return { length: p.length, text: p.length <= 256 ? Bridge.text(p) : null, hex: p.length <= 64 ? Bridge.hex(p) : null, sum: sum(p) };
  }

  /** MQTT client callbacks reporting connect / message / close / error / writable. */
  function mqttEvents(o) {
    o.onConnect = function (sp) { Bridge.report("connect", { sessionPresent: sp }); };
    o.onMessage = function (topic, p, info) {
      var m = payload(p);
      m.topic = topic;
      m.qos = info.qos;
      m.retain = info.retain;
      m.dup = info.dup;
      m.offset = info.offset;
      m.total = info.total;
      Bridge.report("message", m);
    };
    o.onClose = function (code) { Bridge.report("close", code); };
    o.onError = function (code) { Bridge.report("error", code); };
    o.onWritable = function () { Bridge.report("writable", null); };
    return o;
  }

  /** IoT Hub device callbacks, and a direct method `reboot` answering 200 with what it got. */
  function hubEvents(o) {
    o.onConnect = function () { Bridge.report("connect", null); };
    o.onClose = function (code) { Bridge.report("close", code); };
    o.onError = function (code) { Bridge.report("error", code); };
    o.onMessage = function (msg) {
      var m = payload(msg.payload);
      m.topic = msg.topic;
      m.properties = msg.properties;
      m.offset = msg.offset;
      m.total = msg.total;
      Bridge.report("c2d", m);
    };
    o.onDesired = function (patch, version, whole) { Bridge.report("desired", { patch: patch, version: version, whole: !!whole }); };
    o.methods = {
      reboot: function (p, respond) {
        Bridge.report("method", { name: "reboot", payload: p });
        respond(200, { ok: true, got: p });
      },
      fail: function () {
        throw new Error("handler failed");
      }
    };
    return o;
  }

  /** IoT Hub HTTPS device callbacks: connect / close / error, and C2D messages (completed on return). */
  function httpEvents(o) {
    o.onConnect = function () { Bridge.report("connect", null); };
    o.onClose = function (code) { Bridge.report("close", code); };
    o.onError = function (code) { Bridge.report("error", code); };
    o.onMessage = function (msg) {
      var m = payload(msg.payload);
      m.properties = msg.properties;
      m.lockToken = msg.lockToken;
      m.offset = msg.offset;
      m.total = msg.total;
      Bridge.report("c2d", m);
    };
    return o;
  }

  /** Bytes 0..n-1 of a pattern, as a Uint8Array (binary payloads). */
  function bytes(n, seed) {
    var u = new Uint8Array(n), i;
    for (i = 0; i < n; i++) u[i] = (i * 7 + (seed || 0)) & 255;
    return u;
  }

  return { done: done, mqttEvents: mqttEvents, hubEvents: hubEvents, httpEvents: httpEvents, bytes: bytes, sum: sum };
})();
