// The official SDK's HTTPS transport against the emulator: telemetry (single and batch), C2D
// polled and settled (complete, reject, abandon), a module's telemetry; both sides checked.
// The SDK has no twin or direct methods over HTTPS (nor has the service).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Client } from 'azure-iot-device'
import { Message, closeAll, nextTelemetry, propertiesOf, sdkClient, sdkModuleClient, testHub, until, within } from './helpers'
import type { Dial, Hub } from './helpers'

const test = suite('sdk/http')
let hub: Hub & { stop: () => Promise<void> }
const D = 'sdk-http'
let client: Client
let dialed: Dial[]

test.before(async () => {
  hub = await testHub()
  hub.registry.addDevice(D)
  hub.registry.addModule(D, 'mod')
  ;({ client, dialed } = await sdkClient(hub, hub.registry.connectionString(D), 'Http'))
  await within(client.open(), 10000, 'open')
})
test.after(async () => {
  await closeAll()
  await hub.stop()
})

/** The next telemetry the hub stores for `deviceId` (and `moduleId`). */
const stored = (deviceId: string, moduleId?: string) => nextTelemetry(hub, x => x.deviceId === deviceId && x.moduleId === moduleId)

test('telemetry with application and system properties is stored as sent; the SDK dialed the hub name on 443 (not GatewayHostName, which its MQTT transports use)', async () => {
  const m = new Message('{"t":1}')
  m.properties.add('Color', 'red')
  m.properties.add('n', '7')
  m.messageId = 'h-1'
  m.correlationId = 'c-1'
  m.contentType = 'application/json'
  m.contentEncoding = 'utf-8'
  const x = stored(D)
  assert.is((await within(client.sendEvent(m), 10000, 'sendEvent'))!.constructor.name, 'MessageEnqueued')
  const got = await x
  assert.is(got.protocol, 'https')
  assert.is(got.body.toString(), '{"t":1}')
  assert.equal(got.properties, { Color: 'red', n: '7' })
  // the SDK also sends iothub-to with the events path
  assert.equal(got.system, { messageId: 'h-1', correlationId: 'c-1', contentType: 'application/json', contentEncoding: 'utf-8', to: `/devices/${D}/messages/events` })
  assert.ok(dialed.length > 0 && dialed.every(d => d.url === `https://${hub.hubName}:443`), JSON.stringify(dialed))
})

test('a property value outside Latin-1 cannot be an HTTP header: the SDK\'s send fails and the hub stores nothing', async () => {
  const before = hub.telemetry.length
  const m = new Message('x')
  m.properties.add('label', '温度')
  const err = await within(client.sendEvent(m).then(() => null, (e: Error) => e), 10000, 'sendEvent')
  assert.ok(err, 'the send failed')
  assert.is(hub.telemetry.length, before)
})

test('a batch: each message stored with its own properties', async () => {
  const before = hub.telemetry.length
  const batch = ['one', 'two'].map((text, i) => {
    const m = new Message(text)
    m.properties.add('n', String(i + 1))
    return m
  })
  await within(client.sendEventBatch(batch), 10000, 'sendEventBatch')
  assert.equal(hub.telemetry.slice(before).map((x: any) => [x.body.toString(), x.properties]), [['one', { n: '1' }], ['two', { n: '2' }]])
})

test('module telemetry over HTTPS: the SDK posts to the device\'s path with the module\'s token, which the hub refuses (401) as the service does', async () => {
  const { client: mc, dialed: md } = await sdkModuleClient(hub, hub.registry.connectionString(D, 'mod'), 'Http')
  await within(mc.open(), 10000, 'module open')
  const before = hub.telemetry.length
  const err = await within(mc.sendEvent(new Message('from the module')).then(() => null, (e: Error) => e), 10000, 'module sendEvent')
  assert.is(err?.name, 'UnauthorizedError', String(err))
  assert.is(hub.telemetry.length, before)
  assert.ok(md.length > 0)
})

test('C2D polled at /messages/devicebound: complete, reject and abandon settle as the hub reports', async () => {
  const feedback: { messageId: string, statusCode: string }[] = []
  const onFeedback = (f: { messageId: string, statusCode: string }) => feedback.push(f)
  hub.on('feedback', onFeedback)
  const received: Message[] = []
  client.on('message', (m: Message) => { received.push(m) })
  try {
    const a = hub.sendC2D(D, 'complete me', { k: 'v', '$.cid': 'c-a' })
    await until(() => received.length === 1, 10000, 'first message')
    const m = received[0]
    assert.is(m.getData().toString(), 'complete me')
    // the SDK keeps the header names: application properties arrive as iothub-app-{name}
    assert.is(propertiesOf(m)['iothub-app-k'], 'v')
    assert.is(m.messageId, a.messageId)
    assert.is(m.correlationId, 'c-a')
    assert.is(m.to, `/devices/${D}/messages/deviceBound`)
    assert.match(m.lockToken, /^[0-9a-f-]{36}$/)
    assert.is(hub.c2dQueue(D)[0].lockToken, m.lockToken)
    await within(client.complete(m), 10000, 'complete')
    assert.equal(feedback.splice(0), [{ deviceId: D, messageId: a.messageId, statusCode: 'Success' }] as any)

    const b = hub.sendC2D(D, 'reject me')
    await until(() => received.length === 2, 10000, 'second message')
    await within(client.reject(received[1]), 10000, 'reject')
    assert.equal(feedback.splice(0), [{ deviceId: D, messageId: b.messageId, statusCode: 'Rejected' }] as any)

    const c = hub.sendC2D(D, 'abandon me')
    await until(() => received.length === 3, 10000, 'third message')
    await within(client.abandon(received[2]), 10000, 'abandon')
    assert.equal(feedback, [])
    assert.is(hub.c2dQueue(D)[0].lockToken, null, 'unlocked')
    await until(() => received.length === 4, 10000, 'the abandoned message again')
    assert.is(received[3].messageId, c.messageId)
    assert.is(hub.c2dQueue(D)[0].deliveryCount, 2)
    await within(client.complete(received[3]), 10000, 'complete')
    assert.equal(feedback.splice(0), [{ deviceId: D, messageId: c.messageId, statusCode: 'Success' }] as any)
    assert.equal(hub.c2dQueue(D), [])
  } finally {
    hub.off('feedback', onFeedback)
  }
})

test('C2D with a property value outside Latin-1: the header carries its UTF-8 bytes, lock and count set once', async () => {
  const received: Message[] = []
  const listener = (m: Message) => { received.push(m) }
  client.on('message', listener)
  try {
    const sent = hub.sendC2D(D, 'x', { label: '温度' })
    await until(() => received.some(m => m.messageId === sent.messageId), 10000, 'message')
    const m = received.find(m => m.messageId === sent.messageId)!
    assert.is(Buffer.from(propertiesOf(m)['iothub-app-label'], 'latin1').toString('utf8'), '温度')
    const queued = hub.c2dQueue(D)[0]
    assert.is(queued.deliveryCount, 1)
    assert.is(queued.lockToken, m.lockToken)
    await within(client.complete(m), 10000, 'complete')
    assert.equal(hub.c2dQueue(D), [])
  } finally {
    client.removeListener('message', listener)
  }
})

test.run()
