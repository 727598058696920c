// Every device bundle of the two embedded targets, the feature entries included (hub-ws, hub-http, ws,
// classic): the Espruino files are ES5 with CommonJS exports, touch no ES2015+ built-in or method some
// engine lacks and have no `.slice(` (Duktape's typed arrays have none, and minified names cannot tell a
// string's from a typed array's); the Moddable files import only platform modules, the classic transport
// alone the classic ones. (test/build/bundles.test.ts checks the mqtt entries more closely.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parse, tokenizer, tokTypes } from "acorn";
import { read, MISSING_GLOBALS, MISSING_METHODS } from "../helpers/bundle";

const ESPRUINO: Record<string, string[]> = {
  mqtt: ["createClient"],
  "mqtt-lean": ["createClient"],
  "mqtt-store": ["createClient", "storageStore"],
  hub: ["createDevice"],
  dps: ["provision", "deriveKey"],
  "hub-ws": ["createDevice"],
  "hub-http": ["createDevice", "createHttpDevice", "C2D_COMPLETE", "C2D_REJECT", "C2D_ABANDON", "C2D_LATER"],
  ws: ["createClient", "wsTransport", "espruinoTransport"],
};
const MODDABLE: Record<string, string[]> = {
  mqtt: ["createClient"],
  hub: ["createDevice"],
  dps: ["provision", "deriveKey"],
  "hub-ws": ["createDevice"],
  "hub-http": ["createDevice", "createHttpDevice", "C2D_COMPLETE", "C2D_REJECT", "C2D_ABANDON", "C2D_LATER"],
  ws: ["createClient", "wsTransport", "moddableTransport"],
  classic: ["moddableClassicTransport"],
  "mqtt-store": ["createClient", "fileStore"],
};



for (const [entry, exports] of Object.entries(ESPRUINO)) {
  test(`espruino/${entry}.js: ES5, CommonJS exports ${exports.join(", ")}, no ES2015+ built-in, no .slice(`, () => {
    const code = read(`dist/espruino/${entry}.js`);
    try {
      parse(code, { ecmaVersion: 5, sourceType: "script" });
    } catch (e: any) {
      assert.unreachable(`not ES5: ${e.message}`);
    }
    const found: string[] = [];
    let prev: any = null;
    for (const t of tokenizer(code, { ecmaVersion: 5 })) {
      if (t.type === tokTypes.name) {
        const name = String((t as { value?: unknown }).value);
        const afterDot = prev && prev.type === tokTypes.dot;
        if (afterDot ? MISSING_METHODS.has(name) : MISSING_GLOBALS.has(name)) found.push((afterDot ? "." : "") + name);
      }
      prev = t;
    }
    assert.equal([...new Set(found)], [], `found ${found.join(", ")}`);
    assert.not.ok(code.includes(".slice("), "contains .slice(");
    for (const name of exports) assert.match(code, new RegExp(`exports\\.${name}\\s*=`), `exports.${name}`);
    assert.not.match(code, /__esModule|use strict|\bimport\b|\bexport\b/);
    // only the modules an Espruino board has
    const required = [...code.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    for (const m of required) assert.ok(["net", "tls", "crypto", "Storage"].includes(m), `require("${m}")`);
  });
}

for (const [entry, exports] of Object.entries(MODDABLE)) {
  test(`moddable/${entry}.js: an ES module exporting ${exports.join(", ")}, importing only platform modules`, () => {
    const code = read(`dist/moddable/${entry}.js`);
    const ast: any = parse(code, { ecmaVersion: 2020, sourceType: "module" });
    const imports = ast.body.filter((n: any) => n.type === "ImportDeclaration").map((n: any) => n.source.value);
    const allowed = entry == "classic" ? /^(socket|securesocket|timer)$/ : /^(embedded:io\/socket\/tcp(\/tls)?|timer|time|crypt)$/;
    for (const m of imports) assert.match(m, allowed, `unexpected import ${m}`);
    const exported = ast.body
      .filter((n: any) => n.type === "ExportNamedDeclaration")
      .flatMap((n: any) => n.specifiers.map((s: any) => s.exported.name));
    for (const name of exports) assert.ok(exported.includes(name), `exports ${name}: ${exported}`);
  });
}

test("espruino bundles that sign SAS tokens or check a WebSocket handshake use the firmware's crypto, and carry no JavaScript SHA", () => {
  for (const entry of ["hub", "dps", "hub-ws", "hub-http", "ws"]) assert.ok(read(`dist/espruino/${entry}.js`).includes('require("crypto")'), entry);
  assert.not.ok(read("dist/espruino/mqtt.js").includes('require("crypto")'), "mqtt");
  // the portable SHA-256 computes its constants from cube roots (1/3); the portable base64 spells its alphabet
  const portable = /1\/3|ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789\+\//;
  for (const entry of ["mqtt", "hub", "dps", "hub-ws", "hub-http", "ws"]) assert.not.match(read(`dist/espruino/${entry}.js`), portable, entry);
  for (const entry of ["hub", "dps", "hub-ws", "hub-http", "ws"]) assert.not.match(read(`dist/moddable/${entry}.js`), portable, `moddable/${entry}`);
  assert.match(read("dist/node/index.js"), portable, "the check can see them (the Node build carries the portable code too)");
});

test("the Moddable manifests name built files; the classic one maps the ECMA-419 TLS socket to the notls stub", () => {
  for (const file of ["manifest.json", "manifest_classic.json"]) {
    const m = JSON.parse(read(`targets/moddable/${file}`));
    for (const [name, path] of Object.entries(m.modules) as [string, string][]) {
      assert.ok(existsSync(join("targets/moddable", path + ".js")), `${file}: ${name} -> ${path}.js`);
    }
    for (const name of m.preload) assert.ok(name in m.modules, `${file}: preload ${name}`);
    for (const entry of Object.keys(MODDABLE)) if (entry != "classic" || file != "manifest.json") assert.ok(m.modules[`tinyhub/${entry}`], `${file}: tinyhub/${entry}`);
  }
  const classic = JSON.parse(read("targets/moddable/manifest_classic.json"));
  assert.is(classic.modules["embedded:io/socket/tcp/tls"], "./notls");
  assert.ok(classic.include.some((i: string) => /crypt\/tls\.json$/.test(i)), "the SecureSocket TLS stack");
  const main = JSON.parse(read("targets/moddable/manifest.json"));
  assert.ok(main.include.some((i: string) => /tlssocket\/manifest\.json$/.test(i)), "the ECMA-419 TLS socket");
  const stub: any = parse(read("targets/moddable/notls.js"), { ecmaVersion: 2020, sourceType: "module" });
  assert.ok(stub.body.some((n: any) => n.type == "ExportDefaultDeclaration"));
});

test.run();
