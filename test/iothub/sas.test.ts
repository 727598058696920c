import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHmac } from "node:crypto";
import { sasToken, sasExpiry, deviceResourceUri, dpsResourceUri, deriveDeviceKey, urlEncode, urlDecode } from "../../src/iothub/sas";
import { E_CS_KEY, E_TOKEN } from "../../src/iothub/errors";
import { E_ARGUMENT } from "../../src/errors";

const KEY = Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");
const SE = 1700000000;
const HUB = "myhub.azure-devices.net";

// computed independently with Node's crypto, the way the Node SDK does it
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
function reference(uri: string, key: string, se: number, skn?: string): string {
  const sr = enc(uri);
  const sig = createHmac("sha256", Buffer.from(key, "base64")).update(sr + "\n" + se).digest("base64");
  return "SharedAccessSignature sr=" + sr + "&sig=" + enc(sig) + "&se=" + se + (skn ? "&skn=" + enc(skn) : "");
}
const nodeHmac = (k: Uint8Array, m: Uint8Array) => new Uint8Array(createHmac("sha256", k).update(m).digest());

test("resource URIs", () => {
  assert.is(deviceResourceUri(HUB, "dev1"), "myhub.azure-devices.net/devices/dev1");
  assert.is(deviceResourceUri(HUB, "dev1", "mod1"), "myhub.azure-devices.net/devices/dev1/modules/mod1");
  assert.is(dpsResourceUri("0ne00000A0A", "reg-1"), "0ne00000A0A/registrations/reg-1");
});

test("device token: golden string, and equal to Node's crypto", () => {
  const uri = deviceResourceUri(HUB, "dev1");
  const t = sasToken(uri, KEY, SE);
  assert.is(t, "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=wosmA3uJK9T0mdB5CIYn%2BsAVA2ODflnucuvNO5S6mbM%3D&se=1700000000");
  assert.is(t, reference(uri, KEY, SE));
});

test("module token", () => {
  const uri = deviceResourceUri(HUB, "dev1", "mod1");
  const t = sasToken(uri, KEY, SE);
  assert.is(t, "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1%2Fmodules%2Fmod1&sig=ZId0CjYzILqd7GGIpC99uIpjPK4fJTkYbrDAh8qYiy8%3D&se=1700000000");
  assert.is(t, reference(uri, KEY, SE));
});

test("DPS token with skn=registration", () => {
  const uri = dpsResourceUri("0ne00000A0A", "reg-1");
  const t = sasToken(uri, KEY, SE, "registration");
  assert.is(t, "SharedAccessSignature sr=0ne00000A0A%2Fregistrations%2Freg-1&sig=RLWw%2FUWoyW9SGQ9rdS489IOdoDYvtY88FZPXYmJOR5A%3D&se=1700000000&skn=registration");
  assert.is(t, reference(uri, KEY, SE, "registration"));
});

test("policy-key token: skn added, not signed", () => {
  const uri = deviceResourceUri(HUB, "dev1");
  const t = sasToken(uri, KEY, SE, "device");
  assert.is(t, "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=wosmA3uJK9T0mdB5CIYn%2BsAVA2ODflnucuvNO5S6mbM%3D&se=1700000000&skn=device");
  assert.is(sasToken(uri, KEY, SE, "my policy!"), reference(uri, KEY, SE, "my policy!"));
});

test("odd ids, long keys and many expiries agree with Node's crypto", () => {
  const longKey = Buffer.alloc(100, 7).toString("base64"); // over 64 bytes: hashed first (RFC 2104)
  for (const id of ["d", "dev!(1)*", "a:b=c@d$e'f", "x%20y"]) {
    for (const se of [1, 999999999, SE, 4102444800]) {
      for (const k of [KEY, longKey, "AA=="]) assert.is(sasToken(deviceResourceUri(HUB, id), k, se), reference(HUB + "/devices/" + id, k, se));
    }
  }
});

test("injectable HMAC: Node's gives the same token; a fake one is used as given", () => {
  const uri = deviceResourceUri(HUB, "dev1");
  assert.is(sasToken(uri, KEY, SE, null, nodeHmac), sasToken(uri, KEY, SE));
  let seen = "";
  const fake = (k: Uint8Array, m: Uint8Array) => { seen = Buffer.from(m).toString(); return new Uint8Array([251, 255]); };
  assert.is(sasToken(uri, KEY, SE, undefined, fake), "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=%2B%2F8%3D&se=1700000000");
  assert.is(seen, "myhub.azure-devices.net%2Fdevices%2Fdev1\n1700000000");
});

test("bad key -> E_CS_KEY; expiry not a positive integer -> E_ARGUMENT", () => {
  const uri = deviceResourceUri(HUB, "dev1");
  for (const k of ["", "not base64!", "A", "AAA=A"]) assert.is(sasToken(uri, k, SE), E_CS_KEY, k);
  for (const se of [0, -1, 1.5, NaN, Infinity]) assert.is(sasToken(uri, KEY, se), E_ARGUMENT, String(se));
});

test("sasExpiry reads se in any order", () => {
  assert.is(sasExpiry(sasToken(deviceResourceUri(HUB, "dev1"), KEY, SE) as string), SE);
  assert.is(sasExpiry(sasToken(dpsResourceUri("s", "r"), KEY, 12345, "registration") as string), 12345);
  // the Node SDK's order: sr, sig, skn, se
  assert.is(sasExpiry("SharedAccessSignature sr=h%2Fdevices%2Fd&sig=x%3D&skn=device&se=1700000001"), 1700000001);
});

test("sasExpiry: E_TOKEN for malformed tokens", () => {
  for (const t of ["", "SharedAccessSignature ", "sr=a&sig=b&se=1", "SharedAccessSignature sr=a&sig=b",
    "SharedAccessSignature sr=a&sig=b&se=", "SharedAccessSignature sr=a&sig=b&se=soon", "SharedAccessSignature sr=a&sig=b&se=0",
    "SharedAccessSignature sig=b&se=1", "SharedAccessSignature sr=a&se=1", "SharedAccessSignature sr=%zz&sig=b&se=1",
    "SharedAccessSignature sr=a&sig=b&se=-5", "sharedaccesssignature sr=a&sig=b&se=1"]) {
    assert.is(sasExpiry(t), E_TOKEN, t);
  }
});

test("deriveDeviceKey (DPS group enrollment) equals Node's crypto", () => {
  assert.is(deriveDeviceKey(KEY, "reg-1"), "YNjE5wCiB/QiFCiTQDa9LbvyCVWcu2EMyrO/zzqr7Ko=");
  assert.is(deriveDeviceKey(KEY, "reg-1", nodeHmac), "YNjE5wCiB/QiFCiTQDa9LbvyCVWcu2EMyrO/zzqr7Ko=");
  assert.is(deriveDeviceKey("nope!", "reg-1"), E_CS_KEY);
  assert.is(deriveDeviceKey(KEY, "\ud800"), E_ARGUMENT);
});

test("re-exports the URL codec", () => {
  assert.is(urlEncode("a/b"), "a%2Fb");
  assert.is(urlDecode("a%2Fb"), "a/b");
});

test.run();
