// The HTTPS port: MQTT over WebSockets and the HTTPS device API.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import https from 'node:https'
import { deviceOptions, dial, endAll, grants, nextMessage, resource, sas, testHub, within } from './helpers'
import type { Hub } from './helpers'

const test = suite('hub/https')
let hub: Hub & { stop: () => Promise<void> }
const D = 'http-dev'

test.before(async () => {
  hub = await testHub()
  hub.registry.addDevice(D)
})
test.after.each(endAll)
test.after(async () => { await hub.stop() })

interface Answer { status: number, headers: Record<string, string | string[] | undefined>, body: string }

function call (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, token?: string): Promise<Answer> {
  return within(new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1',
      port: hub.ports.https,
      method,
      path,
      ca: hub.ca,
      servername: 'localhost',
      headers: { authorization: token ?? sas(resource(hub, D), hub.registry.get(D)!.primaryKey!), ...headers }
    }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  }), 3000, `${method} ${path}`)
}

const V = '?api-version=2020-03-13'

test('MQTT over WebSockets at /$iothub/websocket', async () => {
  const c = await dial({
    ...deviceOptions(hub, D),
    protocol: 'wss',
    hostname: '127.0.0.1',
    port: hub.ports.https,
    path: '/$iothub/websocket'
  })
  await grants(c, ['$iothub/twin/res/#'])
  const answer = nextMessage(c, '$iothub/twin/res/')
  c.publish('$iothub/twin/GET/?$rid=ws', '')
  assert.is((await answer).topic, '$iothub/twin/res/200/?$rid=ws')
  await c.endAsync()
})

test('POST telemetry with properties in headers answers 204 and is captured', async () => {
  const r = await call('POST', `/devices/${D}/messages/events${V}`, '{"t":1}', {
    'iothub-app-Color': 'red',
    'iothub-messageid': 'h1',
    'iothub-contenttype': 'application/json'
  })
  assert.is(r.status, 204)
  const m = hub.telemetry[hub.telemetry.length - 1]
  assert.is(m.protocol, 'https')
  assert.is(m.body.toString(), '{"t":1}')
  assert.equal(m.properties, { Color: 'red' })
  assert.equal(m.system, { messageId: 'h1', contentType: 'application/json' })
})

test('a batch of telemetry', async () => {
  const before = hub.telemetry.length
  const batch = [
    { body: Buffer.from('one').toString('base64'), properties: { 'iothub-app-n': '1' } },
    { body: Buffer.from('two').toString('base64'), properties: { 'iothub-app-n': '2' } }
  ]
  const r = await call('POST', `/devices/${D}/messages/events${V}`, JSON.stringify(batch), { 'content-type': 'application/vnd.microsoft.iothub.json' })
  assert.is(r.status, 204)
  assert.equal(hub.telemetry.slice(before).map((m: { body: Buffer, properties: Record<string, unknown> }) => [m.body.toString(), m.properties.n]), [['one', '1'], ['two', '2']])
})

test('bad or missing credentials answer 401; no api-version answers 400', async () => {
  const other = sas(resource(hub, D), Buffer.alloc(32).toString('base64'))
  assert.is((await call('POST', `/devices/${D}/messages/events${V}`, 'x', {}, other)).status, 401)
  assert.is((await call('POST', `/devices/${D}/messages/events${V}`, 'x', {}, '')).status, 401)
  assert.is((await call('POST', `/devices/${D}/messages/events`, 'x')).status, 400)
})

