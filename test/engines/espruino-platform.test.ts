// The Espruino platform layer (targets/espruino/platform.ts: the firmware's SHA-1/SHA-256, btoa/atob, its text
// functions) run in the real interpreter against the portable versions (src/platform.ts) in Node, on the same
// vectors: each native binding must give the same bytes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import terser from "@rollup/plugin-terser";
import { espruinoBinary } from "../../tools/engines/espruino-build.js";
import { writeStorage } from "../../tools/engines/espruino.js";
import * as P from "../../src/platform";

const hex = (u: ArrayLike<number> | null) => (u ? Buffer.from(u as Uint8Array).toString("hex") : null);
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 255);
const LENGTHS = [0, 1, 3, 55, 56, 63, 64, 65, 100, 200];
const TEXTS = ["", "a", "topic/with/levels", "h\u00e9llo \u2713", "\u{1F600} emoji", "x".repeat(70)];
const B64 = ["", "QQ==", "QUI=", "QUJD", "AAECAwQF", "not base64!", "QQ", "QQ=A", "Q"];

/** What the engine computes: the same list of answers, bytes as hex (the script is the same for both sides). */
const SCRIPT = (lengths: number[], texts: string[], b64: string[]) => `
function bytes(n, seed) { var u = new Uint8Array(n), i; for (i = 0; i < n; i++) u[i] = (i * 31 + seed * 7) & 255; return u; }
function hex(u) { if (!u) return null; var s = "", i; for (i = 0; i < u.length; i++) s += (u[i] < 16 ? "0" : "") + u[i].toString(16); return s; }
var L = ${JSON.stringify(lengths)}, T = ${JSON.stringify(texts)}, B = ${JSON.stringify(b64)}, out = [], i, buf = new Uint8Array(256), n;
for (i = 0; i < L.length; i++) {
  out.push(hex(P.sha1(bytes(L[i], 1))));
  out.push(hex(P.hmacSha256(bytes(L[i] % 90, 2), bytes(L[i], 3))));
  out.push(P.base64Encode(bytes(L[i], 4)));
}
for (i = 0; i < B.length; i++) out.push(hex(P.base64Decode(B[i])));
for (i = 0; i < T.length; i++) {
  n = P.utf8Write(buf, 0, T[i]);
  out.push([P.utf8Length(T[i]), n, hex(buf.subarray(0, n < 0 ? 0 : n)), hex(E.toUint8Array(P.utf8Read(buf, 0, n < 0 ? 0 : n) || ""))]);
}
`;

let bundle = "";

test.before(async () => {
  const b = await rollup({
    input: "targets/espruino/platform.ts",
    onwarn() {},
    plugins: [typescript({ tsconfig: "tsconfig.espruino.json", compilerOptions: { target: "ES5" }, include: ["src/**/*.ts", "targets/espruino/**/*.ts"] })],
  });
  const { output } = await b.generate({
    format: "cjs", exports: "named", esModule: false, strict: false, generatedCode: "es5",
    plugins: [terser({ ecma: 5, compress: { hoist_funs: true }, mangle: true, format: { ascii_only: true } })],
  });
  await b.close();
  bundle = output[0].code;
});

test("SHA-1, HMAC-SHA256, base64 and UTF-8 of the Espruino platform equal the portable ones, byte for byte", async () => {
  // Node: the portable layer, with E for utf8Read's hex (its strings are text there)
  const node: any[] = [];
  new Function("P", "E", "print", SCRIPT(LENGTHS, TEXTS, B64) + "print(JSON.stringify(out));")(
    P, { toUint8Array: (s: string) => new Uint8Array(Buffer.from(s, "utf8")) }, (s: string) => node.push(JSON.parse(s)),
  );
  const bin = await espruinoBinary();
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-esp-platform-"));
  try {
    writeStorage(bin, dir, { platform: Buffer.from(bundle, "latin1") });
    // the texts as the IDE would send them: JSON escapes, so each is a UTF-8 string in the interpreter
    writeFileSync(join(dir, "run.js"), `var P = require("platform");\n${SCRIPT(LENGTHS, TEXTS, B64)}\nprint("RESULT " + JSON.stringify(out));`);
    const r = spawnSync(bin, ["run.js"], { cwd: dir, encoding: "latin1", timeout: 30000, input: "" });
    const line = r.stdout.split(/\r?\n/).find((l) => l.includes("RESULT "));
    assert.ok(line, `no result from Espruino (exit ${r.status}): ${r.stdout.slice(-800)}${r.stderr}`);
    const esp = JSON.parse(line!.slice(line!.indexOf("RESULT ") + 7));
    const want = node[0];
    assert.is(esp.length, want.length);
    for (let i = 0; i < want.length; i++) assert.equal(esp[i], want[i], `answer ${i}`);
    // and the vectors themselves are right (Node's crypto)
    const { createHash, createHmac } = await import("node:crypto");
    assert.is(want[0], createHash("sha1").update(bytes(0, 1)).digest("hex"));
    assert.is(want[4], createHmac("sha256", bytes(1, 2)).update(bytes(1, 3)).digest("hex"));
    assert.is(want[LENGTHS.length * 3 + 1], hex(Buffer.from("A")));
    assert.is(want[LENGTHS.length * 3 + 5], null, "not base64!");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
