// The QEMU platform check (test/qemu/platform.test.ts): HMAC-SHA256 and base64 through src/platform, which the QEMU
// build links to targets/qemu/platform.ts (the firmware's crypto.c). The harness sends one configuration line:
//
//   { cases: [[key, msg], ...] (each "x:<hex>", "r:<hex byte>:<count>" or "t:<ASCII text>"),
//     seed, n: that many more cases of pseudo-random bytes (the test's generator), decode: [base64 strings] }
//
// Console lines, for case i: "h <i> <hex HMAC(key, msg)>", "b <i> <base64(msg)>", "d <i> <hex of base64Decode of
// that>"; for decode string j: "D <j> <hex or null>"; then "done".

/// <reference path="./natives.d.ts" />
import { hmacSha256, base64Encode, base64Decode } from "../../src/platform";
import { startLoop, run } from "./transport";

var HEX = "0123456789abcdef";

function hex(b: Uint8Array | null): string {
  if (!b) return "null";
  for (var s = "", i = 0; i < b.length; i++) s += HEX.charAt(b[i] >> 4) + HEX.charAt(b[i] & 15);
  return s;
}

function bytes(spec: string): Uint8Array {
  var k = spec.charAt(0), v = spec.substr(2), b: Uint8Array, i: number, j: number;
  if (k == "t") {
    for (b = new Uint8Array(v.length), i = 0; i < v.length; i++) b[i] = v.charCodeAt(i);
  } else if (k == "r") {
    j = v.indexOf(":");
    for (b = new Uint8Array(+v.substr(j + 1)), i = 0; i < b.length; i++) b[i] = parseInt(v.substr(0, j), 16);
  } else for (b = new Uint8Array(v.length >> 1), i = 0; i < b.length; i++) b[i] = parseInt(v.substr(2 * i, 2), 16);
  return b;
}

// the test's generator (xorshift32): lengths 0-199, then the bytes
var x = 1;
function rand(): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

function random(): Uint8Array {
  for (var b = new Uint8Array(rand() % 200), i = 0; i < b.length; i++) b[i] = rand() & 255;
  return b;
}

function check(i: number, key: Uint8Array, msg: Uint8Array) {
  var b = base64Encode(msg);
  __print("h " + i + " " + hex(hmacSha256(key, msg)));
  __print("b " + i + " " + b);
  __print("d " + i + " " + hex(base64Decode(b)));
}

function main() {
  var cfg = JSON.parse(__config()), i: number;
  for (i = 0; i < cfg.cases.length; i++) check(i, bytes(cfg.cases[i][0]), bytes(cfg.cases[i][1]));
  for (x = cfg.seed, i = 0; i < cfg.n; i++) check(cfg.cases.length + i, random(), random());
  for (i = 0; i < cfg.decode.length; i++) __print("D " + i + " " + hex(base64Decode(cfg.decode[i])));
  __print("done");
  __exit(0);
}

startLoop();
run(main);
