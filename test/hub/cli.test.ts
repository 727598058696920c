// `tinyhub hub`: starts the emulator and prints how to reach it.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { within } from './helpers'

const test = suite('hub/cli')
const CLI = join(import.meta.dirname, '../../tools/cli.js')

test('usage lists the hub command', () => {
  const r = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' })
  assert.is(r.status, 0)
  assert.match(r.stdout, /hub\s+run the local IoT Hub emulator/)
  assert.is(spawnSync(process.execPath, [CLI, 'nope'], { encoding: 'utf8' }).status, 2)
})

test('tinyhub hub prints connection strings and the CA path, and stops on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tinyhub-cli-'))
  const child = spawn(process.execPath, [CLI, 'hub', '--dir', dir, '--port', '0', '--https-port', '0', '--amqps-port', '0', '--dps-port', '0', '--admin-port', '0', '--plain-port', '0', '--quiet'])
  try {
    let out = ''
    await within(new Promise<void>((resolve, reject) => {
      child.stdout.on('data', d => {
        out += d
        if (/SharedAccessKey=/.test(out)) resolve()
      })
      child.once('exit', code => reject(new Error(`exited ${code}: ${out}`)))
    }), 10000, 'hub output')
    assert.match(out, /MQTT\/TLS\s+localhost:\d+/)
    assert.match(out, /MQTT \(plain\) localhost:\d+/)
    assert.match(out, new RegExp(`CA\\s+${join(dir, 'ca.pem')}`))
    assert.match(out, /HostName=tinyhub-emu\.azure-devices\.net;DeviceId=demo-device;SharedAccessKey=\S+;GatewayHostName=localhost/)
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGTERM')
    assert.is(await within(exited, 5000, 'exit'), 0)
  } finally {
    child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
