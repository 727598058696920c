// The emulator's MQTT face, driven by MQTT.js as the device: authentication, topic rules,
// telemetry, twin, cloud-to-device messages and direct methods.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import type { MqttClient } from 'mqtt'
import {
  API, closed, connackCode, dial, grants, connect, deviceOptions, endAll, nextMessage, once, resource, sas, testHub, tlsTo, within
} from './helpers'
import type { Hub } from './helpers'

const test = suite('hub/broker')
let hub: Hub & { stop: () => Promise<void> }
const D = 'dev-a'
const E = 'dev-b'
const key = (id: string) => hub.registry.get(id)!.primaryKey!

test.before(async () => {
  hub = await testHub({ plainPort: 0 })
  hub.registry.addDevice(D)
  hub.registry.addDevice(E)
  hub.registry.addModule(D, 'mod')
})
test.after.each(async () => {
  await endAll()
  hub.options.twinThrottle = 0
})
test.after(async () => { await hub.stop() })

function publishAsync (c: MqttClient, topic: string, payload: string | Buffer, qos: 0 | 1 | 2 = 0, retain = false) {
  return within(c.publishAsync(topic, payload, { qos, retain }), 3000, `publish ${topic}`)
}


// --- authentication: CONNACK return codes as the service answers them -----------------------

test('a SAS token signed with the device key is accepted and announced', async () => {
  const connected = once<{ deviceId: string }>(hub, 'connect')
  const c = await connect(hub, D)
  assert.ok(c.connected)
  assert.is((await connected).deviceId, D)
  assert.ok(hub.connected(D))
})

test('the secondary key, extra user name parameters and any field order are accepted', async () => {
  const exp = Math.floor(Date.now() / 1000) + 60
  const token = sas(resource(hub, D), hub.registry.get(D)!.secondaryKey!, exp)
  const [, fields] = token.split(' ')
  const shuffled = 'SharedAccessSignature ' + fields.split('&').reverse().join('&')
  const code = await connackCode(deviceOptions(hub, D, {
    username: `${hub.hubName}/${D}/?${API}&DeviceClientType=tinyhub%2F0.1&model-id=dtmi%3Acom%3Aexample%3Bone%3B1`,
    password: shuffled
  }))
  assert.is(code, 0)
})

test('the hub host compares case-insensitively; the gateway host name is accepted too', async () => {
  const upper = `${hub.hubName.toUpperCase()}/devices/${D}`
  assert.is(await connackCode(deviceOptions(hub, D, { password: sas(upper, key(D)) })), 0)
  const local = `localhost/devices/${D}`
  assert.is(await connackCode(deviceOptions(hub, D, { username: `localhost/${D}/?${API}`, password: sas(local, key(D)) })), 0)
})

test('wrong key: CONNACK 4', async () => {
  const other = Buffer.alloc(32, 7).toString('base64')
  assert.is(await connackCode(deviceOptions(hub, D, { password: sas(resource(hub, D), other) })), 4)
})

test('expired token: CONNACK 4', async () => {
  const past = Math.floor(Date.now() / 1000) - 10
  assert.is(await connackCode(deviceOptions(hub, D, { password: sas(resource(hub, D), key(D), past) })), 4)
})

test('sr naming another device, even signed with that device key: CONNACK 4', async () => {
  assert.is(await connackCode(deviceOptions(hub, D, { password: sas(resource(hub, E), key(D)) })), 4)
  assert.is(await connackCode(deviceOptions(hub, D, { password: sas(resource(hub, E), key(E)) })), 4)
  assert.is(await connackCode(deviceOptions(hub, D, { password: sas(`other-hub.azure-devices.net/devices/${D}`, key(D)) })), 4)
})

test('skn is not ignored: a device-key token naming a policy is checked against that policy (CONNACK 4)', async () => {
  const token = sas(resource(hub, D), key(D), undefined, 'device')
  assert.is(await connackCode(deviceOptions(hub, D, { password: token })), 4)
  assert.is(await connackCode(deviceOptions(hub, D, { password: sas(resource(hub, D), key(D), undefined, 'nosuchpolicy') })), 4)
})

