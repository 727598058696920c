// A Node transport that keeps every byte the client writes: the tests read the wire back (a CONNECT, an HTTP request,
// a WebSocket upgrade and its frames).
import { nodeTransport } from "../../targets/node/index";
import type { Transport } from "../../targets/node/index";

export function recording(): Transport & { bytes: number[]; text: (encoding?: BufferEncoding) => string } {
  const t = nodeTransport(), bytes: number[] = [];
  return Object.assign(Object.create(t), {
    bytes,
    text: (encoding: BufferEncoding = "utf8") => Buffer.from(bytes).toString(encoding),
    write(b: Uint8Array, off: number, len: number) {
      const n = t.write(b, off, len);
      if (n > 0) for (let i = 0; i < n; i++) bytes.push(b[off + i]);
      return n;
    },
  });
}
