// A seeded PRNG (xoshiro-free, small: mulberry32) so random tests can be replayed:
// every random test prints its seed when it fails; set SEED=<n> to replay.

export interface Rng {
  readonly seed: number;
  /** Float in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(a: readonly T[]): T;
  bytes(n: number): Uint8Array;
}

export function createRng(seed = process.env.SEED ? +process.env.SEED : (Math.random() * 2 ** 32) >>> 0): Rng {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    range: (lo, hi) => lo + int(hi - lo + 1),
    chance: (p) => next() < p,
    pick: (a) => a[int(a.length)],
    bytes(n) {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = int(256);
      return b;
    },
  };
}

/** Runs `body`, adding the seed to any failure so it can be replayed with SEED=<seed>. */
export function withSeed(rng: Rng, body: () => void): void {
  try {
    body();
  } catch (e) {
    const err = e as Error;
    err.message = `[replay with SEED=${rng.seed}] ${err.message}`;
    console.error(`\n  random test failed; replay with SEED=${rng.seed}`);
    throw err;
  }
}

/** Code points a topic may hold: ASCII, 2-, 3- and 4-byte UTF-8 (no U+0000, no surrogates, no wildcards). */
const RANGES: [number, number][] = [[0x61, 0x7a], [0x30, 0x39], [0x2f, 0x2f], [0xa0, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xfffd], [0x10000, 0x10ffff]];

/** A random topic name of 1..maxChars code points, never containing '+', '#' or U+0000. */
export function randomTopic(rng: Rng, maxChars = 40): string {
  let s = '';
  const n = rng.range(1, maxChars);
  for (let i = 0; i < n; i++) {
    const r = rng.chance(0.6) ? RANGES[rng.int(3)] : rng.pick(RANGES);
    s += String.fromCodePoint(rng.range(r[0], r[1]));
  }
  return s;
}

/** Cuts `b` into random chunks: sometimes one byte at a time, sometimes whole, mostly random sizes. */
export function randomChunks(rng: Rng, b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [], mode = rng.int(4);
  for (let i = 0; i < b.length; ) {
    const k = mode == 0 ? 1 : mode == 1 ? b.length : rng.range(1, mode == 2 ? 8 : 700);
    out.push(b.subarray(i, i + k));
    i += k;
  }
  return out;
}