test('a hub policy with DeviceConnect signs tokens for any device or module: sr the hub, or a prefix of the identity at a /', async () => {
  const device = hub.registry.policy('device')!
  const owner = hub.registry.policy('iothubowner')!
  for (const [sr, k, skn] of [[hub.hubName, device.primaryKey, 'device'], [`${hub.hubName}/devices`, device.secondaryKey, 'device'], [resource(hub, D), owner.primaryKey, 'iothubowner']]) {
    const c = await connect(hub, D, { password: sas(sr, k, undefined, skn) })
    await c.endAsync()
  }
  const m = await connect(hub, `${D}/mod`, { password: sas(`${hub.hubName}/devices/${D}`, device.primaryKey, undefined, 'device') })
  await m.endAsync()
  assert.is(await connackCode(deviceOptions(hub, D, { password: sas(`${hub.hubName}/devices/${E}`, device.primaryKey, undefined, 'device') })), 4, 'another device')
  assert.is(await connackCode(deviceOptions(hub, D, { password: sas(`${hub.hubName}/dev`, device.primaryKey, undefined, 'device') })), 4, 'not a whole segment')
  assert.is(await connackCode(deviceOptions(hub, D, { password: sas(hub.hubName, owner.primaryKey, undefined, 'device') })), 4, 'another policy\'s key')
  hub.registry.addPolicy('registry-only', ['RegistryRead', 'RegistryWrite'])
  assert.is(await connackCode(deviceOptions(hub, D, { password: sas(hub.hubName, hub.registry.policy('registry-only')!.primaryKey, undefined, 'registry-only') })), 4, 'no DeviceConnect')
})

test('unknown device: CONNACK 5', async () => {
  assert.is(await connackCode(deviceOptions(hub, D, {
    clientId: 'nobody',
    username: `${hub.hubName}/nobody/?${API}`,
    password: sas(`${hub.hubName}/devices/nobody`, key(D))
  })), 5)
})

test('bad client id: CONNACK 2', async () => {
  assert.is(await connackCode(deviceOptions(hub, D, { clientId: `${D}/mod/extra` })), 2)
  assert.is(await connackCode(deviceOptions(hub, D, { clientId: `${D}/` })), 2)
})

test('user name without api-version, or for another device: CONNACK 4', async () => {
  assert.is(await connackCode(deviceOptions(hub, D, { username: `${hub.hubName}/${D}/` })), 4)
  assert.is(await connackCode(deviceOptions(hub, D, { username: `${hub.hubName}/${E}/?${API}` })), 4)
  assert.is(await connackCode(deviceOptions(hub, D, { username: `${hub.hubName}/${D}/?${API}`, password: '' })), 4)
})

test('a module authenticates with the module resource, not the device one', async () => {
  const id = `${D}/mod`
  assert.is(await connackCode(deviceOptions(hub, id)), 0)
  assert.is(await connackCode(deviceOptions(hub, id, { password: sas(resource(hub, D), key(id)) })), 4)
})

test('a disabled device: CONNACK 5', async () => {
  hub.registry.addDevice('off', { status: 'disabled' })
  assert.is(await connackCode(deviceOptions(hub, 'off')), 5)
})

test('X.509: a registered client certificate thumbprint is accepted with an empty password', async () => {
  const dir = hub.options.dir
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'x509-dev.key', '-out', 'x509-dev.pem', '-days', '1', '-subj', '/CN=x509-dev'], { cwd: dir, stdio: 'pipe' })
  const cert = readFileSync(join(dir, 'x509-dev.pem'), 'utf8')
  const thumbprint = new X509Certificate(cert).fingerprint.replace(/:/g, '') // SHA-1
  hub.registry.addDevice('x509-dev', { auth: 'x509', thumbprint })
  const options = { clientId: 'x509-dev', username: `${hub.hubName}/x509-dev/?${API}`, password: '' }
  assert.is(await connackCode({ ...tlsTo(hub), ...options, cert, key: readFileSync(join(dir, 'x509-dev.key'), 'utf8') }), 0)
  assert.is(await connackCode({ ...tlsTo(hub), ...options }), 4, 'no certificate')
  assert.match(hub.registry.connectionString('x509-dev'), /;x509=true/)
})

