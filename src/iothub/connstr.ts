// Device connection strings: HostName=...;DeviceId=...;SharedAccessKey=... (azure-iot-common
// connection_string.ts; key names as the Azure portal writes them, case-sensitive).
import { base64Decode } from "../platform";
import { sasExpiry } from "./sas";
import {
  E_CS_SYNTAX, E_CS_HOST, E_CS_DEVICE, E_CS_CREDENTIAL, E_CS_KEY, E_CS_UNKNOWN, E_CS_DUPLICATE, E_CS_MODULE, E_CS_VALUE
} from "./errors";

/** A parsed device connection string; property names as the Node SDK's TransportConfig. */
export interface ConnectionInfo {
  host: string;
  deviceId: string;
  moduleId?: string;
  sharedAccessKey?: string;
  sharedAccessKeyName?: string;
  sharedAccessSignature?: string;
  x509?: boolean;
  gatewayHostName?: string;
}

// the keys, each between spaces, and the names of the fields they become (HostName -> host, DeviceId -> deviceId...)
var KEYS = " HostName DeviceId ModuleId SharedAccessKey SharedAccessKeyName SharedAccessSignature x509 GatewayHostName ";
var FIELDS = " host deviceId moduleId sharedAccessKey sharedAccessKeyName sharedAccessSignature x509 gatewayHostName ";

// the characters IoT Hub allows in device and module ids, at most 128 (IoT Hub identity registry doc)
function badId(id: string): boolean {
  return id.length > 128 || !/^[A-Za-z0-9_.%*?!(),:=@$'-]+$/.test(id);
}

/**
 * Parses `;`-separated `key=value` pairs (split on the first "="; empty segments skipped) with exactly one
 * credential: SharedAccessKey (optionally with SharedAccessKeyName), SharedAccessSignature, or x509=true.
 */
export function parseConnectionString(s: string): ConnectionInfo | number {
  var o: any = {}, parts = s.split(";"), i = 0, p: string, e: number, k: string;
  for (; i < parts.length; i++) {
    p = parts[i];
    if (!p) continue;
    e = p.indexOf("=");
    if (e < 1) return E_CS_SYNTAX;
    k = p.substr(0, e);
    if (KEYS.indexOf(" " + k + " ") < 0) return E_CS_UNKNOWN;
    // HostName -> host, the others by their first letter lower-cased (DeviceId -> deviceId)
    k = k == "HostName" ? "host" : k.charAt(0).toLowerCase() + k.substr(1);
    if (o[k] != null) return E_CS_DUPLICATE;
    o[k] = p.substr(e + 1);
  }
  return checkConnectionInfo(o);
}

/**
 * The same checks for connection info given as fields (host, deviceId, ... as options): a copy with `x509`
 * true or absent, or the code a connection string with these values would get.
 */
export function checkConnectionInfo(f: any): ConnectionInfo | number {
  var o: any = {}, k: string, e: number, key: Uint8Array | null;
  for (k in f) if (FIELDS.indexOf(" " + k + " ") >= 0 && f[k] != null) o[k] = f[k];
  if (!o.host) return E_CS_HOST;
  if (!o.deviceId || badId(o.deviceId)) return E_CS_DEVICE;
  if (o.moduleId != null && badId(o.moduleId)) return E_CS_MODULE;
  if (o.x509 != null) {
    if (("" + o.x509).toLowerCase() != "true") return E_CS_VALUE;
    o.x509 = true;
  }
  if ((o.sharedAccessKey != null ? 1 : 0) + (o.sharedAccessSignature != null ? 1 : 0) + (o.x509 ? 1 : 0) != 1 ||
    (o.sharedAccessKeyName != null && o.sharedAccessKey == null)) return E_CS_CREDENTIAL;
  if (o.sharedAccessKey != null) {
    key = base64Decode(o.sharedAccessKey);
    if (!key || !key.length) return E_CS_KEY;
  }
  if (o.sharedAccessSignature != null) {
    e = sasExpiry(o.sharedAccessSignature);
    if (e < 0) return e;
  }
  return o;
}
