// The official SDK's AMQP and AMQP-over-WebSockets transports (azure-iot-device-amqp) against the emulator's
// AMQP endpoint: CBS put-token, telemetry, C2D with its three settlements, twin, direct methods, token renewal on
// a live connection, a wrong key, a module identity; each checked on both sides (what the SDK got, what the hub
// stored). One hub for the file, one device client (and one module client) per transport.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Twin } from 'azure-iot-device'
import { AMQP_TRANSPORTS, Message, admin, closeAll, invokeWhenReady, openClients, roundTrip, nextTelemetry, propertiesOf, sdkClient, sdkModuleClient, testHub, until, within } from './helpers'
import type { Hub } from './helpers'
import { sas, resource } from '../hub/helpers'

const test = suite('sdk/amqp')
let hub: Hub & { stop: () => Promise<void> }
const log: string[] = []
let devices: Awaited<ReturnType<typeof openClients>>['devices']
let modules: Awaited<ReturnType<typeof openClients>>['modules']

test.before(async () => {
  hub = await testHub({ log: (line: string) => { log.push(line); if (process.env.HUB_LOG) console.error(Date.now() % 100000, line) } })
  ;({ devices, modules } = await openClients(hub, AMQP_TRANSPORTS))
})
test.after(async () => {
  await closeAll()
  await hub.stop()
})

test('the AMQPS port is reported with the others', () => {
  assert.type(hub.ports.amqps, 'number')
  assert.ok(hub.ports.amqps! > 0 && hub.ports.amqps !== hub.ports.https)
})