test('receive C2D: 204 when empty, then lock, abandon, complete; reject settles as Rejected', async () => {
  const path = `/devices/${D}/messages/deviceBound`
  assert.is((await call('GET', path + V)).status, 204)
  hub.sendC2D(D, 'first', { k: 'v', '$.cid': 'c1' })
  hub.sendC2D(D, 'second')

  const got = await call('GET', path + V)
  assert.is(got.status, 200)
  assert.is(got.body, 'first')
  assert.is(got.headers['iothub-app-k'], 'v')
  assert.is(got.headers['iothub-correlationid'], 'c1')
  assert.is(got.headers['iothub-deliverycount'], '0')
  const etag = String(got.headers.etag)
  assert.match(etag, /^"[0-9a-f-]+"$/)

  const next = await call('GET', path + V) // the first is locked, so the second comes
  assert.is(next.body, 'second')
  assert.is((await call('POST', `${path}/${etag.slice(1, -1)}/abandon${V}`)).status, 204)
  const again = await call('GET', path + V)
  assert.is(again.body, 'first')
  assert.is(again.headers['iothub-deliverycount'], '1')

  const feedback: string[] = []
  hub.on('feedback', (f: { statusCode: string }) => feedback.push(f.statusCode))
  assert.is((await call('DELETE', `${path}/${String(again.headers.etag).slice(1, -1)}${V}`)).status, 204)
  assert.is((await call('DELETE', `${path}/${String(next.headers.etag).slice(1, -1)}${V}&reject`)).status, 204)
  assert.is((await call('DELETE', `${path}/${String(next.headers.etag).slice(1, -1)}${V}`)).status, 412)
  assert.equal(feedback, ['Success', 'Rejected'])
  assert.is(hub.c2dQueue(D).length, 0)
})

test('module telemetry over HTTPS uses the module resource', async () => {
  hub.registry.addModule(D, 'm')
  const token = sas(resource(hub, `${D}/m`), hub.registry.get(`${D}/m`)!.primaryKey!)
  assert.is((await call('POST', `/devices/${D}/modules/m/messages/events${V}`, 'mod', {}, token)).status, 204)
  assert.is(hub.telemetry[hub.telemetry.length - 1].moduleId, 'm')
})

test('the deviceBound routes match in any case: the SDKs poll and settle at devicebound', async () => {
  const path = `/devices/${D}/messages/devicebound`
  assert.is((await call('GET', path + V)).status, 204)
  hub.sendC2D(D, 'lower')
  const got = await call('GET', path + V)
  assert.is(got.status, 200)
  assert.is(got.body, 'lower')
  assert.is((await call('POST', `${path}/${String(got.headers.etag).slice(1, -1)}/abandon${V}`)).status, 204)
  const again = await call('GET', `/devices/${D}/messages/DEVICEBOUND${V}`)
  assert.is(again.body, 'lower')
  assert.is((await call('DELETE', `${path}/${String(again.headers.etag).slice(1, -1)}${V}`)).status, 204)
  assert.is(hub.c2dQueue(D).length, 0)
})

test('a C2D property value outside Latin-1 goes out as its UTF-8 octets; the message is locked and counted once', async () => {
  const path = `/devices/${D}/messages/deviceBound`
  hub.sendC2D(D, 'warm', { label: '温度', plain: 'x' })
  const got = await call('GET', path + V)
  assert.is(got.status, 200)
  // Node's client reads header octets as Latin-1
  assert.is(Buffer.from(String(got.headers['iothub-app-label']), 'latin1').toString('utf8'), '温度')
  assert.is(got.headers['iothub-app-plain'], 'x')
  const [m] = hub.c2dQueue(D)
  assert.is(m.deliveryCount, 1)
  assert.is(`"${m.lockToken}"`, got.headers.etag)
  assert.is((await call('DELETE', `${path}/${m.lockToken}${V}`)).status, 204)
})

test('a C2D message that cannot be written as HTTP headers answers 500 without locking or counting it', async () => {
  const path = `/devices/${D}/messages/deviceBound`
  hub.sendC2D(D, 'bad name', { 'sp ace': 'v' }) // only the in-process handle lets this through
  const got = await call('GET', path + V)
  assert.is(got.status, 500)
  assert.match(got.body, /sp ace/)
  const [m] = hub.c2dQueue(D)
  assert.is(m.deliveryCount, 0)
  assert.is(m.lockToken, null)
  assert.is(m.lockedUntil, 0)
  hub.settleC2D(D, m, 'Rejected')
})

/** The status line the HTTPS port answers a WebSocket upgrade with (101 when accepted). */
function upgrade (protocols?: string): Promise<number> {
  return within(new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': Buffer.alloc(16, 7).toString('base64')
    }
    if (protocols) headers['sec-websocket-protocol'] = protocols
    const req = https.request({ host: '127.0.0.1', port: hub.ports.https, path: '/$iothub/websocket', ca: hub.ca, servername: 'localhost', headers })
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode!) })
    req.on('response', res => { res.resume(); resolve(res.statusCode!) })
    req.on('error', reject)
    req.end()
  }), 3000, `upgrade ${protocols}`)
}

