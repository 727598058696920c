// IoT Edge module-to-module direct methods through the emulator's Edge hub HTTPS API (tools/hub/edge.js
// edgeMethod): our module (targets/node invokeMethod, src/sessions/edge.ts) calls the official SDK's ModuleClient
// and another of our modules; the SDK's ModuleClient.invokeMethod (its MethodClient, pointed at the emulator through
// its own `http.agent` option) calls ours. Checked on both sides: what the target's handler got, what the caller got,
// the Edge hub's error statuses (404 offline, 504 no answer, 401, 400) and what the SDK dialed.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import https from 'node:https'
import type { ModuleClient } from 'azure-iot-device'
import { closeAll, sdkModuleClient, testHub, until, within } from './helpers'
import type { Dial, Hub } from './helpers'
import { sas, resource } from '../hub/helpers'
import { createDevice, errorName, E_HUB_STATUS, E_ENDED } from '../../targets/node/index'
import type { Device, DeviceOptions, MethodResult } from '../../targets/node/index'

const test = suite('sdk/edge-methods')
const EDGE = 'edge-m'
let hub: Hub & { stop: () => Promise<void> }
let sdk: ModuleClient
let sdkDialed: Dial[]
const sdkGot: { name: string, payload: unknown }[] = []
const ours: Device[] = []
const oursGot: { module: string, name: string, payload: unknown }[] = []

/** Our module `moduleId` of `deviceId`, connected, with an `echo` method, its Edge hub on the emulator's HTTPS port. */
async function module (deviceId: string, moduleId: string, extra: Partial<DeviceOptions> = {}): Promise<Device> {
  let up = false
  const d = createDevice({
    connectionString: hub.registry.connectionString(deviceId, moduleId), port: hub.ports.mqtts, edgePort: hub.ports.https, tls: { ca: hub.ca },
    methods: {
      echo: (payload, respond) => {
        oursGot.push({ module: moduleId, name: 'echo', payload })
        respond(201, { echoed: payload, by: moduleId })
      }
    },
    onConnect: () => (up = true),
    ...extra
  })
  if (typeof d === 'number') throw new Error(errorName(d))
  ours.push(d)
  d.connect()
  await until(() => up && hub.connected(`${deviceId}/${moduleId}`), 10000, `${moduleId} connected`)
  return d
}

/** invokeMethod as a promise of [err, result]. */
function invoke (d: Device, deviceId: string, moduleId: string | null, params: Parameters<NonNullable<Device['invokeMethod']>>[2]): Promise<[number, MethodResult | undefined]> {
  return within(new Promise((resolve, reject) => {
    const n = d.invokeMethod!(deviceId, moduleId, params, (err, r) => resolve([err, r]))
    if (n < 0) reject(new Error(`invokeMethod: ${errorName(n)}`))
  }), 20000, 'invokeMethod')
}

