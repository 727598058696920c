// The least an MQTT client can do per QoS 0 message in Espruino: a floor for bench/espruino-profile.ts (`floor`),
// not a library. A publish is one string of header, topic and payload handed to the socket; a receive slices topic
// and payload out of the socket's string and calls back. Nothing is checked: frames are taken as whole, one to a
// one-byte remaining length, topics under 256 bytes; no QoS, no buffer, no backpressure, no reconnect. `layered`: the
// publish goes through a transport object's write, as a client apart from its transport (TCP, TLS, WebSockets) does.
exports.create = function (host, onMessage, onConnect, layered) {
  var s = require("net").connect({ host: host, port: 1883 }, function () {
    s.write("\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01p"); // CONNECT, client id "p", clean, keep-alive 60 s
  });
  s.on("data", function (d) {
    var i = 0, n, k;
    if (d.charCodeAt(0) == 0x20) return onConnect(); // CONNACK
    while (i < d.length) {
      n = d.charCodeAt(i + 1);
      k = d.charCodeAt(i + 3);
      onMessage(d.substr(i + 4, k), d.substr(i + 4 + k, n - 2 - k));
      i += n + 2;
    }
  });
  var out = layered ? { write: function (x) { s.write(x); } } : s;
  return {
    publish: function (t, p) {
      out.write(String.fromCharCode(0x30, t.length + p.length + 2, 0, t.length) + t + p);
    },
  };
};
