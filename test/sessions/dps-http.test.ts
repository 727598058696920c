// DPS registration over HTTPS (src/sessions/provision-http.ts, through the Node entry) against the emulator's DPS
// REST endpoint (on its HTTPS port, as the official SDK's Http provisioning transport uses it): an individual
// symmetric-key enrollment, an enrollment group with a derived key, an X.509 enrollment, each device then
// connecting to the hub it was assigned; retry-after honoured; refusals by name. What went on the wire is read
// back by Node's HTTP parser through a recording transport.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHub } from "../../tools/hub/index.js";
import { createDevice, provisionHttp, deriveKey, errorName } from "../../targets/node/index";
import type { Device, Provisioned, ProvisionOptions } from "../../targets/node/index";
import { E_REFUSED_CREDENTIALS } from "../../src/errors";
import { recording } from "../helpers/recording";

const dir = mkdtempSync(join(tmpdir(), "tinyhub-dps-http-"));
let hub: any;
const devices: Device[] = [];

test.before(async () => {
  hub = await startHub({ dir, log: false, plainPort: null, adminPort: null });
});
test.after(async () => {
  for (const d of devices) d.end();
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

function register(o: Partial<ProvisionOptions> & { registrationId: string }): Promise<{ err: number; out?: Provisioned; wire: string; ms: number }> {
  const transport = recording(), t0 = Date.now();
  return new Promise((resolve) =>
    provisionHttp({ idScope: hub.dpsIdScope, host: "localhost", port: hub.ports.https, tls: { ca: hub.ca }, timeout: 15000, transport, ...o }, (err, out) =>
      resolve({ err, out, wire: transport.text(), ms: Date.now() - t0 })));
}

function connectDevice(connectionString: string, tls: any = { ca: hub.ca }): Promise<Device> {
  return new Promise((resolve, reject) => {
    const d = createDevice({
      connectionString: connectionString + ";GatewayHostName=localhost", port: hub.ports.mqtts, tls,
      onConnect: () => resolve(d as Device), onError: (e: number) => reject(new Error(errorName(e))),
    });
    if (typeof d == "number") return reject(new Error(errorName(d)));
    devices.push(d);
    d.connect();
  });
}

test("individual enrollment: PUT register, GET the operation after retry-after, assigned; the device connects with it", async () => {
  const id = "http-ind-1";
  const e = hub.registry.addEnrollment(id);
  const r = await register({ registrationId: id, symmetricKey: e.key, payload: { site: "b7" }, modelId: "dtmi:com:example:Thermostat;1" });
  assert.is(r.err, 0, errorName(r.err));
  assert.equal([r.out!.deviceId, r.out!.assignedHub], [id, hub.hubName]);
  assert.match(r.out!.connectionString, `;SharedAccessKey=${e.key}`);
  // on the wire: the REST paths with the api-version, the registration SAS token, the JSON body with the payload
  const put = r.wire.indexOf(`PUT /${hub.dpsIdScope}/registrations/${id}/register?api-version=2021-06-01 HTTP/1.1\r\n`);
  assert.ok(put >= 0, r.wire.slice(0, 300));
  assert.match(r.wire, /\r\nAuthorization: SharedAccessSignature sr=[^&\r]+&sig=[^&\r]+&se=\d+&skn=registration\r\n/);
  assert.ok(r.wire.includes(`{"registrationId":"${id}","payload":{"site":"b7","modelId":"dtmi:com:example:Thermostat;1"}}`), r.wire);
  assert.match(r.wire, new RegExp(`GET /${hub.dpsIdScope}/registrations/${id}/operations/[^?]+\\?api-version=2021-06-01 HTTP/1.1\\r\\n`));
  // the emulator answers "assigning" with retry-after: 1 (seconds) first
  assert.ok(r.ms >= 900, `waited the retry-after (${r.ms} ms)`);
  await connectDevice(r.out!.connectionString); // CONNACK accepted: the hub knows the device and its key
});

test("enrollment group: the key derived from the group key registers; a wrong key is E_REFUSED_CREDENTIALS", async () => {
  const group = hub.registry.addGroupEnrollment("http-grp");
  const key = deriveKey(group.key, "http-grp-dev") as string;
  const r = await register({ registrationId: "http-grp-dev", symmetricKey: key });
  assert.is(r.err, 0, errorName(r.err));
  await connectDevice(r.out!.connectionString);
  const bad = await register({ registrationId: "http-grp-bad", symmetricKey: Buffer.alloc(32, 7).toString("base64") });
  assert.is(bad.err, E_REFUSED_CREDENTIALS, errorName(bad.err));
  assert.is(hub.registry.get("http-grp-bad"), undefined, "no device made");
});

test("X.509 enrollment: the client certificate authenticates, no Authorization header; the device connects with it", async () => {
  const id = "http-x509-1";
  const { cert, key } = hub.deviceCert(id);
  hub.registry.addEnrollment(id, undefined, { auth: "x509" });
  const r = await register({ registrationId: id, tls: { ca: hub.ca, cert, key } });
  assert.is(r.err, 0, errorName(r.err));
  assert.not.match(r.wire, /Authorization:/);
  assert.match(r.out!.connectionString, /;x509=true$/);
  await connectDevice(r.out!.connectionString, { ca: hub.ca, cert, key });
});

test.run();
