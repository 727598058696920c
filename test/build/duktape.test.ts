import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// dist/espruino/mqtt.js run in Duktape 2.7 (ES5.1 only; Uint8Array without slice/fill/from): an
// MQTT round trip with a fake transport and clock (test/build/roundtrip.es5.js), bytes checked here.

const BUNDLE = "dist/espruino/mqtt.js";
// the bundle's text functions use Espruino's E (targets/espruino/platform.ts): a model of a Unicode build
// (a string counts as UTF-8 there when it has a character above U+00FF, so the topic has a €)
const PRELUDE =
  "var exports = {}, module = { exports: exports };\n" +
  "var E = { toString: function (u) { var s = '', i; for (i = 0; i < u.length; i++) s += String.fromCharCode(u[i]); return s; },\n" +
  "  toUint8Array: function (s) { var i, u; if (E.isUTF8(s)) s = unescape(encodeURIComponent(s)); u = new Uint8Array(s.length); for (i = 0; i < s.length; i++) u[i] = s.charCodeAt(i) & 255; return u; },\n" +
  "  isUTF8: function (s) { return /[^\\x00-\\xff]/.test(s); } };\n" +
  "var process = { memory: function () { return { free: 100000 }; } };\n";

const utf8 = (s: string) => Array.from(Buffer.from(s, "utf8"));
const str = (s: string) => [0, utf8(s).length, ...utf8(s)];

function duk(): string {
  const probe = spawnSync("duk", ["-e", "print(1)"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0)
    throw new Error("`duk` not found: install the Debian package `duktape` (bash .ci/run does)");
  return "duk";
}

function runRoundTrip(): any {
  const cmd = duk();
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} missing: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-duk-"));
  try {
    const file = join(dir, "run.js");
    // the bundle in a function scope of its own, as Espruino's module loader runs it
    writeFileSync(file, PRELUDE + "(function () {\n" + readFileSync(BUNDLE, "utf8") + "\n})();\n" + readFileSync("test/build/roundtrip.es5.js", "utf8"));
    const r = spawnSync(cmd, [file], { encoding: "utf8", timeout: 20000 });
    assert.is(r.status, 0, `duk exited ${r.status}: ${r.stderr}${r.stdout}`);
    const lines = r.stdout.trim().split("\n");
    return JSON.parse(lines[lines.length - 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let out: any;

test("the bundle loads in Duktape and exports createClient", () => {
  out = runRoundTrip();
  assert.is(out.exception, undefined, out.exception);
  assert.is(out.exports, "function");
  assert.equal(out.open, { host: "broker.local", port: 1883, tls: null });
});

test("CONNECT: protocol MQTT level 4, clean session, keep-alive 60, client id", () => {
  assert.equal(out.connect, [
    0x10, 15,                 // CONNECT, remaining length
    ...str("MQTT"), 4,        // protocol name, level 4 [MQTT-3.1.2-1], [MQTT-3.1.2-2]
    0x02,                     // flags: clean session
    0, 60,                    // keep-alive seconds
    ...str("duk"),            // client identifier
  ]);
});

test("CONNACK accepted: onConnect(sessionPresent = false)", () => {
  assert.equal(out.connected, { sessionPresent: false });
  assert.is(out.isConnected, true);
});

test("SUBSCRIBE a/b QoS 1 and its SUBACK", () => {
  const id = out.subscribeReturn;
  assert.ok(id > 0 && id < 65536, `packet id ${id}`);
  assert.equal(out.subscribe, [0x82, 8, id >> 8, id & 255, ...str("a/b"), 1]);
  assert.equal(out.suback, { err: 0, granted: 1 });
});

test("PUBLISH QoS 1 with a UTF-8 topic and payload, done on PUBACK", () => {
  const id = out.publishReturn;
  assert.ok(id > 0 && id < 65536, `packet id ${id}`);
  const body = [...str("tëst/ü€"), id >> 8, id & 255, ...utf8("héllo ✓")];
  assert.equal(out.publish, [0x32, body.length, ...body]);
  assert.equal(out.expectTopic, utf8("tëst/ü€"), "Duktape's UTF-8 agrees with Node's");
  assert.is(out.pubackBefore, true, "done waits for the PUBACK");
  assert.equal(out.puback, { err: 0 });
});

test("incoming PUBLISH (fed one byte at a time) reaches onMessage; QoS 1 is acknowledged", () => {
  assert.equal(out.messages, [
    { topic: "a/b", payload: utf8("hi €"), qos: 0, retain: false },
    { topic: "a/b", payload: [42], qos: 1, retain: false },
  ]);
  assert.equal(out.pubackSent, [0x40, 2, 0, 7]);
});

test("end(): DISCONNECT, transport closed, done called, no errors on the way", () => {
  assert.equal(out.disconnect, [0xe0, 0]);
  assert.is(out.closedByClient, 1);
  assert.is(out.ended, true);
  assert.is(out.isConnectedAfterEnd, false);
  assert.equal(out.errors, []);
});

test("Duktape's typed-array set copies overlapping ranges in both directions like copyWithin (moveBytes relies on it)", () => {
  // every (to, from, len) of a 12-byte array: set(subarray(from, from + len), to) against Node's copyWithin
  const script = `var out = [];
for (var to = 0; to < 12; to++) for (var from = 0; from < 12; from++)
  for (var len = 0; len <= 12 - Math.max(to, from); len++) {
    var a = new Uint8Array(12), i;
    for (i = 0; i < 12; i++) a[i] = i;
    a.set(a.subarray(from, from + len), to);
    out.push(Array.prototype.join.call(a, ","));
  }
print(out.join(";"));`;
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-duk-"));
  try {
    const file = join(dir, "set.js");
    writeFileSync(file, script);
    const r = spawnSync(duk(), [file], { encoding: "utf8", timeout: 20000 });
    assert.is(r.status, 0, r.stderr + r.stdout);
    const want: string[] = [];
    for (let to = 0; to < 12; to++)
      for (let from = 0; from < 12; from++)
        for (let len = 0; len <= 12 - Math.max(to, from); len++)
          want.push(Array.from(new Uint8Array([...Array(12).keys()]).copyWithin(to, from, from + len)).join(","));
    assert.equal(r.stdout.trim().split(";"), want);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
