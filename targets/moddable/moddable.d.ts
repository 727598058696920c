// The Moddable SDK modules the target glue imports: the ECMA-419 TCP and TLS sockets, XS timers, and the
// classic `socket` / `securesocket` modules (the subset used here, as the Moddable SDK implements them).

/** A certificate or key in DER (binary) form, e.g. `new Resource("ca.der")`. */
type DER = ArrayBuffer | ArrayBufferView;

declare module "embedded:io/socket/tcp" {
  interface TCPOptions {
    address: string;
    port: number;
    nodelay?: boolean;
    onReadable?(this: any, count: number): void;
    onWritable?(this: any, count: number): void;
    onError?(this: any): void;
  }
  /** ECMA-419 TCP socket: read() returns an ArrayBuffer of the bytes available; write() throws past the writable count and returns the new count. */
  export default class TCP {
    constructor(options: TCPOptions);
    read(): ArrayBuffer | undefined;
    write(data: ArrayBuffer | ArrayBufferView): number;
    close(): void;
  }
}

declare module "embedded:io/socket/tcp/tls" {
  import TCP, { TCPOptions } from "embedded:io/socket/tcp";
  /** What Moddable's TLS session (modules/crypt/ssl) reads from `secure`. */
  interface SecureOptions {
    /** The CA certificate to trust, DER; without it the certificate store in the app's resources is used. */
    certificate?: DER;
    /** The client certificate chain (X.509 authentication), DER. */
    clientCertificates?: DER[];
    /** The client's private key, PKCS#8 DER. */
    clientKey?: DER;
    /** SNI and the name the certificate is checked against (default: `host`). */
    serverName?: string;
    /** false: the server's certificate is not verified (development only). */
    verify?: boolean;
    protocolVersion?: number;
  }
  interface TLSOptions extends TCPOptions {
    /** The server's name (SNI); the socket itself connects to `address`. */
    host: string;
    /** The TCP socket class the TLS socket runs over. */
    TCP: { io: typeof TCP };
    secure: SecureOptions;
  }
  /**
   * Moddable's ECMA-419 TLS client socket (examples/io/tcp/tlssocket): the TCP contract, with callbacks
   * called on an internal object (not the socket), onWritable only after the handshake (count less a
   * 96-byte TLS allowance), and write() answering a count that does not shrink with each write.
   */
  export default class TLSSocket {
    constructor(options: TLSOptions);
    read(): ArrayBuffer | undefined;
    write(data: ArrayBuffer | ArrayBufferView): number;
    close(): void;
  }
}

declare module "socket" {
  interface SocketOptions {
    host?: string;
    address?: string;
    port: number;
  }
  /**
   * The classic Moddable socket: it resolves `host` itself and reports through `callback(message, value)`:
   * 1 connected, 2 readable (value: bytes to read now, in the callback), 3 writable (value: bytes that
   * may be written), -1 disconnected, -2 error. write() with no argument answers the bytes that may be
   * written; a write of more throws.
   */
  export class Socket {
    constructor(options: SocketOptions);
    callback: (message: number, value?: number) => void;
    read(type: typeof ArrayBuffer): ArrayBuffer | undefined;
    write(): number;
    write(data: ArrayBuffer | ArrayBufferView): void;
    close(): void;
    static readonly connected: 1;
    static readonly readable: 2;
    static readonly writable: 3;
    static readonly disconnected: -1;
    static readonly error: -2;
  }
}

declare module "securesocket" {
  import { Socket, SocketOptions } from "socket";
  /**
   * The classic TLS socket (modules/crypt/securesocket): Socket's callback messages; write() with no
   * argument always answers 1024 (the most one write may carry), the TCP socket underneath is `sock`.
   */
  export default class SecureSocket {
    constructor(options: SocketOptions & { secure: import("embedded:io/socket/tcp/tls").SecureOptions });
    callback: (message: number, value?: number) => void;
    read(type: typeof ArrayBuffer): ArrayBuffer | undefined;
    write(): number;
    write(data: ArrayBuffer | ArrayBufferView): void;
    close(): void;
    sock?: Socket;
  }
}

declare module "crypt" {
  /** A hash (crypt/digest): "SHA1", "SHA256", ...; process(...data) hashes them all and gives the digest. */
  export class Digest {
    constructor(type: string);
    process(...data: (ArrayBuffer | ArrayBufferView)[]): ArrayBuffer;
  }
}

/** XS's base64 on typed arrays (ES2026 Uint8Array to/from base64, in Moddable's XS). */
interface Uint8Array {
  toBase64(): string;
}
interface Uint8ArrayConstructor {
  fromBase64(s: string): Uint8Array;
}

declare module "time" {
  /** Moddable's clock module: `ticks` is a monotonic millisecond counter (wall time, Date.now(), moves with SNTP). */
  const Time: { readonly ticks: number };
  export default Time;
}

declare module "timer" {
  const Timer: {
    set(fn: () => void, ms?: number, repeat?: number): unknown;
    clear(id: unknown): void;
  };
  export default Timer;
}

/** ECMA-419 host provider: `device.network.dns` resolves host names when present. */
interface ModdableDNS {
  io: new (options: unknown) => {
    resolve(request: { host: string; onResolved(host: string, address: string): void; onError(): void }): void;
  };
}
