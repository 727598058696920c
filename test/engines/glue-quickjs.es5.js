// QuickJS (quickjs-emscripten, in the Node process) glue for bridge.es5.js: the host function
// __send(json, arrayBuffer?) takes an operation, __deliver(json, arrayBuffer) takes a batch of
// events ([{ev, id, len?...}], the data events' bytes concatenated in the ArrayBuffer).
/* global Bridge, __send */
Bridge.init(function (msg, bytes) {
  __send(JSON.stringify(msg), bytes ? bytes.slice().buffer : undefined);
});

function __deliver(json, ab) {
  var batch = JSON.parse(json), u = new Uint8Array(ab), k = 0, i, ev, b;
  for (i = 0; i < batch.length; i++) {
    ev = batch[i];
    b = null;
    if (ev.len !== undefined) {
      b = u.subarray(k, k + ev.len);
      k += ev.len;
    }
    Bridge.deliver(ev, b);
  }
}
