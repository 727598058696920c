#!/usr/bin/env node
// The device bench: builds the firmware (cached in .cache/qemu), boots it in qemu-system-arm
// against the local hub emulator and runs the IoT Hub scenario for each pool size; prints the
// peak JS heap, the image size and the time, writes .cache/qemu/last-run.json, and exits
// non-zero on any failure.
//
//   node tools/qemu/run.js                    the default plans (session.js PLANS)
//   node tools/qemu/run.js --pool 131072      one full session with that pool
//   node tools/qemu/run.js --pool 40960 --expect no-memory
//   node tools/qemu/run.js --verbose          the device's console and the hub's log as they come
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CACHE, missingTools } from './build.js'
import { PEAK_GOAL, PLANS, runSession, startBenchHub } from './session.js'

const args = process.argv.slice(2)
const arg = name => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const verbose = args.includes('--verbose') || args.includes('-v')
const kb = n => (n == null || Number.isNaN(n) ? '-' : `${(n / 1024).toFixed(1)} KB`)

async function main () {
  const missing = missingTools()
  if (missing.length) {
    console.error(`qemu bench: cannot run, missing ${missing.join(', ')}`)
    return 2
  }
  const plans = arg('--pool') ? [{ pool: +arg('--pool'), expect: arg('--expect') || 'pass' }] : PLANS
  const hub = await startBenchHub({ log: verbose && (line => console.log(line)) })
  const results = []
  const t0 = Date.now()
  try {
    for (const plan of plans) {
      console.log(`qemu: pool ${kb(plan.pool)}, expecting ${plan.expect === 'pass' ? 'a full session' : 'E_NO_MEMORY'}`)
      const r = await runSession(hub, plan, { log: verbose ? line => console.log(line) : line => /^qemu:/.test(line) && console.log(line) })
      results.push(r)
      const what = r.expect === 'pass'
        ? `${r.messages} messages at the hub, ${r.reconnects} reconnect(s)`
        : (r.noMemory || 'no E_NO_MEMORY line').replace(/^\[fw\] /, 'firmware: ').replace(/^E_NO_MEMORY/, 'client: E_NO_MEMORY')
      console.log(`  ${r.ok ? 'ok' : 'FAILED'}: exit ${r.exit} in ${(r.ms / 1000).toFixed(1)} s; ${what}`)
      for (const f of r.failures) console.log(`  - ${f}`)
      if (!r.ok && !verbose) console.log(r.lines.map(l => '    | ' + l).join('\n'))
    }
  } finally {
    await hub.stop()
  }

  console.log('\npool      expect     result  peak       live       engine    +bundle   stack     time')
  for (const r of results) {
    const h = r.heap
    console.log([
      kb(r.pool).padEnd(9), r.expect.padEnd(10), (r.ok ? 'ok' : 'FAILED').padEnd(7), kb(h.peak).padEnd(10), kb(h.live).padEnd(10),
      kb(h.engine).padEnd(9), kb(h.compiled - h.engine).padEnd(9), kb(h.stack).padEnd(9), `${(r.ms / 1000).toFixed(1)} s`
    ].join(' '))
  }
  const img = results[0]?.image
  if (img) {
    console.log(`\nimage: ${kb(img.flash)} of flash (bundle ${kb(img.bundle)}), static RAM ${kb(img.data + img.bss - results[0].pool)} + pool + stack ${kb(img.stack)}`)
  }
  const full = results.find(r => r.expect === 'pass' && r.ok)
  if (full) console.log(`goal: peak JS heap of a full session <= ${kb(PEAK_GOAL)}: ${full.heap.peak <= PEAK_GOAL ? 'met' : 'NOT MET'} (${kb(full.heap.peak)} with the ${kb(full.pool)} pool)`)
  console.log(`total ${((Date.now() - t0) / 1000).toFixed(1)} s`)

  mkdirSync(CACHE, { recursive: true })
  writeFileSync(join(CACHE, 'last-run.json'), JSON.stringify(results.map(({ lines, ...r }) => r), null, 2) + '\n')
  return results.every(r => r.ok) ? 0 : 1
}

main().then(code => { process.exitCode = code }, err => {
  console.error(err.stack || err)
  process.exitCode = 1
})
