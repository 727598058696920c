// The Espruino entries (rollup.config.js ENTRIES generates each from one line): a core function wrapped with the
// board's parts, after checking that the session's variables are free.
import { withPlatform } from "../../src/options";
import type { Transport } from "../../src/types";
import { espruinoClock, espruinoTransport, roomFor } from "./transport";
export { CLIENT_VARS, DEVICE_VARS, STORE_VARS, espruinoTransport as platformTransport } from "./transport";

/**
 * `core` taking options without transport and clock: Espruino's net/tls sockets (or `transport(o)`, e.g. a
 * WebSocket over them) and timers fill in a copy. E_NO_MEMORY (returned, or given to `done`) when fewer than `vars`
 * variables plus the buffer's are free: an allocation failing inside Espruino would interrupt the caller instead.
 */
export function entry(core: (o: any, done?: any) => any, vars: number, transport?: (o: any) => Transport) {
  return function (o: any, done?: (err: number) => void): any {
    var r = roomFor(vars, o.bufferSize);
    if (r) return done ? done(r) : r;
    return core(withPlatform(o, transport ? function () { return transport(o); } : espruinoTransport, espruinoClock), done);
  };
}
