// `npm start`: the local IoT Hub emulator in-process, a demo device, and one run through every
// feature: connect, telemetry with properties, twin get and reported patch, a C2D message,
// a desired-property update, a direct method and a file upload (Azurite as the hub's storage). Needs nothing
// installed beyond `npm ci`.
import { existsSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { startHub } from "./hub/index.js";
import { azuriteBlobMain } from "./hub/storage.js";
import { runDevice } from "./demo.js";

const dist = new URL("../dist/", import.meta.url).pathname;
const log = (line) => console.log(line.startsWith("[hub]") ? `${new Date().toISOString().slice(11, 23)} ${line}` : line);

function size(file) {
  const p = join(dist, file);
  if (!existsSync(p)) return `${file}: not built`;
  const b = readFileSync(p);
  return `${file}: ${b.length} bytes minified, ${gzipSync(b, { level: 9 }).length} gzip`;
}

// file upload needs Azurite, a dev dependency: without it the demo skips the upload
const storage = Boolean(azuriteBlobMain());
const hub = await startHub({ dir: ".hub", log, storage });
const id = "demo-device";
if (!hub.registry.get(id)) hub.registry.addDevice(id);
const connectionString = hub.registry.connectionString(id);
console.log(`tinyhub demo: hub emulator ${hub.hubName} on 127.0.0.1 (MQTT/TLS :${hub.ports.mqtts}, HTTPS :${hub.ports.https}, admin :${hub.ports.admin}` +
  `${storage ? `, storage (Azurite) :${hub.ports.storage}` : ", no storage: azurite not installed"}), CA ${hub.caPath}`);
console.log(`device code in use: ${size("espruino/hub.js")} (the Espruino build); Node build dist/node/index.js`);

let failed = false;
try {
  const seen = await runDevice({
    connectionString,
    port: hub.ports.mqtts,
    httpsPort: hub.ports.https,
    upload: storage,
    ca: hub.ca,
    log,
    steps: async (device, waitFor) => {
      // the service side, as a back end would drive a real hub
      let got = waitFor("c2d");
      hub.sendC2D(id, "switch on the fan", { priority: "high", "$.cid": "order-7" });
      await got;
      got = waitFor("desired");
      hub.updateDesired(id, { interval: 30 });
      await got;
      const r = await hub.invokeMethod(id, "reboot", { delay: 5 }, 5000);
      log(`[hub] method reboot answered ${r.status} ${JSON.stringify(r.payload)}`);
      if (r.status !== 200) throw new Error("direct method failed");
      await new Promise((r) => setTimeout(r, 200));
    },
  });
  const up = hub.fileUploads.filter((u) => u.isSuccess).length;
  console.log(`tinyhub demo: done (${seen.c2d} C2D, ${seen.desired} desired update, ${seen.method} method, ${hub.telemetry.length} telemetry captured, ${up} file uploaded)`);
} catch (e) {
  failed = true;
  console.error(`tinyhub demo: FAILED: ${e.message}`);
} finally {
  await hub.close();
}
process.exit(failed ? 1 : 0);
