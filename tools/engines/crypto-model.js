// Models of what a firmware has natively, for the engines that run a target's bundle without it: the library's own
// portable SHA-1/SHA-256 and base64 (src/crypto) compiled once to ES5 as `PortableCrypto`, then
//   espruinoCryptoModel()  Espruino's crypto module (jswrap_crypto.c: bytes or a binary string in, an ArrayBuffer
//                          out) as `Espruino.crypto`, which test/engines/espruino.es5.js answers require("crypto") with
//   moddableCryptoModel()  for XS (xsnap): Moddable's "crypt" module source (its Digest class) and XS's
//                          Uint8Array toBase64/fromBase64, which xsnap's older XS lacks
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import { join } from "node:path";
import { ROOT } from "./paths.js";

/** @type {Promise<string> | null} */
let compiled = null;

/** ES5 code defining `PortableCrypto` (sha1, sha256, base64Encode, base64Decode, ...). */
function portable() {
  return (compiled ||= (async () => {
    const b = await rollup({
      input: join(ROOT, "src/crypto/index.ts"),
      onwarn() {},
      plugins: [typescript({ tsconfig: join(ROOT, "tsconfig.espruino.json"), compilerOptions: { target: "ES5" }, include: [join(ROOT, "src/**/*.ts")] })],
    });
    const { output } = await b.generate({ format: "iife", name: "PortableCrypto", generatedCode: "es5", strict: false });
    await b.close();
    return output[0].code;
  })());
}

/** ES5 code that sets `Espruino.crypto`. */
export async function espruinoCryptoModel() {
  return `${await portable()}
Espruino.crypto = (function (C) {
  function bytes(m) { return typeof m == "string" ? E.toUint8Array(m) : m; }
  return {
    SHA1: function (m) { return C.sha1(bytes(m)).buffer; },
    SHA256: function (m) { return C.sha256(bytes(m)).buffer; }
  };
})(PortableCrypto);
`;
}

/** { script, crypt }: a script for the XS realm (PortableCrypto, base64 on Uint8Array), the "crypt" module's source. */
export async function moddableCryptoModel() {
  return {
    script: `${await portable()}
Uint8Array.prototype.toBase64 = function () { return PortableCrypto.base64Encode(this); };
Uint8Array.fromBase64 = function (s) { var b = PortableCrypto.base64Decode(s); if (!b) throw new SyntaxError("not base64"); return b; };
`,
    crypt: `export class Digest {
  constructor(type) { this.type = type; }
  process(...data) {
    let n = 0, i = 0;
    for (const d of data) n += d.byteLength;
    const all = new Uint8Array(n);
    for (const d of data) { all.set(new Uint8Array(d.buffer || d, d.byteOffset || 0, d.byteLength), i); i += d.byteLength; }
    return (this.type == "SHA1" ? PortableCrypto.sha1 : PortableCrypto.sha256)(all).buffer;
  }
}`,
  };
}
