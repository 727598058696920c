// The scenario main.js of the Moddable test apps (tools/engines/moddable.js puts the imports of one
// manifest before this text: `Timer`, `Resource`, `mqttClient`, `wsClient`, `hubDevice`, `wsDevice`, `httpDevice`,
// `provision`, `deriveKey`, `classicTransport`, `storeClient`, `fileStore`, `File`, `amqpDevice`, `amqpWsDevice`, null when that manifest has no such module). It stands in for the
// main.js that `tinyhub moddable` generates, in the app generated beside it, preloads as shipped.
//
// It waits for one JSON line on standard input (mclaunch hands it over as screen.onMessage): the
// scenario and its settings; more lines later are commands ({"op":"end"}). Everything it sees is reported
// as one JSON line through trace(): {"ev":"connect",...}. It ends with screen.postMessage("exit <code>").
// The work is done inside the library's callbacks, as an application does (subscribe and publish in
// onConnect and in the SUBACK callback, the device connects from inside the DPS answer...): the stack
// figures are those of an application written that way.

let cfg = null, client = null, device = null, ending = false;

function report(ev, o) {
  const r = { ev };
  if (o) for (const k in o) r[k] = o[k];
  trace(JSON.stringify(r) + "\n");
}

function finish(code) {
  // a little later: whatever the library still does after its last callback runs first (and would abort here)
  Timer.set(() => screen.postMessage("exit " + code), 100);
}

function hex(u) {
  let s = "";
  for (let i = 0; i < u.length; i++) s += (u[i] < 16 ? "0" : "") + u[i].toString(16);
  return s;
}

function unhex(s) {
  const u = new Uint8Array(s.length >> 1);
  for (let i = 0; i < u.length; i++) u[i] = parseInt(s.substr(i * 2, 2), 16);
  return u;
}

function sum(u) {
  let s = 0;
  for (let i = 0; i < u.length; i++) s = (Math.imul(s, 31) + u[i]) >>> 0;
  return s;
}

function bytes(n, seed) {
  const u = new Uint8Array(n);
  for (let i = 0; i < n; i++) u[i] = (i * 7 + seed) & 255;
  return u;
}

function payload(p, o) {
  o.length = p.length;
  o.sum = sum(p);
  if (p.length <= 600) o.hex = hex(p);
  return o;
}

function done(tag) {
  return (err, value) => report(tag, { err, value: value === undefined ? null : value });
}

// the CA arrives as hex, made DER bytes once (an application would have it in flash, a Resource)
function der(c) {
  if (c && c.tls && typeof c.tls.ca == "string") c.tls.ca = unhex(c.tls.ca);
  if (c && c.then) der(c.then);
  if (c && c.retry) der(c.retry);
  return c;
}

function tlsOf(t) {
  if (!t) return null;
  const o = {};
  if (t.ca) o.ca = t.ca;
  if (t.servername) o.servername = t.servername;
  if (t.rejectUnauthorized === false) o.rejectUnauthorized = false;
  return o;
}

// MQTT against a broker: subscribe, publish QoS 0/1/2 from the SUBACK callback, report what comes back
function mqtt(c) {
  const P = c.prefix;
  const o = { host: c.host, port: c.port, clientId: c.id, keepalive: c.keepalive || 10, clean: true, reconnect: false, tls: tlsOf(c.tls) };
  if (c.bufferSize) o.bufferSize = c.bufferSize;
  if (c.classic) o.transport = classicTransport();
  o.onConnect = (sp) => {
    report("connect", { sessionPresent: sp });
    client.subscribe(P + "/t/#", 2, (err, q) => {
      report("sub", { err, value: q });
      report("published", { ids: [
        client.publish(P + "/t/zero", "h\u00e9llo \u2713 0", 0, false, done("done0")),
        client.publish(P + "/t/one", bytes(300, 1), 1, false, done("done1")),
        client.publish(P + "/t/two", "exactly once \u00fc\u00df", 2, false, done("done2"))
      ] });
    });
  };
  o.onMessage = (topic, p, info) => report("message", payload(p, { topic, qos: info.qos, retain: info.retain, dup: info.dup, offset: info.offset, total: info.total }));
  o.onClose = (code) => {
    report("close", { code });
    if (!ending) finish(c.expectClose ? 0 : 1);
  };
  o.onError = (code) => report("error", { code });
  client = (c.client == "ws" ? wsClient : mqttClient)(o);
  client.connect();
}

