// The Moddable entries (rollup.config.js ENTRIES generates each from one line): a core function wrapped with the
// runtime's parts.
import { withPlatform } from "../../src/options";
import type { Transport } from "../../src/types";
import { moddableClock, moddableTransport } from "./transport";
export { moddableTransport as platformTransport } from "./transport";

/** Variables to keep free (Espruino's measure; XS has no such check). */
export var CLIENT_VARS = 0, DEVICE_VARS = 0, STORE_VARS = 0;

/** `core` taking options without transport and clock: the ECMA-419 socket (or `transport(o)`) and XS timers fill in a copy. */
export function entry(core: (o: any, done?: any) => any, vars: number, transport?: (o: any) => Transport) {
  return function (o: any, done?: (err: number) => void): any {
    return core(withPlatform(o, transport ? function () { return transport(o); } : moddableTransport, moddableClock), done);
  };
}
