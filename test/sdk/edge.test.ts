// IoT Edge modules through the emulator acting as the Edge hub of an Edge device: routes set as a deployment
// sets them ($edgeHub routes), the official SDK's ModuleClient on one module, ours (targets/node) on the other.
// Checked on both sides: what each module got on which input, with which properties, what went upstream, what
// no route took (dropped), and store-and-forward to a module that was offline.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ModuleClient } from 'azure-iot-device'
import { Message, closeAll, nextTelemetry, propertiesOf, sdkModuleClient, testHub, until, within } from './helpers'
import type { Hub } from './helpers'
import { createDevice, errorName } from '../../targets/node/index'
import type { Device, C2DMessage } from '../../targets/node/index'
import { parseRoute, routeMatches } from '../../tools/hub/edge.js'

const test = suite('sdk/edge')
const EDGE = 'edge-1'
let hub: Hub & { stop: () => Promise<void> }
let sdk: ModuleClient
let ours: Device | null = null
const got: { input: string, msg: C2DMessage, body: string }[] = []
const sdkGot: { input: string, body: string, properties: Record<string, string> }[] = []

/** Our module `sink` of the Edge device, with handlers for two inputs and onMessage for the rest. */
async function startOurs (): Promise<Device> {
  let up = false
  const keep = (input: string) => (msg: C2DMessage) => got.push({ input, msg, body: Buffer.from(msg.payload).toString() })
  const d = createDevice({
    connectionString: hub.registry.connectionString(EDGE, 'sink'), port: hub.ports.mqtts, tls: { ca: hub.ca },
    inputs: { in1: keep('in1'), alerts: keep('alerts') },
    onMessage: keep('(onMessage)'),
    onConnect: () => (up = true)
  })
  if (typeof d === 'number') throw new Error(errorName(d))
  d.connect()
  await until(() => up && hub.connected(`${EDGE}/sink`), 10000, 'our module connected')
  return d
}

test.before(async () => {
  hub = await testHub()
  hub.registry.addDevice(EDGE)
  hub.registry.addModule(EDGE, 'filter')
  hub.registry.addModule(EDGE, 'sink')
  hub.setRoutes(EDGE, {
    filterToSink: 'FROM /messages/modules/filter/outputs/out1 INTO BrokeredEndpoint("/modules/sink/inputs/in1")',
    sinkAlerts: 'FROM /messages/modules/sink/outputs/alerts INTO BrokeredEndpoint("/modules/filter/inputs/alerts")',
    sinkUp: 'FROM /messages/modules/sink/outputs/up INTO $upstream',
    filterAll: 'FROM /messages/modules/filter/outputs/* INTO $upstream'
  })
  const m = await sdkModuleClient(hub, hub.registry.connectionString(EDGE, 'filter'), 'Mqtt')
  sdk = m.client
  sdk.on('inputMessage', (input: string, msg: Message) => {
    sdkGot.push({ input, body: msg.getData().toString(), properties: propertiesOf(msg) })
    sdk.complete(msg, () => {})
  })
  await within(sdk.open(), 10000, 'SDK module open')
  ours = await startOurs()
})
test.after(async () => {
  ours?.end()
  await closeAll()
  await hub.stop()
})

test('routes: the deployment syntax parsed; conditions refused by name', () => {
  const r = parseRoute('r', 'FROM /messages/modules/a/outputs/o INTO BrokeredEndpoint("/modules/b/inputs/i")')
  assert.equal([r.module, r.output, r.upstream, r.toModule, r.input], ['a', 'o', false, 'b', 'i'])
  assert.ok(routeMatches(r, 'a', 'o') && !routeMatches(r, 'a', 'p') && !routeMatches(r, 'c', 'o') && !routeMatches(r, 'a', undefined))
  const any = parseRoute('r', 'FROM /messages/* INTO $upstream')
  assert.ok(any.upstream && routeMatches(any, 'x', undefined) && routeMatches(any, 'y', 'o'))
  const outputs = parseRoute('r', 'FROM /messages/modules/a/outputs/* INTO $upstream')
  assert.ok(routeMatches(outputs, 'a', 'o') && !routeMatches(outputs, 'a', undefined))
  assert.throws(() => parseRoute('w', 'FROM /messages/* WHERE temp > 5 INTO $upstream'), /conditions \(WHERE\) are not supported/)
  assert.throws(() => parseRoute('x', 'FROM /telemetry INTO $upstream'), /is not FROM/)
})

