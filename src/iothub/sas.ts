// Shared access signature tokens (IoT Hub security doc, "Security tokens"; azure-iot-common
// shared_access_signature.ts; Embedded C az_iot_hub_client_sas.c). HMAC is injectable: a target may pass
// a native one; the default is the portable src/crypto.
import { utf8Write, base64Decode, base64Encode, hmacSha256 } from "../platform";
import { E_ARGUMENT, E_NO_CRYPTO } from "../errors";
import { urlEncode } from "./url";
import { propertyBagParse } from "./bag";
import { decimal, devicePath } from "./topic";
import { E_CS_KEY, E_TOKEN } from "./errors";

export { urlEncode, urlDecode } from "./url";

/** HMAC-SHA256(key, msg), 32 bytes. */
export type Hmac = (key: Uint8Array, msg: Uint8Array) => Uint8Array;

var PREFIX = "SharedAccessSignature ";

// base64(HMAC(base64decode(key), utf8(msg))), or E_CS_KEY / E_ARGUMENT
function sign(keyBase64: string, msg: string, hmac?: Hmac): string | number {
  var key = base64Decode(keyBase64), n = utf8Write(null, 0, msg), m: Uint8Array;
  if (!key || !key.length) return E_CS_KEY;
  if (n < 0) return E_ARGUMENT;
  utf8Write(m = new Uint8Array(n), 0, msg);
  m = (hmac || hmacSha256)(key, m);
  return m ? base64Encode(m) : E_NO_CRYPTO;
}

/**
 * `SharedAccessSignature sr={urlenc(uri)}&sig={urlenc(base64(HMAC(key, urlenc(uri) + "\n" + expiry)))}&se={expiry}[&skn={policy}]`;
 * `expiry` in seconds since the epoch; E_CS_KEY for a bad key, E_ARGUMENT for an expiry not a positive integer.
 */
export function sasToken(resourceUri: string, keyBase64: string, expiry: number, policyName?: string | null, hmac?: Hmac): string | number {
  var sr = urlEncode(resourceUri), sig: string | number;
  if (!(expiry > 0 && expiry % 1 == 0)) return E_ARGUMENT;
  sig = sign(keyBase64, sr + "\n" + expiry, hmac);
  if (typeof sig == "number") return sig;
  return PREFIX + "sr=" + sr + "&sig=" + urlEncode(sig) + "&se=" + expiry + (policyName ? "&skn=" + urlEncode(policyName) : "");
}

/** The `se` (expiry, seconds since the epoch) of a token; E_TOKEN if it is not `SharedAccessSignature ` with sr, sig and a numeric se. */
export function sasExpiry(token: string): number {
  var q = token.indexOf(PREFIX) == 0 ? propertyBagParse(token.substr(PREFIX.length)) : E_TOKEN;
  return typeof q == "number" || !q.sr || !q.sig || decimal(q.se) < 1 ? E_TOKEN : decimal(q.se);
}

/** `{host}/devices/{deviceId}` or `{host}/devices/{deviceId}/modules/{moduleId}`: the `sr` of a device or module token (the hub host, also behind a gateway). */
export function deviceResourceUri(host: string, deviceId: string, moduleId?: string | null): string {
  return host + "/" + devicePath(deviceId, moduleId);
}

/** `{idScope}/registrations/{registrationId}`: the `sr` of a DPS token, signed with policy name "registration" (DPS symmetric key doc). */
export function dpsResourceUri(idScope: string, registrationId: string): string {
  return idScope + "/registrations/" + registrationId;
}

/** A DPS group enrollment's device key: base64(HMAC(base64decode(groupKey), registrationId)) (DPS symmetric key doc, "Derive a device key"). */
export function deriveDeviceKey(groupKeyBase64: string, registrationId: string, hmac?: Hmac): string | number {
  return sign(groupKeyBase64, registrationId, hmac);
}
