import { test } from "uvu";
import * as assert from "uvu/assert";
import { connectionInfo, tokenSource, WALL_CLOCK_SET } from "../../src/sessions/credentials";
import { createDevice, Device } from "../../src/sessions/device";
import { createHttpDevice } from "../../src/sessions/https";
import { provision } from "../../src/sessions/provision";
import * as E from "../../src/iothub/errors";
import { FakeTransport, ManualClock } from "../helpers/fake";

// Credentials are checked once, the same way whether they come as a connection string or as fields, and tokens
// are signed against wall time: while the wall clock is not set (a board before SNTP) nothing is signed.

const HOST = "myhub.azure-devices.net";
const KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const NOW = 1750000000;

test("fields get the checks a connection string gets, with the same codes", () => {
  const cases: [any, number][] = [
    [{ deviceId: "d", sharedAccessKey: KEY }, E.E_CS_HOST],
    [{ host: HOST, sharedAccessKey: KEY }, E.E_CS_DEVICE],
    [{ host: HOST, deviceId: "bad id", sharedAccessKey: KEY }, E.E_CS_DEVICE],
    [{ host: HOST, deviceId: "d", moduleId: "x".repeat(129), sharedAccessKey: KEY }, E.E_CS_MODULE],
    [{ host: HOST, deviceId: "d" }, E.E_CS_CREDENTIAL],
    [{ host: HOST, deviceId: "d", sharedAccessKey: KEY, x509: true }, E.E_CS_CREDENTIAL],
    [{ host: HOST, deviceId: "d", sharedAccessKeyName: "p", x509: true }, E.E_CS_CREDENTIAL],
    [{ host: HOST, deviceId: "d", sharedAccessKey: "not base64!" }, E.E_CS_KEY],
    [{ host: HOST, deviceId: "d", sharedAccessSignature: "sig" }, E.E_TOKEN],
  ];
  for (const [fields, code] of cases) {
    assert.is(connectionInfo(fields), code, JSON.stringify(fields));
    const cs = Object.entries(fields).map(([k, v]) => `${k == "host" ? "HostName" : k[0].toUpperCase() + k.slice(1)}=${v}`).join(";").replace("X509=", "x509=");
    assert.is(connectionInfo({ connectionString: cs }), code, cs);
  }
  assert.equal(connectionInfo({ host: HOST, deviceId: "d", sharedAccessKey: KEY, port: 1883, onConnect() {} } as any), { host: HOST, deviceId: "d", sharedAccessKey: KEY });
  assert.equal(connectionInfo({ host: HOST, deviceId: "d", x509: true } as any), { host: HOST, deviceId: "d", x509: true });
});

test("every session refuses bad fields at creation: MQTT, HTTPS", () => {
  const io = { transport: new FakeTransport(), clock: new ManualClock() };
  assert.is(createDevice({ host: HOST, deviceId: "bad id", sharedAccessKey: KEY, ...io }), E.E_CS_DEVICE);
  assert.is(createHttpDevice({ host: HOST, deviceId: "d", sharedAccessKey: "%%%", ...io }), E.E_CS_KEY);
});

test("tokens: signed ones renewed 300 s before expiry; a fixed one served until its expiry, then E_TOKEN_EXPIRED", () => {
  let now = NOW;
  const signed = tokenSource({ host: HOST, deviceId: "d", sharedAccessKey: KEY }, `${HOST}/devices/d`, { time: () => now });
  const t = signed() as any;
  assert.match(t._t, new RegExp(`&se=${NOW + 3600}$`));
  assert.is(t._s, 3300);
  assert.is((tokenSource({ host: HOST, deviceId: "d", sharedAccessKey: KEY }, "r", { time: () => now, tokenLifetime: 400 })() as any)._s, 200, "half the life when it is shorter than 600 s");
  const sas = `SharedAccessSignature sr=x&sig=y&se=${NOW + 100}`;
  const fixed = tokenSource({ host: HOST, deviceId: "d", sharedAccessSignature: sas }, "r", { time: () => now });
  assert.equal(fixed(), { _t: sas, _s: 100 });
  now += 100;
  assert.is(fixed(), E.E_TOKEN_EXPIRED);
  assert.equal(tokenSource({ host: HOST, deviceId: "d", x509: true }, "r", { time: () => now })(), { _t: "", _s: 0 });
});

