// Types for tools/engines/espruino.js and espruino-build.js (the real Espruino interpreter in the tests).
import type { Engine, Host } from "./index.js";

export type EspruinoVariant = "linux" | "esp32" | "esp8266";

export interface EspruinoOptions {
  /** dist/espruino/<entry>.js; none: the interpreter and the driver alone. */
  entry?: string;
  /** true (default): written to Storage and required from there; false: Modules.addCached with the text in RAM. */
  storage?: boolean;
  /** The build: "linux" (default, boards/LINUX.py), "esp32" or "esp8266" (tools/engines/espruino/*.py). */
  variant?: EspruinoVariant;
  /** JsVars of a board variant (ESPRUINO_VARIABLES; at most 16383 for esp32, 2047 for esp8266). */
  variables?: number;
  /** A board's JsVar count: `variables` becomes this plus what the test's driver and S helpers take (scaffoldOf). */
  board?: number;
  /** Ports on 127.0.0.1 the engine may reach, by name: each gets a proxy, its port in `engine.ports[name]`. */
  targets?: Record<string, number>;
  /** Variables taken and freed before loading, so the pool grows first (default 12288 on "linux", 0 on the fixed-size boards). */
  grow?: number;
  /** Milliseconds between JsVar samples (default 20). */
  sampleMs?: number;
  /** Send evaluated code as the Espruino IDE does to a build without Unicode: non-ASCII text as UTF-8 \xHH bytes (default: the board variants). */
  utf8Source?: boolean;
  /** Load test/engines/session.es5.js (S) after the bundle (default true). */
  helpers?: boolean;
  log?: (line: string) => void;
}

/** JsVar figures the driver reports once the bundle is loaded (process.memory() after a GC). */
export interface EspruinoLoad {
  /** JsVars the bare interpreter holds (before the driver). */
  bare: number;
  /** JsVars in use before the bundle (interpreter, driver, control socket), after it, and the difference. */
  base: number;
  loaded: number;
  bundle: number;
  /** JsVars of test/engines/session.es5.js (S), loaded after the bundle (0 with helpers: false). */
  helpers: number;
  /** The test's own JsVars: base - bare + helpers. */
  scaffold: number;
  /** The board count asked for (null without `board`). */
  board: number | null;
  usage: number;
  total: number;
  /** Bytes per JsVar in this build. */
  blocksize: number;
  peak: number;
  samples: number;
  flags: string[];
  loadMs: number;
  exports: string[];
}

export interface EspruinoMemory { usage: number; total: number; blocksize: number; peak: number; samples: number; flags: string[] }

export interface EspruinoEngine extends Omit<Engine, "engine" | "eval"> {
  engine: "espruino";
  /** Evaluates code at the global scope inside the interpreter; rejects on an exception or after `ms` (default 10000) without an answer. */
  eval(code: string, ms?: number): Promise<any>;
  ownGlue: true;
  variant: EspruinoVariant;
  host: Host;
  /** Proxy ports by target name (connect the engine's clients here). */
  ports: Record<string, number>;
  pid: number | undefined;
  dir: string;
  /** The Storage upload (bytes, CRC32 read back), null when nothing was loaded. */
  stored: { bytes: number; crc: number } | null;
  atLoad: EspruinoLoad;
  /** JsVars now, the highest sample so far, E.getErrorFlags(). */
  memory(): Promise<EspruinoMemory>;
  /** What the interpreter printed (latest 30,000 characters). */
  output(): string;
}

export function startEspruinoEngine(opts: EspruinoOptions): Promise<EspruinoEngine>;
export function writeStorage(bin: string, dir: string, files: Record<string, Uint8Array>, env?: Record<string, string>): Record<string, { bytes: number; crc: number }>;
export function utf8Source(code: string): string;
export function scaffoldOf(variant: EspruinoVariant): Promise<number>;
