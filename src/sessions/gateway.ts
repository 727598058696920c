// An AMQP gateway: many device (and module) identities on one AMQP connection, as IoT Hub allows over AMQP. Each
// device is the AMQP device of ./amqp.ts with its own token put on $cbs and its own links, on a view of the shared
// connection: its links renamed apart, its put-tokens given message ids unique on the connection (the hub answers
// every put-token on the connection's first $cbs receiver: answers go to the device that asked, by correlation id).
import { Transport, Clock, TlsOptions } from "../types";
import { Hmac } from "../iothub/sas";
import { E_BUSY, E_OUTBOX_FULL } from "../errors";
import { createAmqpClient, AmqpClient, AmqpClientOptions, ACCEPTED } from "../amqp/client";
import { createAmqpDevice, AmqpDevice, AmqpDeviceOptions, HUB_AMQP_PORT } from "./amqp";

export interface GatewayOptions {
  /** The host to connect to (the hub, or an Edge gateway). */
  host: string;
  /** The hub's host name (open and SASL hostname), default host. */
  hostname?: string;
  port?: number;
  tls?: TlsOptions | null;
  /** Bytes of the connection's one buffer (default 16384; each device adds 8 links). */
  bufferSize?: number;
  /** Links at most on the connection (default 64): 8 per device, so maxLinks / 8 devices at once; one more is
   * refused with E_BUSY (its onClose) and the others go on. */
  maxLinks?: number;
  transport: Transport;
  clock: Clock;
  /** HMAC-SHA256 for the devices' tokens (a target's native crypto). */
  hmac?: Hmac;
  onClose?: (code: number) => void;
  onError?: (code: number) => void;
}

export interface Gateway {
  /** A device on the gateway's connection: the options of createDevice over AMQP (no transport, port, tls, buffer). */
  addDevice(o: Omit<AmqpDeviceOptions, "transport" | "clock">): AmqpDevice | number;
  /** Ends every device and the connection. */
  end(done?: () => void): void;
  /** The shared AMQP connection. */
  amqp: AmqpClient;
}

interface Member { _o: AmqpClientOptions; _want: boolean; _links: number[]; _cbs: number; _gone: number }

