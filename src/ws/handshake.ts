// RFC 6455 §4.1 opening handshake, client side: the key, the upgrade request, the expected accept value.
// Runs once per connection, so plain strings are fine here.
import { utf8Length, utf8Write, sha1, base64Encode } from "../platform";
import { E_BUFFER } from "../errors";

/** The GUID a server appends to the key (RFC 6455 §1.3). */
export const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** A Sec-WebSocket-Key: 16 random bytes in base64 (RFC 6455 §4.1 item 7); `rng` gives numbers in [0, 1). */
export function wsKey(rng: () => number): string {
  for (var b = new Uint8Array(16), i = 0; i < 16; i++) b[i] = rng() * 256;
  return base64Encode(b);
}

/**
 * The Sec-WebSocket-Accept a server must answer to `key`: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2 item 5.4); ""
 * when the platform has no SHA-1 (an Espruino build without its crypto module).
 */
export function wsAccept(key: string): string {
  var s = key + WS_GUID, b = new Uint8Array(s.length), h: Uint8Array | null; // base64 and the GUID are ASCII
  utf8Write(b, 0, s);
  h = sha1(b);
  return h ? base64Encode(h) : "";
}

/**
 * Writes the upgrade request (RFC 6455 §4.1) into b[0..cap): GET `path`, Host, Upgrade, Connection,
 * the key, version 13 and the subprotocol. Returns its length, or E_BUFFER when it does not fit.
 */
export function encodeUpgrade(b: Uint8Array, cap: number, path: string, host: string, key: string, protocol: string): number {
  var s = "GET " + path + " HTTP/1.1\r\nHost: " + host +
    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
    "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " + protocol + "\r\n\r\n",
    n = utf8Length(s);
  return n < 0 || n > cap ? E_BUFFER : utf8Write(b, 0, s);
}
