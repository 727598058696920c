// Byte helpers for annotated vectors: build arrays from readable parts, print them as hex,
// and surround an encoder's output with canary bytes.

/** A part of an annotated vector: a byte, a string (its raw UTF-8 bytes), bytes, or a list of parts. */
export type Part = number | string | Uint8Array | readonly Part[];

/** Concatenates parts into bytes: numbers are bytes, strings are UTF-8. */
export function u8(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  const add = (p: Part): void => {
    if (typeof p == 'number') out.push(p);
    else if (typeof p == 'string') out.push(...Buffer.from(p, 'utf8'));
    else if (p instanceof Uint8Array) out.push(...p);
    else for (const q of p) add(q);
  };
  for (const p of parts) add(p);
  return new Uint8Array(out);
}

/** An MQTT UTF-8 string [MQTT-1.5.3]: two length bytes (big-endian) then the bytes. */
export function mstr(s: string): number[] {
  const b = Buffer.from(s, 'utf8');
  return [b.length >> 8, b.length & 255, ...b];
}

/** Lower-case hex, bytes separated by spaces: "10 0c 00 04". */
export function hex(b: ArrayLike<number>): string {
  return Array.from(b, (x) => (x < 16 ? '0' : '') + x.toString(16)).join(' ');
}

export const CANARY = 0xa5;
/** Offset at which canary tests encode: not 0, so an encoder that ignores `off` is caught. */
export const AT = 3;

/** A buffer of `n` usable bytes at AT, with canary bytes before and `after` canary bytes past it. */
export function canaryBuffer(n: number, after = 8): Uint8Array {
  return new Uint8Array(AT + n + after).fill(CANARY);
}

/** Indices outside [from, to) whose byte is no longer the canary. */
export function trampled(b: Uint8Array, from: number, to: number): number[] {
  const bad: number[] = [];
  for (let i = 0; i < b.length; i++) if ((i < from || i >= to) && b[i] != CANARY) bad.push(i);
  return bad;
}

/** True when every byte of `b` is the canary (an encoder that refused wrote nothing). */
export function untouched(b: Uint8Array): boolean {
  return b.every((x) => x == CANARY);
}

/**
 * A view of `bytes` placed at AT inside canaries that throws on any index read outside
 * [AT, AT + bytes.length): decoders run on it prove they never read outside the frame.
 */
export function guarded(bytes: ArrayLike<number>): Uint8Array {
  const n = bytes.length, inner = canaryBuffer(n, 4);
  inner.set(bytes, AT);
  return new Proxy(inner, {
    get(t, k) {
      if (typeof k == 'string') {
        const i = +k;
        if (i === i && String(i) === k && (i < AT || i >= AT + n))
          throw new RangeError(`read at ${i - AT} outside the frame [0, ${n})`);
      }
      const v = Reflect.get(t, k);
      return typeof v == 'function' ? v.bind(t) : v;
    },
  });
}