test('one connection per device: a second connection drops the first', async () => {
  const first = await connect(hub, D)
  const gone = closed(first)
  await connect(hub, D)
  await gone
  assert.ok(hub.connected(D))
})

test('plain TCP port, when opened, speaks the same protocol', async () => {
  const c = await dial({ ...deviceOptions(hub, D), protocol: 'mqtt', port: hub.ports.plain })
  assert.ok(c.connected)
  await c.endAsync()
})

// --- topic rules ---------------------------------------------------------------------------

test('telemetry is captured with its decoded application and system properties', async () => {
  const c = await connect(hub, D)
  const seen = once<{ body: Buffer }>(hub, 'telemetry')
  await publishAsync(c, `devices/${D}/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8&$.mid=m1&a=1&sp%20ace=x%26y&flag`, '{"temp":21}', 1, true)
  const m = hub.telemetry[hub.telemetry.length - 1]
  assert.is((await seen).body.toString(), '{"temp":21}')
  assert.is(m.deviceId, D)
  assert.is(m.moduleId, undefined)
  assert.equal(m.properties, { a: '1', 'sp ace': 'x&y', flag: null, 'mqtt-retain': 'true' })
  assert.equal(m.system, { contentType: 'application/json', contentEncoding: 'utf-8', messageId: 'm1' })
  assert.ok(m.at instanceof Date)
})

test('telemetry without a property bag, and from a module', async () => {
  const c = await connect(hub, D)
  await publishAsync(c, `devices/${D}/messages/events/`, 'plain', 1)
  assert.is(hub.telemetry[hub.telemetry.length - 1].body.toString(), 'plain')
  const m = await connect(hub, `${D}/mod`)
  await publishAsync(m, `devices/${D}/modules/mod/messages/events/k=v`, 'from module', 1)
  const last = hub.telemetry[hub.telemetry.length - 1]
  assert.is(last.moduleId, 'mod')
  assert.equal(last.properties, { k: 'v' })
})

test('a will on the telemetry topic arrives as telemetry marked as a will', async () => {
  const c = await connect(hub, D, { will: { topic: `devices/${D}/messages/events/why=lost`, payload: Buffer.from('gone'), qos: 1, retain: false } })
  const seen = once<{ body: Buffer, properties: Record<string, unknown> }>(hub, 'telemetry')
  c.stream.destroy()
  const m = await seen
  assert.is(m.body.toString(), 'gone')
  assert.equal(m.properties, { why: 'lost', 'iothub-MessageType': 'Will' })
})

test('publishing to another device\'s topic closes the connection', async () => {
  const c = await connect(hub, D)
  const gone = closed(c)
  c.publish(`devices/${E}/messages/events/`, 'spoof', { qos: 0 })
  await gone
  assert.not.ok(hub.telemetry.some((m: { body: Buffer }) => m.body.toString() === 'spoof'))
})

test('a QoS 2 publish closes the connection', async () => {
  const c = await connect(hub, D)
  const gone = closed(c)
  c.publish(`devices/${D}/messages/events/`, 'qos2', { qos: 2 })
  await gone
})

test('a message over 256 KB closes the connection', async () => {
  const c = await connect(hub, D)
  const gone = closed(c, 5000)
  c.publish(`devices/${D}/messages/events/`, Buffer.alloc(256 * 1024 + 1), { qos: 0 })
  await gone
})

test('device A cannot subscribe to device B\'s C2D topic, nor to wildcards over devices', async () => {
  const c = await connect(hub, D)
  assert.equal(await grants(c, [`devices/${E}/messages/devicebound/#`]), [128])
  assert.equal(await grants(c, ['devices/+/messages/devicebound/#', '#', '$iothub/#']), [128, 128, 128])
  assert.equal(await grants(c, [`devices/${D}/messages/devicebound/#`]), [1])
})

