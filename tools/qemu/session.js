// One bench run: the firmware for a pool size, booted in QEMU against the local hub emulator,
// driven through the scenario of targets/qemu/app.ts and checked from both ends (the device's
// console lines and what the hub recorded). Used by tools/qemu/run.js and test/qemu.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startHub } from '../hub/index.js'
import { buildFirmware, ROOT } from './build.js'
import { bootDevice } from './harness.js'

/**
 * The hub emulator for the bench: plain MQTT on 127.0.0.1 only, in a temporary directory.
 * @param {{ log?: ((line: string) => void) | false }} [o]
 */
export async function startBenchHub (o = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tinyhub-qemu-hub-'))
  const hub = await startHub({ dir, plainPort: 0, mqttsPort: null, httpsPort: null, dpsPort: null, adminPort: null, log: o.log || false })
  return Object.assign(hub, {
    async stop () {
      await hub.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

/** Error names by code, read from the library's sources (the device prints numbers). */
export const ERROR_NAMES = (() => {
  const names = { 0: 'OK' }
  for (const f of ['src/errors.ts', 'src/iothub/errors.ts']) {
    for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/export const (E_\w+) = (-\d+)/g)) names[m[2]] = m[1]
  }
  return names
})()

/** The scenario's knobs (see targets/qemu/app.ts). */
export const SCENARIO = {
  n: 10, // numbered QoS 1 messages
  every: 500, // ms between them
  ka: 4, // keep-alive seconds: a dead link is noticed within 2-4 s
  cutAfter: 3, // cut the link once message 3 is sent...
  cutMs: 8000, // ...for 8 s: messages 4..10 go into the void
  deadline: 60000 // the device gives up after this
}

/**
 * The default runs: the full session with the 192 KB pool and with 104 KB (100 KB does not: the peak is ~100 KB,
 * the rest is fragmentation),
 * then the out-of-memory behaviour: 93 KB (the bundle compiles, then the client runs out while
 * it starts: JS reports E_NO_MEMORY - a narrow band, between the bundle's compile peak and the
 * session's needs, to move with them), 88 KB (the bundle does not compile: the firmware reports
 * E_NO_MEMORY) and 24 KB (the engine itself does not fit).
 * @type {Plan[]}
 */
// 100 KB: the session's code grew by the wall-clock wait, the credential checks, the acknowledgement of PUBLISHes
// whose topic does not fit and the twin GET after a reconnect (96 KB passed before them, 104 KB was needed after);
// HMAC-SHA256 and base64 moved into the firmware (targets/qemu/platform.ts, firmware/crypto.c) took 4 KB off the peak;
// 104 KB again: the bundle grew by 1.2 KB (20.6 -> 21.8 KB: Plug and Play component dispatch, method responses held
// while the outbox is full, the receive path reshaped for Espruino), the peak by 1.9 KB (97.9 -> 99.8 KB)
export const PLANS = [
  { pool: 192 * 1024, expect: 'pass' },
  { pool: 104 * 1024, expect: 'pass' },
  { pool: 93 * 1024, expect: 'no-memory' },
  { pool: 88 * 1024, expect: 'no-memory' },
  { pool: 24 * 1024, expect: 'no-memory' }
]

/**
 * Regression budget for the peak pool use of a full session (bytes): the measured peak is
 * ~100 KB (Duktape 2.7 keeps the compiled bundle, ~62 KB, in RAM; see targets/qemu/README.md); 2 KB over it fails.
 * Not the issue's 64 KB goal, which run.js reports separately.
 */
export const PEAK_BUDGET = 102 * 1024
/** The issue's goal for the peak JS heap of a full session. */
export const PEAK_GOAL = 64 * 1024

/**
 * @typedef {{ pool: number, expect: 'pass' | 'no-memory' }} Plan
 * @typedef {{
 *   pool: number, expect: string, ok: boolean, failures: string[], exit: number | null,
 *   timedOut: boolean, ms: number, heap: Record<string, number>, image: Record<string, number>,
 *   noMemory: string | null, reconnects: number, messages: number, lines: string[], stats: object
 * }} Result
 */

/** Numbers of a firmware line "[fw] heap final: used=1 peak=2 ..." or "[fw] gc runs=1 ..." */
function fields (line) {
  const out = {}
  for (const m of line.matchAll(/([a-z-]+)=(\d+)/g)) out[m[1]] = +m[2]
  return out
}

/**
 * Runs the scenario on a fresh firmware build for `plan.pool` against `hub` (from startHub with
 * a plain MQTT port). Never throws for a device failure: the result lists what went wrong.
 * @param {any} hub
 * @param {Plan} plan
 * @param {{ log?: (line: string) => void, timeoutMs?: number }} [o]
 * @returns {Promise<Result>}
 */
export async function runSession (hub, plan, o = {}) {
  const log = o.log || (() => {})
  const fw = await buildFirmware({ poolSize: plan.pool, log })
  const id = `qemu-${plan.pool}-${Date.now().toString(36)}`
  hub.registry.addDevice(id)
  const failures = []
  const check = (cond, what) => { if (!cond) failures.push(what) }
  let method = null
  let device = null
  const cloud = []

  const onLine = line => {
    if (line === 'ready') {
      // 4: the cloud's turn; the device starts its numbered messages once it has all three
      cloud.push(
        Promise.resolve().then(() => hub.sendC2D(id, 'hello device', { color: 'blue' })),
        Promise.resolve().then(() => hub.updateDesired(id, { interval: 5 })),
        hub.invokeMethod(id, 'echo', { x: 1 }, 20000).then(r => { method = r })
      )
    }
    if (line === `sent ${SCENARIO.cutAfter}`) cloud.push(device.cut(SCENARIO.cutMs))
  }

  const started = Date.now()
  device = await bootDevice({
    elf: fw.elf,
    broker: { port: hub.ports.plain },
    config: {
      cs: hub.registry.connectionString(id),
      time: Date.now(),
      n: SCENARIO.n,
      every: SCENARIO.every,
      ka: SCENARIO.ka,
      deadline: SCENARIO.deadline
    },
    timeoutMs: o.timeoutMs || SCENARIO.deadline + 30000,
    log: line => log(line.replace(/\] (?:closed|error) (-\d+)$/, (s, c) => `${s} (${ERROR_NAMES[c] || '?'})`)),
    onLine
  })
  const exit = await device.exited
  const ms = Date.now() - started
  await Promise.allSettled(cloud)
  const lines = device.lines
  const has = re => lines.some(l => re.test(l))
  const final = fields(lines.find(l => l.startsWith('[fw] heap final:')) || '')
  const gc = fields(lines.find(l => l.startsWith('[fw] gc runs=')) || '')
  const at = what => fields(lines.find(l => l.startsWith(`[fw] heap ${what}:`)) || '').used
  const heap = {
    pool: plan.pool,
    engine: at('engine'),
    compiled: at('compiled'),
    started: at('started'),
    peak: final.peak,
    live: gc['live-peak'],
    fails: final.fails,
    gcRuns: gc.runs,
    stack: fields(lines.find(l => l.startsWith('[fw] stack peak=')) || '').peak
  }
  const noMemory = lines.find(l => /E_NO_MEMORY/.test(l)) || null
  const mine = hub.telemetry.filter(t => t.deviceId === id)
  const numbered = new Set()
  for (const t of mine) {
    try {
      const n = JSON.parse(t.body.toString()).n
      if (n) numbered.add(n)
    } catch {}
  }
  const reconnects = lines.filter(l => /^connected \d+$/.test(l)).length - 1

  check(!exit.timedOut, `timed out after ${ms} ms (killed)`)
  if (plan.expect === 'pass') {
    check(exit.code === 0, `exit status ${exit.code}${noMemory ? ` (${noMemory})` : ''}`)
    check(has(/^connected 1$/), 'no connection (SAS token refused?)')
    check(has(/^hello acked 0$/), 'telemetry with properties not acknowledged')
    const hello = mine.find(t => t.body.toString() === '{"hello":"qemu"}')
    check(hello && hello.properties.kind === 'hello' && hello.properties.board === 'mps2-an385', 'the hub did not get the telemetry properties')
    check(hello && Object.values(hello.system || {}).includes('application/json'), 'the hub did not get $contentType')
    check(has(/^twin 0 \{.*"\$version"/), 'twin get failed')
    check(has(/^reported 0 \d+$/), 'reported patch failed')
    const twin = (() => { try { return hub.getTwin(id) } catch { return null } })()
    check(twin?.reported?.bench === 'qemu', 'the hub has no reported bench property')
    check(has(/^c2d hello device .*"color":"blue"/), 'C2D message (with its property) not received')
    check(has(/^desired \{"interval":5/), 'desired patch not received')
    check(method?.status === 200 && method?.payload?.echo?.x === 1, `direct method: ${JSON.stringify(method)}`)
    check(has(/^closed -23$/), 'the cut was not noticed by the keep-alive (no "closed -23" E_KEEPALIVE)')
    check(reconnects >= 1, 'no reconnection after the cut')
    check(device.stats.connections >= 2, 'the harness saw no second CONNECT')
    const missing = []
    for (let n = 1; n <= SCENARIO.n; n++) if (!numbered.has(n)) missing.push(n)
    check(!missing.length, `QoS 1 messages lost: ${missing.join(', ')}`)
    check(has(/^all acked$/), 'not every message was acknowledged')
    check(!(heap.peak > PEAK_BUDGET), `peak heap ${heap.peak} over the regression budget ${PEAK_BUDGET}`)
  } else {
    check(exit.code === 32, `exit status ${exit.code}, expected 32 (E_NO_MEMORY)`)
    check(!!noMemory, 'no E_NO_MEMORY line')
  }
  return {
    pool: plan.pool,
    expect: plan.expect,
    ok: !failures.length,
    failures,
    exit: exit.code,
    timedOut: exit.timedOut,
    ms,
    heap,
    image: fw.image,
    noMemory,
    reconnects,
    messages: mine.length,
    lines,
    stats: device.stats
  }
}
