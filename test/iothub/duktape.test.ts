// The IoT Hub layer bundled to ES5 and run in Duktape 2.7 (the stand-in for Espruino): every call below
// must give in Duktape exactly what it gives in Node.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import * as hub from "../../src/iothub/index";

const KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
// [function name, arguments]
const CALLS: [string, unknown[]][] = [
  ["parseConnectionString", ["HostName=h.azure-devices.net;DeviceId=dev1;ModuleId=m;SharedAccessKey=" + KEY + ";"]],
  ["parseConnectionString", ["HostName=h;DeviceId=a/b;x509=true"]],
  ["sasToken", ["h.azure-devices.net/devices/dev1", KEY, 1700000000]],
  ["sasToken", ["0ne/registrations/reg-1", KEY, 1700000000, "registration"]],
  ["sasExpiry", ["SharedAccessSignature sr=a&sig=b&se=1700000000"]],
  ["deriveDeviceKey", [KEY, "reg-1"]],
  ["urlEncode", ["a/b&c=d#e+f?g$h i!'()*é€😀\ud800"]],
  ["urlDecode", ["%C3%A9%E2%82%AC%F0%9F%98%80+%2f"]],
  ["urlDecode", ["%C0%AF"]],
  ["hubUserName", ["h.azure-devices.net", "dev1", "mod1", undefined, "dtmi:com:example:Thermostat;1"]],
  ["dpsUserName", ["0ne", "reg-1"]],
  ["telemetryTopic", ["dev1", null, { $messageId: "m1", $contentType: "application/json", "a/b&c=d#": "x/y+z#é", n: 1.5, b: true }]],
  ["telemetryTopic", ["dev1", null, { a: null }]],
  ["parseC2DTopic", ["devices/dev1/messages/devicebound/%24.mid=1&%24.to=%2Fdevices%2Fdev1&k&e=&u=%C3%A9", "dev1"]],
  ["parseTwinTopic", ["$iothub/twin/res/204/?$version=12&$rid=7"]],
  ["parseTwinTopic", ["$iothub/twin/PATCH/properties/desired/?$version=5"]],
  ["parseMethodTopic", ["$iothub/methods/POST/reboot/?$rid=1"]],
  ["methodResponseTopic", [200, "1"]],
  ["parseDpsTopic", ["$dps/registrations/res/202/?$rid=1&retry-after=3"]],
  ["parseDpsResponse", ['{"operationId":"op","status":"assigned","registrationState":{"assignedHub":"h","deviceId":"d"}}']],
  ["parseDpsResponse", ["{"]],
  ["dpsRegisterBody", ["reg-1", { modelId: "dtmi:x;1" }]],
];

// JSON with every non-ASCII UTF-16 unit as \uXXXX, so both engines read and print the same code units
const ESC = "function esc(s) { return s.replace(/[\\u007f-\\uffff]/g, function (c) { return '\\\\u' + ('000' + c.charCodeAt(0).toString(16)).slice(-4); }); }";
const esc: (s: string) => string = new Function(ESC + " return esc;")();

function duk(): string | null {
  try {
    execFileSync("duk", ["-e", "1"], { stdio: "ignore" });
    return "duk";
  } catch (e) {
    return null;
  }
}

test("the ES5 bundle gives in Duktape what the sources give in Node", async () => {
  if (!duk()) {
    console.log("  (duk not installed: skipped)");
    return;
  }
  const bundle = await rollup({
    input: fileURLToPath(new URL("../../src/iothub/index.ts", import.meta.url)),
    plugins: [typescript({
      tsconfig: false, include: ["src/**/*.ts"],
      compilerOptions: { target: "ES5", module: "ESNext", moduleResolution: "Bundler", lib: ["ES5", "ES2015.Core", "ES2017.TypedArrays"], strict: true, isolatedModules: true, skipLibCheck: true },
    })],
    onwarn() {},
  });
  const { output } = await bundle.generate({ format: "iife", name: "hub" });
  await bundle.close();
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-duk-"));
  try {
    const file = join(dir, "run.js");
    writeFileSync(file, output[0].code + "\n" + ESC + "\nvar CALLS = " + esc(JSON.stringify(CALLS)) +
      ";\nfor (var i = 0; i < CALLS.length; i++) print(esc(JSON.stringify(hub[CALLS[i][0]].apply(null, CALLS[i][1]))));\n");
    const lines = execFileSync("duk", [file], { encoding: "utf8" }).trim().split("\n");
    assert.is(lines.length, CALLS.length);
    CALLS.forEach(([fn, args], i) => {
      assert.is(lines[i], esc(JSON.stringify((hub as any)[fn].apply(null, args))), fn + " " + JSON.stringify(args));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
