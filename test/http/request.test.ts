// The request head writer: golden bytes, canaries, too-small buffers, refused arguments.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { sizeRequest, encodeRequest } from "../../src/http/request";
import { E_ARGUMENT, E_BUFFER } from "../../src/errors";
import { AT, canaryBuffer, trampled, untouched } from "../helpers/bytes";

const test = suite("http/request");

const PATH = "/devices/dev%231/messages/events?api-version=2020-03-13";
const HEADERS = ["Host", "hub.azure-devices.net", "Authorization", "SharedAccessSignature sr=x&sig=y&se=1", "iothub-app-t", "21.5"];
const GOLDEN =
  "POST /devices/dev%231/messages/events?api-version=2020-03-13 HTTP/1.1\r\n" +
  "Host: hub.azure-devices.net\r\n" +
  "Authorization: SharedAccessSignature sr=x&sig=y&se=1\r\n" +
  "iothub-app-t: 21.5\r\n" +
  "Content-Length: 11\r\n" +
  "\r\n";

test("POST with a body: request line, headers in order, Content-Length, empty line", () => {
  const n = sizeRequest("POST", PATH, HEADERS, 11);
  assert.is(n, GOLDEN.length);
  const b = canaryBuffer(n);
  assert.is(encodeRequest(b, AT, "POST", PATH, HEADERS, 11), AT + n);
  assert.is(Buffer.from(b.subarray(AT, AT + n)).toString("latin1"), GOLDEN);
  assert.equal(trampled(b, AT, AT + n), []);
});

test("no body: no Content-Length (negative length); an empty body: Content-Length: 0", () => {
  const get = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  const b = new Uint8Array(64);
  assert.is(encodeRequest(b, 0, "GET", "/x", ["Host", "h"], -1), get.length);
  assert.is(Buffer.from(b.subarray(0, get.length)).toString(), get);
  const post = "POST /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
  assert.is(encodeRequest(b, 0, "POST", "/a", [], 0), post.length);
  assert.is(Buffer.from(b.subarray(0, post.length)).toString(), post);
});

test("values are written as UTF-8 and measured in bytes; tabs allowed in values", () => {
  const head = "PUT / HTTP/1.1\r\nX-V: é€😀\tz\r\n\r\n";
  const bytes = Buffer.from(head, "utf8");
  assert.is(sizeRequest("PUT", "/", ["X-V", "é€😀\tz"], -1), bytes.length);
  const b = new Uint8Array(bytes.length);
  assert.is(encodeRequest(b, 0, "PUT", "/", ["X-V", "é€😀\tz"], -1), bytes.length);
  assert.equal(Array.from(b), Array.from(bytes));
});

test("every buffer one byte too small gives E_BUFFER and writes nothing", () => {
  const n = sizeRequest("POST", PATH, HEADERS, 11);
  for (let len = 0; len < n; len++) {
    const b = canaryBuffer(len, 0);
    assert.is(encodeRequest(b, AT, "POST", PATH, HEADERS, 11), E_BUFFER, `len ${len}`);
    assert.ok(untouched(b));
  }
});

test("refused with E_ARGUMENT: CR, LF or NUL anywhere, space in method, path or name, colon in a name, odd list, lone surrogate", () => {
  const bad: [string, string, string[]][] = [
    ["GET", "/", ["X", "a\r\nInjected: 1"]],
    ["GET", "/", ["X", "a\nb"]],
    ["GET", "/", ["X", "a\0b"]],
    ["GET", "/", ["X-\r\n", "v"]],
    ["GET", "/", ["Bad Name", "v"]],
    ["GET", "/", ["Bad:Name", "v"]],
    ["GET", "/", ["", "v"]],
    ["GET", "/", ["X"]],
    ["GET", "/a b", []],
    ["GET", "/a\r\n", []],
    ["GE T", "/", []],
    ["", "/", []],
    ["GET", "", []],
    ["GET", "/", ["X", "\ud800"]],
  ];
  for (const [m, p, h] of bad) {
    assert.is(sizeRequest(m, p, h, -1), E_ARGUMENT, JSON.stringify([m, p, h]));
    const b = canaryBuffer(200, 0);
    assert.is(encodeRequest(b, AT, m, p, h, -1), E_ARGUMENT);
    assert.ok(untouched(b));
  }
});

test.run();
