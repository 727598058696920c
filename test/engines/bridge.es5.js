// The engine side of the bridge to the Node parent (tools/engines/host.js), in ES5 so it runs in
// Duktape, QuickJS and Moddable XS alike. The Node parent owns the real TCP sockets (127.0.0.1) and
// timers; this file turns its events into what a bundle expects:
//
//   Bridge.transport()  a tinyhub Transport (src/types.ts) for the Espruino builds (given as `transport`)
//   Bridge.clock        a tinyhub Clock (`clock`)
//   Bridge.TCP          an ECMA-419 `embedded:io/socket/tcp` class and
//   Bridge.Timer        the Moddable `timer` module, for the Moddable build, which imports both itself
//   Bridge.dns          an ECMA-419 host provider DNS (globalThis.device.network.dns)
//   Bridge.TLS          Moddable's ECMA-419 TLS socket (`embedded:io/socket/tcp/tls`), its quirks included
//   Bridge.Socket, Bridge.SecureSocket   Moddable's classic `socket` and `securesocket` modules
//   Bridge.tls(host, port, options, handlers)   a TLS connection (the Node parent does the TLS)
//   Bridge.report(name, value)   a line to the test: what the application callbacks saw
//
// The engine glue (test/engines/glue-*.js) moves messages: it installs the function that sends an
// operation to the parent (Bridge.init) and hands the parent's events to Bridge.deliver.
//
//   engine -> parent   {op:"open",id,host,port,tls?} {op:"write",id,over?}+bytes {op:"close",id}
//                      {op:"timer",id,ms,repeat} {op:"clear",id} {op:"resolve",id,host} {op:"report",name,value}
//   parent -> engine   {ev:"open",id} {ev:"data",id}+bytes {ev:"drain",id,n} {ev:"close",id,err}
//                      {ev:"fire",id} {ev:"resolved",id,address}   (address null: not found)
//
// With `tls` ({servername, ca, cert, key: PEM text or base64 DER; verify; version}) the parent opens a
// TLS connection and "open" means the handshake is done; `over` is what a write costs beyond its bytes
// (a TLS record's framing), given back with the "drain" once it is written out.
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

  function connect(host, port, handlers, tls) {
    var id = ++next;
    socks[id] = handlers;
    op(tls ? { op: "open", id: id, host: host, port: port, tls: tls } : { op: "open", id: id, host: host, port: port });
    return id;
  }

  function write(id, u, off, len, over) {
    op(over ? { op: "write", id: id, over: over } : { op: "write", id: id }, u.subarray(off, off + len));
  }

  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  function base64(u) {
    var s = "", i, x;
    for (i = 0; i < u.length; i += 3) {
      x = (u[i] << 16) | ((u[i + 1] || 0) << 8) | (u[i + 2] || 0);
      s += B64.charAt(x >> 18) + B64.charAt((x >> 12) & 63) + (i + 1 < u.length ? B64.charAt((x >> 6) & 63) : "=") + (i + 2 < u.length ? B64.charAt(x & 63) : "=");
    }
    return s;
  }

  function bytes(data) {
    return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }

  /** A certificate or key as Moddable takes it: DER in an ArrayBuffer or a view (a PEM string is refused, as X509.decode would). */
  function der(v, what) {
    var u;
    if (v === undefined || v === null) return undefined;
    if (typeof v == "string") throw new Error(what + ": Moddable takes DER (binary), not " + (v.indexOf("-----BEGIN") >= 0 ? "PEM text" : "a string"));
    if (!(v instanceof ArrayBuffer) && !(v && v.buffer instanceof ArrayBuffer)) throw new Error(what + ": not an ArrayBuffer or a view");
    u = bytes(v);
    if (u[0] != 0x30) throw new Error(what + ": not DER (no SEQUENCE tag)");
    return base64(u);
  }

  /** The TLS options the parent gets from a Moddable `secure` dictionary; `host` is the SNI default. */
  function secure(sec, host, version) {
    var name = "serverName" in sec ? sec.serverName : "tls_server_name" in sec ? sec.tls_server_name : host, certs = sec.clientCertificates;
    // a TLS session without a server name sends no SNI and checks the certificate against nothing
    if (typeof name != "string" || !name) throw new Error("TLS: no server name (secure.serverName present but " + name + ")");
    if (certs !== undefined && !(certs instanceof Array)) throw new Error("TLS: clientCertificates must be an Array of DER");
    return {
      servername: name,
      ca: der(sec.certificate, "certificate"),
      cert: certs ? der(certs[0], "clientCertificates[0]") : undefined,
      key: der(sec.clientKey, "clientKey"),
      verify: sec.verify !== false,
      version: version
    };
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

  /** Bytes of framing a TLS record adds (AES-GCM: header 5, nonce 8, tag 16). */
  var RECORD = 29;

  /**
   * Moddable's ECMA-419 TLS socket (examples/io/tcp/tlssocket), over the parent's TLS: options as TCP's plus
   * host (SNI), TCP: {io: <TCP class>} (the socket it runs over: an address, no name resolution) and secure
   * ({certificate, clientCertificates, clientKey: DER; serverName; verify}). Its quirks are kept: callbacks
   * are called on an object of its own (not the socket), onWritable comes only after the handshake with the
   * TCP count less 96, read() gives one record a time (more later through onReadable), and write() answers
   * the last onWritable count, not shrunk by the write; a write the TCP socket cannot take throws.
   */
  function TLS(o) {
    var self = this, cb = { onReadable: o.onReadable, onWritable: o.onWritable, onError: o.onError }, tls;
    if (!o.TCP || typeof o.TCP.io != "function") throw new Error("TLSSocket: options.TCP.io (the TCP class) missing");
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(o.address)) throw new Error("TLSSocket: address " + o.address + " is not an IP address (the TCP socket does not resolve names)");
    tls = secure(o.secure || {}, o.host, 0x303);
    this._q = [];
    this._tcp = 0;
    this._last = 0;
    this._closed = false;
    this._timer = 0;
    this._id = connect(o.address, o.port, {
      onOpen: function () {
        self._tcp = self._last = WINDOW;
        if (cb.onWritable) cb.onWritable(WINDOW - 96);
      },
      onData: function (b) {
        self._q.push(b);
        if (self._q.length == 1 && cb.onReadable) cb.onReadable(b.length);
      },
      onDrain: function (n) {
        self._tcp += n;
        self._last = self._tcp;
        if (self._tcp > 96 && cb.onWritable) cb.onWritable(self._tcp - 96);
      },
      onClose: function () {
        self._closed = true;
        if (cb.onError) cb.onError();
      }
    }, tls);
    this._more = function () {
      self._timer = 0;
      if (self._q.length && !self._closed && cb.onReadable) cb.onReadable(self._q[0].length);
    };
  }
  TLS.prototype.read = function () {
    var b = this._q.shift();
    if (!b) return undefined;
    if (this._q.length && !this._timer) this._timer = setTimer(this._more, 0, 0);
    return new Uint8Array(b).buffer;
  };
  TLS.prototype.write = function (data) {
    var u = bytes(data);
    if (this._closed) throw new Error("write on a closed socket");
    if (u.length + RECORD > this._tcp) throw new Error("TLSSocket: the TCP socket cannot take a record of " + u.length + " bytes (" + this._tcp + " writable)");
    this._tcp -= u.length + RECORD;
    write(this._id, u, 0, u.length, RECORD);
    return Math.max(0, this._last - 96);
  };
  TLS.prototype.close = function () {
    this._closed = true;
    if (this._timer) clearTimer(this._timer);
    close(this._id);
  };

  /**
   * Moddable's classic Socket (module "socket"): new Socket({host | address, port}) resolves the name itself;
   * socket.callback(message, value) is called on the socket with 1 connected, 2 readable (value bytes, to be
   * read in the callback: what is left there stalls the socket, reported here as an exception), 3 writable
   * (value free bytes, once all written is sent), -1 disconnected, -2 error. write() answers the free bytes,
   * write(data) throws past them.
   */
  function Socket(o, tls) {
    var self = this;
    if (!o || !(o.host || o.address) || !o.port) throw new Error("Socket: host or address, and port, needed");
    this.callback = null;
    this._q = [];
    this._cur = null;
    this._room = WINDOW;
    this._out = 0;
    this._closed = false;
    this._over = tls ? RECORD : 0;
    this._max = tls ? 1024 : WINDOW;
    this._id = connect(o.address || o.host, o.port, {
      onOpen: function () { self._call(1); },
      onData: function (b) {
        self._q.push(b);
        self._deliver();
      },
      onDrain: function (n) {
        self._room += n;
        self._out -= n;
        // SecureSocket passes this on less its 128-byte allowance, and only above it
        if (!self._out && (!tls || self._room > 128)) self._call(3, self._room - (tls ? 128 : 0));
      },
      onClose: function (err) {
        if (self._closed) return;
        self._closed = true;
        self._call(err ? -2 : -1);
      }
    }, tls);
  }
  Socket.connected = 1;
  Socket.readable = 2;
  Socket.writable = 3;
  Socket.error = -2;
  Socket.disconnected = -1;
  Socket.prototype._call = function (m, v) {
    if (this.callback && (!this._closed || m < 0)) this.callback(m, v);
  };
  Socket.prototype._deliver = function () {
    var b;
    while (this._q.length && !this._closed && !this._cur) {
      b = this._q.shift();
      // SecureSocket hands decrypted data over in pieces of at most 1024 bytes
      if (b.length > this._max) {
        this._q.unshift(b.subarray(this._max));
        b = b.subarray(0, this._max);
      }
      this._cur = b;
      this._call(2, b.length);
      if (this._cur && !this._closed) {
        report("exception", "classic socket: " + this._cur.length + " bytes left unread after the readable callback (the socket stalls)");
        return;
      }
    }
  };
  Socket.prototype.read = function (type) {
    var b = this._cur;
    if (type !== ArrayBuffer) throw new Error("Socket.read: only read(ArrayBuffer) is emulated");
    this._cur = null;
    return b ? new Uint8Array(b).buffer : undefined;
  };
  Socket.prototype.write = function (data) {
    var u;
    if (!arguments.length) return this._closed ? 0 : this._over ? 1024 : this._room;
    u = bytes(data);
    if (this._closed) return;
    if (u.length > this._max || u.length + this._over > this._room) throw new Error("can't write all data");
    this._room -= u.length + this._over;
    this._out += u.length + this._over;
    write(this._id, u, 0, u.length, this._over);
  };
  Socket.prototype.close = function () {
    this._closed = true;
    close(this._id);
  };

  /**
   * Moddable's classic SecureSocket (module "securesocket"): Socket's callbacks after the handshake, secure as
   * for the TLS socket (TLS 1.1 unless secure.protocolVersion asks for 0x303); write() answers 1024 (the most a
   * write may carry), the TCP socket underneath is `sock` (its write() answers its free bytes).
   */
  function SecureSocket(o) {
    var sec = o.secure || {}, self;
    Socket.call(this, o, secure(sec, o.host, sec.protocolVersion || 0x302));
    self = this;
    this.sock = { write: function () {
      if (arguments.length) throw new Error("SecureSocket.sock: written to directly");
      return self._closed ? 0 : self._room;
    } };
  }
  SecureSocket.prototype = Object.create(Socket.prototype);
  SecureSocket.prototype.constructor = SecureSocket;

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
    TLS: TLS,
    Socket: Socket,
    SecureSocket: SecureSocket,
    /** Opens a TLS connection through the parent: handlers {onOpen, onData(bytes), onDrain(n), onClose(err)}; returns its id. */
    tls: function (host, port, tls, handlers) { return connect(host, port, handlers, tls); },
    write: write,
    close: close,
    base64: base64,
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