/** A raw POST to the Edge hub's method API (what no SDK would send). */
function post (path: string, headers: Record<string, string>, body: string): Promise<{ status: number, body: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: hub.ports.https, servername: 'localhost', ca: hub.ca, method: 'POST', path, headers: { 'content-type': 'application/json', ...headers } }, res => {
      let text = ''
      res.on('data', c => (text += c))
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

test.before(async () => {
  hub = await testHub()
  hub.registry.addDevice(EDGE)
  for (const m of ['ours', 'other', 'sdk', 'quiet']) hub.registry.addModule(EDGE, m)
  hub.setRoutes(EDGE, { all: 'FROM /messages/* INTO $upstream' })
  const m = await sdkModuleClient(hub, hub.registry.connectionString(EDGE, 'sdk'), 'Mqtt')
  sdk = m.client
  sdkDialed = m.dialed
  sdk.onMethod('double', (req, res) => {
    sdkGot.push({ name: req!.methodName, payload: req!.payload })
    res!.send(200, { doubled: (req!.payload as any).n * 2 }, () => {})
  })
  await within(sdk.open(), 10000, 'SDK module open')
  // the SDK subscribes to methods when the first handler is set, after open: wait until the hub can reach it
  await until(() => hub.connected(`${EDGE}/sdk`), 10000, 'SDK module connected')
  await module(EDGE, 'ours')
  await module(EDGE, 'other')
})
test.after(async () => {
  for (const d of ours) d.end()
  await closeAll()
  await hub.stop()
})

test('our module invokes a method of the official SDK\'s ModuleClient: its handler gets the payload, we get its status and payload', async () => {
  sdkGot.length = 0
  let r: [number, MethodResult | undefined] = [-1, undefined]
  for (let i = 0; i < 50; i++) {
    r = await invoke(ours[0], EDGE, 'sdk', { methodName: 'double', payload: { n: 21 }, responseTimeoutInSeconds: 10 })
    if (r[0] === 0) break
    await new Promise(resolve => setTimeout(resolve, 100)) // the SDK's method subscription lands after open
  }
  assert.is(r[0], 0, errorName(r[0]))
  assert.equal(r[1], { status: 200, payload: { doubled: 42 } })
  assert.equal(sdkGot.at(-1), { name: 'double', payload: { n: 21 } })
})

test('our module invokes another of our modules (status and payload as its handler answered)', async () => {
  oursGot.length = 0
  const [err, r] = await invoke(ours[0], EDGE, 'other', { methodName: 'echo', payload: ['a', 'ü', 3] })
  assert.is(err, 0, errorName(err))
  assert.equal(r, { status: 201, payload: { echoed: ['a', 'ü', 3], by: 'other' } })
  assert.equal(oursGot, [{ module: 'other', name: 'echo', payload: ['a', 'ü', 3] }])
})

test('the official SDK\'s ModuleClient.invokeMethod calls our module through the gateway it was given', async () => {
  oursGot.length = 0
  sdkDialed.length = 0
  const r: any = await within(sdk.invokeMethod(EDGE, 'ours', { methodName: 'echo', payload: { from: 'sdk' }, responseTimeoutInSeconds: 10, connectTimeoutInSeconds: 0 }), 20000, 'SDK invokeMethod')
  assert.equal(r, { status: 201, payload: { echoed: { from: 'sdk' }, by: 'ours' } })
  assert.equal(oursGot, [{ module: 'ours', name: 'echo', payload: { from: 'sdk' } }])
  assert.ok(sdkDialed.some(d => d.url === 'https://localhost:443'), `the SDK dialed its GatewayHostName on 443: ${JSON.stringify(sdkDialed)}`)
})

test('a target that is not connected: 404 from the Edge hub (ours: E_HUB_STATUS with the status; the SDK: an error)', async () => {
  const [err, r] = await invoke(ours[0], EDGE, 'quiet', { methodName: 'echo' })
  assert.is(err, E_HUB_STATUS)
  assert.is(r!.status, 404)
  assert.match(r!.payload.message, /not online/)
  const e: any = await sdk.invokeMethod(EDGE, 'quiet', { methodName: 'echo', payload: null, responseTimeoutInSeconds: 5, connectTimeoutInSeconds: 0 }).then(() => null, (x: unknown) => x)
  assert.ok(e, 'the SDK refused')
  assert.is(e.response?.statusCode, 404)
})

test('a target that does not answer in responseTimeoutInSeconds: 504', async () => {
  const slow = await module(EDGE, 'quiet', { methods: { echo: () => {} } })
  const [err, r] = await invoke(ours[0], EDGE, 'quiet', { methodName: 'echo', responseTimeoutInSeconds: 1 })
  assert.is(err, E_HUB_STATUS)
  assert.is(r!.status, 504)
  slow.end()
})

test('callers refused by name: a module of a device without routes (401), of another Edge device (404), a device (E_ARGUMENT)', async () => {
  hub.registry.addDevice('plain-d')
  hub.registry.addModule('plain-d', 'm')
  const plain = await module('plain-d', 'm')
  const [err, r] = await invoke(plain, EDGE, 'other', { methodName: 'echo' })
  assert.is(err, E_HUB_STATUS)
  assert.is(r!.status, 401)
  assert.match(r!.payload.message, /not an IoT Edge device/)
  // another Edge device's module cannot reach this one's modules
  hub.registry.addDevice('edge-2')
  hub.registry.addModule('edge-2', 'm')
  hub.setRoutes('edge-2', { all: 'FROM /messages/* INTO $upstream' })
  const other = await module('edge-2', 'm')
  const [err2, r2] = await invoke(other, EDGE, 'other', { methodName: 'echo' })
  assert.is(err2, E_HUB_STATUS)
  assert.is(r2!.status, 404)
  // a device (no module) has no Edge hub identity to invoke with
  hub.registry.addDevice('leaf')
  const leaf = createDevice({ connectionString: hub.registry.connectionString('leaf'), edgePort: hub.ports.https, tls: { ca: hub.ca } }) as Device
  assert.is(leaf.invokeMethod!(EDGE, 'other', { methodName: 'echo' }, () => {}), -31 /* E_ARGUMENT */)
})

test('end() ends the call in progress and the calls waiting with E_ENDED', async () => {
  hub.registry.addModule(EDGE, 'ender')
  hub.registry.addModule(EDGE, 'mute')
  await module(EDGE, 'mute', { methods: { echo: () => {} } })
  const d = await module(EDGE, 'ender')
  const got: number[] = []
  for (let i = 0; i < 2; i++) assert.is(d.invokeMethod!(EDGE, 'mute', { methodName: 'echo', responseTimeoutInSeconds: 20 }, (err) => got.push(err)), 0)
  await new Promise(resolve => setTimeout(resolve, 300)) // the first call likely out (in flight or waiting, both end)
  d.end()
  await until(() => got.length === 2, 5000, 'both calls ended')
  assert.equal(got, [E_ENDED, E_ENDED])
})

test('the Edge hub API checks the header, the token and the body', async () => {
  const path = `/twins/${EDGE}/modules/other/methods?api-version=2018-06-28`
  const key = hub.registry.get(`${EDGE}/ours`)!.primaryKey!
  const token = sas(resource(hub, `${EDGE}/ours`), key)
  const body = JSON.stringify({ methodName: 'echo', payload: 1, responseTimeoutInSeconds: 5 })
  assert.is((await post(path, { authorization: token }, body)).status, 400, 'no x-ms-edge-moduleId')
  assert.is((await post(path, { authorization: token, 'x-ms-edge-moduleId': `${EDGE}/other` }, body)).status, 401, 'another module\'s identity')
  assert.is((await post(path, { authorization: token.replace(/sig=[^&]+/, 'sig=x'), 'x-ms-edge-moduleId': `${EDGE}/ours` }, body)).status, 401, 'a bad signature')
  assert.is((await post(path, { authorization: token, 'x-ms-edge-moduleId': `${EDGE}/ours` }, '{"payload":1}')).status, 400, 'no methodName')
  const ok = await post(path, { authorization: token, 'x-ms-edge-moduleId': `${EDGE}/ours` }, body)
  assert.equal(ok, { status: 200, body: { status: 201, payload: { echoed: 1, by: 'other' } } })
})

test.run()