test("an unset wall clock: no token is signed (E_CLOCK); a fixed one goes as it is, its expiry not judged", () => {
  const signed = tokenSource({ host: HOST, deviceId: "d", sharedAccessKey: KEY }, "r", { time: () => 10 });
  assert.is(signed(), E.E_CLOCK);
  assert.is(tokenSource({ host: HOST, deviceId: "d", sharedAccessKey: KEY }, "r", { time: () => WALL_CLOCK_SET - 1 })(), E.E_CLOCK);
  assert.equal(tokenSource({ host: HOST, deviceId: "d", sharedAccessSignature: "SharedAccessSignature sr=x&sig=y&se=5" }, "r", { time: () => 10 })(), {
    _t: "SharedAccessSignature sr=x&sig=y&se=5",
    _s: 0,
  });
});

test("MQTT device: connect waits for the wall clock (E_CLOCK once), then connects with a token dated by it", () => {
  const t = new FakeTransport(), clock = new ManualClock(), errors: number[] = [];
  let now = 5;
  t.clock = clock;
  const d = createDevice({ host: HOST, deviceId: "d", sharedAccessKey: KEY, tls: null, transport: t, clock, time: () => now, onError: (e) => errors.push(e) }) as Device;
  d.connect();
  clock.advance(3000);
  assert.equal(errors, [E.E_CLOCK], "told once");
  assert.is(t.opens.length, 0, "nothing sent without a token");
  now = NOW; // SNTP answered
  clock.advance(1000);
  assert.is(t.opens.length, 1);
  const [c] = t.take() as any[];
  assert.match(String(c.password), new RegExp(`&se=${NOW + 3600}$`));
  d.end();
});

test("HTTPS device: requests wait for the wall clock (E_CLOCK once), then go", () => {
  const t = new FakeTransport(), clock = new ManualClock(), errors: number[] = [], done: number[] = [];
  let now = 5;
  t.clock = clock;
  const d = createHttpDevice({ host: HOST, deviceId: "d", sharedAccessKey: KEY, tls: null, transport: t, clock, time: () => now, onError: (e) => errors.push(e) });
  if (typeof d == "number") throw new Error(`createHttpDevice: ${d}`);
  assert.is(d.sendEvent("x", null, (e) => done.push(e)), 0);
  clock.advance(2500);
  assert.equal([errors, t.opens.length, done], [[E.E_CLOCK], 0, []]);
  now = NOW;
  clock.advance(1000);
  assert.is(t.opens.length, 1, "the request went once the clock was set");
  assert.match(Buffer.from(t.written).toString("latin1"), new RegExp(`Authorization: SharedAccessSignature [^\\r]*&se=${NOW + 3600}\\r\\n`));
  d.end();
});

test("DPS: registration waits for the wall clock (E_CLOCK once), within its timeout", () => {
  const t = new FakeTransport(), clock = new ManualClock(), errors: number[] = [];
  let now = 5, result: number | null = null;
  t.clock = clock;
  provision({ idScope: "0ne0001", registrationId: "r1", symmetricKey: KEY, tls: null, transport: t, clock, time: () => now, timeout: 10000, onError: (e) => errors.push(e) }, (e) => (result = e));
  clock.advance(2000);
  assert.equal([errors, t.opens.length], [[E.E_CLOCK], 0]);
  now = NOW;
  clock.advance(1000);
  assert.is(t.opens.length, 1);
  assert.match(String((t.take()[0] as any).password), /skn=registration$/);
  clock.advance(10000);
  assert.is(result, -29, "E_TIMEOUT: nothing answered");
});

test.run();
