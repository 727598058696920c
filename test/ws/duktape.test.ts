// The MQTT client over the WebSocket transport, bundled as the Espruino build is (Rollup,
// TypeScript to ES5, terser with `_` properties mangled) and run in Duktape 2.7 (ES5.1 only,
// Uint8Array without slice/fill/from): handshake, MQTT packets in masked frames, a fragmented
// message from the server, a ping answered, a large publish masked in place, the close handshake.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { rollup } from 'rollup';
import typescript from '@rollup/plugin-typescript';
import { minify } from 'terser';
import { parse } from 'acorn';
import { acceptFor, serverRead, wsFrame, closeBody } from './wshelp';
import { hex } from '../helpers/bytes';

const ROOT = resolve('.');

/** createClient + wsTransport as one minified ES5 CommonJS file, the way rollup.config.js builds Espruino bundles. */
async function bundle(dir: string): Promise<string> {
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `export { createClient } from ${JSON.stringify(join(ROOT, 'src/mqtt/client'))};\nexport { wsTransport } from ${JSON.stringify(join(ROOT, 'src/ws/transport'))};\n`);
  const b = await rollup({
    input: entry,
    treeshake: { moduleSideEffects: false, propertyReadSideEffects: false },
    onwarn: () => {},
    plugins: [
      { name: 'production', load: (id: string) => (/[\\/]src[\\/]dev\.ts$/.test(id) ? 'export const DEV = false;' : null) },
      typescript({
        tsconfig: false, include: [join(ROOT, 'src/**/*.ts'), entry], filterRoot: false,
        compilerOptions: { target: 'ES5', lib: ['ES5'], module: 'ESNext', moduleResolution: 'Bundler', strict: true, skipLibCheck: true, types: [] },
      }),
    ],
  });
  const { output } = await b.generate({ format: 'cjs', exports: 'named', esModule: false, strict: false, freeze: false, generatedCode: 'es5' });
  const m = await minify(output[0].code, {
    ecma: 5, toplevel: true, compress: { passes: 2, ecma: 5, toplevel: true },
    mangle: { toplevel: true, properties: { regex: /^_/ } }, format: { ecma: 5, comments: false },
  });
  return m.code!;
}

// MINSTD, exact in doubles: the same numbers in Node and in Duktape
const LCG = 'function lcg(){ seed = seed * 48271 % 2147483647; return seed / 2147483647; }';

/** The key the transport makes from the LCG's first 16 numbers. */
function keyFromLcg(): string {
  let seed = 1;
  const b = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) {
    seed = (seed * 48271) % 2147483647;
    b[i] = Math.floor((seed / 2147483647) * 256);
  }
  return b.toString('base64');
}

const bin = (a: Uint8Array) => `[${Array.from(a).join(',')}]`;

