import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rollup } from 'rollup';
import typescript from '@rollup/plugin-typescript';

// src/crypto compiled to ES5 and run in Duktape 2.7: ES5.1 syntax only, no Uint8Array slice/fill/from.

// the same inputs in both engines: byte i of input n is (i * 31 + n) & 255; lengths cross 55/56/64
const LENGTHS = [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 128, 300, 1000];
const input = (n: number) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * 31 + n) & 255; return b; };

const SCRIPT = `
function input(n) { var b = new Uint8Array(n); for (var i = 0; i < n; i++) b[i] = (i * 31 + n) & 255; return b; }
function hex(u) { for (var s = '', i = 0; i < u.length; i++) s += (u[i] < 16 ? '0' : '') + u[i].toString(16); return s; }
var L = ${JSON.stringify(LENGTHS)}, out = [];
for (var k = 0; k < L.length; k++) {
  var b = input(L[k]), d = C.base64Decode(C.base64Encode(b));
  out.push([hex(C.sha256(b)), hex(C.sha1(b)), hex(C.hmacSha256(input(L[k] % 131), b)), C.base64Encode(b), d && hex(d)].join(' '));
}
out.push(String(C.base64Decode('Zm9v!A==')));
print(out.join('\\n'));
`;

function expected(): string {
  const out = LENGTHS.map((n) => {
    const b = input(n), hex = Buffer.from(b).toString('hex');
    return [createHash('sha256').update(b).digest('hex'), createHash('sha1').update(b).digest('hex'),
      createHmac('sha256', input(n % 131)).update(b).digest('hex'), Buffer.from(b).toString('base64'), hex].join(' ');
  });
  return out.concat('null').join('\n');
}

async function bundle(): Promise<string> {
  const b = await rollup({
    input: 'src/crypto/index.ts',
    plugins: [typescript({ compilerOptions: { target: 'ES5', module: 'ESNext' }, tsconfig: false, include: ['src/**/*.ts'] })],
    onwarn: (w) => { throw new Error('rollup: ' + w.message); },
  });
  const { output } = await b.generate({ format: 'iife', name: 'C' });
  await b.close();
  return output[0].code;
}

test('the ES5 bundle gives node:crypto results in Duktape', async () => {
  try {
    execFileSync('duk', ['-e', 'print(1)'], { stdio: 'pipe' });
  } catch (e) {
    throw new Error('Duktape `duk` not found on PATH (Debian/Ubuntu: apt-get install duktape): ' + (e as Error).message);
  }
  const dir = mkdtempSync(join(tmpdir(), 'tinyhub-duk-'));
  try {
    const file = join(dir, 'crypto.js');
    writeFileSync(file, (await bundle()) + SCRIPT);
    const got = execFileSync('duk', [file], { encoding: 'utf8' }).trim();
    assert.fixture(got, expected());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
