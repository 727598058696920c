// Types for session.js (imported by test/qemu).
import type { Image } from "./build.js";

export interface Plan { pool: number; expect: "pass" | "no-memory" }
export interface Heap {
  pool: number; engine: number; compiled: number; started: number; peak: number; live: number;
  fails: number; gcRuns: number; stack: number;
}
export interface Result {
  pool: number; expect: string; ok: boolean; failures: string[]; exit: number | null; timedOut: boolean;
  ms: number; heap: Heap; image: Image; noMemory: string | null; reconnects: number; messages: number;
  lines: string[]; stats: { toBroker: number; toDevice: number; dropped: number; connections: number };
}
export interface BenchHub { ports: { plain?: number }; stop(): Promise<void>; [k: string]: any }

export const ERROR_NAMES: { [code: string]: string };
export const SCENARIO: { n: number; every: number; ka: number; cutAfter: number; cutMs: number; deadline: number };
export const PLANS: Plan[];
export const PEAK_BUDGET: number;
export const PEAK_GOAL: number;
export function startBenchHub(o?: { log?: ((line: string) => void) | false }): Promise<BenchHub>;
export function runSession(hub: BenchHub, plan: Plan, o?: { log?: (line: string) => void; timeoutMs?: number }): Promise<Result>;
