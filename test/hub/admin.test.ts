// The admin HTTP API, the way a developer drives it with curl.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { MqttClient } from 'mqtt'
import { connect, endAll, grants, nextMessage, testHub, within } from './helpers'
import type { Hub } from './helpers'

const test = suite('hub/admin')
let hub: Hub & { stop: () => Promise<void> }

test.before(async () => { hub = await testHub() })
test.after.each(endAll)
test.after(async () => { await hub.stop() })

async function api (method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> {
  const res = await within(fetch(`http://127.0.0.1:${hub.ports.admin}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json' }
  }), 5000, `${method} ${path}`)
  const text = await res.text()
  return { status: res.status, json: text ? JSON.parse(text) : undefined }
}

test('GET /devices lists the demo device with its connection string', async () => {
  const { status, json } = await api('GET', '/devices')
  assert.is(status, 200)
  const demo = json.find((d: { deviceId: string }) => d.deviceId === 'demo-device')
  assert.ok(demo)
  assert.is(demo.connected, false)
  assert.match(demo.connectionString, /^HostName=tinyhub-emu\.azure-devices\.net;DeviceId=demo-device;SharedAccessKey=[A-Za-z0-9+/]{43}=;GatewayHostName=localhost$/)
})

test('POST /devices/{id} creates a device (201), again updates it (200); modules too; DELETE removes', async () => {
  const created = await api('POST', '/devices/adm-1')
  assert.is(created.status, 201)
  assert.is(created.json.deviceId, 'adm-1')
  assert.is(Buffer.from(created.json.primaryKey, 'base64').length, 32)
  const key = Buffer.alloc(32, 9).toString('base64')
  const updated = await api('POST', '/devices/adm-1', { primaryKey: key })
  assert.is(updated.status, 200)
  assert.is(hub.registry.get('adm-1')!.primaryKey, key)
  assert.is((await api('POST', '/devices/adm-1/modules/m1')).status, 201)
  assert.equal((await api('GET', '/devices/adm-1')).json.modules, ['m1'])
  assert.is((await api('GET', '/devices/adm-1/modules/m1')).json.moduleId, 'm1')
  assert.is((await api('POST', '/devices/bad%2Fid')).status, 400)
  assert.is((await api('DELETE', '/devices/adm-1')).status, 204)
  assert.is((await api('GET', '/devices/adm-1')).status, 404)
})

test('twin: GET, and PATCH desired reaches the connected device', async () => {
  hub.registry.addDevice('adm-twin')
  const c = await connect(hub, 'adm-twin')
  await grants(c, ['$iothub/twin/PATCH/properties/desired/#'])
  const pushed = nextMessage(c, '$iothub/twin/PATCH/properties/desired/')
  const patched = await api('PATCH', '/devices/adm-twin/twin/desired', { led: 'on' })
  assert.is(patched.status, 200)
  assert.equal(patched.json.desired, { led: 'on', $version: 2 })
  assert.equal(JSON.parse((await pushed).payload.toString()), { led: 'on', $version: 2 })
  assert.equal((await api('GET', '/devices/adm-twin/twin')).json, { desired: { led: 'on', $version: 2 }, reported: { $version: 1 } })
})

test('POST /devices/{id}/messages sends C2D with properties', async () => {
  hub.registry.addDevice('adm-c2d')
  const c = await connect(hub, 'adm-c2d')
  await grants(c, ['devices/adm-c2d/messages/devicebound/#'])
  const arrived = nextMessage(c, 'devices/adm-c2d/messages/devicebound/')
  const sent = await api('POST', '/devices/adm-c2d/messages', { body: { cmd: 'blink' }, properties: { urgent: '1' } })
  assert.is(sent.status, 201)
  const { topic, payload } = await arrived
  assert.equal(JSON.parse(payload.toString()), { cmd: 'blink' })
  assert.match(topic, /&urgent=1$/)
})

test('POST /devices/{id}/methods/{name}: the device answer, 404 offline, 504 on timeout', async () => {
  hub.registry.addDevice('adm-m')
  assert.is((await api('POST', '/devices/adm-m/methods/ping', { payload: {} })).status, 404)
  const c: MqttClient = await connect(hub, 'adm-m')
  await grants(c, ['$iothub/methods/POST/#'])
  c.on('message', (topic, payload) => {
    const rid = topic.split('$rid=')[1]
    if (topic.includes('/ping/')) c.publish(`$iothub/methods/res/201/?$rid=${rid}`, JSON.stringify({ pong: JSON.parse(payload.toString()) }))
  })
  const answered = await api('POST', '/devices/adm-m/methods/ping', { payload: { n: 1 }, timeout: 2000 })
  assert.is(answered.status, 200)
  assert.equal(answered.json, { status: 201, payload: { pong: { n: 1 } } })
  const late = await api('POST', '/devices/adm-m/methods/silent', { payload: null, timeout: 100 })
  assert.is(late.status, 504)
  assert.is(late.json.status, 504)
})

test('GET /telemetry filters by device; DELETE clears', async () => {
  hub.registry.addDevice('adm-t')
  const c = await connect(hub, 'adm-t')
  await c.publishAsync('devices/adm-t/messages/events/a=1', '{"v":1}', { qos: 1 })
  const { json } = await api('GET', '/telemetry?device=adm-t')
  assert.is(json.length, 1)
  assert.is(json[0].body, '{"v":1}')
  assert.equal(json[0].properties, { a: '1' })
  assert.is((await api('DELETE', '/telemetry')).status, 204)
  assert.equal((await api('GET', '/telemetry')).json, [])
})

test('POST /enrollments/{id} makes a DPS enrollment (symmetric key or X.509), POST /enrollmentGroups/{name} a group; unknown routes answer 404', async () => {
  const { status, json } = await api('POST', '/enrollments/adm-enr')
  assert.is(status, 200)
  assert.is(json.idScope, hub.dpsIdScope)
  assert.is(hub.registry.enrollment('adm-enr')!.key, json.key)
  const x = await api('POST', '/enrollments/adm-x509', { auth: 'x509' })
  assert.equal([x.status, x.json.auth, x.json.key], [200, 'x509', undefined])
  const g = await api('POST', '/enrollmentGroups/adm-grp', { key: 'Z3Jw' })
  assert.equal([g.status, g.json.name, g.json.key, g.json.idScope, g.json.dpsPort], [200, 'adm-grp', 'Z3Jw', hub.dpsIdScope, hub.ports.dps])
  assert.equal(hub.registry.groupEnrollment('adm-grp'), { key: 'Z3Jw' })
  assert.is((await api('POST', '/enrollmentGroups/a%2Fb')).status, 400)
  assert.is((await api('GET', '/nothing')).status, 404)
  assert.is((await api('PUT', '/devices/x/twin')).status, 404)
})

test('C2D properties outside the set IoT Hub allows are refused with 400 and nothing is queued', async () => {
  await api('POST', '/devices/adm-c2d-bad')
  for (const properties of [{ label: '温度' }, { 'sp ace': 'x' }, { k: 'a b' }]) {
    const { status, json } = await api('POST', '/devices/adm-c2d-bad/messages', { body: 'x', properties })
    assert.is(status, 400, JSON.stringify(properties))
    assert.match(json.message, /property/)
  }
  const ok = await api('POST', '/devices/adm-c2d-bad/messages', { body: 'x', properties: { "a!#$%&'*+-.^_`|~Z9": "v!#$%&'*+-.^_`|~", '$.ct': 'text/plain; charset=utf-8' } })
  assert.is(ok.status, 201)
  assert.is(hub.c2dQueue('adm-c2d-bad').length, 1)
})

test('policies: the defaults listed, a new one created with its rights, bad rights refused', async () => {
  const { status, json } = await api('GET', '/policies')
  assert.is(status, 200)
  assert.equal(json.map((p: { name: string, rights: string[] }) => [p.name, p.rights]), [
    ['iothubowner', ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect']],
    ['device', ['DeviceConnect']]
  ])
  assert.is(Buffer.from(json[1].primaryKey, 'base64').length, 32)
  const made = await api('POST', '/policies/gateway', { rights: ['DeviceConnect', 'RegistryRead'] })
  assert.is(made.status, 201)
  assert.equal(hub.registry.policy('gateway')!.rights, ['DeviceConnect', 'RegistryRead'])
  assert.is((await api('POST', '/policies/gateway', { rights: ['Everything'] })).status, 400)
  assert.is((await api('POST', '/policies/gateway', { rights: ['DeviceConnect'] })).status, 200)
  assert.is((await api('POST', '/policies/bad name', {})).status, 400)
})

test.run()
