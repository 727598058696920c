// The AMQP codec as the device bundles build it (src/features.ts AMQP_ALL_TYPES false, rollup.config.js AMQP_DEVICE):
// the encoder refuses the kinds a device never sends (arrays, lists, maps as pairs, generic described values, float,
// decimals) by name, writes every kind a device does send byte for byte as the full codec does, and still decodes
// every kind. System tier (tools/uvu.js): two rollup builds, about 20 s.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import { featuresOf } from "../../tools/build-plugins.js";
import * as full from "../../src/amqp/types";
import * as P from "../../src/amqp/performatives";

const T = full;
let lean: typeof full, leanP: typeof P, code = "";

/** A module of src/amqp built with these features, as a CommonJS module's exports (`code` its source). */
async function build(input: string, features: Record<string, boolean>): Promise<any> {
  const b = await rollup({
    input,
    onwarn() {},
    plugins: [featuresOf(features), typescript({ tsconfig: "tsconfig.json", compilerOptions: { module: "ESNext", target: "ES2020", noEmit: false, declaration: false }, include: ["src/**/*.ts"] })],
  });
  const { output } = await b.generate({ format: "cjs", exports: "named" });
  await b.close();
  code = output[0].code;
  const m: any = { exports: {} };
  new Function("module", "exports", code)(m, m.exports);
  return m.exports;
}

test.before(async () => {
  leanP = await build("src/amqp/performatives.ts", { AMQP_ALL_TYPES: false });
  lean = await build("src/amqp/types.ts", { AMQP_ALL_TYPES: false });
});

const bytes = (enc: (b: Uint8Array | null, off: number) => number) => {
  const n = enc(null, 0);
  if (n < 0) return n;
  const b = new Uint8Array(n);
  enc(b, 0);
  return Array.from(b);
};
const value = (t: any, v: any) => (b: Uint8Array | null, off: number) => t.encode(b, off, t.kindOf(v), v && typeof v == "object" && !(v instanceof Uint8Array) && !Array.isArray(v) ? v.v : v, 0, 0);

test("what a device sends encodes as with the full codec, byte for byte", () => {
  const uuid = new Uint8Array(16).map((_, i) => i * 17);
  const values: any[] = [null, true, false, 0, 7, 300, -5, 2 ** 40, 21.5, -0.25, "h\u00e9llo \u2713", "", new Uint8Array([1, 2, 3]),
    { t: T.UINT, v: 70000 }, { t: T.ULONG, v: 0 }, { t: T.UBYTE, v: 1 }, { t: T.USHORT, v: 512 }, { t: T.TIMESTAMP, v: 1700000000000 },
    { t: T.SYMBOL, v: "com.microsoft:api-version" }, { t: T.UUID, v: uuid }];
  for (const v of values) assert.equal(bytes(value(lean, v)), bytes(value(full, v)), JSON.stringify(v));
  // maps from plain objects (annotations, application properties) and the frames and messages a device writes
  const props = { "n\u00f6": "n\u00f6ne \u2713", n: 7, x: 2.5, ok: true };
  assert.equal(bytes((b, o) => lean.encode(b, o, T.OBJ_STR, props, 0, 0)), bytes((b, o) => full.encode(b, o, T.OBJ_STR, props, 0, 0)));
  const attach = { name: "s2/devices/d/messages/events", handle: 2, role: false, sndSettleMode: 1, rcvSettleMode: 0, source: { type: P.SOURCE, address: null }, target: { type: P.TARGET, address: "/devices/d/messages/events" }, initialDeliveryCount: 0, properties: { "com.microsoft:api-version": "2021-04-12" } };
  const m: P.Message = { messageAnnotations: { operation: "PATCH", resource: "/properties/reported" }, properties: { correlationId: { t: T.UUID, v: uuid }, absoluteExpiryTime: 1700000000000 }, applicationProperties: { "IoThub-status": 200 }, data: "{}" };
  const tf = { handle: 4, deliveryId: 9, deliveryTag: new Uint8Array(4), messageFormat: 0, settled: true };
  for (const [c, o, msg] of [[P.OPEN, { containerId: "d", hostname: "h", maxFrameSize: 2056, channelMax: 0, idleTimeOut: 60000 }], [P.ATTACH, attach], [P.TRANSFER, tf, m], [P.SASL_INIT, { mechanism: "ANONYMOUS", hostname: "h" }]] as [number, any, P.Message?][]) {
    const a = new Uint8Array(1024), z = new Uint8Array(1024);
    const n = leanP.writeFrame(a, 0, 0, c, o, msg);
    assert.ok(n > 0, `frame ${c}: ${n}`);
    assert.is(n, P.writeFrame(z, 0, 0, c, o, msg));
    assert.equal(Array.from(a.subarray(0, n)), Array.from(z.subarray(0, n)));
  }
});

test("what a device never sends is refused by name (E_ARGUMENT, -31) and its code is not in the build", () => {
  const refused: any[] = [{ t: T.ARRAY, v: [{ t: T.SYMBOL, v: "a" }], e: T.SYMBOL }, { t: T.DESCRIBED, d: { t: T.ULONG, v: 1 }, v: "x" }, { t: T.FLOAT, v: 1.5 },
    { t: T.DECIMAL64, v: new Uint8Array(8) }, { t: T.LIST, v: [1, "two"] }, { t: T.MAP, v: ["k", 1] }];
  for (const v of refused) {
    assert.is(lean.encode(null, 0, v.t, v.t == T.ARRAY || v.t == T.DESCRIBED ? v : v.v, 0, 0), -31, JSON.stringify(v));
    assert.ok(full.encode(null, 0, v.t, v.t == T.ARRAY || v.t == T.DESCRIBED ? v : v.v, 0, 0) > 0);
  }
  // a list as an application property value or a body section: refused, nothing written
  assert.is(leanP.sizeMessage({ applicationProperties: { a: "x" }, sequence: [1, 2] }), -31);
  // a Q field given as an array (capabilities): refused, the frame not written
  assert.is(leanP.sizeFrame(P.ATTACH, { name: "x", handle: 0, role: false, offeredCapabilities: ["a", "b"] }), -31);
  assert.not.ok(code.includes("setFloat32"), "no float32 encoding in the lean build");
});

test("decoding takes every kind still: arrays, described values, floats, decimals", () => {
  const all: any[] = [{ t: T.ARRAY, v: [{ t: T.SYMBOL, v: "a" }, { t: T.SYMBOL, v: "b" }], e: T.SYMBOL }, { t: T.DESCRIBED, d: { t: T.ULONG, v: 9 }, v: "x" },
    { t: T.FLOAT, v: 1.5 }, { t: T.DECIMAL32, v: new Uint8Array([1, 2, 3, 4]) }, [1, "two", null], { t: T.MAP, v: ["k", 1] }];
  for (const v of all) {
    const b = new Uint8Array(64), n = full.writeValue(b, 0, v);
    assert.ok(n > 0);
    const x = lean.readValue(b, 0, n, 0, 0);
    assert.is(lean.decodeEnd(), n, JSON.stringify(v));
    assert.equal(x, full.readValue(b, 0, n, 0, 0));
  }
  const sasl = new Uint8Array(128), n = P.writeFrame(sasl, 0, 0, P.SASL_MECHANISMS, { saslServerMechanisms: ["ANONYMOUS", "PLAIN"] });
  assert.equal(leanP.decodePerformative(sasl, 8, n).saslServerMechanisms, ["ANONYMOUS", "PLAIN"]);
});

test.run();
