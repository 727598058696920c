import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import { closuresOf } from "../../tools/build-plugins.js";
import { FakeTransport, ManualClock } from "../helpers/fake";
import { refGenerate } from "../helpers/mqtt";

// The Espruino build step (tools/build-plugins.js closuresOf, rollup.config.js): src/sessions/device.ts with its
// functions moved into createDevice, their device parameter dropped, the MQTT callbacks unwrapped and two one-use
// helpers marked for inlining. The text it makes, and a device built from it doing what one built from the file as
// written does, byte for byte on the wire.

const FILE = "src/sessions/device.ts";
const ID = fileURLToPath(new URL(`../../${FILE}`, import.meta.url));
const ARGS: [string, { name: string; type: string }, string[]] = [FILE, { name: "d", type: "HubDevice" }, ["deviceResourceUri", "c2dFilter"]];
const transform = (code: string) => {
  const p = closuresOf(...ARGS) as any;
  return p.transform.call({ error: (m: string) => { throw new Error(m); } }, code, ID).code as string;
};

test("the device's functions inside createDevice, without their device parameter; callbacks unwrapped; helpers marked", () => {
  const out = transform(readFileSync(ID, "utf8"));
  const at = out.indexOf("export function createDevice(");
  assert.ok(at > 0);
  const before = out.slice(0, at), inside = out.slice(at, out.indexOf("export function callMethod("));
  for (const f of ["password", "refresh", "settle", "request", "received", "connected", "closed", "sendEvent", "end"]) {
    assert.not.match(before, new RegExp(`function ${f}\\(`), `${f} left at module level`);
    assert.match(inside, new RegExp(`function ${f}\\(`), `${f} inside createDevice`);
  }
  assert.not.match(inside, /function \w+\(d: HubDevice/);
  assert.not.match(inside, /[^\w.](err|settle|request|reply|connect|received)\((d|this)[,)]/);
  assert.match(inside, /onConnect: connected,/);
  assert.match(inside, /onMessage: received,/);
  assert.match(inside, /\/\*@__INLINE__\*\/ deviceResourceUri\(/);
  assert.match(inside, /\/\*@__INLINE__\*\/ c2dFilter\(/);
});

test("a file without the markers is an error by name; another file is left alone", () => {
  assert.throws(() => transform("export function createDevice() {}\n"), /markers/);
  const p = closuresOf(...ARGS) as any;
  assert.is(p.transform.call({}, "x", "/elsewhere/device.ts"), null);
});

/** createDevice from src/sessions/device.ts built as CommonJS (with the step or without). */
async function build(step: boolean): Promise<any> {
  const b = await rollup({
    input: FILE,
    onwarn() {},
    plugins: [
      ...(step ? [closuresOf(...ARGS)] : []),
      typescript({ tsconfig: "tsconfig.json", compilerOptions: { module: "ESNext", target: "ES2020", noEmit: false, declaration: false }, include: ["src/**/*.ts"] }),
    ],
  });
  const { output } = await b.generate({ format: "cjs", exports: "named" });
  await b.close();
  const m = { exports: {} as any };
  new Function("module", "exports", output[0].code)(m, m.exports);
  return m.exports.createDevice;
}

/** A session against a fake broker: what the device wrote, and what its callbacks saw. */
function session(createDevice: any) {
  const t = new FakeTransport(), clock = new ManualClock(), seen: any[] = [];
  const d = createDevice({
    connectionString: "HostName=h.azure-devices.net;DeviceId=dev1;SharedAccessKey=" + Buffer.from("k".repeat(32)).toString("base64"),
    tls: null, transport: t, clock, time: () => 1800000000, reconnect: false,
    onConnect: () => seen.push("connect"), onError: (e: number) => seen.push(["error", e]), onClose: (c: number) => seen.push(["close", c]),
    onMessage: (m: any) => seen.push(["c2d", m.topic, Buffer.from(m.payload).toString(), m.properties]),
    onDesired: (p: any, v: number) => seen.push(["desired", p, v]),
    methods: { reboot: (p: any, respond: any) => respond(200, { got: p }) },
  });
  const pub = (topic: string, body: string) => t.send(refGenerate({ cmd: "publish", topic, payload: Buffer.from(body), qos: 0, dup: false, retain: false } as any));
  d.connect();
  t.send([0x20, 2, 0, 0]);
  seen.push(d.sendEvent("hi", { a: "b" }, (e: number) => seen.push(["sent", e])));
  seen.push(d.getTwin((e: number, tw: any) => seen.push(["twin", e, tw])));
  pub("$iothub/twin/res/200/?$rid=1", '{"desired":{"$version":3},"reported":{}}');
  pub("$iothub/twin/PATCH/properties/desired/?$version=4", '{"x":1}');
  pub("$iothub/methods/POST/reboot/?$rid=7", '{"a":2}');
  pub("$iothub/methods/POST/nosuch/?$rid=8", "");
  pub("devices/dev1/messages/devicebound/k=v", "m");
  clock.advance(31000);
  d.end(() => seen.push("ended"));
  return { bytes: t.written, seen };
}

test("a device built with the step writes and reports what one built from the file as written does", async () => {
  const a = session(await build(false)), b = session(await build(true));
  assert.ok(a.bytes.length > 200 && a.seen.length > 8, JSON.stringify(a.seen));
  assert.equal(b.seen, a.seen);
  assert.equal(b.bytes, a.bytes);
});

test.run();
