// Runs inside Duktape after dist/espruino/mqtt.js: an MQTT round trip against a fake transport and
// clock, written in ES5 like the bundle must be. Prints one JSON line for test/build/duktape.test.ts.
/* global exports, print, Duktape */
var result = { steps: [], errors: [], closes: [] };
try {
  var events = null, written = [], closedByClient = 0, timers = [], now = 5000;

  var transport = {
    open: function (host, port, tls, ev) {
      events = ev;
      result.open = { host: host, port: port, tls: tls };
    },
    write: function (buf, off, len) {
      for (var i = 0; i < len; i++) written.push(buf[off + i]);
      return len;
    },
    close: function () {
      closedByClient++;
    }
  };
  var clock = {
    now: function () { return now; },
    set: function (fn, ms) { timers.push({ fn: fn, at: now + ms }); return timers.length; },
    clear: function (t) { if (t) timers[t - 1] = null; }
  };

  // bytes the client wrote since the last call, as a plain array
  var take = function () { var w = written; written = []; return w; };
  var bytes = function (u) { var a = []; for (var i = 0; i < u.length; i++) a.push(u[i]); return a; };
  var feed = function (a) {
    var u = new Uint8Array(a.length);
    for (var i = 0; i < a.length; i++) u[i] = a[i];
    events.onData(u);
  };
  // UTF-8 by hand (Duktape strings are UTF-16 like everyone else's; no TextEncoder here)
  var utf8 = function (s) {
    var out = [], e = unescape(encodeURIComponent(s));
    for (var i = 0; i < e.length; i++) out.push(e.charCodeAt(i));
    return out;
  };

  var client = exports.createClient({
    host: "broker.local",
    port: 1883,
    clientId: "duk",
    keepalive: 60,
    clean: true,
    reconnect: false,
    transport: transport,
    clock: clock,
    onConnect: function (sessionPresent) { result.connected = { sessionPresent: sessionPresent }; },
    onMessage: function (topic, payload, info) {
      // the payload is a view valid only during the call: copy it
      result.messages = result.messages || [];
      result.messages.push({ topic: topic, payload: bytes(payload), qos: info.qos, retain: info.retain });
    },
    onError: function (code) { result.errors.push(code); },
    onClose: function (code) { result.closes.push(code); }
  });
  result.exports = typeof exports.createClient;

  client.connect();
  events.onOpen();
  result.connect = take();

  feed([0x20, 0x02, 0x00, 0x00]); // CONNACK, no session, accepted
  result.isConnected = client.connected();

  result.subscribeReturn = client.subscribe("a/b", 1, function (err, granted) {
    result.suback = { err: err, granted: granted };
  });
  result.subscribe = take();
  var sid = (result.subscribe[2] << 8) | result.subscribe[3];
  feed([0x90, 0x03, sid >> 8, sid & 255, 0x01]);

  result.publishReturn = client.publish("tëst/ü€", "héllo ✓", 1, false, function (err) {
    result.puback = { err: err };
  });
  result.publish = take();
  var pid = result.publishReturn;
  result.pubackBefore = result.puback === undefined;
  feed([0x40, 0x02, pid >> 8, pid & 255]);

  // incoming QoS 0 PUBLISH "a/b" = UTF-8 "hi €", fed one byte at a time
  var t = utf8("a/b"), p = utf8("hi €"), frame = [0x30, 2 + t.length + p.length, 0, t.length].concat(t, p);
  for (var k = 0; k < frame.length; k++) feed([frame[k]]);
  // incoming QoS 1 PUBLISH, id 7: the client answers PUBACK 7
  frame = [0x32, 2 + t.length + 2 + 1, 0, t.length].concat(t, [0, 7], [42]);
  feed(frame);
  result.pubackSent = take();

  result.expectTopic = utf8("tëst/ü€");
  result.expectPayload = utf8("héllo ✓");
  result.expectMessage = p;

  client.end(function () { result.ended = true; });
  result.disconnect = take();
  result.closedByClient = closedByClient;
  result.isConnectedAfterEnd = client.connected();
} catch (e) {
  result.exception = String(e && e.stack || e);
}
print(JSON.stringify(result));
