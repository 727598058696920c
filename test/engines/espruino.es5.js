// The few Espruino APIs the Espruino bundle's own glue (targets/espruino/transport.ts) uses, emulated
// over the bridge (after bridge.es5.js), so a bundle given no transport and clock runs as on a board:
//
//   require("net").connect({host, port}, onConnect) -> socket: on("data" | "drain" | "error" | "close"),
//                        write(binaryString), end(); data arrives as binary strings (one char per byte)
//   E.toUint8Array(binaryString), E.toString(Uint8Array) -> binary string
//   setTimeout(fn, ms) -> id, clearTimeout(id) (throws for an id that fired or was cleared, like Espruino)
//
// As on Espruino, write() buffers whatever it is given and 'drain' comes (later) once all of it is sent;
// write(uint8array) would send the numbers as decimal text ("16,2,0,255"), and so it does here.
//   require("tls").connect({host, port, ca, cert, key}, onConnect): the same socket over TLS (done by the
//                        Node parent), certificates and key as DER binary strings (PEM throws, as in mbedTLS there); the server's certificate is
//                        checked against `ca` for `host` when `ca` is given (stricter than the Espruino
//                        firmware we read, whose mbedTLS client does not verify: see targets/espruino/README.md)
//   require("crypto"):   absent unless Espruino.crypto is set (e.g. to a model of the native SHA256)
/* global Bridge */
/* exported require, E, setTimeout, clearTimeout */
var E = {
  // a UTF-8 string gives its UTF-8 bytes, a binary string its characters' low 8 bits
  toUint8Array: function (s) {
    var i, u;
    if (E.isUTF8(s)) s = unescape(encodeURIComponent(s));
    u = new Uint8Array(s.length);
    for (i = 0; i < s.length; i++) u[i] = s.charCodeAt(i) & 255;
    return u;
  },
  toString: function (u) {
    var s = "", i;
    for (i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);
    return s;
  },
  // a Unicode build (ESPR_UNICODE_SUPPORT): a string with a character above U+00FF counts as UTF-8
  // (socket data arrives as binary strings, one byte per character, as there)
  isUTF8: function (s) {
    return /[^\x00-\xff]/.test(s);
  }
};

// Espruino's base64 of binary strings (Duktape and QuickJS have neither)
var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
var atob = function (s) {
  var r = "", n = 0, bits = 0, i, v;
  for (i = 0; i < s.length; i++) {
    v = B64.indexOf(s.charAt(i));
    if (v < 0) continue;
    n = (n << 6) | v;
    bits += 6;
    if (bits >= 8) r += String.fromCharCode((n >> (bits -= 8)) & 255);
  }
  return r;
};
var btoa = function (s) {
  var r = "", i, n;
  for (i = 0; i < s.length; i += 3) {
    n = (s.charCodeAt(i) << 16) | ((s.charCodeAt(i + 1) & 255) << 8) | (s.charCodeAt(i + 2) & 255);
    r += B64.charAt(n >> 18) + B64.charAt((n >> 12) & 63) + (i + 1 < s.length ? B64.charAt((n >> 6) & 63) : "=") + (i + 2 < s.length ? B64.charAt(n & 63) : "=");
  }
  return r;
};

var setTimeout = function (fn, ms) {
  return Bridge.Timer.set(fn, ms || 0);
};

var clearTimeout = function (id) {
  Bridge.Timer.clear(id);
};

// process.memory(false).free: the glue checks it before it allocates (plenty here)
var process = { memory: function () { return { free: 100000, usage: 0, total: 100000 }; } };

/* exported Espruino */
var Espruino = { crypto: null };