// IoT Hub over MQTT or MQTT/WebSockets: telemetry, twin and reported properties from onConnect; C2D,
// desired properties and direct methods as the hub sends them
function hub(c) {
  const o = { connectionString: c.cs, port: c.port, tls: tlsOf(c.tls), reconnect: false };
  if (c.protocol) o.protocol = c.protocol;
  if (c.classic) o.transport = classicTransport();
  if (c.bufferSize) o.bufferSize = c.bufferSize;
  o.onConnect = () => {
    report("connect");
    const ops = c.ops || ["send", "twin", "patch"], ids = [];
    if (ops.indexOf("send") >= 0)
      ids.push(device.sendEvent('{"t":21.5,"n":"gr\u00fc\u00df \u2713"}', { alert: "hot", "spaced key/&=": "a/b&c=d \u00e9", "n\u00f6": "n\u00f6ne \u2713",
        $contentType: "application/json", $contentEncoding: "utf-8", $messageId: "m-1" }, done("sent")));
    if (ops.indexOf("twin") >= 0)
      ids.push(device.getTwin((err, twin) => report("twin", { err, desired: twin ? twin.desired.$version : null, reported: twin ? twin.reported.$version : null })));
    if (ops.indexOf("patch") >= 0) ids.push(device.patchReported({ fw: "1.0", temp: 21.5, "n\u00e4me": "gr\u00fc\u00df \u2713" }, done("patched")));
    report("queued", { ids });
  };
  // over AMQP the answer settles the message: the property "answer" asks for reject or abandon (abandoned once: it comes again)
  const seen = {};
  o.onMessage = (m) => {
    const a = m.properties.answer, again = seen[m.properties.$messageId];
    seen[m.properties.$messageId] = true;
    report("c2d", payload(m.payload, { properties: m.properties, offset: m.offset, total: m.total, again: !!again }));
    if (a == "later") {
      Timer.set(() => report("settled", { err: device.complete(m.lockToken, (e) => report("completed", { err: e })) }), 20);
      return C2D_LATER;
    }
    return a == "reject" ? C2D_REJECT : a == "abandon" && !again ? C2D_ABANDON : undefined;
  };
  o.onDesired = (patch, version, whole) => report("desired", { patch, version, whole: !!whole });
  o.methods = {
    reboot(p, respond) {
      report("method", { name: "reboot", payload: p });
      respond(200, { ok: true, got: p, text: "gr\u00fc\u00df \u2713" });
    },
    fail() {
      throw new Error("handler failed");
    }
  };
  o.onClose = (code) => {
    report("close", { code });
    // a failure expected: the same app goes on with the right settings
    if (c.retry) Timer.set(() => hub(c.retry), 10);
    else if (!ending) finish(c.expectClose ? 0 : 1);
  };
  o.onError = (code) => report("error", { code });
  device = (c.protocol == "mqtt-ws" ? wsDevice : c.protocol == "amqp" ? amqpDevice : c.protocol == "amqp-ws" ? amqpWsDevice : hubDevice)(o);
  if (typeof device == "number") {
    report("create-error", { code: device });
    return finish(3);
  }
  device.connect();
}

// IoT Hub over HTTPS: telemetry, then a batch from its callback, then polling for C2D messages (the
// properties are HTTP headers: ASCII only; non-ASCII in the bodies)
function http(c) {
  const o = { connectionString: c.cs, port: c.port, tls: tlsOf(c.tls), requestTimeout: 5000 };
  o.onConnect = () => report("connect");
  o.onClose = (code) => report("close", { code });
  o.onError = (code) => report("error", { code });
  o.onMessage = (m) => report("c2d", payload(m.payload, { properties: m.properties, lockToken: m.lockToken, offset: m.offset, total: m.total }));
  device = httpDevice(o);
  if (typeof device == "number") {
    report("create-error", { code: device });
    return finish(3);
  }
  report("queued", { ids: [device.sendEvent('{"t":21.5,"n":"gr\u00fc\u00df \u2713"}', { alert: "hot", "unit-x": "deg C a/b", $messageId: "h-1", $contentType: "application/json" }, (err, status) => {
    report("sent", { err, value: status });
    device.sendEventBatch([{ payload: "one \u2713", properties: { n: "1" } }, { payload: bytes(5, 250) }], (err, status) => {
      report("batch", { err, value: status });
      device.connect();
    });
  })] });
}

