// The DPS face: symmetric-key individual enrollments registered over MQTT, then the device
// they create connects to the hub with the same key.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { IClientOptions, MqttClient } from 'mqtt'
import { closed, connackCode, connect, dial, endAll, grants, nextMessage, sas, testHub, tlsTo, within } from './helpers'
import type { Hub } from './helpers'

const test = suite('hub/dps')
let hub: Hub & { stop: () => Promise<void> }
const open: MqttClient[] = []

test.before(async () => { hub = await testHub() })
test.after.each(async () => {
  await Promise.all(open.splice(0).map(c => c.endAsync(true)))
  await endAll()
})
test.after(async () => { await hub.stop() })

function dpsOptions (registrationId: string, key: string, extra: IClientOptions = {}): IClientOptions {
  const scope = hub.dpsIdScope
  return {
    ...tlsTo(hub, hub.ports.dps),
    clientId: registrationId,
    username: `${scope}/registrations/${registrationId}/api-version=2019-03-31&ClientVersion=tinyhub`,
    password: sas(`${scope}/registrations/${registrationId}`, key, undefined, 'registration'),
    protocolVersion: 4,
    reconnectPeriod: 0,
    ...extra
  }
}

async function dpsConnect (registrationId: string, key: string) {
  const c = await dial(dpsOptions(registrationId, key))
  open.push(c)
  assert.equal(await grants(c, ['$dps/registrations/res/#']), [1])
  return c
}

async function request (c: MqttClient, topic: string, body: string) {
  const answer = nextMessage(c, '$dps/registrations/res/')
  c.publish(topic, body)
  const { topic: t, payload } = await answer
  return { topic: t, body: JSON.parse(payload.toString()) }
}

test('register, poll until assigned, then connect to the hub with the enrollment key', async () => {
  const { key } = hub.registry.addEnrollment('dps-dev')
  assert.is(hub.registry.get('dps-dev'), undefined)
  const c = await dpsConnect('dps-dev', key)
  const provisioned = new Promise(resolve => hub.once('provisioned', resolve))

  const registered = await request(c, '$dps/registrations/PUT/iotdps-register/?$rid=1', '{"registrationId":"dps-dev","payload":{"model":"x"}}')
  assert.is(registered.topic, '$dps/registrations/res/202/?$rid=1&retry-after=1')
  assert.is(registered.body.status, 'assigning')
  const op = registered.body.operationId
  assert.type(op, 'string')

  const poll = `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=${op}`
  const first = await request(c, poll, '')
  assert.is(first.topic, '$dps/registrations/res/202/?$rid=2&retry-after=1')
  assert.equal(first.body, { operationId: op, status: 'assigning' })

  const second = await request(c, poll, '')
  assert.is(second.topic, '$dps/registrations/res/200/?$rid=2')
  assert.is(second.body.operationId, op)
  assert.is(second.body.status, 'assigned')
  const state = second.body.registrationState
  assert.is(state.registrationId, 'dps-dev')
  assert.is(state.assignedHub, hub.hubName)
  assert.is(state.deviceId, 'dps-dev')
  assert.is(state.status, 'assigned')
  assert.is(state.substatus, 'initialAssignment')
  await within(provisioned, 1000, 'provisioned event')

  assert.is(hub.registry.get('dps-dev')!.primaryKey, key)
  assert.ok((await connect(hub, 'dps-dev')).connected)
})

test('an unknown operation answers 404; a registrationId that is not the client id answers 400', async () => {
  const { key } = hub.registry.addEnrollment('dps-two')
  const c = await dpsConnect('dps-two', key)
  const unknown = await request(c, '$dps/registrations/GET/iotdps-get-operationstatus/?$rid=9&operationId=nope', '')
  assert.is(unknown.topic, '$dps/registrations/res/404/?$rid=9')
  const mismatch = await request(c, '$dps/registrations/PUT/iotdps-register/?$rid=3', '{"registrationId":"someone-else"}')
  assert.is(mismatch.topic, '$dps/registrations/res/400/?$rid=3')
})

test('DPS authentication: enrollment key, skn=registration, ID scope', async () => {
  const { key } = hub.registry.addEnrollment('dps-auth')
  const scope = hub.dpsIdScope
  const sr = `${scope}/registrations/dps-auth`
  assert.is(await connackCode(dpsOptions('dps-auth', key)), 0)
  assert.is(await connackCode(dpsOptions('dps-auth', Buffer.alloc(32, 1).toString('base64'))), 4, 'wrong key')
  assert.is(await connackCode(dpsOptions('dps-auth', key, { password: sas(sr, key) })), 4, 'no skn')
  assert.is(await connackCode(dpsOptions('dps-auth', key, { username: `0ne00000000/registrations/dps-auth/api-version=2019-03-31` })), 4, 'scope')
  assert.is(await connackCode(dpsOptions('dps-nobody', key)), 5, 'no enrollment')
})

test('a DPS client may subscribe only to its responses and publish only requests', async () => {
  const { key } = hub.registry.addEnrollment('dps-rules')
  const c = await dpsConnect('dps-rules', key)
  assert.equal(await grants(c, ['$iothub/twin/res/#']), [128])
  const gone = closed(c)
  c.publish('devices/dps-rules/messages/events/', 'x')
  await gone
})

test.run()
