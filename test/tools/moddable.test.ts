// `tinyhub moddable <dir>`: the generated Moddable app is valid and points at the package's manifest.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as acorn from "acorn";

const dir = join(mkdtempSync(join(tmpdir(), "tinyhub-moddable-")), "app");

test("writes manifest.json and main.js through the CLI", () => {
  const out = execFileSync("node", ["tools/cli.js", "moddable", dir, "--connection-string", "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=AAAA"], { encoding: "utf8" });
  assert.match(out, "mcconfig -d -m -p esp32");
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  assert.is(manifest.config.connectionString, "HostName=h.azure-devices.net;DeviceId=d;SharedAccessKey=AAAA");
  // the tinyhub manifest it includes exists, and so do the modules that manifest names
  const inc = resolve(dir, manifest.include[2]);
  assert.ok(existsSync(inc), inc);
  const lib = JSON.parse(readFileSync(inc, "utf8"));
  for (const path of Object.values(lib.modules) as string[]) assert.ok(existsSync(resolve(dirname(inc), path + ".js")), path + ".js built");
  assert.ok(lib.modules["tinyhub/hub"]);
  // IoT Hub's root certificate, a resource of the app (mcconfig adds .der): DigiCert Global Root G2, which IoT Hub
  // and DPS chain to
  assert.is(manifest.resources["*"].length, 1);
  const cert = new X509Certificate(readFileSync(resolve(dir, manifest.resources["*"][0] + ".der")));
  assert.match(cert.subject, "CN=DigiCert Global Root G2");
  assert.ok(cert.ca && cert.checkIssued(cert), "a self-signed CA");
  assert.is(cert.fingerprint256, "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F");
  assert.ok(new Date(cert.validTo) > new Date("2038-01-01"), cert.validTo);
});

test("main.js is an ES module importing the hub entry and the platform's modules only", () => {
  const src = readFileSync(join(dir, "main.js"), "utf8");
  const ast: any = acorn.parse(src, { ecmaVersion: 2020, sourceType: "module" });
  const imports = ast.body.filter((n: any) => n.type == "ImportDeclaration").map((n: any) => n.source.value);
  assert.equal(imports.sort(), ["Resource", "mc/config", "timer", "tinyhub/hub"]);
  // the root certificate goes to the device as tls.ca: without it Moddable's TLS would look for a resource the app has not
  assert.match(src, 'tls: { ca: new Resource("DigiCertGlobalRootG2.der") }');
});

test("refuses to overwrite without --force", () => {
  let failed = false;
  try {
    execFileSync("node", ["tools/cli.js", "moddable", dir], { stdio: "pipe" });
  } catch {
    failed = true;
  }
  assert.ok(failed);
  rmSync(dirname(dir), { recursive: true, force: true });
});

test.run();
