// The AMQP client (src/amqp/client.ts) as an ES5 bundle (rollup + terser with the Espruino build's settings) in the
// real Espruino interpreter (the linux build of tools/engines/espruino-build.js): a session played from frames our
// codec wrote in Node (open, attach, credit, a disposition, a message, a close with an error), and what the client
// wrote in Espruino read back with our decoder in Node. The IoT Hub layer over AMQP is not written yet: this checks
// that the engine runs the client the way it runs the MQTT one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rollup } from 'rollup';
import typescript from '@rollup/plugin-typescript';
import terser from '@rollup/plugin-terser';
import { platformOf } from '../../tools/build-plugins.js';
import { bundleViolations } from '../../tools/bundle-rules.js';
import { espruinoBinary } from '../../tools/engines/espruino-build.js';
import * as P from '../../src/amqp/performatives';
import { writeProtocolHeader, PROTO_AMQP } from '../../src/amqp/frame';

const dir = mkdtempSync(join(tmpdir(), 'tinyhub-amqp-espruino-'));

async function bundle(): Promise<string> {
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, `export { createAmqpClient } from ${JSON.stringify(new URL('../../src/amqp/client', import.meta.url).pathname)};\n`);
  const b = await rollup({
    input: entry, treeshake: { moduleSideEffects: false, propertyReadSideEffects: false }, onwarn() {},
    plugins: [platformOf('espruino'), typescript({ tsconfig: 'tsconfig.espruino.json', compilerOptions: { target: 'ES5' }, include: ['src/**/*.ts', 'targets/espruino/**/*.ts', entry] })],
  });
  const { output } = await b.generate({
    format: 'cjs', exports: 'named', esModule: false, strict: false, freeze: false, generatedCode: 'es5',
    plugins: [terser({ ecma: 5, module: false, toplevel: true, compress: { passes: 3, ecma: 5, toplevel: true, hoist_funs: true }, mangle: { toplevel: true, properties: { regex: /^_/ } }, format: { ecma: 5, comments: false, ascii_only: true } })],
  });
  return output[0].code;
}

/** Bytes of frames [code, fields, message?] on channel 0, as a JS array literal. */
function frames(list: [number, any, P.Message?][], header = false): string {
  const b = new Uint8Array(4096);
  let off = header ? writeProtocolHeader(b, 0, PROTO_AMQP) : 0;
  for (const [code, o, m] of list) off = P.writeFrame(b, off, 0, code, o, m);
  assert.ok(off > 0);
  return JSON.stringify(Array.from(b.subarray(0, off)));
}