export function createGateway(g: GatewayOptions): Gateway {
  var members: Member[] = [],
    // link handle -> its member; $cbs receivers; put-token message id -> member
    owner: { [h: number]: Member } = {},
    cbsRcv: { [h: number]: boolean } = {},
    asked: { [id: string]: Member } = {},
    seq = 0,
    up = false,
    max = g.maxLinks || 64,
    devs: AmqpDevice[] = [],
    // flows and settlements of the shared $cbs receivers the outbox had no room for, in order: ~handle, credit or
    // delivery-id, outcome, ... (owed())
    owe: number[] = [],
    c: AmqpClient;

  function each(f: (m: Member) => void) {
    for (var i = 0; i < members.length; i++) if (members[i]._want) f(members[i]);
  }

  /**
   * Gives receiver ~x the credit y (x < 0) or settles delivery x with outcome y; kept for onWritable when the outbox
   * has no room, or behind what is kept already (their order). A lost flow would stop the put-token answers for good
   * once the hub has spent the receiver's credit; a lost settlement would leave the answer unsettled.
   */
  function owed(x: number, y: number) {
    if (owe.length || (x < 0 ? c.flow(~x, y) : c.settle(x, y)) == E_OUTBOX_FULL) owe.push(x, y);
  }

  c = createAmqpClient({
    host: g.host, hostname: g.hostname || g.host, port: g.port || HUB_AMQP_PORT, tls: g.tls === undefined ? {} : g.tls,
    sasl: { mechanism: "ANONYMOUS" }, containerId: "tinyhub-gateway", maxLinks: max, bufferSize: g.bufferSize || 16384,
    transport: g.transport, clock: g.clock,
    onOpen: function () {
      up = true;
      each(function (m) {
        m._o.onOpen!();
      });
    },
    onMessage: function (h, p, msg, id) {
      var m: Member | undefined, k = msg.properties && msg.properties.correlationId;
      if (cbsRcv[h]) {
        // a put-token answer: to the member that asked, as if on its own $cbs receiver
        m = asked[k];
        delete asked[k];
        owed(~h, 4);
        if (m && m._want) m._o.onMessage!(m._cbs, p, msg, id);
        else if (id >= 0) owed(id, ACCEPTED);
        return;
      }
      if ((m = owner[h]) && m._o.onMessage) m._o.onMessage(h, p, msg, id);
    },
    onDetach: function (h, e) {
      var m = owner[h];
      delete owner[h];
      if (m && m._o.onDetach) m._o.onDetach(h, e);
    },
    onWritable: function () {
      // what is owed first, in order, then the devices'; the list taken out before (a refusal now is kept again, in order)
      var q = owe, i: number;
      owe = [];
      for (i = 0; i < q.length; i += 2) owed(q[i], q[i + 1]);
      each(function (m) {
        if (m._o.onWritable) m._o.onWritable();
      });
    },
    onError: g.onError,
    onClose: function (e) {
      up = false;
      // delivery-ids and handles are the connection's: what was owed goes with it
      owe = [];
      owner = {};
      cbsRcv = {};
      asked = {};
      each(function (m) {
        m._links = [];
        m._o.onClose!(e);
      });
      if (g.onClose) g.onClose(e);
    },
  });

  /** The view of the connection a device gets. */
  function view(o: AmqpClientOptions): AmqpClient {
    var m: Member = { _o: o, _want: false, _links: [], _cbs: -1, _gone: 0 }, v: AmqpClient;
    members.push(m);
    v = {
      connect: function () {
        var i: number, n = 1;
        // room for its 8 links beside those of the devices already on: else E_BUSY (its onClose), the others undisturbed
        for (i = 0; i < members.length; i++) if ((members[i]._want || members[i]._gone) && members[i] != m) n++;
        if (n * 8 > max)
          return void g.clock.set(function () {
            o.onClose!(E_BUSY);
          }, 0);
        m._want = true;
        if (up) o.onOpen!();
        else c.connect();
      },
      attach: function (name, rcv, address, lo, done) {
        var h = c.attach(name + "#" + ++seq, rcv, address, lo, done);
        if (h >= 0) {
          owner[h] = m;
          m._links.push(h);
          if (address == "$cbs" && rcv) (cbsRcv[h] = true), (m._cbs = h);
        } else
          // no handle left (maxLinks) or no room: the device's attach fails (it ends its links, freeing them for the
          // others, and reports the code) rather than waiting for an answer that never comes
          g.clock.set(function () {
            if (m._want && done) done(h);
          }, 0);
        return h;
      },
      detach: c.detach,
      send: function (h, msg, done) {
        // a put-token: a message id unique on the connection
        if (msg.properties && msg.properties.to == "$cbs") asked[(msg.properties.messageId = "g" + ++seq)] = m;
        return c.send(h, msg, done);
      },
      flow: c.flow,
      settle: c.settle,
      credit: c.credit,
      connected: function () {
        return up && m._want;
      },
      remoteError: c.remoteError,
      end: function (done) {
        var i: number, h: number;
        // done (and its place free for another device) once the hub has answered the detaches: their handles free
        function left() {
          if (!--m._gone && done) done();
        }
        m._want = false;
        m._gone = 1;
        for (i = 0; i < m._links.length; i++) if (owner[(h = m._links[i])] == m) delete owner[h], c.detach(h, left) || m._gone++;
        m._links = [];
        o.onClose!(0);
        left();
      },
    };
    return v;
  }

  return {
    amqp: c,
    addDevice: function (o) {
      var x: any = {}, k: string, d: AmqpDevice | number;
      for (k in o) x[k] = (o as any)[k];
      x.transport = g.transport;
      x.clock = g.clock;
      x.client = view;
      if (!x.hmac) x.hmac = g.hmac;
      d = createAmqpDevice(x);
      if (typeof d != "number") devs.push(d);
      return d;
    },
    end: function (done) {
      for (var i = 0; i < devs.length; i++) devs[i].end();
      c.end(done);
    },
  };
}
