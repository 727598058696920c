// A model of Espruino's crypto module for the engines that emulate Espruino (Duktape, QuickJS):
// require("crypto").SHA1 / SHA256 (jswrap_crypto.c: bytes or a binary string in, an ArrayBuffer out), computed by
// the library's own portable SHA-1 and SHA-256 (src/crypto), compiled once to ES5 for the engine.
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import { join } from "node:path";
import { ROOT } from "./paths.js";

/** @type {Promise<string> | null} */
let compiled = null;

/** ES5 code that sets `Espruino.crypto` (test/engines/espruino.es5.js answers require("crypto") with it). */
export function espruinoCryptoModel() {
  return (compiled ||= (async () => {
    const b = await rollup({
      input: join(ROOT, "src/crypto/index.ts"),
      onwarn() {},
      plugins: [typescript({ tsconfig: join(ROOT, "tsconfig.espruino.json"), compilerOptions: { target: "ES5" }, include: [join(ROOT, "src/**/*.ts")] })],
    });
    const { output } = await b.generate({ format: "iife", name: "PortableCrypto", generatedCode: "es5", strict: false });
    await b.close();
    return `${output[0].code}
Espruino.crypto = (function (C) {
  function bytes(m) { return typeof m == "string" ? E.toUint8Array(m) : m; }
  return {
    SHA1: function (m) { return C.sha1(bytes(m)).buffer; },
    SHA256: function (m) { return C.sha256(bytes(m)).buffer; }
  };
})(PortableCrypto);
`;
  })());
}
