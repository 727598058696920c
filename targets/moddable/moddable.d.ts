// The Moddable SDK modules the target glue imports (ECMA-419 TCP socket, XS timers).

declare module "embedded:io/socket/tcp" {
  interface TCPOptions {
    address: string;
    port: number;
    nodelay?: boolean;
    onReadable?(this: TCP, count: number): void;
    onWritable?(this: TCP, count: number): void;
    onError?(this: TCP): void;
  }
  /** ECMA-419 TCP socket: read() returns an ArrayBuffer of the bytes available; write() throws past the writable count and returns the new count. */
  export default class TCP {
    constructor(options: TCPOptions);
    read(): ArrayBuffer | undefined;
    write(data: ArrayBuffer | ArrayBufferView): number;
    close(): void;
  }
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