test('a WebSocket upgrade must offer the mqtt or the AMQPWSB10 subprotocol (400 otherwise)', async () => {
  assert.is(await upgrade('mqtt'), 101)
  assert.is(await upgrade('chat, mqtt'), 101)
  assert.is(await upgrade('AMQPWSB10'), 101)
  assert.is(await upgrade('amqp, AMQPWSB10'), 101)
  assert.is(await upgrade(), 400)
  assert.is(await upgrade('mqttv3.1'), 400)
  assert.is(await upgrade('amqp'), 400)
})

test('HTTPS with a hub policy token: DeviceConnect accepted at any prefix of the device resource; without it, or a device key named as a policy, 401', async () => {
  const policy = hub.registry.policy('device')!
  const events = `/devices/${D}/messages/events${V}`
  assert.is((await call('POST', events, 'p1', {}, sas(hub.hubName, policy.primaryKey, undefined, 'device'))).status, 204)
  assert.is((await call('POST', events, 'p2', {}, sas(resource(hub, D), policy.secondaryKey, undefined, 'device'))).status, 204)
  assert.is((await call('POST', events, 'p3', {}, sas(`${hub.hubName}/devices/other`, policy.primaryKey, undefined, 'device'))).status, 401)
  hub.registry.addPolicy('reader', ['RegistryRead'])
  assert.is((await call('POST', events, 'p4', {}, sas(hub.hubName, hub.registry.policy('reader')!.primaryKey, undefined, 'reader'))).status, 401)
  assert.is((await call('POST', events, 'p5', {}, sas(resource(hub, D), hub.registry.get(D)!.primaryKey!, undefined, 'device'))).status, 401)
})

// --- DPS over HTTPS -------------------------------------------------------------------------

async function dpsCall (method: string, path: string, token: string, body?: unknown): Promise<Answer & { json: any }> {
  const r = await call(method, path, body === undefined ? undefined : JSON.stringify(body), { 'content-type': 'application/json' }, token)
  return { ...r, json: r.body ? JSON.parse(r.body) : null }
}

test('DPS over HTTPS: PUT register answers 202 with retry-after, the operation 202 then 200 assigned; the device exists', async () => {
  const { key } = hub.registry.addEnrollment('http-reg')
  const scope = hub.dpsIdScope
  const token = sas(`${scope}/registrations/http-reg`, key, undefined, 'registration')
  const DV = '?api-version=2019-03-31'
  const put = await dpsCall('PUT', `/${scope}/registrations/http-reg/register${DV}`, token, { registrationId: 'http-reg' })
  assert.is(put.status, 202)
  assert.is(put.headers['retry-after'], '1')
  assert.is(put.json.status, 'assigning')
  const op = `/${scope}/registrations/http-reg/operations/${put.json.operationId}${DV}`
  assert.is((await dpsCall('GET', op, token)).status, 202)
  const done = await dpsCall('GET', op, token)
  assert.is(done.status, 200)
  assert.is(done.json.registrationState.assignedHub, hub.hubName)
  assert.is(done.json.registrationState.deviceId, 'http-reg')
  assert.is(hub.registry.get('http-reg')!.primaryKey, key)

  assert.is((await dpsCall('PUT', `/${scope}/registrations/http-reg/register${DV}`, sas(`${scope}/registrations/http-reg`, key), { registrationId: 'http-reg' })).status, 401, 'no skn=registration')
  assert.is((await dpsCall('PUT', `/${scope}/registrations/http-reg/register${DV}`, token, { registrationId: 'other' })).status, 400)
  assert.is((await dpsCall('GET', `/${scope}/registrations/http-reg/operations/nope${DV}`, token)).status, 404)
  assert.is((await dpsCall('PUT', `/0neWRONG/registrations/http-reg/register${DV}`, token, { registrationId: 'http-reg' })).status, 404)
  assert.is((await dpsCall('PUT', `/${scope}/registrations/http-reg/register`, token, { registrationId: 'http-reg' })).status, 400)
})

test.run()
