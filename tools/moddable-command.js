// `tinyhub moddable <dir>`: writes a Moddable SDK app (manifest.json + main.js) that runs an IoT Hub
// device with tinyhub, ready for `mcconfig -d -m -p esp32 ssid=... password=...` (or `-p pico/pico_w`).
import { mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const summary = "write a Moddable app using tinyhub: tinyhub moddable <dir> [--connection-string \"...\"]";

const PKG = fileURLToPath(new URL("..", import.meta.url));

/** The files of the generated project, by name. */
export function moddableProject(dir, connectionString) {
  const pkg = (/** @type {string} */ f) => relative(resolve(dir), join(PKG, f)).split("\\").join("/");
  const manifest = {
    include: [
      "$(MODDABLE)/examples/manifest_base.json",
      "$(MODDABLE)/examples/manifest_net.json",
      pkg("targets/moddable/manifest.json"),
    ],
    modules: { "*": ["./main"] },
    // the root IoT Hub and DPS chain to, passed as tls.ca: without it Moddable's TLS looks the root up in the SDK's
    // store (ca.ski), then loads it as a resource "ca<index>.der", which the app does not have unless it lists it
    resources: { "*": [pkg("targets/moddable/DigiCertGlobalRootG2")] },
    // SAS tokens and certificate dates need real time: manifest_net sets the clock from this SNTP server
    config: { connectionString: connectionString || "HostName=<hub>.azure-devices.net;DeviceId=<id>;SharedAccessKey=<key>", sntp: "pool.ntp.org" },
  };
  const main = `// tinyhub on Moddable: an IoT Hub device over MQTT/TLS (port 8883).
// Build and flash: mcconfig -d -m -p esp32 ssid="<wifi>" password="<secret>"   (or -p pico/pico_w)
import config from "mc/config";
import Resource from "Resource";
import Timer from "timer";
import { createDevice } from "tinyhub/hub";

let count = 0;
const device = createDevice({
  connectionString: config.connectionString,
  bufferSize: 2048,
  // IoT Hub's root certificate (DER, a resource of this app: manifest.json)
  tls: { ca: new Resource("DigiCertGlobalRootG2.der") },
  onConnect() {
    trace("connected\\n");
    device.patchReported({ firmware: "moddable-demo" }, (err, version) => trace(\`reported v\${version} (\${err})\\n\`));
  },
  onClose(code) { trace(\`closed \${code}\\n\`); },
  onError(code) { trace(\`error \${code}\\n\`); },
  onMessage(msg) { trace(\`C2D \${String.fromArrayBuffer(msg.payload.slice().buffer)}\\n\`); },
  onDesired(patch, version) { trace(\`desired v\${version} \${JSON.stringify(patch)}\\n\`); },
  methods: {
    blink(payload, respond) { respond(200, { blinked: true }); },
  },
});
if (typeof device === "number") throw new Error(\`connection string error \${device}\`);
device.connect();
Timer.repeat(() => {
  device.sendEvent(JSON.stringify({ count: count++ }), { $contentType: "application/json", $contentEncoding: "utf-8" });
}, 10000);
`;
  return { "manifest.json": JSON.stringify(manifest, null, "\t") + "\n", "main.js": main };
}

export async function run(args) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { "connection-string": { type: "string" }, force: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
  const dir = positionals[0];
  if (values.help || !dir) {
    console.log(`usage: tinyhub moddable <dir> [--connection-string "HostName=...;DeviceId=...;SharedAccessKey=..."] [--force]
Writes <dir>/manifest.json and <dir>/main.js. Then: cd <dir> && mcconfig -d -m -p esp32 ssid=... password=...`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const files = moddableProject(dir, values["connection-string"]);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    if (existsSync(p) && !values.force) throw new Error(`${p} exists (use --force)`);
    writeFileSync(p, text);
  }
  console.log(`wrote ${Object.keys(files).map((f) => join(dir, f)).join(", ")}\nnext: cd ${dir} && mcconfig -d -m -p esp32 ssid=<wifi> password=<secret>   (or -p pico/pico_w)`);
}