test('the AMQP client in the real Espruino: open, attach, send within credit, done on the disposition, a message received and settled, a remote close by name', async () => {
  const code = await bundle();
  assert.equal(bundleViolations(code, 'espruino'), []);
  const bin = await espruinoBinary();
  // the module in its own scope, as require() gives it: at the top level its names would be the script's globals
  const script = `var exports = {};
(function (exports) {
${code}
})(exports);
var ev = null, tx = [], out = [];
function feed(a) { ev.onData(new Uint8Array(a)); }
var c = exports.createAmqpClient({
  host: 'hub.example', containerId: 'esp', bufferSize: 2048, idleTimeout: 0,
  transport: { open: function (h, p, t, e) { ev = e; e.onOpen(); }, write: function (b, o, n) { for (var i = 0; i < n; i++) tx.push(b[o + i]); return n; }, close: function () { out.push('TRCLOSE'); } },
  clock: { now: function () { return Math.floor(getTime() * 1000); }, set: function (f, ms) { return setTimeout(f, ms); }, clear: function (t) { if (t) clearTimeout(t); } },
  onOpen: function () { out.push('OPEN'); },
  onMessage: function (h, p, m, id) { out.push('MSG ' + h + ' ' + E.toString(p) + ' ' + m.applicationProperties.k + ' ' + id); out.push('SETTLE ' + c.settle(id, 0x24)); },
  onClose: function (e) { out.push('CLOSE ' + e); }
});
c.connect();
feed(${frames([[P.OPEN, { containerId: 'peer' }], [P.BEGIN, { remoteChannel: 0, nextOutgoingId: 0, incomingWindow: 100, outgoingWindow: 100 }]], true)});
out.push('ATTACH ' + c.attach('s', false, '/devices/d/messages/events', { properties: { 'com.microsoft:api-version': '2020-09-30' } }, function (e) { out.push('ATTACHED ' + e); }));
feed(${frames([[P.ATTACH, { name: 's', handle: 0, role: true, target: { type: P.TARGET, address: 'x' } }], [P.FLOW, { nextIncomingId: 0, incomingWindow: 100, nextOutgoingId: 0, outgoingWindow: 100, handle: 0, deliveryCount: 0, linkCredit: 1 }]])});
out.push('SEND ' + c.send(0, { properties: { messageId: 'm1' }, applicationProperties: { temp: 'h\\u00e9' }, data: 'caf\\u00e9' }, function (e) { out.push('DONE ' + e); }));
out.push('SEND ' + c.send(0, { data: 'x' }));
feed(${frames([[P.DISPOSITION, { role: true, first: 0, settled: true, state: { type: P.ACCEPTED } }]])});
out.push('ATTACH ' + c.attach('r', true, 'q', { credit: 1 }));
feed(${frames([[P.ATTACH, { name: 'r', handle: 1, role: false, source: { type: P.SOURCE, address: 'q' } }], [P.TRANSFER, { handle: 1, deliveryId: 0, deliveryTag: new Uint8Array([1]) }, { applicationProperties: { k: 'v' }, data: 'hello' }]])});
feed(${frames([[P.CLOSE, { error: { type: P.ERROR, condition: 'amqp:unauthorized-access', description: 'expired' } }]])});
out.push('ERR ' + c.remoteError().description);
console.log('OUT ' + JSON.stringify(out));
console.log('TX ' + JSON.stringify(tx));
`;
  const file = join(dir, 'run.js');
  writeFileSync(file, script);
  const r = spawnSync(bin, [file], { encoding: 'utf8', timeout: 30000 });
  const line = (k: string) => {
    const l = r.stdout.split('\n').find((x) => x.startsWith(k + ' '));
    assert.ok(l, 'no ' + k + ' in:\n' + r.stdout + r.stderr);
    return JSON.parse(l!.slice(k.length + 1));
  };
  assert.equal(line('OUT'), [
    'OPEN', 'ATTACH 0', 'ATTACHED 0', 'SEND 0', 'SEND -20', 'DONE 0', 'ATTACH 1', 'MSG 1 hello v 0', 'SETTLE 0', 'TRCLOSE', 'CLOSE -83', 'ERR expired',
  ]);
  // what the client wrote in Espruino, read by our decoder in Node
  const tx = Uint8Array.from(line('TX'));
  const got: any[] = [];
  let i = 8;
  assert.equal(Array.from(tx.subarray(0, 8)), [0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0]);
  while (i < tx.length) {
    const n = ((tx[i] << 24) >>> 0) + (tx[i + 1] << 16) + (tx[i + 2] << 8) + tx[i + 3];
    const x = P.decodePerformative(tx, i + 8, i + n);
    assert.type(x, 'object');
    if (x.type == P.TRANSFER) x.message = P.decodeMessage(tx, P.decodedTo(), i + n);
    got.push(x);
    i += n;
  }
  assert.equal(got.map((x) => x.type), [P.OPEN, P.BEGIN, P.ATTACH, P.TRANSFER, P.ATTACH, P.FLOW, P.DISPOSITION, P.CLOSE]);
  assert.is(got[0].containerId, 'esp');
  assert.equal({ ...got[2].properties }, { 'com.microsoft:api-version': '2020-09-30' });
  const m = got[3].message;
  assert.is(m.properties.messageId, 'm1');
  assert.is(m.applicationProperties.temp, 'hé');
  assert.is(Buffer.from(m.data).toString(), 'café');
  assert.equal([got[5].handle, got[5].linkCredit], [1, 1]);
  assert.equal([got[6].first, got[6].settled, got[6].state.type], [0, true, P.ACCEPTED]);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
