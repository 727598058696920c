// The AMQP codec as the device bundles build it (src/features.ts AMQP_ALL_TYPES and AMQP_ALL_FIELDS false,
// rollup.config.js AMQP_DEVICE): the encoder refuses the kinds a device never sends (arrays, lists, maps as pairs,
// generic described values, float, decimals) by name, writes every kind a device does send byte for byte as the full
// codec does, and still decodes every kind; the composites' fields a device never uses are unnamed there, checked by
// type as in the full codec but neither kept nor written. System tier (tools/uvu.js): three rollup builds, about 20 s.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import { featuresOf } from "../../tools/build-plugins.js";
import * as full from "../../src/amqp/types";
import * as P from "../../src/amqp/performatives";
import { FakeTransport, ManualClock } from "../helpers/fake";

const T = full;
let lean: typeof full, leanP: typeof P, code = "";
const LEAN = { AMQP_ALL_TYPES: false, AMQP_ALL_FIELDS: false };

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
  leanP = await build("src/amqp/performatives.ts", LEAN);
  lean = await build("src/amqp/types.ts", LEAN);
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
  // a Q field given as an array: refused, the frame not written
  assert.is(leanP.sizeFrame(P.SASL_MECHANISMS, { saslServerMechanisms: ["a", "b"] }), -31);
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

const CODES = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x1d, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x40, 0x41, 0x42, 0x43, 0x44, 0x70, 0x73];
/** The fields src/amqp/client.ts and src/sessions/amqp.ts read or write, by composite: named in the device build. */
const USED: Record<number, string> = {
  0x10: "containerId hostname maxFrameSize channelMax idleTimeOut", 0x11: "remoteChannel nextOutgoingId incomingWindow outgoingWindow handleMax",
  0x12: "name handle role sndSettleMode rcvSettleMode source target initialDeliveryCount properties",
  0x13: "nextIncomingId incomingWindow nextOutgoingId outgoingWindow handle deliveryCount linkCredit drain echo",
  0x14: "handle deliveryId deliveryTag messageFormat settled more aborted", 0x15: "role first last settled state", 0x16: "handle closed error",
  0x17: "error", 0x18: "error", 0x1d: "condition description", 0x25: "error", 0x28: "address", 0x29: "address", 0x40: "saslServerMechanisms",
  0x41: "mechanism initialResponse hostname", 0x44: "code",
  0x73: "messageId userId to replyTo correlationId contentType contentEncoding absoluteExpiryTime creationTime",
};
/** A value of each field kind (src/amqp/performatives.ts). */
const SAMPLE: Record<number, any> = {
  [T.STRING]: "s\u00e9", [T.SYMBOL]: "sym", [T.BOOLEAN]: true, [T.UBYTE]: 1, [T.USHORT]: 2, [T.UINT]: 70000, [T.ULONG]: 4, [T.TIMESTAMP]: 1700000000000,
  [T.BINARY]: new Uint8Array([1, 2]), [T.ARRAY]: "cap", [T.OBJ_SYM]: { k: "v" }, [T.DESCRIBED]: "any",
};

test("the device build names the fields a device uses, as the full codec does, and no others; the same kinds", () => {
  for (const c of CODES) {
    const [names, kinds, must] = P.fields(c)!, [ln, lk, lm] = leanP.fields(c)!;
    assert.equal(lk, kinds, `kinds of ${c}`);
    assert.equal(lm, must, `mandatory fields of ${c}`);
    assert.is(ln.length, names.length);
    ln.forEach((n, i) => assert.ok(n == "" || n == names[i], `${c} field ${i}: ${n} is ${names[i]} in the full codec`));
    assert.equal(ln.filter((n) => n), USED[c] ? USED[c].split(" ") : [], `named fields of ${c}`);
  }
});

const be4 = (n: number) => [n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];

/** The bytes of an end frame's body around composite bytes `c` (its error field is any composite), as one array. */
function inEnd(c: number[]): Uint8Array {
  const n = c.length + 4;
  return new Uint8Array([0, 0x53, P.END, 0xd0, ...be4(n), 0, 0, 0, 1, ...c]);
}