test('QoS 2 subscriptions are granted QoS 1; no count limit (the service documents none), only the device\'s own topics', async () => {
  const c = await connect(hub, D)
  const five = [`devices/${D}/messages/devicebound/#`, '$iothub/twin/res/#', '$iothub/twin/PATCH/properties/desired/#',
    '$iothub/methods/POST/#', '$iothub/methods/POST/reboot/#']
  assert.equal(await grants(c, five, 2), [1, 1, 1, 1, 1])
  assert.equal(await grants(c, ['$iothub/twin/res/200/#']), [1], 'a sixth')
  assert.equal(await grants(c, ['$iothub/twin/res/#'], 0), [0], 'an existing subscription may be renewed')
})

test('a module may not subscribe to cloud-to-device messages', async () => {
  const m = await connect(hub, `${D}/mod`)
  assert.equal(await grants(m, [`devices/${D}/messages/devicebound/#`, '$iothub/methods/POST/#']), [128, 1])
})

// --- twin ------------------------------------------------------------------------------------

async function twinRequest (c: MqttClient, topic: string, body: string) {
  const answer = nextMessage(c, '$iothub/twin/res/')
  await publishAsync(c, topic, body, 0)
  const { topic: t, payload } = await answer
  return { topic: t, body: payload.toString() }
}

test('twin GET answers 200 with desired and reported and their versions', async () => {
  hub.registry.addDevice('twin-get')
  const c = await connect(hub, 'twin-get')
  await grants(c, ['$iothub/twin/res/#'])
  const r = await twinRequest(c, '$iothub/twin/GET/?$rid=1', '')
  assert.is(r.topic, '$iothub/twin/res/200/?$rid=1')
  assert.equal(JSON.parse(r.body), { desired: { $version: 1 }, reported: { $version: 1 } })
})

test('reported PATCH merges, deletes nulls, bumps $version and answers 204', async () => {
  hub.registry.addDevice('twin-rep')
  const c = await connect(hub, 'twin-rep')
  await grants(c, ['$iothub/twin/res/#'])
  const reported = once<{ version: number }>(hub, 'reported')
  let r = await twinRequest(c, '$iothub/twin/PATCH/properties/reported/?$rid=a1', '{"fw":"1.0","net":{"rssi":-60,"ip":"10.0.0.2"}}')
  assert.is(r.topic, '$iothub/twin/res/204/?$rid=a1&$version=2')
  assert.is((await reported).version, 2)
  r = await twinRequest(c, '$iothub/twin/PATCH/properties/reported/?$rid=a2', '{"net":{"ip":null},"fw":null,"up":true}')
  assert.is(r.topic, '$iothub/twin/res/204/?$rid=a2&$version=3')
  assert.equal(hub.getTwin('twin-rep').reported, { net: { rssi: -60 }, up: true, $version: 3 })
})

test('malformed reported JSON answers 400 and changes nothing', async () => {
  hub.registry.addDevice('twin-bad')
  const c = await connect(hub, 'twin-bad')
  await grants(c, ['$iothub/twin/res/#'])
  const r = await twinRequest(c, '$iothub/twin/PATCH/properties/reported/?$rid=7', '{"fw":')
  assert.is(r.topic, '$iothub/twin/res/400/?$rid=7')
  assert.is(hub.getTwin('twin-bad').reported.$version, 1)
})

test('desired updates are pushed with their $version to a subscribed device', async () => {
  hub.registry.addDevice('twin-des')
  const c = await connect(hub, 'twin-des')
  await grants(c, ['$iothub/twin/PATCH/properties/desired/#'])
  const pushed = nextMessage(c, '$iothub/twin/PATCH/properties/desired/')
  assert.is(hub.updateDesired('twin-des', { interval: 30 }), 2)
  const { topic, payload } = await pushed
  assert.is(topic, '$iothub/twin/PATCH/properties/desired/?$version=2')
  assert.equal(JSON.parse(payload.toString()), { interval: 30, $version: 2 })
  assert.equal(hub.getTwin('twin-des').desired, { interval: 30, $version: 2 })
})

