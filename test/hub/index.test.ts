// startHub itself: ports, logging, the telemetry cap, restarts that keep the registry.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startHub, preview } from '../../tools/hub/index.js'
import { deviceOptions, dial, within } from './helpers'

const test = suite('hub/index')
let dir = ''
test.before.each(() => { dir = mkdtempSync(join(tmpdir(), 'tinyhub-index-')) })
test.after.each(() => rmSync(dir, { recursive: true, force: true }))

test('ports given as null stay closed; 0 picks a free port; close frees them', async () => {
  const hub = await startHub({ dir, log: false, httpsPort: null, amqpsPort: null, dpsPort: null, adminPort: null })
  assert.equal(Object.keys(hub.ports), ['mqtts'])
  const port = hub.ports.mqtts!
  assert.ok(port > 0)
  await hub.close()
  await within(new Promise<void>((resolve, reject) => {
    const s = net.createServer().once('error', reject).listen(port, '127.0.0.1', () => s.close(() => resolve()))
  }), 2000, 'port free again')
})

test('a port in use rejects startHub (the WebSocket server included)', async () => {
  const first = await startHub({ dir, log: false, mqttsPort: null, dpsPort: null, adminPort: null })
  try {
    let failed: Error | undefined
    await startHub({ dir, log: false, httpsPort: first.ports.https }).catch(e => { failed = e })
    assert.match(String(failed?.message), /EADDRINUSE/)
  } finally {
    await first.close()
  }
})

test('log lines: connect, telemetry with properties, disconnect', async () => {
  const lines: string[] = []
  const hub = await startHub({ dir, log: line => lines.push(line), httpsPort: null, dpsPort: null, adminPort: null })
  try {
    const c = await dial(deviceOptions(hub, 'demo-device'))
    await c.publishAsync('devices/demo-device/messages/events/a=1', '{"temp":21}', { qos: 1 })
    const gone = within(new Promise(resolve => hub.once('disconnect', resolve)), 2000, 'disconnect')
    await c.endAsync()
    await gone
    assert.ok(lines.includes('[hub] connected demo-device'), lines.join('\n'))
    assert.ok(lines.includes('[hub] telemetry demo-device {"temp":21} props: a=1'), lines.join('\n'))
    assert.ok(lines.includes('[hub] disconnected demo-device'), lines.join('\n'))
  } finally {
    await hub.close()
  }
})

test('only the last telemetryLimit messages are kept', async () => {
  const hub = await startHub({ dir, log: false, telemetryLimit: 2, httpsPort: null, dpsPort: null, adminPort: null })
  try {
    const c = await dial(deviceOptions(hub, 'demo-device'))
    for (const n of [1, 2, 3]) await c.publishAsync('devices/demo-device/messages/events/', String(n), { qos: 1 })
    await c.endAsync()
    assert.equal(hub.telemetry.map(m => m.body.toString()), ['2', '3'])
  } finally {
    await hub.close()
  }
})

test('a restart keeps the registry, its keys and the CA', async () => {
  const first = await startHub({ dir, log: false })
  const cs = first.registry.connectionString('demo-device')
  const scope = first.dpsIdScope
  await first.close()
  const second = await startHub({ dir, log: false })
  assert.is(second.registry.connectionString('demo-device'), cs)
  assert.is(second.dpsIdScope, scope)
  assert.is(second.ca, first.ca)
  await second.close()
})

test('preview: text shortened, binary as a size', () => {
  assert.is(preview(Buffer.from('{"a":\n 1}')), '{"a": 1}')
  assert.is(preview(Buffer.from([0, 1, 2, 255])), '<4 bytes>')
  assert.match(preview(Buffer.from('x'.repeat(300))), /^x{200}\.\.\. \(300 bytes\)$/)
})

test.run()
