// Duktape glue for bridge.es5.js, run by the small C host tools/engines/dukhost.c, which gives the
// script __read() (one line of stdin, undefined at the end), __write(line) (one line to stdout),
// __heap() ({used, peak, allocs} bytes of the Duktape heap), __heaps, __gc() and print() (to stderr).
// Lines are JSON: operations out ({op:...}, bytes as base64 in `b64`), and in: {evs:[...]} events
// (data bytes in `b64`), {eval, seq} -> {op:"result", seq, value | error}, {quit:true}.
/* global Bridge, Duktape, __read, __write, __heap, __gc, __heaps */
Bridge.init(function (msg, bytes) {
  if (bytes) msg.b64 = Duktape.enc("base64", bytes);
  __write(JSON.stringify(msg));
});

(function () {
  var line, m, i, ev, v;
  __gc();
  __write(JSON.stringify({ op: "ready", heap: __heap(), heaps: __heaps }));
  while ((line = __read()) !== undefined) {
    m = JSON.parse(line);
    if (m.evs) {
      for (i = 0; i < m.evs.length; i++) {
        ev = m.evs[i];
        Bridge.deliver(ev, ev.b64 !== undefined ? new Uint8Array(Duktape.dec("base64", ev.b64)) : null);
      }
    } else if (m.eval !== undefined) {
      try {
        v = (0, eval)(m.eval);
        __write(JSON.stringify({ op: "result", seq: m.seq, value: v === undefined ? null : v }));
      } catch (e) {
        __write(JSON.stringify({ op: "result", seq: m.seq, error: String((e && e.stack) || e) }));
      }
    } else if (m.quit) break;
  }
})();
