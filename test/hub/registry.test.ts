// The registry file: created with a demo device, persisted on change, twins with versions, DPS enrollments.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHmac } from 'node:crypto'
import { Registry, derivedKey } from '../../tools/hub/registry.js'

const test = suite('hub/registry')
const names = { hubName: 'tinyhub-emu.azure-devices.net', host: 'localhost' }
let dir = ''
let file = ''

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'tinyhub-registry-'))
  file = join(dir, 'registry.json')
})
test.after.each(() => rmSync(dir, { recursive: true, force: true }))

test('a new registry has one demo device with two 32-byte keys and an ID scope', () => {
  const r = new Registry(file, names)
  assert.equal(r.ids(), ['demo-device'])
  const demo = r.get('demo-device')!
  assert.is(Buffer.from(demo.primaryKey!, 'base64').length, 32)
  assert.is.not(demo.primaryKey, demo.secondaryKey)
  assert.match(r.idScope, /^0ne[0-9A-F]{8}$/)
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).devices['demo-device'].twin, { desired: { $version: 1 }, reported: { $version: 1 } })
})

test('changes are persisted and reloaded', () => {
  const r = new Registry(file, names)
  r.addDevice('d1', { primaryKey: 'a2V5' })
  r.addModule('d1', 'm1')
  r.patchTwin('d1', 'reported', { fw: '1' })
  r.addEnrollment('e1', 'ZW5y')
  r.addEnrollment('e2', undefined, { auth: 'x509', thumbprint: 'AB' })
  r.addGroupEnrollment('g1', 'Z3Jw')
  const again = new Registry(file, names)
  assert.equal(again.ids(), ['demo-device', 'd1', 'd1/m1'])
  assert.is(again.get('d1')!.primaryKey, 'a2V5')
  assert.equal(again.twin('d1').reported, { fw: '1', $version: 2 })
  assert.equal(again.enrollment('e1'), { key: 'ZW5y' })
  assert.equal(again.enrollment('e2'), { auth: 'x509', thumbprint: 'AB' })
  assert.equal(again.groupEnrollment('g1'), { key: 'Z3Jw' })
  assert.is(again.groupEnrollment('g2'), undefined)
  assert.is(again.idScope, r.idScope)
})

test('addDevice updates only the given fields of an existing device', () => {
  const r = new Registry(file, names)
  const { primaryKey } = r.addDevice('d')
  r.patchTwin('d', 'desired', { x: 1 })
  r.addDevice('d', { secondaryKey: 'c2Vj', twin: {} } as never)
  assert.is(r.get('d')!.primaryKey, primaryKey)
  assert.is(r.get('d')!.secondaryKey, 'c2Vj')
  assert.is(r.twin('d').desired.x, 1)
})

test('ids are checked; modules need their device', () => {
  const r = new Registry(file, names)
  assert.throws(() => r.addDevice('a/b'), (e: { status: number }) => e.status === 400)
  assert.throws(() => r.addDevice(''), (e: { status: number }) => e.status === 400)
  assert.throws(() => r.addModule('nobody', 'm'), (e: { status: number }) => e.status === 404)
  assert.is(r.get('constructor'), undefined)
  assert.is(r.get('demo-device/constructor'), undefined)
})

test('patchTwin: merge patch semantics, $ keys ignored, versions per part', () => {
  const r = new Registry(file, names)
  r.addDevice('t')
  assert.is(r.patchTwin('t', 'reported', { a: { b: 1, c: 2 }, d: 3, $version: 99 }), 2)
  assert.is(r.patchTwin('t', 'reported', { a: { c: null, e: [1, 2] }, d: null }), 3)
  assert.equal(r.twin('t'), { desired: { $version: 1 }, reported: { a: { b: 1, e: [1, 2] }, $version: 3 } })
  assert.throws(() => r.patchTwin('t', 'reported', [1]), (e: { status: number }) => e.status === 400)
  assert.throws(() => r.patchTwin('t', 'reported', { big: 'x'.repeat(33 * 1024) }), (e: { status: number }) => e.status === 400)
  r.patchTwin('t', 'reported', JSON.parse('{"__proto__":{"polluted":true}}'))
  assert.is(({} as Record<string, unknown>).polluted, undefined)
})

test('twin returns a copy', () => {
  const r = new Registry(file, names)
  r.twin('demo-device').desired.x = 1
  assert.is(r.twin('demo-device').desired.x, undefined)
})

