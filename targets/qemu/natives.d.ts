// The firmware's natives (targets/qemu/firmware/main.c), global functions in the Duktape heap.

/** A line on the console (UART0). */
declare function __print(s: string): void;
/** Bytes to the link (UART1): returns len, or 0 when the transmit ring is full (onWritable follows). */
declare function __uartWrite(buf: Uint8Array, off?: number, len?: number): number;
/** Milliseconds since reset (SysTick). */
declare function __now(): number;
/** Calls the bound timer callback once, `ms` from now; a negative value cancels. */
declare function __setTimer(ms: number): void;
/** Sets the wall clock behind Date (milliseconds since the epoch); the board has no RTC. */
declare function __setTime(epochMs: number): void;
/** The configuration line the harness sent on the link before anything else. */
declare function __config(): string;
/** [used, peak, fails, pool size, largest free block] of the JS heap pool, in bytes. */
declare function __heap(): number[];
/** A full garbage collection. */
declare function __gc(): void;
/** Hands the event loop its callbacks: onData(chunk, n) gets one reused Uint8Array of which n bytes count. */
declare function __bind(onData: (chunk: Uint8Array, n: number) => void, onTimer: () => void, onWritable: () => void): void;
/** Ends the run with this exit status once the current callback returns. */
declare function __exit(code: number): void;
/** Reads `len` bytes of the host file `path` (semihosting) at `pos` into `buf` at `off`: the count (0 when missing), or -1. */
declare function __fileRead(path: string, pos: number, buf: Uint8Array, off: number, len: number): number;
/** Writes `len` bytes at `pos` of the host file `path` (created when missing, emptied first when `create`): the count, or -1. */
declare function __fileWrite(path: string, pos: number, buf: Uint8Array, off: number, len: number, create: boolean): number;
/** Renames the host file `from` over `to` (the host's rename: atomic): 0 or -1. */
declare function __fileRename(from: string, to: string): number;
/** HMAC-SHA256 of `msg` under `key` (firmware/crypto.c): 32 bytes. */
declare function __hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array;
/** Base64 of `b` (RFC 4648 §4, padded). */
declare function __base64Encode(b: Uint8Array): string;
/** Bytes of base64 `s`, padded or not; null for a character outside the alphabet or a bad length or padding. */
declare function __base64Decode(s: string): Uint8Array | null;
