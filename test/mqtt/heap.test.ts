import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { heapLoop, HeapResult } from '../helpers/heap-loop';

// DESIGN: "bytes of JS heap in use after warm-up do not grow over 100,000 messages".
// 100,000 publish/receive cycles (QoS 0, every tenth QoS 1) through an in-process loopback broker
// that echoes each PUBLISH back; heapUsed after 5,000 warm-up cycles vs at the end, each after a
// forced GC. Without --expose-gc here, the loop runs in a child `node --expose-gc --import tsx`.

const CYCLES = +(process.env.HEAP_N || 100000), WARMUP = 5000, BOUND = 256 * 1024;

function measure(): HeapResult {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) return heapLoop(CYCLES, WARMUP, gc);
  const script = fileURLToPath(new URL('../helpers/heap-loop.ts', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, String(CYCLES), String(WARMUP)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

test(`heap: ${CYCLES} publish/receive cycles after ${WARMUP} warm-up grow the heap by less than ${BOUND / 1024} KB`, () => {
  const r = measure();
  console.log(`  heap: ${r.cycles} cycles, ${r.received} received, ${r.acked} QoS 1 acked, ${r.pings} PINGREQ; heapUsed ${(r.warm / 1024).toFixed(0)} KB after warm-up, ${(r.end / 1024).toFixed(0)} KB at the end: growth ${(r.growth / 1024).toFixed(1)} KB`);
  assert.is(r.received, CYCLES + WARMUP, 'every message came back');
  assert.is(r.acked, (CYCLES + WARMUP) / 10, 'every QoS 1 publish was acknowledged');
  assert.ok(r.pings > 0, 'keep-alive pings happened too');
  assert.ok(r.growth < BOUND, `heap grew by ${r.growth} bytes`);
});

test('a large payload string is not kept after publish refused it (no module-level cache in the codec)', async () => {
  const v8 = await import('node:v8'), vm = await import('node:vm');
  v8.setFlagsFromString('--expose_gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const { session } = await import('../helpers/session');
  const s = session({ bufferSize: 2048 });
  s.up();
  gc();
  const before = process.memoryUsage().heapUsed;
  (() => {
    // 8 MB, built so it is a flat string of its own; E_TOO_LARGE after it was measured
    const big = 'x'.repeat(8 << 20).split('').join('');
    assert.is(s.client.publish('t', big, 1), -21);
  })();
  gc();
  const kept = process.memoryUsage().heapUsed - before;
  assert.ok(kept < 1 << 20, `${(kept / 1048576).toFixed(1)} MB still on the heap`);
});

test.run();
