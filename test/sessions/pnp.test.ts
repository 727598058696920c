// IoT Plug and Play against the hub emulator, which checks the conventions (tools/hub/pnp.js): the model id in the
// user name, component commands dispatched to per-component handlers, writable-property acknowledgements and
// component properties in reported patches, component telemetry.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-ignore the emulator is JavaScript without declarations
import { startHub } from "../../tools/hub/index.js";
import { createDevice, errorName, pnpAck, pnpReported } from "../../targets/node/index";
import type { Device } from "../../targets/node/index";

const MODEL = "dtmi:com:example:TemperatureController;2";
const dir = mkdtempSync(join(tmpdir(), "tinyhub-pnp-"));
let hub: any;
const devices: Device[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms: number, what: string) {
  for (const end = Date.now() + ms; !cond(); await sleep(10)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

test.before(async () => {
  hub = await startHub({ dir, log: false, plainPort: null });
});
test.after(async () => {
  for (const d of devices) d.end();
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

test("model id, component commands, writable acks and component telemetry, as the emulator sees them", async () => {
  hub.registry.addDevice("pnp-1");
  let up = false;
  const calls: string[] = [];
  const r = createDevice({
    connectionString: hub.registry.connectionString("pnp-1"), port: hub.ports.mqtts, tls: { ca: hub.ca }, modelId: MODEL,
    onConnect: () => (up = true),
    methods: { reboot: (_p, respond) => (calls.push("reboot"), respond(200, {})) },
    components: {
      thermostat1: { getMaxMinReport: (p, respond) => (calls.push("thermostat1 " + JSON.stringify(p)), respond(200, { maxTemp: 30 })) },
    },
  });
  if (typeof r == "number") throw new Error(errorName(r));
  const d = r;
  devices.push(d);
  d.connect();
  await until(() => up, 5000, "connect");
  await sleep(100);
  assert.is(hub.pnp("pnp-1").modelId, MODEL);
  assert.equal(await hub.invokeMethod("pnp-1", "thermostat1*getMaxMinReport", { since: "t0" }, 3000), { status: 200, payload: { maxTemp: 30 } });
  assert.equal((await hub.invokeMethod("pnp-1", "reboot", null, 3000)).status, 200);
  assert.is((await hub.invokeMethod("pnp-1", "thermostat2*getMaxMinReport", null, 3000)).status, 501);
  assert.equal(calls, ['thermostat1 {"since":"t0"}', "reboot"]);
  // a writable property acknowledged inside its component, one at the top level, and one that breaks the rules
  const patched = (p: unknown) => new Promise<number>((res) => d.patchReported(p, (e) => res(e)));
  assert.is(await patched(pnpReported("thermostat1", { targetTemperature: pnpAck(21.5, 200, 2, "applied") })), 0);
  assert.is(await patched({ serialNumber: "A-1", interval: pnpAck(5, 203, 0) }), 0);
  assert.is(await patched({ broken: { value: 1, ac: "ok" } }), 0);
  const seen = hub.pnp("pnp-1");
  assert.equal(seen.components, ["thermostat1"]);
  assert.equal(seen.acks, { "thermostat1.targetTemperature": { value: 21.5, ac: 200, av: 2, ad: "applied" }, interval: { value: 5, ac: 203, av: 0 } });
  assert.equal(seen.violations, ["broken: ac must be an integer status; av must be the desired $version answered (an integer >= 0)"]);
  // component telemetry: $component travels as $.sub
  let acked = -1;
  d.sendEvent('{"temperature":21}', { $component: "thermostat1" }, (e) => (acked = e));
  await until(() => acked == 0, 5000, "telemetry");
  const m = hub.telemetry.filter((t: any) => t.deviceId == "pnp-1").pop();
  assert.is(m.system.componentName, "thermostat1");
});

test.run();
