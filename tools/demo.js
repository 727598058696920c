// The device demo that `npm start` and `tinyhub device` run: connect, telemetry with properties,
// twin get and reported patch, a file upload (with `upload`), then C2D, desired updates and direct methods as they come.
// Uses the built Node bundle (dist/node), exactly what an application imports.
import { createDevice, errorName } from "../dist/node/index.js";

const now = () => new Date().toISOString().slice(11, 23);

/**
 * Runs the device until `steps` (optional async function given the device and a `waitFor(event)`)
 * finishes, or until `seconds` have passed when there are none. With `upload`, it uploads a generated log file to
 * the hub's storage (HTTPS on `httpsPort`, default 443) after the twin. Resolves with the event counts.
 */
export function runDevice({ connectionString, ca, port, httpsPort, upload, tls, log = console.log, steps, seconds = 30 }) {
  const seen = { connect: 0, c2d: 0, desired: 0, method: 0, error: 0 };
  const waiters = [];
  const say = (what, ...rest) => log([`${now()} device  ${what}`, ...rest].join(" "));
  const fire = (ev, v) => {
    seen[ev]++;
    for (const w of waiters.splice(0)) if (w.ev === ev) w.resolve(v);
      else waiters.push(w);
  };
  const waitFor = (ev, ms = 10000) =>
    new Promise((resolve, reject) => {
      const w = { ev, resolve: (v) => (clearTimeout(t), resolve(v)) };
      const t = setTimeout(() => reject(new Error(`no ${ev} within ${ms} ms`)), ms);
      waiters.push(w);
    });
  const call = (fn) => new Promise((resolve, reject) => {
    const r = fn((err, v) => (err ? reject(new Error(errorName(err) + (v ? ` (status ${v})` : ""))) : resolve(v)));
    if (typeof r === "number" && r < 0) reject(new Error(errorName(r)));
  });

  const device = createDevice({
    connectionString,
    port,
    httpsPort,
    tls: tls !== undefined ? tls : ca ? { ca } : {},
    bufferSize: 4096,
    uploadBufferSize: 1024,
    onConnect: () => { say("connected"); fire("connect"); },
    onClose: (code) => say(`connection closed (${code ? errorName(code) : "clean"})`),
    onError: (code) => { say(`error ${errorName(code)} (${code})`); fire("error", code); },
    onMessage: (m) => {
      say(`C2D message "${Buffer.from(m.payload).toString()}"`, JSON.stringify(m.properties));
      fire("c2d", m);
    },
    onDesired: (patch, version, whole) => {
      if (whole) return say(`desired properties v${version} changed while away`, JSON.stringify(patch));
      say(`desired properties v${version}`, JSON.stringify(patch));
      fire("desired", patch);
      device.patchReported({ interval: patch.interval }, (err, v) => say(`reported interval acknowledged, reported v${v}`));
    },
    onMethod: (name, payload, respond) => {
      say(`direct method ${name}(${JSON.stringify(payload)})`);
      if (name === "reboot") respond(200, { rebooting: true, delay: payload && payload.delay });
      else respond(404, { message: `no method ${name}` });
      fire("method", name);
    },
  });
  if (typeof device === "number") return Promise.reject(new Error(`connection string: ${errorName(device)}`));

  const run = async () => {
    say("connecting");
    device.connect();
    await waitFor("connect", 15000);
    await call((done) => device.sendEvent(JSON.stringify({ temperature: 21.5, humidity: 40 }), {
      $contentType: "application/json", $contentEncoding: "utf-8", $messageId: "m-1", alert: "none" }, done));
    say("telemetry sent (QoS 1, PUBACK received)");
    const twin = await call((done) => device.getTwin(done));
    say("twin", JSON.stringify(twin));
    const v = await call((done) => device.patchReported({ firmware: "tinyhub-demo", online: true }, done));
    say(`reported properties patched, now v${v}`);
    if (upload) {
      // a 40 KB log read line by line as it is sent: the file never sits in memory, 1 KB of buffer carries it
      const line = (i) => `${new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()} sensor-7 t=${(20 + (i % 50) / 10).toFixed(1)}\n`;
      const width = line(0).length, lines = 1000;
      const source = {
        size: width * lines,
        read(pos, buf, off, len) {
          for (let i = 0; i < len; i++) buf[off + i] = line(Math.floor((pos + i) / width)).charCodeAt((pos + i) % width);
          return len;
        },
      };
      const t0 = Date.now();
      const status = await call((done) => device.uploadToBlob("logs/sensor-7.log", source, done));
      say(`file upload: logs/sensor-7.log, ${source.size} bytes through a 1 KB buffer, storage answered ${status}, hub notified (${Date.now() - t0} ms)`);
    }
    if (steps) await steps(device, waitFor);
    else await new Promise((r) => setTimeout(r, seconds * 1000));
  };
  return run().finally(() => new Promise((r) => device.end(r))).then(() => seen);
}
