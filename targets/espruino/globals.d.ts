// Espruino's module loader and timers, declared only for the Espruino build (Node has its own;
// espruino.d.ts, with E and the socket types, is shared with the Node-side tests of this target).

declare function require(module: "net" | "tls"): EspruinoNet;
/** Boards built with crypto (the ESP32 builds, with TLS): hashes of a string or bytes as an ArrayBuffer. */
declare function require(module: "crypto"): EspruinoCrypto;

declare function setTimeout(fn: () => void, ms: number): any;
/** Throws for an id that already fired or was cleared; clears every timer when called with no argument. */
declare function clearTimeout(id: unknown): void;
/** Base64 to a binary string, and back. */
declare function atob(s: string): string;
declare function btoa(s: string): string;
declare var process: EspruinoProcess;
