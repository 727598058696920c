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

test.run()
