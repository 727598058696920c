// Development-only names for the error codes (production device bundles leave this file out).
import * as E from "./errors";
import * as H from "./iothub/errors";

/** "E_REFUSED_CREDENTIALS" for -14, "OK" for 0, or "E?-99" for an unknown code. */
export function errorName(code: number): string {
  var k: string;
  if (!code) return "OK";
  for (k in E) if ((E as any)[k] === code) return k;
  for (k in H) if ((H as any)[k] === code) return k;
  return "E?" + code;
}
