// What every entry does to the caller's options: nothing. The platform's parts go into a copy.
import { Transport, Clock } from "./types";

/** A copy of `o` with `transport()` and `clock` where it has none: an entry never changes the caller's object. */
export function withPlatform(o: any, transport: () => Transport, clock: Clock): any {
  var c: any = {}, k: string;
  for (k in o) c[k] = o[k];
  c.transport = o.transport || transport();
  c.clock = o.clock || clock;
  return c;
}
