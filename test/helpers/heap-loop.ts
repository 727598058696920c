// Publish/receive cycles over the loopback broker, measuring the JS heap after warm-up and at the
// end, each after a full GC. Run as a script (node --expose-gc --import tsx heap-loop.ts N WARMUP)
// it prints one JSON line; heap.test.ts runs it so.
import { pathToFileURL } from 'node:url';
import { createClient } from '../../src/mqtt/client';
import { ManualClock } from './fake';
import { LoopbackBroker } from './loopback';

export interface HeapResult { cycles: number; warmup: number; received: number; acked: number; pings: number; warm: number; end: number; growth: number }

function settle(gc: () => void): number {
  for (let i = 0; i < 6; i++) gc();
  return process.memoryUsage().heapUsed;
}

export function heapLoop(cycles: number, warmup: number, gc: () => void): HeapResult {
  const broker = new LoopbackBroker(), clock = new ManualClock();
  let received = 0, bytes = 0, acked = 0, warm = 0;
  const payload = new Uint8Array(120).map((_, i) => i);
  const client = createClient({
    host: 'loopback', clientId: 'heap', keepalive: 30, bufferSize: 2048, transport: broker, clock,
    onMessage: (_topic, p) => {
      received++;
      bytes += p.length;
    },
    onError: (code) => {
      throw new Error('client error ' + code);
    },
  });
  const done = (err: number) => {
    if (err) throw new Error('publish failed ' + err);
    acked++;
  };
  client.connect();
  broker.pump();
  client.subscribe('heap/#', 1);
  broker.pump();
  for (let i = 0; i < warmup + cycles; i++) {
    if (i == warmup) warm = settle(gc);
    const qos = i % 10 == 0 ? 1 : 0;
    const id = client.publish(qos ? 'heap/qos1' : 'heap/qos0', i & 1 ? payload : 'message ' + i, qos, false, qos ? done : undefined);
    if (id < 0) throw new Error('publish returned ' + id);
    broker.pump();
    clock.advance(i % 5000 == 4999 ? 20000 : 7); // time passes; now and then a quiet spell brings a PINGREQ
    broker.pump();
  }
  const end = settle(gc);
  if (received != warmup + cycles) throw new Error(`received ${received} of ${warmup + cycles}`);
  return { cycles, warmup, received, acked, pings: broker.received[12], warm, end, growth: end - warm };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  console.log(JSON.stringify(heapLoop(+process.argv[2] || 100000, +process.argv[3] || 5000, gc)));
}
