// The few Espruino globals the target glue touches (https://www.espruino.com/Reference).

/** An Espruino socket from require("net") or require("tls"). Data arrives as binary strings. */
interface EspruinoSocket {
  on(event: "data", fn: (data: string) => void): void;
  on(event: "close", fn: (hadError?: boolean) => void): void;
  on(event: "error", fn: (err: { code?: number; message?: string }) => void): void;
  on(event: "drain", fn: () => void): void;
  /** Takes a (binary) string; a Uint8Array would be sent as decimal text. */
  write(data: string): unknown;
  end(): void;
}

interface EspruinoNet {
  connect(options: { host: string; port: number; ca?: unknown; cert?: unknown; key?: unknown }, onConnect: () => void): EspruinoSocket;
}

/** Espruino's crypto module (libs/crypto/jswrap_crypto.c): mbedTLS hashes of a string, array or typed array. */
interface EspruinoCrypto {
  SHA1?(message: string | Uint8Array): ArrayBuffer;
  SHA256?(message: string | Uint8Array): ArrayBuffer;
}

declare var E: {
  /** Binary string to bytes. */
  toUint8Array(s: string): Uint8Array;
  /** Bytes to a binary string; undefined when no flat string could be allocated. */
  toString(bytes: Uint8Array): string | undefined;
  /** True for a string Espruino holds as UTF-8 (Unicode builds only; absent with SAVE_ON_FLASH). */
  isUTF8?(s: string): boolean;
  /** The same bytes as a UTF-8 string; throws on builds without Unicode support. */
  asUTF8?(s: string): string;
};

/** Espruino's process: JsVar figures; `free` is what is left (process.memory(false): no garbage collection first). */
interface EspruinoProcess {
  memory(gc?: boolean): { free: number; usage: number; total: number; blocksize?: number };
}
