// Development-only names for the error codes (production device bundles leave this file out).
import * as E from "./errors";

/** "E_REFUSED_CREDENTIALS" for -14, or "E?-99" for an unknown code. */
export function errorName(code: number): string {
  var k: string;
  for (k in E) if ((E as { [k: string]: number })[k] === code) return k;
  return "E?" + code;
}
