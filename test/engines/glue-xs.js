// Moddable XS (xsnap) glue for bridge.es5.js: operations go to the Node parent through xsnap's
// synchronous issueCommand(ArrayBuffer), events arrive as handleCommand(ArrayBuffer). A message is
// a JSON header line and, for writes and received data, the bytes after it.
/* global Bridge, issueCommand */
(function () {
  const te = new TextEncoder(), td = new TextDecoder();
  const buffer = (u) => (u.byteOffset == 0 && u.byteLength == u.buffer.byteLength ? u.buffer : u.slice().buffer);

  Bridge.init(function (msg, bytes) {
    const h = te.encode(JSON.stringify(msg) + "\n");
    let out = h;
    if (bytes) {
      out = new Uint8Array(h.length + bytes.length);
      out.set(h, 0);
      out.set(bytes, h.length);
    }
    issueCommand(buffer(out));
  });

  // a batch of events: [{ev, id, len?...}, ...] then the data events' bytes, in order
  globalThis.handleCommand = function (ab) {
    const u = new Uint8Array(ab), nl = u.indexOf(10), batch = JSON.parse(td.decode(u.subarray(0, nl)));
    let k = nl + 1;
    for (const ev of batch) {
      let b = null;
      if (ev.len !== undefined) {
        b = u.subarray(k, k + ev.len);
        k += ev.len;
      }
      Bridge.deliver(ev, b);
    }
    return new ArrayBuffer(0);
  };

  // evaluate for the parent: the value comes back as JSON
  globalThis.__eval = function (code) {
    const v = (0, eval)(code);
    return buffer(te.encode(JSON.stringify(v === undefined ? null : v)));
  };

  // the ECMA-419 host provider the Moddable transport resolves names with
  globalThis.device = { network: { dns: Bridge.dns } };
})();
