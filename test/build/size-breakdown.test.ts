// tools/size-breakdown.js: every byte of a bundle is attributed to one source file, and the bundle it measures is
// the one `npm run build` ships (same configs, same minifier: same bytes).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { encode } from "@jridgewell/sourcemap-codec";
import { attribute, breakdown } from "../../tools/size-breakdown.js";
import { bundlePath } from "../../tools/engines/paths.js";

test("attribute: the text between two mapping segments belongs to the first one's source; unmapped text is glue", () => {
  const code = "var a=1;function b(){}\nexports.b=b;";
  // line 0: col 0 from a.ts, col 8 from b.ts; line 1: col 0 unmapped, col 8 from a.ts
  const map = { sources: ["a.ts", "b.ts"], mappings: encode([[[0, 0, 0, 0], [8, 1, 0, 0]], [[0], [8, 0, 1, 0]]]) };
  const parts = attribute(code, map);
  assert.equal(Object.fromEntries(parts), { "(glue)": "exports.", "a.ts": "var a=1;b=b;", "b.ts": "function b(){}\n" });
  assert.is([...parts.values()].join("").length, code.length);
});

test("breakdown of espruino/mqtt-lean: the rows add up to the shipped file, client.ts and codec.ts the largest", async () => {
  const r = await breakdown("espruino/mqtt-lean");
  const shipped = readFileSync(bundlePath("dist/espruino/mqtt-lean.js"));
  assert.is(r.bytes, shipped.length, "the same bytes as the shipped bundle");
  assert.is(r.rows.reduce((a, x) => a + x.bytes, 0), r.bytes);
  assert.ok(Math.abs(r.rows.reduce((a, x) => a + x.gzip, 0) - r.gzip) <= r.rows.length, "gzip shares add up");
  assert.equal(r.rows.slice(0, 2).map((x) => x.file).sort(), ["src/mqtt/client.ts", "src/mqtt/codec.ts"]);
  assert.not.ok(r.rows.some((x) => /hub|sessions|ws\//.test(x.file)), "nothing of the IoT Hub in the lean MQTT bundle");
});

test.run();