var require = (function () {
  /** An ECMA-419-TCP-like pipe over a TLS connection of the bridge (what Socket needs of Bridge.TCP). */
  function TlsPipe(o, tls) {
    var self = this;
    this._q = [];
    this._writable = 0;
    this._closed = false;
    this._id = Bridge.tls(o.address, o.port, tls, {
      onOpen: function () {
        self._writable = 4096;
        o.onWritable.call(self, self._writable);
      },
      onData: function (b) {
        self._q.push(b);
        o.onReadable.call(self, b.length);
      },
      onDrain: function (n) {
        self._writable += n;
        o.onWritable.call(self, self._writable);
      },
      onClose: function (err) {
        self._closed = true;
        self._error = err;
        o.onError.call(self);
      }
    });
  }
  TlsPipe.prototype.read = function () {
    var q = this._q, n = 0, i, out, k = 0;
    for (i = 0; i < q.length; i++) n += q[i].length;
    if (!n) return undefined;
    out = new Uint8Array(n);
    for (i = 0; i < q.length; i++) {
      out.set(q[i], k);
      k += q[i].length;
    }
    this._q = [];
    return out.buffer;
  };
  TlsPipe.prototype.write = function (data) {
    var u = new Uint8Array(data);
    if (this._closed) throw new Error("write on a closed socket");
    if (u.length > this._writable) throw new Error("write of " + u.length + " bytes exceeds writable " + this._writable);
    this._writable -= u.length;
    Bridge.write(this._id, u, 0, u.length);
    return this._writable;
  };
  TlsPipe.prototype.close = function () {
    this._closed = true;
    Bridge.close(this._id);
  };

  function Socket(host, port, onConnect, tls) {
    var self = this, o;
    this._h = {};
    this._out = [];
    this._ended = false;
    this._closed = false;
    o = {
      address: host,
      port: port,
      onWritable: function (count) {
        if (!self._open) {
          self._open = true;
          self._window = count;
          if (onConnect) onConnect();
        }
        self._flush();
        // everything given to write() is out (an event of its own, never inside write())
        if (self._wrote && !self._out.length && self._tcp._writable == self._window) {
          self._wrote = false;
          self._emit("drain");
        }
      },
      onReadable: function () {
        var b = this.read();
        if (b) self._emit("data", E.toString(new Uint8Array(b)));
      },
      onError: function () {
        // a connection that failed or broke reports 'error' first; the peer's orderly close only 'close'
        self._close(!!this._error);
      }
    };
    this._tcp = tls ? new TlsPipe(o, tls) : new Bridge.TCP(o);
  }
  Socket.prototype.on = function (ev, fn) {
    (this._h[ev] = this._h[ev] || []).push(fn);
  };
  Socket.prototype._emit = function (ev, a) {
    var l = this._h[ev] || [], i;
    for (i = 0; i < l.length; i++) l[i](a);
  };
  Socket.prototype._close = function (error) {
    if (this._closed) return;
    this._out = [];
    this._closed = true;
    if (error) this._emit("error", { code: -1, message: "connection lost" });
    this._emit("close", error);
  };
  // sends what the socket can take now; the rest waits for the next onWritable
  Socket.prototype._flush = function () {
    var t = this._tcp, s, n, self = this;
    if (!this._open || this._closed) return;
    while (this._out.length) {
      s = this._out[0];
      n = Math.min(s.length, t._writable);
      if (!n) return;
      t.write(E.toUint8Array(s.substr(0, n)).buffer);
      if (n < s.length) this._out[0] = s.substr(n);
      else this._out.shift();
    }
    if (this._ended) {
      t.close();
      this._closed = true;
      Bridge.Timer.set(function () { self._emit("close", false); }, 0);
    }
  };
  Socket.prototype.write = function (data) {
    // Espruino writes any non-string as its string conversion: a Uint8Array becomes "1,2,3"
    var s = typeof data == "string" ? data : String(data);
    if (this._closed || this._ended) return false;
    this._out.push(s);
    this._wrote = true;
    this._flush();
    return true;
  };
  Socket.prototype.end = function () {
    if (this._ended || this._closed) return;
    this._ended = true;
    this._flush();
  };

  var net = {
    connect: function (o, onConnect) {
      return new Socket(o.host, o.port, onConnect);
    }
  };

  // Espruino's mbedTLS parses DER only: PEM text throws as it does there; the bridge wants DER as base64
  function der(v) {
    if (!v) return v;
    if (typeof v != "string" || v.indexOf("-----BEGIN") >= 0)
      throw new Error("HTTPS init failed! mbedtls_x509_crt_parse: Invalid format (Espruino takes DER as a binary string)");
    return btoa(v);
  }

  var tls = {
    // the host name is the SNI and the name checked
    connect: function (o, onConnect) {
      return new Socket(o.host, o.port, onConnect, { servername: o.host, ca: der(o.ca), cert: der(o.cert), key: der(o.key), verify: !!o.ca });
    }
  };

  return function (name) {
    if (name == "net") return net;
    if (name == "tls") return tls;
    if (name == "crypto" && Espruino.crypto) return Espruino.crypto;
    throw new Error("Module " + name + " not found");
  };
})();
