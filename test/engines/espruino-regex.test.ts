// Every regular-expression literal of every shipped Espruino bundle, run in the real Espruino interpreter and
// in Node on the same probe strings: test, exec and replace must agree. Espruino's regex engine departs from
// the standard in places (tools/bundle-rules.js lists the shapes found: /x?/.test("a") is false there, anchors
// inside groups misread, no {n,m}); this is the check that finds the next one.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tokenizer } from "acorn";
import { espruinoBinary } from "../../tools/engines/espruino-build.js";
import { read } from "../helpers/bundle";

/** The distinct regex literals of the Espruino bundles: [pattern, flags]. */
function literals(): [string, string][] {
  const seen = new Map<string, [string, string]>();
  for (const f of readdirSync("dist/espruino").filter((f) => f.endsWith(".js")))
    for (const t of tokenizer(read(`dist/espruino/${f}`), { ecmaVersion: 5 }))
      if (t.type.label == "regexp") {
        const v = (t as unknown as { value: { pattern: string; flags: string } }).value;
        seen.set(`/${v.pattern}/${v.flags}`, [v.pattern, v.flags]);
      }
  return [...seen.values()];
}

/** Probe strings: generic ones, and each regex's own characters alone, doubled, around spaces and slashes. */
function probes(pattern: string): string[] {
  const chars = [...new Set(pattern.replace(/\\./g, "").replace(/[\^$[\]()*+?|{}]/g, ""))];
  const own = chars.flatMap((c) => [c, c + c, ` ${c} `, `a${c}`, `${c}/`, `/${c}`]);
  return [
    "", " ", "\t", "a", "ab", "a b", " a b ", "0", "12", "x9", "1fz", "ABC", "a/b", "a/+", "+/a", "a+", "#", "a/#", "#/a", "a#",
    "+", "/", "//", "HTTP/1.1 200 OK", "HTTP/1.0 404", "HTTP/1.1 20", "upgrade", "keep-alive, Upgrade", "chunked", " chunked",
    "\"q\"", "a\"b", "dev-1", "a:b@c", "x!y", "a=b", "%41", "$x", "a'b", "-", "_", ".", "~", "a\u00e9", "\u2713",
    ...own,
  ];
}

/**
 * Each regex's answers (test, exec, replace with "<>") on its probes, given as binary strings of their UTF-8 bytes
 * (`S`), the form the library's text has on Espruino (targets/espruino/platform.ts), and answers compared as
 * bytes (`B`). (On a UTF-8 string, Espruino's regex runs over its bytes, not its characters.)
 */
function script(cases: [string, string][], bytes: string, binary: string): string {
  return `var B = ${bytes}, S = ${binary}, C = ${JSON.stringify(cases.map(([p, f]) => [p, f, probes(p)]))}, out = [];
for (var i = 0; i < C.length; i++) {
  var r = [];
  for (var j = 0; j < C[i][2].length; j++) {
    var s = S(C[i][2][j]), re = new RegExp(C[i][0], C[i][1]), m;
    var t = re.test(s);
    re = new RegExp(C[i][0], C[i][1]);
    m = re.exec(s);
    r.push([t, m ? B(m[0]) : null, B(s.replace(new RegExp(C[i][0], C[i][1]), "<>"))]);
  }
  out.push(r);
}
print("RESULT " + JSON.stringify(out));`;
}

// shapes Espruino is known to answer wrongly: the check must find them, or it could not find a new one
const CANARIES: [string, string][] = [["x?", ""], ["(^|,)\\s*upgrade\\s*(,|$)", ""]];

test("each regex of the Espruino bundles answers in Espruino as in Node (test, exec, replace)", async () => {
  const shipped = literals(), cases = [...shipped, ...CANARIES];
  assert.ok(shipped.length >= 8, `found ${shipped.length} regex literals`);
  const node: any[] = [];
  new Function("print", "Buffer", script(cases, "function (s) { return Array.from(Buffer.from(s, 'latin1')).join('.'); }", "function (s) { return Buffer.from(s, 'utf8').toString('latin1'); }"))(
    (line: string) => node.push(JSON.parse(line.slice(7))),
    Buffer,
  );
  const js = script(cases, "function (s) { return [].join.call(E.toUint8Array(s), '.'); }", "function (s) { return E.toString(E.toUint8Array(s)); }");
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-esp-re-"));
  try {
    writeFileSync(join(dir, "re.js"), js);
    const r = spawnSync(await espruinoBinary(), ["re.js"], { cwd: dir, encoding: "latin1", timeout: 20000 });
    const line = r.stdout.split(/\r?\n/).find((l) => l.includes("RESULT "));
    assert.ok(line, `no result from Espruino (exit ${r.status}): ${r.stdout.slice(-500)}${r.stderr}`);
    const esp = JSON.parse(line!.slice(line!.indexOf("RESULT ") + 7));
    const diffs = (i: number) => {
      const [p, f] = cases[i];
      return probes(p).flatMap((s, j) =>
        JSON.stringify(esp[i][j]) == JSON.stringify(node[0][i][j]) ? [] : [`/${p}/${f} on ${JSON.stringify(s)}: Espruino ${JSON.stringify(esp[i][j])}, Node ${JSON.stringify(node[0][i][j])}`],
      );
    };
    for (let i = shipped.length; i < cases.length; i++) assert.ok(diffs(i).length > 0, `canary /${cases[i][0]}/ answered as in Node`);
    const found = shipped.flatMap((_, i) => diffs(i));
    assert.equal(found, [], found.slice(0, 10).join("\n"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
