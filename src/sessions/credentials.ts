// Credentials, checked once and shared by every IoT Hub session (MQTT, HTTPS, DPS): the connection info from a
// connection string or from fields, and one token source that signs SAS tokens against wall time.
import { E_CLOCK, E_TOKEN_EXPIRED } from "../iothub/errors";
import { checkConnectionInfo, parseConnectionString, ConnectionInfo } from "../iothub/connstr";
import { sasToken, sasExpiry, Hmac } from "../iothub/sas";
import { TOKEN_LIFETIME, TOKEN_RENEW_BEFORE } from "../iothub/limits";

/** Seconds since the epoch below which a wall clock is taken as not set yet (2020-01-01: boards boot at 1970). */
export var WALL_CLOCK_SET = 1577836800;

/** Connection info from `o.connectionString`, or from the fields of `o` with the same checks; a negative code. */
export function connectionInfo(o: { connectionString?: string }): ConnectionInfo | number {
  return o.connectionString ? parseConnectionString(o.connectionString) : checkConnectionInfo(o);
}

/** A token and how many seconds it serves: until its renewal (a signed one), its expiry (a fixed one), 0 for none. */
export interface Token { _t: string; _s: number }

export interface TokenOptions {
  /** Seconds a signed token lives (default 3600); it is renewed TOKEN_RENEW_BEFORE (300 s) before it expires. */
  tokenLifetime?: number;
  /** Seconds since the epoch (default Date.now() / 1000). */
  time?: () => number;
  hmac?: Hmac;
}

/**
 * A token source for `resource`: tokens signed with `info.sharedAccessKey` (policy `sharedAccessKeyName`), the fixed
 * `sharedAccessSignature`, or "" (X.509). E_CLOCK while the wall clock is not set: a signed token would be dated
 * 1970 and refused; a fixed one is sent without judging its expiry. E_TOKEN_EXPIRED once a fixed token expired.
 */
export function tokenSource(info: ConnectionInfo, resource: string, o: TokenOptions): () => Token | number {
  return function () {
    var now = Math.floor(o.time ? o.time() : Date.now() / 1000), life = o.tokenLifetime || TOKEN_LIFETIME, t: string | number, e: number;
    if (info.sharedAccessKey) {
      if (now < WALL_CLOCK_SET) return E_CLOCK;
      t = sasToken(resource, info.sharedAccessKey, now + life, info.sharedAccessKeyName, o.hmac);
      if (typeof t == "number") return t;
      e = life - TOKEN_RENEW_BEFORE;
      return { _t: t, _s: e < life >> 1 ? life >> 1 : e };
    }
    if (info.sharedAccessSignature) {
      e = sasExpiry(info.sharedAccessSignature);
      if (now < WALL_CLOCK_SET) return { _t: info.sharedAccessSignature, _s: 0 };
      return e > now ? { _t: info.sharedAccessSignature, _s: e - now } : E_TOKEN_EXPIRED;
    }
    return { _t: "", _s: 0 };
  };
}