test('twinThrottle: the next n twin requests answer 429', async () => {
  const c = await connect(hub, D)
  await grants(c, ['$iothub/twin/res/#'])
  hub.options.twinThrottle = 1
  assert.is((await twinRequest(c, '$iothub/twin/GET/?$rid=t1', '')).topic, '$iothub/twin/res/429/?$rid=t1')
  assert.is((await twinRequest(c, '$iothub/twin/GET/?$rid=t2', '')).topic, '$iothub/twin/res/200/?$rid=t2')
})

test('a module has its own twin', async () => {
  const m = await connect(hub, `${D}/mod`)
  await grants(m, ['$iothub/twin/res/#'])
  const r = await twinRequest(m, '$iothub/twin/PATCH/properties/reported/?$rid=m1', '{"module":true}')
  assert.is(r.topic, '$iothub/twin/res/204/?$rid=m1&$version=2')
  assert.is(hub.getTwin(`${D}/mod`).reported.module, true)
  assert.is(hub.getTwin(D).reported.module, undefined)
})

test('twin responses go only to the device that asked', async () => {
  const a = await connect(hub, D)
  const b = await connect(hub, E)
  await grants(a, ['$iothub/twin/res/#'])
  await grants(b, ['$iothub/twin/res/#'])
  let leaked = false
  b.on('message', () => { leaked = true })
  await twinRequest(a, '$iothub/twin/GET/?$rid=only-a', '')
  await new Promise(resolve => setTimeout(resolve, 100))
  assert.not.ok(leaked)
})

// --- cloud-to-device -----------------------------------------------------------------------

test('C2D is delivered at QoS 1 with its property bag and settled by PUBACK', async () => {
  hub.registry.addDevice('c2d-1')
  const c = await connect(hub, 'c2d-1')
  await grants(c, ['devices/c2d-1/messages/devicebound/#'])
  const feedback = once<{ statusCode: string, messageId: string }>(hub, 'feedback')
  const arrived = nextMessage(c, 'devices/c2d-1/messages/devicebound/')
  const sent = hub.sendC2D('c2d-1', 'hello', { a: '1', 'sp ace': 'x/y', $: 'dollar', '$.ct': 'text/plain', '$.mid': 'id-1', n: null })
  const { topic, payload, qos } = await arrived
  assert.is(payload.toString(), 'hello')
  assert.is(qos, 1)
  assert.is(topic, 'devices/c2d-1/messages/devicebound/%24.mid=id-1&%24.to=%2Fdevices%2Fc2d-1%2Fmessages%2FdeviceBound&%24.ct=text%2Fplain&a=1&sp%20ace=x%2Fy&%24=dollar&n')
  assert.is(sent.messageId, 'id-1')
  assert.equal(await feedback, { deviceId: 'c2d-1', messageId: 'id-1', statusCode: 'Success' })
  assert.is(hub.c2dQueue('c2d-1').length, 0)
})

test('C2D sent while offline waits in the queue for the subscription', async () => {
  hub.registry.addDevice('c2d-2')
  hub.sendC2D('c2d-2', { cmd: 'on' })
  const c = await connect(hub, 'c2d-2')
  const arrived = nextMessage(c, 'devices/c2d-2/messages/devicebound/')
  await grants(c, ['devices/c2d-2/messages/devicebound/#'])
  assert.equal(JSON.parse((await arrived).payload.toString()), { cmd: 'on' })
})

