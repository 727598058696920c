import { test } from "uvu";
import * as assert from "uvu/assert";
import { urlEncode, urlDecode } from "../../src/iothub/url";

// what both SDKs mean by URL-encoding: encodeURIComponent plus ! ' ( ) * (upper-case hex here;
// the Node SDK's encodeUriComponentStrict writes "%2a" for "*", the service accepts either)
const strict = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

test("unreserved characters stay as they are", () => {
  const u = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
  assert.is(urlEncode(u), u);
  assert.is(urlEncode(""), "");
});

test("every other ASCII character is %XX with upper-case hex, ! ' ( ) * included", () => {
  assert.is(urlEncode("!'()*"), "%21%27%28%29%2A");
  assert.is(urlEncode("a/b&c=d#e+f?g$h i%j"), "a%2Fb%26c%3Dd%23e%2Bf%3Fg%24h%20i%25j");
  for (let c = 0; c < 128; c++) {
    const s = String.fromCharCode(c);
    assert.is(urlEncode(s), strict(s), "char " + c);
  }
});

test("non-ASCII is encoded as its UTF-8 bytes", () => {
  assert.is(urlEncode("é"), "%C3%A9");
  assert.is(urlEncode("€"), "%E2%82%AC");
  assert.is(urlEncode("😀"), "%F0%9F%98%80");
  assert.is(urlEncode("\u0080\u07ff\u0800\uffff"), "%C2%80%DF%BF%E0%A0%80%EF%BF%BF");
  // a sample across the planes, checked against the engine
  for (let cp = 0x80; cp < 0x110000; cp += 0x1fd) {
    if (cp >= 0xd800 && cp < 0xe000) continue;
    const s = String.fromCodePoint(cp);
    assert.is(urlEncode(s), strict(s), "U+" + cp.toString(16));
  }
});

test("a lone surrogate becomes U+FFFD (encodeURIComponent would throw)", () => {
  assert.is(urlEncode("\ud800"), "%EF%BF%BD");
  assert.is(urlEncode("a\udc00b"), "a%EF%BF%BDb");
  assert.is(urlEncode("\ud83d"), "%EF%BF%BD");
  assert.is(urlEncode("\ud83dx"), "%EF%BF%BDx");
  assert.is(urlEncode("\udc00\ud800"), "%EF%BF%BD%EF%BF%BD");
});

test("urlDecode undoes urlEncode", () => {
  for (const s of ["", "plain", "a/b&c=d#e+f?g$h i%j", "!'()*", "é€😀", "\u0000x", "%", "100%25"]) {
    assert.is(urlDecode(urlEncode(s)), s);
  }
});

test("urlDecode: either case of hex, + stays +, raw non-ASCII passes through", () => {
  assert.is(urlDecode("%2f%2F"), "//");
  assert.is(urlDecode("a+b"), "a+b");
  assert.is(urlDecode("é%20"), "é ");
  assert.is(urlDecode("%E2%82%ACx%C3%A9"), "€xé");
  assert.is(urlDecode("no escapes"), "no escapes");
});

test("urlDecode: null for bad or truncated escapes and ill-formed UTF-8", () => {
  for (const s of ["%", "%2", "a%", "%zz", "%G0", "%0g", "%%41", "%C3", "%C3%28", "%C0%AF", "%ED%A0%80", "%F4%90%80%80", "%80", "% 41"]) {
    assert.is(urlDecode(s), null, s);
  }
});

test.run();