test('connection strings: SAS key or x509=true, ModuleId, GatewayHostName when the host differs', () => {
  const r = new Registry(file, names)
  const { primaryKey } = r.addDevice('d')
  r.addModule('d', 'm', { primaryKey: 'bW9k' })
  r.addDevice('x', { auth: 'x509', thumbprint: 'AB' })
  assert.is(r.connectionString('d'), `HostName=tinyhub-emu.azure-devices.net;DeviceId=d;SharedAccessKey=${primaryKey};GatewayHostName=localhost`)
  assert.is(r.connectionString('d', 'm'), 'HostName=tinyhub-emu.azure-devices.net;DeviceId=d;ModuleId=m;SharedAccessKey=bW9k;GatewayHostName=localhost')
  assert.is(r.connectionString('d/m'), r.connectionString('d', 'm'))
  assert.is(r.connectionString('x'), 'HostName=tinyhub-emu.azure-devices.net;DeviceId=x;x509=true;GatewayHostName=localhost')
  const local = new Registry(join(dir, 'other.json'), { hubName: 'localhost', host: 'localhost' })
  assert.not.match(local.connectionString('demo-device'), /GatewayHostName/)
})

test('sasResources: hub name and host, device or module', () => {
  const r = new Registry(file, names)
  assert.equal(r.sasResources('d/m'), ['tinyhub-emu.azure-devices.net/devices/d/modules/m', 'localhost/devices/d/modules/m'])
})

test('remove deletes devices and modules', () => {
  const r = new Registry(file, names)
  r.addModule('demo-device', 'm')
  r.remove('demo-device/m')
  assert.equal(r.ids(), ['demo-device'])
  r.remove('demo-device')
  assert.equal(r.ids(), [])
  assert.throws(() => r.remove('demo-device'), (e: { status: number }) => e.status === 404)
})

test('policies: a new registry has iothubowner and device, with keys; a file from before policies gets them', () => {
  const r = new Registry(file, names)
  assert.equal(r.policy('device')!.rights, ['DeviceConnect'])
  assert.ok(r.policy('iothubowner')!.rights.includes('DeviceConnect'))
  assert.is(Buffer.from(r.policy('device')!.primaryKey, 'base64').length, 32)
  assert.is(new Registry(file, names).policy('device')!.primaryKey, r.policy('device')!.primaryKey, 'persisted')
  const old = JSON.parse(readFileSync(file, 'utf8'))
  delete old.policies
  writeFileSync(file, JSON.stringify(old))
  const upgraded = new Registry(file, names)
  assert.equal(Object.keys(upgraded.data.policies), ['iothubowner', 'device'])
  assert.ok(JSON.parse(readFileSync(file, 'utf8')).policies.device.primaryKey)
  assert.throws(() => upgraded.addPolicy('p', ['Nope']), (e: { status: number }) => e.status === 400)
  assert.throws(() => upgraded.addPolicy('p', []), (e: { status: number }) => e.status === 400)
  assert.match(upgraded.policyConnectionString('device', 'demo-device'),
    /^HostName=tinyhub-emu\.azure-devices\.net;DeviceId=demo-device;SharedAccessKeyName=device;SharedAccessKey=[^;]+;GatewayHostName=localhost$/)
  assert.throws(() => upgraded.policyConnectionString('nope', 'demo-device'), (e: { status: number }) => e.status === 404)
})

test('enrollment groups: a new key when none is given, kept on re-add; bad names and keys refused; old files load', () => {
  const r = new Registry(file, names)
  const g = r.addGroupEnrollment('grp')
  assert.is(Buffer.from(g.key, 'base64').length, 32)
  assert.is(r.addGroupEnrollment('grp').key, g.key)
  assert.throws(() => r.addGroupEnrollment('a/b'), (e: any) => e.status === 400)
  assert.throws(() => r.addGroupEnrollment('grp2', '!!'), (e: any) => e.status === 400)
  assert.throws(() => r.addEnrollment('e3', undefined, { auth: 'tpm' as any }), (e: any) => e.status === 400)
  const data = JSON.parse(readFileSync(file, 'utf8'))
  delete data.groupEnrollments
  writeFileSync(file, JSON.stringify(data))
  assert.equal(new Registry(file, names).groupEnrollment('grp'), undefined)
  assert.equal(derivedKey('Z3Jw', 'dev'), createHmac('sha256', Buffer.from('grp')).update('dev').digest('base64'))
})

test.run()