for (const t of AMQP_TRANSPORTS) {
  test(`${t}: the SDK dials the service's endpoint; after its put-token the hub sees the device connected`, () => {
    const { id, dialed } = devices.get(t)!
    assert.is(dialed[0].url, t === 'Amqp' ? `amqps://${hub.host}` : `https://${hub.host}:443`)
    assert.ok(hub.connected(id))
    assert.ok(hub.connected(`${id}/mod`))
  })

  test(`${t}: telemetry with application and system properties (non-ASCII included) is stored as sent`, async () => {
    const { id, client } = devices.get(t)!
    const body = JSON.stringify({ t: 21.5, note: 'température 温度' })
    const m = new Message(body)
    m.properties.add('label', '温度')
    m.properties.add('odd key', 'a/b&c=d é')
    m.messageId = `m-${t}`
    m.correlationId = '5d7b2d5e-8a5e-4c4e-9a43-2f9f0c6f1a10' // a UUID: the SDK sends it as an AMQP uuid
    m.contentType = 'application/json'
    m.contentEncoding = 'utf-8'
    const stored = nextTelemetry(hub, x => x.deviceId === id && !x.moduleId)
    const result = await within(client.sendEvent(m), 10000, 'sendEvent')
    assert.is(result!.constructor.name, 'MessageEnqueued')
    const x = await stored
    assert.is(x.protocol, 'amqp')
    assert.is(x.topic, `/devices/${id}/messages/events`)
    assert.ok(x.body.equals(Buffer.from(body)), x.body.toString())
    assert.equal(x.properties, { label: '温度', 'odd key': 'a/b&c=d é' })
    assert.equal(x.system, {
      messageId: `m-${t}`,
      correlationId: '5d7b2d5e-8a5e-4c4e-9a43-2f9f0c6f1a10',
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      to: `/devices/${id}/messages/events` // the SDK sets `to` to the link's address
    })
    const { json } = await admin(hub, 'GET', `/telemetry?device=${id}`)
    assert.equal(json.at(-1).properties, { label: '温度', 'odd key': 'a/b&c=d é' })
    assert.is(json.at(-1).body, body)
  })

  test(`${t}: C2D arrives with its properties (non-ASCII included); complete, reject and abandon settle it as the hub records`, async () => {
    const { id, client } = devices.get(t)!
    const feedback: { messageId: string, statusCode: string }[] = []
    const onFeedback = (f: { deviceId: string, messageId: string, statusCode: string }) => { if (f.deviceId === id) feedback.push(f) }
    hub.on('feedback', onFeedback)
    const received: Message[] = []
    const listener = (m: Message) => { received.push(m) }
    client.on('message', listener)
    try {
      const sent = hub.sendC2D(id, 'héllo 温度', { label: '温度', k: 'v', '$.cid': 'c2d-c', '$.ct': 'text/plain; charset=utf-8', '$.mid': `c2d-${t}` })
      await until(() => received.length === 1, 10000, 'C2D message')
      const m = received[0]
      assert.is(m.getData().toString(), 'héllo 温度')
      assert.equal(propertiesOf(m), { label: '温度', k: 'v' })
      assert.is(m.messageId, `c2d-${t}`)
      assert.is(m.correlationId, 'c2d-c')
      assert.is(m.contentType, 'text/plain; charset=utf-8')
      assert.is(m.to, `/devices/${id}/messages/deviceBound`)
      assert.is(hub.c2dQueue(id).length, 1, 'kept until settled')
      assert.is((await within(client.complete(m), 5000, 'complete'))!.constructor.name, 'MessageCompleted')
      await until(() => feedback.length === 1, 5000, 'feedback')
      assert.equal(feedback[0], { deviceId: id, messageId: sent.messageId, statusCode: 'Success' })
      assert.equal(hub.c2dQueue(id), [])

      // reject: dead-lettered
      const posted = await admin(hub, 'POST', `/devices/${id}/messages`, { body: { cmd: 'blink' }, properties: { urgent: '1' } })
      assert.is(posted.status, 201)
      await until(() => received.length === 2, 10000, 'second C2D message')
      assert.equal(JSON.parse(received[1].getData().toString()), { cmd: 'blink' })
      assert.equal(propertiesOf(received[1]), { urgent: '1' })
      assert.is((await within(client.reject(received[1]), 5000, 'reject'))!.constructor.name, 'MessageRejected')
      await until(() => feedback.length === 2, 5000, 'feedback of the rejected message')
      assert.equal(feedback[1], { deviceId: id, messageId: posted.json.messageId, statusCode: 'Rejected' })
      assert.equal(hub.c2dQueue(id), [])

      // abandon: sent again, its delivery count one higher; then completed
      const third = hub.sendC2D(id, 'again', { '$.mid': `again-${t}` })
      await until(() => received.length === 3, 10000, 'third C2D message')
      assert.is((received[2].transportObj as any).delivery_count ?? 0, 0)
      assert.is((await within(client.abandon(received[2]), 5000, 'abandon'))!.constructor.name, 'MessageAbandoned')
      await until(() => received.length === 4, 10000, 'the abandoned message again')
      assert.is(received[3].messageId, `again-${t}`)
      assert.is((received[3].transportObj as any).delivery_count, 1)
      assert.is(hub.c2dQueue(id).length, 1)
      assert.is(hub.c2dQueue(id)[0].deliveryCount, 2)
      assert.is(feedback.length, 2, 'no feedback for an abandon')
      await within(client.complete(received[3]), 5000, 'complete the redelivered message')
      await until(() => feedback.length === 3, 5000, 'feedback of the third message')
      assert.equal(feedback[2], { deviceId: id, messageId: third.messageId, statusCode: 'Success' })
      assert.equal(hub.c2dQueue(id), [])
    } finally {
      client.removeListener('message', listener)
      hub.off('feedback', onFeedback)
    }
  })

  test(`${t}: twin: get, reported patch, desired push`, async () => {
    const { id, client } = devices.get(t)!
    const desiredVersion = hub.updateDesired(id, { interval: 30, label: '温度' })
    const twin: Twin = await within(client.getTwin(), 10000, 'getTwin') as Twin
    assert.is(twin.properties.desired.interval, 30)
    assert.is(twin.properties.desired.label, '温度')
    assert.is(twin.properties.desired.$version, desiredVersion)

    const reportedBefore = hub.getTwin(id).reported.$version
    const reported = within(new Promise<any>(resolve => hub.once('reported', resolve)), 10000, 'reported event')
    await within(new Promise<void>((resolve, reject) => twin.properties.reported.update({ fw: '1.0', note: 'température', nested: { a: 1 } }, (err?: Error) => err ? reject(err) : resolve())), 10000, 'reported update')
    const r = await reported
    assert.is(r.id, id)
    assert.is(r.version, reportedBefore + 1)
    const stored = hub.getTwin(id).reported
    assert.equal({ fw: stored.fw, note: stored.note, nested: stored.nested }, { fw: '1.0', note: 'température', nested: { a: 1 } })

    // the SDK asks for desired pushes (PUT) and gets the whole document first when a handler is added, then each patch
    const patches: any[] = []
    twin.on('properties.desired', (delta: any) => patches.push(delta))
    await until(() => patches.length >= 1, 5000, 'initial desired')
    await until(() => log.some(l => l.includes(`amqp ${id} desired notifications on`)), 5000, 'PUT notifications')
    const { status, json } = await admin(hub, 'PATCH', `/devices/${id}/twin/desired`, { interval: 60 })
    assert.is(status, 200)
    await until(() => patches.some(p => p.interval === 60), 10000, 'desired patch')
    const patch = patches.find(p => p.interval === 60)
    assert.is(patch.$version, json.desired.$version)
    assert.is(twin.properties.desired.interval, 60)
    assert.is(twin.properties.desired.label, '温度')
  })

  test(`${t}: a direct method returns the device's status and payload`, async () => {
    const { id, client } = devices.get(t)!
    const requests: any[] = []
    client.onDeviceMethod(`reboot${t}`, (req, res) => {
      requests.push({ name: req.methodName, payload: req.payload, id: req.requestId })
      res.send(201, { ok: true, got: req.payload, text: '温度' }, () => {})
    })
    const result = await invokeWhenReady(hub, id, `reboot${t}`, { delay: 5 })
    assert.equal(result, { status: 201, payload: { ok: true, got: { delay: 5 }, text: '温度' } })
    assert.equal(requests.map(r => [r.name, r.payload]), [[`reboot${t}`, { delay: 5 }]])
    assert.match(requests[0].id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    const { status, json } = await admin(hub, 'POST', `/devices/${id}/methods/reboot${t}`, { payload: [1, 'two'], responseTimeoutInSeconds: 5 })
    assert.is(status, 200)
    assert.equal(json, { status: 201, payload: { ok: true, got: [1, 'two'], text: '温度' } })
    // a method nobody handles: the SDK does not answer, the hub times out
    assert.is((await hub.invokeMethod(id, 'nobody', null, 300)).status, 504)
  })

  test(`${t}: a module identity: telemetry, reported properties, desired push and a method, on the module's own twin`, async () => {
    const { id, client } = modules.get(t)!
    const [deviceId, moduleId] = id.split('/')
    const stored = nextTelemetry(hub, x => x.moduleId === moduleId && x.deviceId === deviceId)
    const m = new Message('from the module')
    m.properties.add('k', 'v')
    await within(client.sendEvent(m), 10000, 'module sendEvent')
    const x = await stored
    assert.is(x.body.toString(), 'from the module')
    assert.equal(x.properties, { k: 'v' })
    assert.is(x.topic, `/devices/${deviceId}/modules/${moduleId}/messages/events`)

    const twin = await within(client.getTwin(), 10000, 'module getTwin') as Twin
    await within(new Promise<void>((resolve, reject) => twin.properties.reported.update({ mod: true }, (err?: Error) => err ? reject(err) : resolve())), 10000, 'module reported')
    assert.is(hub.getTwin(id).reported.mod, true)
    assert.is(hub.getTwin(deviceId).reported.mod, undefined, 'the device twin is another twin')

    const patches: any[] = []
    twin.on('properties.desired', (delta: any) => patches.push(delta))
    await until(() => patches.length >= 1, 5000, 'initial desired')
    await until(() => log.some(l => l.includes(`amqp ${id} desired notifications on`)), 5000, 'PUT notifications')
    hub.updateDesired(id, { modSetting: 'on' })
    await until(() => patches.some(p => p.modSetting === 'on'), 10000, 'module desired patch')

    client.onMethod('ping', (req, res) => { res!.send(200, { pong: req!.payload }, () => {}) })
    const result = await invokeWhenReady(hub, id, 'ping', 7)
    assert.equal(result, { status: 200, payload: { pong: 7 } })
  })

  test(`${t}: a wrong key is refused at put-token (401): open fails, nothing stored`, async () => {
    const id = `wrongkey-${t.toLowerCase()}`
    hub.registry.addDevice(id)
    const cs = hub.registry.connectionString(id).replace(/SharedAccessKey=[^;]+/, `SharedAccessKey=${Buffer.alloc(32, 7).toString('base64')}`)
    const { client } = await sdkClient(hub, cs, t)
    const before = hub.telemetry.length
    const err = await within(client.open().then(() => null, (e: Error) => e), 15000, `${t} refused`)
    assert.is(err?.name, 'UnauthorizedError', String(err))
    assert.is(hub.telemetry.length, before)
    assert.not.ok(hub.connected(id))
    assert.ok(log.some(l => l.includes(`put-token`) && l.includes(id) && l.includes('signature does not match')))
  })

  test(`${t}: an expired token (a SharedAccessSignature connection string) is refused at put-token`, async () => {
    const id = `expired-${t.toLowerCase()}`
    hub.registry.addDevice(id)
    const token = sas(resource(hub, id), hub.registry.get(id)!.primaryKey!, Math.floor(Date.now() / 1000) - 60)
    const cs = `HostName=${hub.hubName};DeviceId=${id};SharedAccessSignature=${token};GatewayHostName=${hub.host}`
    const { client } = await sdkClient(hub, cs, t)
    const err = await within(client.open().then(() => null, (e: Error) => e), 15000, `${t} refused`)
    assert.is(err?.name, 'UnauthorizedError', String(err))
    assert.not.ok(hub.connected(id))
    assert.ok(log.some(l => l.includes(`put-token`) && l.includes(id) && l.includes('token expired')))
  })
}

for (const t of AMQP_TRANSPORTS) {
  test(`${t}: a shared access policy's connection string (SharedAccessKeyName=device): put-token with skn accepted; a policy without DeviceConnect is 401`, async () => {
    const id = `policy-${t.toLowerCase()}`
    hub.registry.addDevice(id)
    const { client } = await sdkClient(hub, hub.registry.policyConnectionString('device', id), t)
    await within(client.open(), 10000, `${t} open`)
    assert.is((await roundTrip(hub, client, id, `${t} with a policy`)).deviceId, id)
    hub.registry.addPolicy('service-only', ['ServiceConnect'])
    const other = await sdkClient(hub, hub.registry.policyConnectionString('service-only', id), t)
    const err = await within(other.client.open().then(() => null, (e: Error) => e), 15000, `${t} refused`)
    assert.is(err?.name, 'UnauthorizedError', String(err))
    assert.ok(log.some(l => l.includes('put-token') && l.includes(id) && l.includes('policy service-only has no DeviceConnect')))
  })

  test(`${t}: an X.509 device (x509=true, a client certificate from the emulator's CA) needs no put-token; another certificate is refused`, async () => {
    const id = `x509-${t.toLowerCase()}`
    const cert = hub.deviceCert(id)
    hub.registry.addDevice(id, { auth: 'x509', thumbprint: cert.thumbprint })
    const cs = hub.registry.connectionString(id)
    assert.match(cs, /;x509=true/)
    const { client } = await sdkClient(hub, cs, t, { cert: cert.cert, key: cert.key })
    await within(client.open(), 10000, `${t} open`)
    assert.is((await roundTrip(hub, client, id, `${t} with a certificate`)).deviceId, id)
    assert.not.ok(log.some(l => l.includes('put-token') && l.includes(id)), 'no CBS')

    const stranger = hub.deviceCert(`${id}-other`)
    const other = await sdkClient(hub, cs, t, { cert: stranger.cert, key: stranger.key })
    const before = hub.telemetry.length
    const err = await within(other.client.open().then(() => other.client.sendEvent(new Message('x'))).then(() => null, (e: Error) => e), 15000, `${t} refused`)
    assert.ok(err, 'refused')
    assert.is(hub.telemetry.length, before)
  })

  test(`${t}: IoT Edge: a module's output event (iothub-outputname) is routed to another module's input, which gets it on its receiver link with x-opt-input-name and completes it`, async () => {
    const edge = `edge-${t.toLowerCase()}`
    hub.registry.addDevice(edge)
    hub.registry.addModule(edge, 'src')
    hub.registry.addModule(edge, 'dst')
    hub.setRoutes(edge, { r1: 'FROM /messages/modules/src/outputs/out1 INTO BrokeredEndpoint("/modules/dst/inputs/in1")' })
    const src = await sdkModuleClient(hub, hub.registry.connectionString(edge, 'src'), t)
    const dst = await sdkModuleClient(hub, hub.registry.connectionString(edge, 'dst'), t)
    await within(src.client.open(), 10000, 'src open')
    await within(dst.client.open(), 10000, 'dst open')
    const inputs: { input: string, m: Message }[] = []
    dst.client.on('inputMessage', (input: string, m: Message) => { inputs.push({ input, m }) })
    await until(() => log.some(l => l.includes(`amqp attach ${edge}/dst inputs`)), 10000, 'input link')
    const out = new Message('to dst é')
    out.properties.add('k', '温度')
    const before = hub.telemetry.length
    await within(src.client.sendOutputEvent('out1', out), 10000, 'sendOutputEvent')
    await until(() => inputs.length === 1, 10000, 'input message')
    assert.is(inputs[0].input, 'in1')
    assert.is(inputs[0].m.getData().toString(), 'to dst é')
    assert.equal(propertiesOf(inputs[0].m), { k: '温度' })
    assert.is(hub.telemetry.length, before, 'routed to a module only, not upstream')
    assert.is(hub.c2dQueue(`${edge}/dst`).length, 1, 'kept until completed')
    await within(dst.client.complete(inputs[0].m), 5000, 'complete the input message')
    await until(() => hub.c2dQueue(`${edge}/dst`).length === 0, 5000, 'input settled')
  })
}

const VALID = 6 // seconds a token is valid
const MARGIN = 3 // renewed this long before it expires

test('SAS renewal: each AMQP transport puts a new token on the same connection and its links go on past the first token\'s expiry', async () => {
  await Promise.all(AMQP_TRANSPORTS.map(async t => {
    const id = `renew-${t.toLowerCase()}`
    hub.registry.addDevice(id)
    let connects = 0
    hub.on('connect', (c: { id: string }) => { if (c.id === id) connects++ })
    const { client } = await sdkClient(hub, hub.registry.connectionString(id), t, { tokenRenewal: { tokenValidTimeInSeconds: VALID, tokenRenewalMarginInSeconds: MARGIN } })
    await within(client.open(), 10000, `${t} open`)
    const start = Date.now()
    await roundTrip(hub, client, id, `${t} first`)
    await new Promise(resolve => setTimeout(resolve, VALID * 1000 + 1000 - (Date.now() - start)))
    const late = await roundTrip(hub, client, id, `${t} after expiry`)
    assert.is(late.deviceId, id)
    assert.is(connects, 1, `${t}: one connection, no reconnect`)
    assert.ok(log.some(l => l.includes(`amqp token renewed for ${resource(hub, id)}`)), `${t}: renewed`)
    assert.not.ok(log.some(l => l.includes(`/devices/${id}/`) && l.includes('SAS token expired')), `${t}: no link detached`)
    assert.ok(hub.connected(id))
  }))
})

test.run()