test('SDK sendOutputEvent("out1") reaches our module\'s inputs.in1 handler with its properties, and goes upstream by filterAll', async () => {
  got.length = 0
  const upstream = nextTelemetry(hub, x => x.deviceId === EDGE && x.moduleId === 'filter')
  const m = new Message('{"t":21.5}')
  m.properties.add('unit', 'C')
  m.messageId = 'm-out1'
  await within(sdk.sendOutputEvent('out1', m), 10000, 'SDK sendOutputEvent')
  await until(() => got.length === 1, 10000, 'our module got the input')
  assert.is(got[0].input, 'in1')
  assert.is(got[0].body, '{"t":21.5}')
  assert.is(got[0].msg.properties.$inputName, 'in1')
  assert.is(got[0].msg.properties.unit, 'C')
  assert.is(got[0].msg.properties.$messageId ?? got[0].msg.properties['$.mid'], 'm-out1')
  const t = await upstream
  assert.is(t.system.outputName, 'out1')
  assert.is(t.body.toString(), '{"t":21.5}')
})

test('our sendOutputEvent("alerts") reaches the SDK module\'s inputMessage as input "alerts", and is not recorded upstream (no route)', async () => {
  sdkGot.length = 0
  const before = hub.telemetry.length
  let acked = -1
  assert.ok(ours!.sendOutputEvent!('alerts', 'over 30', { level: 'high' }, (e) => (acked = e)) > 0)
  await until(() => sdkGot.length === 1 && acked >= 0, 10000, 'the SDK module got it')
  assert.is(acked, 0)
  assert.equal(sdkGot[0], { input: 'alerts', body: 'over 30', properties: { level: 'high' } })
  assert.is(hub.telemetry.length, before, 'nothing went upstream')
})

test('upstream by route; a message no route takes is dropped; the Edge hub keeps an input for a module that is offline', async () => {
  const up = nextTelemetry(hub, x => x.deviceId === EDGE && x.moduleId === 'sink')
  let done = -1
  ours!.sendOutputEvent!('nowhere', 'lost', null)
  ours!.sendOutputEvent!('up', 'to the cloud', { n: '1' }, (e) => (done = e))
  const t = await up
  assert.is(t.body.toString(), 'to the cloud', 'the first upstream message is the routed one: "nowhere" was dropped')
  assert.equal(t.properties, { n: '1' })
  assert.is(t.system.outputName, 'up')
  await until(() => done >= 0, 5000, 'PUBACK')
  // store and forward: the module is offline when the input is routed to it, and gets it when it comes back
  ours!.end()
  ours = null
  await until(() => !hub.connected(`${EDGE}/sink`), 5000, 'our module gone')
  got.length = 0
  await within(sdk.sendOutputEvent('out1', new Message('while you were away')), 10000, 'SDK sendOutputEvent')
  await until(() => hub.c2dQueue(`${EDGE}/sink`).length === 1, 5000, 'the input waits in the Edge hub')
  ours = await startOurs()
  await until(() => got.length === 1, 10000, 'delivered after reconnect')
  assert.is(got[0].body, 'while you were away')
  assert.is(got[0].input, 'in1')
  await until(() => hub.c2dQueue(`${EDGE}/sink`).length === 0, 5000, 'acknowledged: off the queue')
})

test('a module of a device without routes (not an Edge device) cannot subscribe to inputs; its telemetry goes upstream', async () => {
  hub.registry.addDevice('plain-1')
  hub.registry.addModule('plain-1', 'm')
  let subErr: number | null = null, up = false
  const d = createDevice({
    connectionString: hub.registry.connectionString('plain-1', 'm'), port: hub.ports.mqtts, tls: { ca: hub.ca },
    onConnect: () => (up = true)
  })
  if (typeof d === 'number') throw new Error(errorName(d))
  try {
    d.connect()
    await until(() => up, 10000, 'connected')
    d.subscribe('devices/plain-1/modules/m/inputs/#', 1, (e) => (subErr = e))
    await until(() => subErr !== null, 5000, 'SUBACK')
    assert.ok(subErr! < 0, `refused (${subErr})`)
    const t = nextTelemetry(hub, x => x.deviceId === 'plain-1')
    d.sendOutputEvent!('o', 'x', null)
    assert.is((await t).system.outputName, 'o')
  } finally {
    d.end()
  }
})

test.run()
