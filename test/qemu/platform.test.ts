// The QEMU platform layer (targets/qemu/platform.ts, linked in place of src/platform.ts for the board's builds):
// HMAC-SHA256 and base64 by the firmware (firmware/crypto.c) give the bytes of the portable src/crypto, on RFC 4231
// vectors, on keys and messages at SHA-256's block and padding boundaries, on pseudo-random ones, and base64 strings
// that must decode or be refused. Run on the board itself (targets/qemu/crypto-app.ts); its bundle carries neither
// the portable SHA-256 nor the base64 alphabet.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildFirmware, missingTools } from "../../tools/qemu/build.js";
import { bootDevice } from "../../tools/qemu/harness.js";
import { hmacSha256 } from "../../src/crypto/hmac";
import { base64Encode, base64Decode } from "../../src/crypto/base64";

const run = missingTools().length ? test.skip : test;
const hex = (b: Uint8Array | null) => (b ? Buffer.from(b).toString("hex") : "null");

// RFC 4231 §4.2-4.8 (test case 5, a truncated output, is case 7's code with another length)
const RFC4231: [string, string, string][] = [
  ["r:0b:20", "t:Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
  ["t:Jefe", "t:what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
  ["r:aa:20", "r:dd:50", "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"],
  ["x:0102030405060708090a0b0c0d0e0f10111213141516171819", "r:cd:50", "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"],
  ["r:aa:131", "t:Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
  ["r:aa:131", "t:This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.", "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"],
];
// keys around the 64-byte block, messages where SHA-256's padding takes one or two blocks (64 + len: 55 / 56 mod 64)
const EDGES: [string, string][] = [
  ["t:", "t:"], ["r:01:63", "r:02:55"], ["r:03:64", "r:04:56"], ["r:05:65", "r:06:119"], ["r:07:1", "r:08:120"], ["r:09:200", "r:0a:183"], ["r:ff:32", "r:00:184"],
];
const DECODE = ["", "QQ", "QQ==", "QUI", "QUI=", "QUJD", "QR==", "A", "A===", "QQ=", "QQ=A", "Q===", "====", "*AAA", "QU JD", "QUJD\n", "-_-_", "é", "QUJDRA=="];

function bytes(spec: string): Uint8Array {
  const v = spec.slice(2);
  if (spec[0] == "t") return Buffer.from(v, "latin1");
  if (spec[0] == "r") return new Uint8Array(+v.split(":")[1]).fill(parseInt(v.split(":")[0], 16));
  return Buffer.from(v, "hex");
}

// crypto-app.ts's generator (xorshift32)
function generator(seed: number) {
  let x = seed;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  return () => {
    const b = new Uint8Array(rand() % 200);
    for (let i = 0; i < b.length; i++) b[i] = rand() & 255;
    return b;
  };
}

run("HMAC-SHA256 and base64 by the firmware: the bytes of the portable versions and of RFC 4231", async () => {
  const fw = await buildFirmware({ entry: "crypto-app", poolSize: 96 * 1024 });
  const bundle = readFileSync(join(fw.dir, "bundle.js"), "utf8");
  assert.ok(bundle.includes("__hmacSha256") && bundle.includes("__base64Decode"), "the natives are used");
  assert.not.ok(/Uint32Array|ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/.test(bundle), "no portable SHA-256 or base64 in the bundle");

  const cases = [...RFC4231.map(([k, m]) => [k, m]), ...EDGES], seed = (Date.now() % 0x7fffffff) | 1, n = 40;
  const d = await bootDevice({ elf: fw.elf, broker: { port: 9 }, config: { cases, seed, n, decode: DECODE }, timeoutMs: 30000 });
  const exit = await d.exited;
  assert.is(exit.code, 0, d.lines.slice(-10).join("\n"));
  const out = new Map(d.lines.map((l: string) => [l.split(" ").slice(0, 2).join(" "), l.split(" ").slice(2).join(" ")]));

  const next = generator(seed), all: [Uint8Array, Uint8Array][] = cases.map(([k, m]) => [bytes(k), bytes(m)]);
  for (let i = 0; i < n; i++) all.push([next(), next()]);
  all.forEach(([key, msg], i) => {
    const portable = hex(hmacSha256(key, msg));
    assert.is(portable, createHmac("sha256", key).update(msg).digest("hex"), `case ${i}: the portable HMAC`);
    assert.is(out.get("h " + i), portable, `case ${i}: HMAC (key ${key.length} bytes, message ${msg.length})`);
    if (i < RFC4231.length) assert.is(portable, RFC4231[i][2], `RFC 4231 case ${i}`);
    assert.is(out.get("b " + i), base64Encode(msg), `case ${i}: base64 of ${msg.length} bytes`);
    assert.is(out.get("d " + i), hex(msg), `case ${i}: base64 decoded`);
  });
  DECODE.forEach((s, j) => assert.is(out.get("D " + j), hex(base64Decode(s)), `decode ${JSON.stringify(s)}`));
  assert.ok(DECODE.some((s) => base64Decode(s) === null) && DECODE.some((s) => base64Decode(s)?.length), "both kinds among the decode vectors");
  console.log(`  qemu platform: ${all.length} HMAC-SHA256 and base64 cases (${RFC4231.length} of RFC 4231, seed ${seed}) and ${DECODE.length} decodes match the portable src/crypto; crypto-app bundle ${fw.image.bundle} bytes`);
});

test.run();