function script(accept: string): string {
  const response = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n`;
  // a PUBLISH QoS 0 "t" "hello duk" in two fragments with a ping between them
  const pub = [0x30, 12, 0, 1, 0x74, ...Buffer.from('hello duk')];
  const server = [
    wsFrame(pub.slice(0, 5), 2, false),
    wsFrame(Buffer.from('ping!'), 9),
    wsFrame(pub.slice(5), 0, true),
  ];
  // in a function: the bundle's minified top-level names are globals here
  return `
var out = { events: [], writes: [], messages: [] };
(function () { try {
  var seed = 1; ${LCG}
  var ev = null, written = [];
  var inner = {
    open: function (h, p, tls, e) { ev = e; out.open = [h, p, tls]; e.onOpen(); },
    write: function (b, off, len) { for (var i = 0; i < len; i++) written.push(b[off + i]); return len; },
    close: function () { out.events.push('inner closed'); }
  };
  var clock = { now: function () { return 0; }, set: function () { return 1; }, clear: function () {} };
  var take = function () { var w = written; written = []; return w; };
  var feed = function (a, step) {
    for (var i = 0; i < a.length; i += step) {
      var n = Math.min(step, a.length - i), u = new Uint8Array(n);
      for (var j = 0; j < n; j++) u[j] = a[i + j];
      if (ev) ev.onData(u);
    }
  };
  var ascii = function (s) { var a = []; for (var i = 0; i < s.length; i++) a.push(s.charCodeAt(i)); return a; };
  var client = exports.createClient({
    host: 'broker.local', port: 80, clientId: 'duk', reconnect: false, clock: clock, bufferSize: 2048,
    transport: exports.wsTransport(inner, { path: '/mqtt', rng: lcg, buffer: 256 }),
    onConnect: function () { out.events.push('connect'); },
    onClose: function (e) { out.events.push('close ' + e); },
    onError: function (e) { out.events.push('error ' + e); },
    onMessage: function (t, p) { var a = []; for (var i = 0; i < p.length; i++) a.push(p[i]); out.messages.push([t, a]); }
  });
  client.connect();
  var req = take(), s = '';
  for (var i = 0; i < req.length; i++) s += String.fromCharCode(req[i]);
  out.request = s;
  feed(ascii(${JSON.stringify(response)}), 7);
  out.writes.push(take());                                  // CONNECT
  feed([0x82, 4, 0x20, 2, 0, 0], 1);                        // CONNACK, one byte at a time
  client.subscribe('t', 1);
  out.writes.push(take());                                  // SUBSCRIBE
  feed([0x82, 5, 0x90, 3, 0, 1, 1], 3);                     // SUBACK
  var big = ''; for (i = 0; i < 300; i++) big += String.fromCharCode(97 + i % 26);
  client.publish('t', big, 1);
  out.writes.push(take());                                  // PUBLISH 300 bytes: in place
  feed([0x82, 4, 0x40, 2, 0, 2], 2);                        // PUBACK
  feed(${bin(Buffer.concat(server))}, 5);
  out.writes.push(take());                                  // the pong
  feed(${bin(wsFrame(closeBody(1000), 8))}, 1);
  out.writes.push(take());                                  // the close echoed
} catch (e) {
  out.exception = String(e && e.stack || e);
} })();
print(JSON.stringify(out));
`;
}

test('createClient + wsTransport, ES5-bundled, in Duktape: handshake, frames both ways, ping, close', async () => {
  const probe = spawnSync('duk', ['-e', 'print(1)'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error('`duk` not found: install the Debian package `duktape`');
  const dir = mkdtempSync(join(tmpdir(), 'tinyhub-ws-duk-'));
  try {
    const code = await bundle(dir);
    parse(code, { ecmaVersion: 5, sourceType: 'script' }); // throws on anything past ES5
    const key = keyFromLcg();
    const file = join(dir, 'run.js');
    writeFileSync(file, 'var exports = {}, module = { exports: exports };\n' + code + '\n' + script(acceptFor(key)));
    const r = spawnSync('duk', [file], { encoding: 'utf8', timeout: 20000 });
    assert.is(r.status, 0, `duk exited ${r.status}: ${r.stderr}${r.stdout}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.is(out.exception, undefined, out.exception);
    assert.equal(out.open, ['broker.local', 80, null]);
    assert.ok(out.request.startsWith('GET /mqtt HTTP/1.1\r\nHost: broker.local\r\n'), out.request);
    assert.ok(out.request.includes(`\r\nSec-WebSocket-Key: ${key}\r\n`), 'the key from the injected rng');
    const [connect, subscribe, publish, pong, close] = out.writes as number[][];
    assert.equal(serverRead(connect), ['binary ' + hex([0x10, 15, 0, 4, ...Buffer.from('MQTT'), 4, 2, 0, 60, 0, 3, ...Buffer.from('duk')])]);
    assert.equal(serverRead(subscribe), ['binary ' + hex([0x82, 6, 0, 1, 0, 1, 0x74, 1])]);
    const big = Buffer.from(Array.from({ length: 300 }, (_, i) => 97 + (i % 26)));
    // PUBLISH QoS 1, remaining length 305 (b1 02), topic "t", id 2
    assert.equal(serverRead(publish), ['binary ' + hex([0x32, 0xb1, 0x02, 0, 1, 0x74, 0, 2, ...big])]);
    assert.equal(serverRead(pong), ['pong ' + hex(Buffer.from('ping!'))]);
    assert.equal(serverRead(close), ['close 1000 ']);
    assert.equal(out.messages, [['t', Array.from(Buffer.from('hello duk'))]]);
    assert.equal(out.events, ['connect', 'inner closed', 'close -24']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