/** Decodes composite bytes `c` with codec `p` (inside an end frame, so any composite goes): the object or a negative code. */
function decode(p: typeof P, c: number[]): any {
  const b = inEnd(c), x = p.decodePerformative(b, 0, b.length);
  return typeof x == "number" ? x : x.error;
}

test("every field of every composite from the full codec: the device build keeps the named ones, equal, checks the unnamed ones by type as the full codec does, writes only the named ones", () => {
  for (const c of CODES) {
    const [names, kinds] = P.fields(c)!, named = leanP.fields(c)![0].filter((f) => f), o: any = {}, only: any = {};
    names.forEach((n, i) => (o[n] = SAMPLE[kinds[i]]));
    for (const f of named) only[f] = o[f];
    const b = new Uint8Array(1024), n = P.writeComposite(b, 0, c, o);
    assert.ok(n > 0, `${c}: ${n}`);
    const bytes = Array.from(b.subarray(0, n)), x = decode(leanP, bytes), y = decode(P, bytes);
    assert.equal(Object.keys(x).sort(), ["type", ...named].sort(), `keys of ${c}`);
    for (const f of named) assert.equal(x[f], y[f], `${c} ${f}`);
    // what the device writes from the same object: its named fields only, as the full codec writes them
    const a = new Uint8Array(1024), z = new Uint8Array(1024), k = leanP.writeComposite(a, 0, c, o);
    assert.is(k, P.writeComposite(z, 0, c, only), `size of ${c}`);
    assert.equal(Array.from(a.subarray(0, k)), Array.from(z.subarray(0, k)));
    // each unnamed field of a wrong type (a uint, or a string where a uint goes) in its place: refused by both
    names.forEach((f, i) => {
      const kind = kinds[i];
      if (leanP.fields(c)![0][i] || kind == T.DESCRIBED) return;
      // the list: 0x00 0x53 code, then list8 (size, count 1 byte) or list32 (4 bytes each), every field present
      const wide = bytes[3] == 0xd0;
      let at = wide ? 12 : 6;
      for (let j = 0; j < i; j++) T.decodeValue(b, at, n), (at = T.decodeEnd());
      T.decodeValue(b, at, n);
      const end = T.decodeEnd(), wrong = new Uint8Array(8), wn = T.writeValue(wrong, 0, kind == T.UINT ? "x" : { t: T.UINT, v: 70000 });
      assert.ok(end > at && wn > 0, `${c} ${f}`);
      const bad = [...bytes.slice(0, at), ...wrong.subarray(0, wn), ...bytes.slice(end)], size = bad.length - 4 - (wide ? 4 : 1);
      if (wide) bad.splice(4, 4, ...be4(size));
      else bad[4] = size;
      assert.ok(size < 256 || wide);
      const r = decode(leanP, bad);
      assert.type(r, "number", `${c} ${f}: a wrong type refused`);
      assert.is(r, decode(P, bad), `${c} ${f}`);
    });
  }
});

test("the device build's connection client (AMQP_CLIENT_ALL false): the API a device session uses, SASL always", async () => {
  const C = await build("src/amqp/client.ts", { ...LEAN, AMQP_CLIENT_ALL: false }), Full = await import("../../src/amqp/client");
  for (const [mod, sasl] of [[C, false], [Full, false], [C, true]] as [any, boolean][]) {
    const tr = new FakeTransport(), clock = new ManualClock(1000);
    tr.clock = clock;
    const c = mod.createAmqpClient({ host: "h", transport: tr, clock, containerId: "d", sasl: sasl ? { mechanism: "ANONYMOUS" } : null });
    c.connect();
    // the SASL protocol header (3) when asked for, and in the device build even when not; else the AMQP one (0) with open
    assert.is(tr.written[4], mod == C || sasl ? 3 : 0);
    assert.equal(Object.keys(c).sort(), mod == C ? ["attach", "connect", "connected", "end", "flow", "send", "settle"] : ["attach", "connect", "connected", "credit", "detach", "end", "flow", "remoteError", "send", "settle"]);
  }
});

test.run();