// DPS registration, then the device it gives, connected from inside the DPS answer; with an enrollment group's key,
// the device's own key derived here first (deriveKey: XS's HMAC-SHA256 and base64)
function dps(c) {
  let key = c.key;
  if (c.groupKey) {
    key = deriveKey(c.groupKey, c.registrationId);
    report("derived", { value: key });
    if (typeof key != "string") return finish(2);
  }
  provision({ idScope: c.idScope, registrationId: c.registrationId, symmetricKey: key, host: c.host, port: c.port, tls: tlsOf(c.tls) }, (err, r) => {
    report("provisioned", { err, value: r || null });
    if (err) return finish(2);
    if (c.then) {
      const t = c.then;
      t.cs = r.connectionString + ";GatewayHostName=" + c.host;
      if (c.thenDelay) Timer.set(() => hub(t), c.thenDelay);
      else hub(t);
    } else finish(0);
  });
}

function end() {
  ending = true;
  const d = client || device;
  if (!d) return finish(0);
  report("ending");
  d.end((err) => {
    report("ended", { err: err || 0 });
    finish(0);
  });
}

// MQTT with the queue in files (mqtt-store's fileStore over the `file` module): QoS 1 messages from..to-1,
// reported "q" once publish returned (the message is in the store), "ack" at each PUBACK. A power cut is the
// test killing the process; the next run over the same files resends what was not acknowledged.
function store(c) {
  let next = c.from, acks = 0;
  const o = { host: c.host, port: c.port, clientId: c.id, keepalive: 10, clean: false, reconnect: { min: 50, max: 300 }, bufferSize: c.bufferSize || 1024 };
  if (!c.noStore) o.store = fileStore(c.path, { File, size: c.size || 2048 });
  o.onConnect = (sp) => report("connect", { sessionPresent: sp });
  o.onError = (code) => report("error", { code });
  o.onWritable = () => Timer.set(pump, 0);
  client = storeClient(o);
  if (typeof client == "number") return report("error", { code: client }), finish(1);
  function pump() {
    while (next < c.to) {
      const n = next, r = client.publish(c.topic, "" + n, 1, false, (err) => report("ack", { n, err }));
      if (r == -20) return;
      if (r < 0) return report("error", { code: r }), Timer.set(pump, 100);
      report("q", { n });
      next++;
      if (next % 4 == 0) return Timer.set(pump, 5);
    }
    report("queued", { to: next });
  }
  if (c.connect) client.connect();
  pump();
}

screen.onMessage = (line) => {
  const m = der(JSON.parse(line));
  if (m.op == "end") return end();
  if (m.op == "exit") return finish(m.code || 0);
  if (cfg) return report("busy");
  cfg = m;
  report("started", { scenario: m.scenario });
  if (m.scenario == "mqtt") mqtt(m);
  else if (m.scenario == "hub") hub(m);
  else if (m.scenario == "http") http(m);
  else if (m.scenario == "dps") dps(m);
  else if (m.scenario == "store" && storeClient) store(m);
  else if (m.scenario == "resource") {
    // a resource of the app (IoT Hub's root certificate, as the generated app passes it): its bytes, or why not
    try {
      const u = new Uint8Array(new Resource(m.name));
      report("resource", { name: m.name, size: u.length, sum: sum(u) });
    } catch (e) {
      report("resource", { name: m.name, error: String(e) });
    }
    finish(0);
  }
  else {
    report("unknown", { scenario: m.scenario });
    finish(2);
  }
};

report("ready", { at: Date.now() });
