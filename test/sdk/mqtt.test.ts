// The official SDK's MQTT and MQTT-over-WebSockets transports against the emulator: telemetry,
// C2D, twin, direct methods and a module identity, each checked on both sides (what the SDK got,
// what the hub stored). One hub and one open client per transport for the whole file.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Twin } from 'azure-iot-device'
import { MQTT_TRANSPORTS, Message, admin, closeAll, invokeWhenReady, openClients, nextTelemetry, propertiesOf, testHub, until, within } from './helpers'
import type { Hub } from './helpers'

const test = suite('sdk/mqtt')
let hub: Hub & { stop: () => Promise<void> }
let devices: Awaited<ReturnType<typeof openClients>>['devices']
let modules: Awaited<ReturnType<typeof openClients>>['modules']

test.before(async () => {
  hub = await testHub(process.env.HUB_LOG ? { log: (line: string) => console.error(Date.now() % 100000, line) } : {})
  ;({ devices, modules } = await openClients(hub, MQTT_TRANSPORTS))
})
test.after(async () => {
  await closeAll()
  await hub.stop()
})

for (const t of MQTT_TRANSPORTS) {
  test(`${t}: the SDK dials the service's endpoint with the IoT Hub user name; the hub sees it connected`, () => {
    const { id, dialed } = devices.get(t)!
    const d = dialed[0]
    assert.is(d.url, t === 'Mqtt' ? `mqtts://${hub.host}` : `wss://${hub.host}:443/$iothub/websocket`)
    assert.is(d.clientId, id)
    assert.match(d.username!, new RegExp(`^${hub.hubName.replace(/\./g, '\\.')}/${id}/\\?api-version=[\\d-]+&DeviceClientType=`))
    assert.match(d.password!, /^SharedAccessSignature sr=/)
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
    m.correlationId = 'c-1'
    m.contentType = 'application/json'
    m.contentEncoding = 'utf-8'
    const stored = nextTelemetry(hub, x => x.deviceId === id && !x.moduleId)
    const result = await within(client.sendEvent(m), 10000, 'sendEvent')
    assert.is(result!.constructor.name, 'MessageEnqueued')
    const x = await stored
    assert.ok(x.body.equals(Buffer.from(body)), x.body.toString())
    assert.equal(x.properties, { label: '温度', 'odd key': 'a/b&c=d é' })
    assert.equal(x.system, { messageId: `m-${t}`, correlationId: 'c-1', contentType: 'application/json', contentEncoding: 'utf-8' })
    // the same through the admin API
    const { json } = await admin(hub, 'GET', `/telemetry?device=${id}`)
    assert.equal(json.at(-1).properties, { label: '温度', 'odd key': 'a/b&c=d é' })
    assert.is(json.at(-1).body, body)
  })

  test(`${t}: C2D arrives with its properties (non-ASCII included) and complete settles it; reject and abandon are refused by the SDK (MQTT has neither), the PUBACK settled the message`, async () => {
    const { id, client } = devices.get(t)!
    const feedback: { messageId: string, statusCode: string }[] = []
    const onFeedback = (f: { deviceId: string, messageId: string, statusCode: string }) => { if (f.deviceId === id) feedback.push(f) }
    hub.on('feedback', onFeedback)
    // one listener for the whole test: the SDK unsubscribes when the last one goes (a `once` would)
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
      assert.is((await within(client.complete(m), 5000, 'complete'))!.constructor.name, 'MessageCompleted')
      await until(() => feedback.length === 1, 5000, 'feedback')
      assert.equal(feedback[0], { deviceId: id, messageId: sent.messageId, statusCode: 'Success' })

      // through the admin API, as a service application sends it
      const posted = await admin(hub, 'POST', `/devices/${id}/messages`, { body: { cmd: 'blink' }, properties: { urgent: '1' } })
      assert.is(posted.status, 201)
      await until(() => received.length === 2, 10000, 'second C2D message')
      const m2 = received[1]
      assert.equal(JSON.parse(m2.getData().toString()), { cmd: 'blink' })
      assert.equal(propertiesOf(m2), { urgent: '1' })
      for (const settle of ['reject', 'abandon'] as const) {
        const err = await Promise.resolve().then(() => (client as any)[settle](m2)).then(() => null, (e: Error) => e)
        assert.is(err?.name, 'NotImplementedError', `${settle}: ${err}`)
      }
      await until(() => feedback.length === 2, 5000, 'feedback of the second message')
      assert.is(feedback[1].statusCode, 'Success')
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
    assert.is(twin.properties.reported.fw, '1.0', 'the SDK merged the patch into its copy')

    // the SDK reports the whole desired document first when a handler is added, then each patch
    const patches: any[] = []
    twin.on('properties.desired', (delta: any) => patches.push(delta))
    await until(() => patches.length >= 1, 5000, 'initial desired')
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
    // the SDK subscribes to methods when the first handler is set: 404 until then
    const result = await invokeWhenReady(hub, id, `reboot${t}`, { delay: 5 })
    assert.equal(result, { status: 201, payload: { ok: true, got: { delay: 5 }, text: '温度' } })
    assert.equal(requests.map(r => [r.name, r.payload]), [[`reboot${t}`, { delay: 5 }]])
    // through the admin API
    const { status, json } = await admin(hub, 'POST', `/devices/${id}/methods/reboot${t}`, { payload: [1, 'two'], responseTimeoutInSeconds: 5 })
    assert.is(status, 200)
    assert.equal(json, { status: 201, payload: { ok: true, got: [1, 'two'], text: '温度' } })
    // a method nobody handles times out
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

    const twin = await within(client.getTwin(), 10000, 'module getTwin') as Twin
    await within(new Promise<void>((resolve, reject) => twin.properties.reported.update({ mod: true }, (err?: Error) => err ? reject(err) : resolve())), 10000, 'module reported')
    assert.is(hub.getTwin(id).reported.mod, true)
    assert.is(hub.getTwin(deviceId).reported.mod, undefined, 'the device twin is another twin')

    const patches: any[] = []
    twin.on('properties.desired', (delta: any) => patches.push(delta))
    await until(() => patches.length >= 1, 5000, 'initial desired')
    hub.updateDesired(id, { modSetting: 'on' })
    await until(() => patches.some(p => p.modSetting === 'on'), 10000, 'module desired patch')

    client.onMethod('ping', (req, res) => { res!.send(200, { pong: req!.payload }, () => {}) })
    const result = await invokeWhenReady(hub, id, 'ping', 7)
    assert.equal(result, { status: 200, payload: { pong: 7 } })
  })
}

test.run()
