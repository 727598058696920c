// The engine side of the bridge to the Node parent (tools/engines/host.js), in ES5 so it runs in
// Duktape, QuickJS and Moddable XS alike. The Node parent owns the real TCP sockets (127.0.0.1) and
// timers; this file turns its events into what a bundle expects:
//
//   Bridge.transport()  a tinyhub Transport (src/types.ts) for the Espruino builds (given as `transport`)
//   Bridge.clock        a tinyhub Clock (`clock`)
//   Bridge.TCP          an ECMA-419 `embedded:io/socket/tcp` class and
//   Bridge.Timer        the Moddable `timer` module, for the Moddable build, which imports both itself
//   Bridge.dns          an ECMA-419 host provider DNS (globalThis.device.network.dns)
//   Bridge.report(name, value)   a line to the test: what the application callbacks saw
//
// The engine glue (test/engines/glue-*.js) moves messages: it installs the function that sends an
// operation to the parent (Bridge.init) and hands the parent's events to Bridge.deliver.
//
//   engine -> parent   {op:"open",id,host,port} {op:"write",id}+bytes {op:"close",id}
//                      {op:"timer",id,ms,repeat} {op:"clear",id} {op:"resolve",id,host} {op:"report",name,value}
//   parent -> engine   {ev:"open",id} {ev:"data",id}+bytes {ev:"drain",id,n} {ev:"close",id,err}
//                      {ev:"fire",id} {ev:"resolved",id,address}   (address null: not found)
/* exported Bridge */
var Bridge = (function () {
  var send = null, socks = {}, timers = {}, lookups = {}, next = 0;
  // bytes the parent accepts per socket before they are written out (the ECMA-419 "writable" count)
  var WINDOW = 4096;
  var E_CLOSED = -24, E_TRANSPORT = -27;

  function op(msg, bytes) {
    send(msg, bytes || null);
  }

  function hex(u) {
    var s = "", i;
    for (i = 0; i < u.length; i++) s += (u[i] < 16 ? "0" : "") + u[i].toString(16);
    return s;
  }

  /** UTF-8 bytes to a string (null when not valid UTF-8). */
  function text(u) {
    var s = "", i;
    for (i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);
    try {
      return decodeURIComponent(escape(s));
    } catch (e) {
      return null;
    }
  }

  function report(name, value) {
    op({ op: "report", name: name, value: value === undefined ? null : value });
  }

  function deliver(ev, bytes) {
    var s = socks[ev.id], t, l;
    try {
      if (ev.ev == "open") {
        if (s) s.onOpen();
      } else if (ev.ev == "data") {
        if (s) s.onData(bytes);
      } else if (ev.ev == "drain") {
        if (s) s.onDrain(ev.n);
      } else if (ev.ev == "close") {
        if (s) {
          delete socks[ev.id];
          s.onClose(ev.err);
        }
      } else if (ev.ev == "fire") {
        t = timers[ev.id];
        if (t) {
          if (!t.repeat) delete timers[ev.id];
          t.fn(ev.id);
        }
      } else if (ev.ev == "resolved") {
        l = lookups[ev.id];
        delete lookups[ev.id];
        if (l) {
          if (ev.address) l.onResolved(l.host, ev.address);
          else l.onError();
        }
      }
    } catch (e) {
      // an exception escaping a callback is a failure the test must see
      report("exception", String((e && e.stack) || e));
    }
  }

  function connect(host, port, handlers) {
    var id = ++next;
    socks[id] = handlers;
    op({ op: "open", id: id, host: host, port: port });
    return id;
  }

  function write(id, u, off, len) {
    op({ op: "write", id: id }, u.subarray(off, off + len));
  }

  function close(id) {
    if (socks[id]) {
      delete socks[id];
      op({ op: "close", id: id });
    }
  }

  function setTimer(fn, ms, repeat) {
    var id = ++next;
    timers[id] = { fn: fn, repeat: !!repeat };
    op({ op: "timer", id: id, ms: ms > 0 ? ms : 0, repeat: repeat > 0 ? repeat : 0 });
    return id;
  }

  function clearTimer(id) {
    if (!timers[id]) return false;
    delete timers[id];
    op({ op: "clear", id: id });
    return true;
  }

  /** A tinyhub Transport: write() all-or-nothing within WINDOW bytes not yet written out, 0 = try after onWritable. */
  function transport() {
    var id = 0, writable = 0, blocked = false;
    return {
      open: function (host, port, tls, ev) {
        var me;
        writable = WINDOW;
        blocked = false;
        if (tls) {
          // no TLS across this bridge: fail like a transport that cannot open (later, as a socket would)
          me = setTimer(function () { ev.onClose(E_TRANSPORT); }, 0);
          return;
        }
        me = id = connect(host, port, {
          onOpen: function () { if (id == me) ev.onOpen(); },
          onData: function (b) { if (id == me) ev.onData(b); },
          onDrain: function (n) {
            writable += n;
            if (id == me && blocked) {
              blocked = false;
              ev.onWritable();
            }
          },
          onClose: function (err) {
            if (id != me) return;
            id = 0;
            ev.onClose(err);
          }
        });
      },
      write: function (buf, off, len) {
        if (!id) return E_CLOSED;
        if (len > writable) {
          blocked = true;
          return 0;
        }
        writable -= len;
        write(id, buf, off, len);
        return len;
      },
      close: function () {
        var i = id;
        id = 0;
        if (i) close(i);
      }
    };
  }

  var clock = {
    now: function () { return Date.now(); },
    set: function (fn, ms) { return setTimer(fn, ms, 0); },
    clear: function (t) { if (t) clearTimer(t); }
  };

  /** ECMA-419 TCP socket (the subset the Moddable glue uses: read(), write(), close(), onReadable/onWritable/onError). */
  function TCP(o) {
    var self = this;
    this._o = o;
    this._q = [];
    this._avail = 0;
    this._writable = 0;
    this._closed = false;
    this._id = connect(o.address, o.port, {
      onOpen: function () {
        self._writable = WINDOW;
        if (o.onWritable) o.onWritable.call(self, self._writable);
      },
      onData: function (b) {
        self._q.push(b);
        self._avail += b.length;
        if (o.onReadable) o.onReadable.call(self, self._avail);
      },
      onDrain: function (n) {
        self._writable += n;
        if (o.onWritable) o.onWritable.call(self, self._writable);
      },
      onClose: function (err) {
        self._closed = true;
        self._error = err;
        if (o.onError) o.onError.call(self);
      }
    });
  }
  TCP.prototype.read = function () {
    var q = this._q, out, i, k = 0;
    if (!this._avail) return undefined;
    out = new Uint8Array(this._avail);
    for (i = 0; i < q.length; i++) {
      out.set(q[i], k);
      k += q[i].length;
    }
    this._q = [];
    this._avail = 0;
    return out.buffer;
  };
  TCP.prototype.write = function (data) {
    var u = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (this._closed) throw new Error("write on a closed socket");
    if (u.length > this._writable) throw new Error("write of " + u.length + " bytes exceeds writable " + this._writable);
    this._writable -= u.length;
    write(this._id, u, 0, u.length);
    return this._writable;
  };
  TCP.prototype.close = function () {
    this._closed = true;
    close(this._id);
  };

  /** The Moddable `timer` module: set / repeat / clear (clear throws for a timer that is gone, like XS's). */
  var Timer = {
    set: function (fn, ms, repeat) { return setTimer(fn, ms || 0, repeat || 0); },
    repeat: function (fn, ms) { return setTimer(fn, ms, ms); },
    clear: function (id) {
      if (!clearTimer(id)) throw new Error("no such timer");
    }
  };

  /** ECMA-419 host provider DNS: new dns.io(dns).resolve({host, onResolved(host, address), onError()}). */
  function DNS() {}
  DNS.prototype.resolve = function (r) {
    var id = ++next;
    lookups[id] = { host: r.host, onResolved: r.onResolved, onError: r.onError };
    op({ op: "resolve", id: id, host: r.host });
  };

  return {
    init: function (fn) { send = fn; },
    deliver: deliver,
    report: report,
    hex: hex,
    text: text,
    transport: transport,
    clock: clock,
    TCP: TCP,
    Timer: Timer,
    dns: { io: DNS },
    /** Open sockets, pending timers and lookups (a finished session leaves none). */
    pending: function () {
      var n = { sockets: 0, timers: 0, lookups: 0 }, k;
      for (k in socks) n.sockets++;
      for (k in timers) n.timers++;
      for (k in lookups) n.lookups++;
      return n;
    }
  };
})();
