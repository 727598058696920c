// The Espruino target's native SHA-256 (targets/espruino/crypto.ts): on the Node model of Espruino, with
// `require("crypto").SHA256` modelled as Espruino's (bytes or a string in, a 32-byte ArrayBuffer out), the
// HMAC and the SAS tokens equal the built-in ones; without the module the built-in is used; and a device of
// the hub entry signs with it against the hub emulator (which checks the signature).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installEspruino, Model } from "../helpers/espruino-model";
// @ts-ignore the emulator is JavaScript without declarations
import { startHub } from "../../tools/hub/index.js";
import { nativeHmac } from "../../targets/espruino/crypto";
import { createDevice } from "../../targets/espruino/hub";
import { hmacSha256 } from "../../src/crypto/hmac";
import { sasToken } from "../../src/iothub/sas";

let model: Model | null = null;
let calls = 0;

/** Espruino's crypto module as jswrap_crypto.c has it: SHA256(message) -> ArrayBuffer(32); strings are bytes. */
const espruinoCrypto = {
  SHA256(m: string | Uint8Array): ArrayBuffer {
    calls++;
    const b = typeof m == "string" ? Buffer.from(m, "latin1") : Buffer.from(m.buffer, m.byteOffset, m.length);
    const d = createHash("sha256").update(b).digest();
    return d.buffer.slice(d.byteOffset, d.byteOffset + 32) as ArrayBuffer;
  },
};

/** The model, its require() also answering "crypto" when `crypto` is given (as a board built with it). */
function install(crypto: object | null): Model {
  const m = installEspruino({ servername: "localhost" });
  const g = globalThis as any, req = g.require;
  g.require = (name: string) => (name == "crypto" && crypto ? crypto : req(name));
  return m;
}

test.after.each(() => {
  model?.restore();
  model = null;
});

test("HMAC over the native SHA-256 equals the built-in one (keys short, 64 bytes, longer; messages empty to 200 bytes)", () => {
  model = install(espruinoCrypto);
  const h = nativeHmac();
  assert.type(h, "function");
  calls = 0;
  for (const kl of [0, 1, 16, 32, 63, 64, 65, 100]) {
    for (const ml of [0, 1, 55, 56, 64, 200]) {
      const key = new Uint8Array(kl).map((_, i) => (i * 13 + kl) & 255);
      const msg = new Uint8Array(ml).map((_, i) => (i * 7 + ml) & 255);
      const want = new Uint8Array(createHmac("sha256", key).update(msg).digest());
      assert.equal(h!(key, msg), want, `key ${kl}, message ${ml}`);
      assert.equal(hmacSha256(key, msg), want);
    }
  }
  assert.ok(calls >= 96, `the native hash did the work (${calls} calls)`);
});

test("a SAS token signed natively equals the built-in one", () => {
  model = install(espruinoCrypto);
  const key = Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");
  const uri = "myhub.azure-devices.net/devices/dev 1";
  assert.is(sasToken(uri, key, 1893456000, null, nativeHmac()), sasToken(uri, key, 1893456000));
  assert.is(sasToken(uri, key, 1893456000, "registration", nativeHmac()), sasToken(uri, key, 1893456000, "registration"));
});

test("without the crypto module (require throws) or without SHA256: undefined, the built-in HMAC is used", () => {
  model = install(null);
  assert.is(nativeHmac(), undefined);
  model.restore();
  model = install({});
  assert.is(nativeHmac(), undefined);
});

test("the hub entry signs with the native hash: the emulator accepts the device over TLS", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-esp-crypto-"));
  const hub = await startHub({ dir, log: false, mqttsPort: 0, httpsPort: null, dpsPort: null, adminPort: null });
  model = install(espruinoCrypto);
  calls = 0;
  let d: any = null;
  try {
    hub.registry.addDevice("esp-native");
    // the socket goes to 127.0.0.1 (GatewayHostName), the token still names the hub
    const cs = hub.registry.connectionString("esp-native").replace(/;GatewayHostName=[^;]*/, "") + ";GatewayHostName=127.0.0.1";
    let up = 0, closed = 0;
    d = createDevice({ connectionString: cs, port: hub.ports.mqtts, tls: { ca: hub.ca }, reconnect: false, onConnect: () => up++, onClose: () => closed++ });
    assert.type(d, "object");
    d.connect();
    const end = Date.now() + 5000;
    while (!up && !closed && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.is(up, 1, "connected (SAS accepted)");
    assert.ok(hub.connected("esp-native"));
    assert.ok(calls >= 2, `the token was signed with the native SHA-256 (${calls} calls)`);
  } finally {
    if (d && typeof d == "object") await new Promise<void>((r) => d.end(r));
    model.restore();
    model = null;
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
