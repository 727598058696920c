// Types for tools/engines/index.js (used by the TypeScript tests in test/engines).

export interface Report { name: string; value: any; at: number }
export interface BridgeEvent { ev: string; id: number; n?: number; err?: number; address?: string | null }

export interface Host {
  reports: Report[];
  stats: { opens: number; writes: number; bytesOut: number; bytesIn: number; timers: number; events: number };
  /** Why connections failed on the Node side (TLS handshake errors). */
  errors: string[];
  /** The first report named `name` that `pred` accepts (rejects on timeout or on an "exception" report). */
  until(name: string, ms?: number, pred?: (v: any) => boolean, from?: number): Promise<any>;
  /** Removes and returns the reports named `name`. */
  take(name: string): any[];
  /** Sockets and timers still open on the Node side. */
  live(): { sockets: number; timers: number };
  /** Breaks the most recently opened connection (the engine sees it close with an error); false when none is open. */
  drop(): boolean;
  /** Holds timer expiries back (true), or delivers the held ones and stops holding (false). */
  hold(on: boolean): void;
  handle(msg: any, bytes: Uint8Array | null): void;
  onEvents: (batch: [BridgeEvent, Buffer | null][]) => void;
  close(): void;
}

export interface EngineOptions { entry: string; names?: Record<string, string>; log?: (line: string) => void }

export interface Engine {
  engine: "xs" | "duktape" | "quickjs";
  /** The bundle uses its own target glue over the bridge (Moddable; Espruino emulated): pass no transport or clock. */
  ownGlue: boolean;
  host: Host;
  /** Evaluates a script inside the engine; its value comes back through JSON. */
  eval(code: string): Promise<any>;
  close(): Promise<void>;
}

export interface XSEngine extends Engine {
  engine: "xs";
  slots: { empty: number; bridge: number; loaded: number; bundle: number };
  heapSlots(): Promise<number>;
  /** xsnap's meter, read without a collection. */
  meter(): Promise<{ currentHeapCount: number; [k: string]: number }>;
}

export interface DukHeap { used: number; peak: number; allocs: number }
export interface DuktapeEngine extends Engine {
  engine: "duktape";
  pid: number | undefined;
  /** Bytes in use after GC: the engine alone, with the bundle, with bundle + bridge + helpers. */
  atLoad: { empty: number; bundle: number; loaded: DukHeap };
  heap(): Promise<DukHeap>;
  stderr(): string;
}

export interface QuickJSMemory { memory_used_size: number; memory_used_count: number; malloc_count: number; obj_count: number; [k: string]: number }
export interface QuickJSEngine extends Engine {
  engine: "quickjs";
  atLoad: { empty: QuickJSMemory; bundle: QuickJSMemory; loaded: QuickJSMemory };
  memory(): QuickJSMemory;
  dump(): string;
}

/** `extra`: more Moddable entries imported beside `entry`, their exports merged into `tinyhub` (e.g. ["classic"]). */
export function startXSEngine(opts: EngineOptions & { extra?: string[] }): Promise<XSEngine>;
export function startDuktapeEngine(opts: EngineOptions & { memoryKB?: number; timeoutMs?: number; espruino?: boolean }): Promise<DuktapeEngine>;
export function startQuickJSEngine(opts: EngineOptions & { memoryLimit?: number }): Promise<QuickJSEngine>;
export function dukHost(): string;
export function xsnapBinary(): string;
export function createHost(opts?: { names?: Record<string, string>; log?: (line: string) => void }): Host;
export function startXS(opts?: {
  onQuery?: (msg: Uint8Array) => Uint8Array | string | void;
  onPrint?: (line: string) => void;
  meteringLimit?: number;
  name?: string;
  cwd?: string;
}): {
  pid: number | undefined;
  evaluate(code: string): Promise<{ reply: Uint8Array; meter: { currentHeapCount: number; compute: number; allocate: number } }>;
  runModule(path: string): Promise<{ reply: Uint8Array; meter: { currentHeapCount: number; compute: number; allocate: number } }>;
  command(msg: Uint8Array | string): Promise<{ reply: Uint8Array; meter: { currentHeapCount: number; compute: number; allocate: number } }>;
  stderr(): string;
  close(): Promise<void>;
  kill(): void;
};

export type Target = { port: number } | { hub: any; deviceId: string };
export interface Counts { sent: number; received: number; acked: number; patches: number }
export interface QuickJSFigures {
  bundle: string; messages: number; warmup: number;
  empty: number; afterLoad: number; bundleBytes: number; connected: number; warm: number; end: number; growth: number;
  objects: { warm: number; end: number }; counts: Counts; pending: { sockets: number; timers: number; lookups: number }; ms: number;
}
export interface XSFigures {
  bundle: string; messages: number; warmup: number;
  empty: number; bridge: number; afterLoad: number; bundleSlots: number; connected: number; warm: number; end: number; growth: number; ended: number;
  counts: Counts; pending: { sockets: number; timers: number; lookups: number }; ms: number;
}
export function measureQuickJS(entry: string, target: Target, o?: { messages?: number; warmup?: number; timeoutMs?: number }): Promise<QuickJSFigures>;
export function measureXS(entry: string, target: Target, o?: { messages?: number; warmup?: number; timeoutMs?: number }): Promise<XSFigures>;
export function record(engine: string, entry: string, figures: object): any;
export const REPORT: string;
export const ROOT: string;
export function script(name: string): string;
export function bundlePath(rel: string): string;
