// DPS registration (src/sessions/provision.ts, through the Node entry) end to end against the emulator's DPS:
// a symmetric-key enrollment group (the device key made with deriveKey) and an individual X.509 enrollment (a
// client certificate from the emulator's cert helper, no password); each device then connects to the hub it was
// assigned, with what it registered with. The refusals are the client's named errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHub } from "../../tools/hub/index.js";
import { derivedKey } from "../../tools/hub/registry.js";
import { createDevice, provision, deriveKey, errorName } from "../../targets/node/index";
import type { Device, Provisioned, ProvisionOptions } from "../../targets/node/index";
import { E_REFUSED_CREDENTIALS, E_REFUSED_AUTH } from "../../src/errors";
import { E_CS_KEY } from "../../src/iothub/errors";
import { refParse } from "../helpers/mqtt";
import { recording } from "../helpers/recording";

const dir = mkdtempSync(join(tmpdir(), "tinyhub-dps-"));
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

/** provision() to the emulator's DPS, bounded by its own timeout. */
function register(o: Partial<ProvisionOptions> & { registrationId: string }): Promise<{ err: number; out?: Provisioned; connect?: any }> {
  const transport = recording();
  return new Promise((resolve) =>
    provision({
      idScope: hub.dpsIdScope, host: "localhost", port: hub.ports.dps, tls: { ca: hub.ca }, timeout: 10000, transport, ...o,
    }, (err, out) => {
      const packets = refParse(Uint8Array.from(transport.bytes));
      resolve({ err, out, connect: typeof packets == "string" ? packets : packets.find((p) => p.cmd == "connect") });
    }));
}

/** Connects a device with `connectionString` (+ GatewayHostName=localhost) and resolves once connected; rejects on an error. */
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

// --- enrollment groups -------------------------------------------------------------------------

test("deriveKey: base64(HMAC-SHA256(group key, registration id)), as the emulator (node:crypto) derives it; a bad group key is E_CS_KEY", () => {
  const group = Buffer.alloc(32, 7).toString("base64");
  assert.is(deriveKey(group, "dev-1"), derivedKey(group, "dev-1"));
  assert.is.not(deriveKey(group, "dev-1"), deriveKey(group, "dev-2"));
  assert.is(deriveKey("not base64!", "dev-1"), E_CS_KEY);
});

test("enrollment group: any registration id with its derived key registers, is assigned, and connects with that key", async () => {
  const group = hub.registry.addGroupEnrollment("grp-a");
  const ids = ["grp-dev-1", "grp-dev-2"];
  for (const id of ids) {
    assert.is(hub.registry.get(id), undefined);
    const key = deriveKey(group.key, id) as string;
    const r = await register({ registrationId: id, symmetricKey: key });
    assert.is(r.err, 0, errorName(r.err));
    assert.is(r.out!.deviceId, id);
    assert.is(r.out!.assignedHub, hub.hubName);
    assert.is(r.out!.connectionString, `HostName=${hub.hubName};DeviceId=${id};SharedAccessKey=${key}`);
    assert.is(hub.registry.get(id).primaryKey, key, "the device is created with the derived key");
    await connectDevice(r.out!.connectionString);
  }
});

test("enrollment group: the group key itself, or a key derived for another id, is refused (E_REFUSED_CREDENTIALS); no device", async () => {
  const group = hub.registry.addGroupEnrollment("grp-b");
  for (const key of [group.key, deriveKey(group.key, "someone-else") as string]) {
    const r = await register({ registrationId: "grp-bad", symmetricKey: key });
    assert.is(r.err, E_REFUSED_CREDENTIALS, errorName(r.err));
  }
  assert.is(hub.registry.get("grp-bad"), undefined);
});

test("an individual enrollment takes precedence over the groups: the derived key is refused for its id", async () => {
  const group = hub.registry.addGroupEnrollment("grp-c");
  const own = hub.registry.addEnrollment("grp-own");
  assert.is((await register({ registrationId: "grp-own", symmetricKey: deriveKey(group.key, "grp-own") as string })).err, E_REFUSED_CREDENTIALS);
  assert.is((await register({ registrationId: "grp-own", symmetricKey: own.key })).err, 0);
});