test('unacknowledged C2D is delivered again after reconnecting (persistent session)', async () => {
  hub.registry.addDevice('c2d-3')
  const first = await connect(hub, 'c2d-3', { clean: false })
  first.handleMessage = () => { /* never PUBACK */ }
  await grants(first, ['devices/c2d-3/messages/devicebound/#'])
  const got = within(new Promise(resolve => first.once('packetreceive', resolve)), 3000, 'first delivery')
  hub.sendC2D('c2d-3', 'again')
  await got
  await first.endAsync(true)
  assert.is(hub.c2dQueue('c2d-3').length, 1)
  // The session (and its subscription) is restored: no SUBSCRIBE this time.
  const second = mqtt.connect(`mqtts://127.0.0.1:${hub.ports.mqtts}`, deviceOptions(hub, 'c2d-3', { clean: false }))
  const feedback = once(hub, 'feedback')
  const { payload, dup } = await nextMessage(second, 'devices/c2d-3/messages/devicebound/')
  assert.is(payload.toString(), 'again')
  assert.ok(dup)
  await feedback
  assert.is(hub.c2dQueue('c2d-3').length, 0)
  await second.endAsync()
})

test('unacknowledged C2D is delivered again after a clean reconnect and resubscribe', async () => {
  hub.registry.addDevice('c2d-4')
  const first = await connect(hub, 'c2d-4')
  first.handleMessage = () => { /* never PUBACK */ }
  await grants(first, ['devices/c2d-4/messages/devicebound/#'])
  const got = within(new Promise(resolve => first.once('packetreceive', resolve)), 3000, 'first delivery')
  hub.sendC2D('c2d-4', 'kept')
  await got
  await first.endAsync(true)
  const second = await connect(hub, 'c2d-4')
  const arrived = nextMessage(second, 'devices/c2d-4/messages/devicebound/')
  await grants(second, ['devices/c2d-4/messages/devicebound/#'])
  assert.is((await arrived).payload.toString(), 'kept')
})

test('C2D subscribed at QoS 0 is delivered at QoS 0 and settled at once', async () => {
  hub.registry.addDevice('c2d-5')
  const c = await connect(hub, 'c2d-5')
  await grants(c, ['devices/c2d-5/messages/devicebound/#'], 0)
  const arrived = nextMessage(c, 'devices/c2d-5/messages/devicebound/')
  hub.sendC2D('c2d-5', 'q0')
  assert.is((await arrived).qos, 0)
  assert.is(hub.c2dQueue('c2d-5').length, 0)
})

test('at most 50 C2D messages wait per device; modules and unknown devices get none', () => {
  hub.registry.addDevice('c2d-full')
  for (let i = 0; i < 50; i++) hub.sendC2D('c2d-full', String(i))
  assert.throws(() => hub.sendC2D('c2d-full', 'one too many'), (e: { status: number }) => e.status === 403)
  assert.throws(() => hub.sendC2D(`${D}/mod`, 'x'), (e: { status: number }) => e.status === 400)
  assert.throws(() => hub.sendC2D('nobody', 'x'), (e: { status: number }) => e.status === 404)
})

// --- direct methods --------------------------------------------------------------------------

test('a direct method round trip', async () => {
  const c = await connect(hub, D)
  await grants(c, ['$iothub/methods/POST/#'])
  c.on('message', (topic: string, payload: Buffer) => {
    const m = /^\$iothub\/methods\/POST\/([^/]+)\/\?\$rid=(.+)$/.exec(topic)
    if (!m) return
    const request = JSON.parse(payload.toString())
    c.publish(`$iothub/methods/res/200/?$rid=${m[2]}`, JSON.stringify({ method: m[1], doubled: request.n * 2 }))
  })
  const result = await hub.invokeMethod(D, 'double', { n: 21 }, 3000)
  assert.equal(result, { status: 200, payload: { method: 'double', doubled: 42 } })
})

test('a method the device does not answer times out with 504; an offline device gives 404', async () => {
  const c = await connect(hub, D)
  await grants(c, ['$iothub/methods/POST/#'])
  const started = Date.now()
  const late = await hub.invokeMethod(D, 'sleep', null, 200)
  assert.is(late.status, 504)
  assert.ok(Date.now() - started >= 190)
  assert.is((await hub.invokeMethod('c2d-full', 'anything', null, 1000)).status, 404)
})

test.run()
