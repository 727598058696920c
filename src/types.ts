// The two things a target gives the library: a byte stream and a clock.

/** TLS settings, passed through to the target's TLS socket. `null` means plain TCP. */
export interface TlsOptions {
  ca?: unknown;
  cert?: unknown;
  key?: unknown;
  servername?: string;
  rejectUnauthorized?: boolean;
}

/** Events a transport reports to its user. */
export interface TransportEvents {
  onOpen(): void;
  /** A chunk of received bytes; valid only during the call. */
  onData(chunk: Uint8Array): void;
  /** The transport can take writes again after write() returned 0. */
  onWritable(): void;
  /** The connection ended; err is 0 for an orderly close or a negative error code. */
  onClose(err: number): void;
}

/** A byte stream. write() is all-or-nothing: it copies and returns len, returns 0 (try after onWritable), or <0. */
export interface Transport {
  open(host: string, port: number, tls: TlsOptions | null, events: TransportEvents): void;
  write(buf: Uint8Array, off: number, len: number): number;
  close(): void;
}

/** Milliseconds and timers; now() may wrap, callers subtract. */
export interface Clock {
  now(): number;
  set(fn: () => void, ms: number): unknown;
  clear(t: unknown): void;
}

/** A payload: a string is sent as UTF-8, bytes as they are. */
export type Payload = string | Uint8Array;

/**
 * A payload the client reads in pieces instead of holding it: `size` bytes, `read(pos, buf, off, len)` copies `len`
 * of them from `pos` into `buf` at `off` and returns the count (`len`), or a negative number when it cannot. It must
 * give the same bytes every time: a QoS 1 message is read again when it is sent again after a reconnect.
 */
export interface PayloadSource {
  size: number;
  read(pos: number, buf: Uint8Array, off: number, len: number): number;
}