// --- X.509 ---------------------------------------------------------------------------------------

test("X.509 enrollment: the client certificate (CN = registration id) registers with no password; the device connects with it", async () => {
  const id = "x509-reg";
  const { cert, key, thumbprint } = hub.deviceCert(id);
  hub.registry.addEnrollment(id, undefined, { auth: "x509" });
  const tls = { ca: hub.ca, cert, key };
  const r = await register({ registrationId: id, tls });
  assert.is(r.err, 0, errorName(r.err));
  assert.ok(r.connect.username.startsWith(`${hub.dpsIdScope}/registrations/${id}/api-version=2019-03-31`), r.connect.username);
  assert.is(r.connect.password, undefined, "no password in CONNECT");
  assert.is(r.out!.connectionString, `HostName=${hub.hubName};DeviceId=${id};x509=true`);
  const ident = hub.registry.get(id);
  assert.is(ident.auth, "x509");
  assert.is(ident.thumbprint.toUpperCase(), thumbprint);
  await connectDevice(r.out!.connectionString, tls);
});

test("X.509 enrollment: a CN that is not the registration id, no certificate, or one the emulator's CA did not sign: refused", async () => {
  hub.registry.addEnrollment("x509-reg2", undefined, { auth: "x509" });
  const other = hub.deviceCert("x509-other");
  let r = await register({ registrationId: "x509-reg2", tls: { ca: hub.ca, cert: other.cert, key: other.key } });
  assert.is(r.err, E_REFUSED_CREDENTIALS, "CN mismatch: " + errorName(r.err));
  r = await register({ registrationId: "x509-reg2" });
  assert.is(r.err, E_REFUSED_CREDENTIALS, "no certificate: " + errorName(r.err));
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "self.key",
    "-out", "self.pem", "-days", "1", "-subj", "/CN=x509-reg2"], { cwd: dir, stdio: "ignore" });
  const self = { ca: hub.ca, cert: readFileSync(join(dir, "self.pem")), key: readFileSync(join(dir, "self.key")) };
  r = await register({ registrationId: "x509-reg2", tls: self });
  assert.is(r.err, E_REFUSED_CREDENTIALS, "self-signed: " + errorName(r.err));
  assert.is(hub.registry.get("x509-reg2"), undefined);
  // pinned by thumbprint, the same self-signed certificate is the enrollment's
  const thumb = execFileSync("openssl", ["x509", "-in", "self.pem", "-noout", "-fingerprint", "-sha256"], { cwd: dir }).toString().split("=")[1].trim();
  hub.registry.addEnrollment("x509-reg2", undefined, { auth: "x509", thumbprint: thumb });
  r = await register({ registrationId: "x509-reg2", tls: self });
  assert.is(r.err, 0, "thumbprint: " + errorName(r.err));
});

test("no enrollment at all for the id (no groups match either): E_REFUSED_CREDENTIALS with groups present, else E_REFUSED_AUTH", async () => {
  const r = await register({ registrationId: "nobody", symmetricKey: Buffer.alloc(32, 3).toString("base64") });
  assert.is(r.err, E_REFUSED_CREDENTIALS, errorName(r.err)); // groups exist here: the key is judged against them
  const empty = await startHub({ dir: join(dir, "empty"), log: false, plainPort: null, adminPort: null, mqttsPort: null, httpsPort: null });
  try {
    const e = await new Promise<number>((res) => provision({
      idScope: empty.dpsIdScope, registrationId: "nobody", symmetricKey: Buffer.alloc(32, 3).toString("base64"),
      host: "localhost", port: empty.ports.dps, tls: { ca: empty.ca }, timeout: 10000,
    }, res));
    assert.is(e, E_REFUSED_AUTH, errorName(e));
  } finally {
    await empty.close();
  }
});

test.run();
