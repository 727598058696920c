// Credentials the official SDK uses against the emulator: SAS tokens it renews itself, and a
// connection string with a hub shared access policy (SharedAccessKeyName) instead of the device key.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Message, closeAll, roundTrip, sdkClient, testHub, within } from './helpers'
import type { Hub, TransportName } from './helpers'
import { parseSas } from '../../tools/hub/sas.js'

const test = suite('sdk/auth')
let hub: Hub & { stop: () => Promise<void> }
const TRANSPORTS: TransportName[] = ['Mqtt', 'MqttWs', 'Http']

test.before(async () => { hub = await testHub() })
test.after(async () => {
  await closeAll()
  await hub.stop()
})

const VALID = 6 // seconds a token is valid
const MARGIN = 3 // renewed this long before it expires

test('SAS renewal: each transport renews its token and still sends after the first one expired (MQTT: a new CONNECT with the new token)', async () => {
  await Promise.all(TRANSPORTS.map(async t => {
    const id = `renew-${t.toLowerCase()}`
    hub.registry.addDevice(id)
    const connects: string[] = []
    hub.on('connect', (c: { id: string }) => { if (c.id === id) connects.push(c.id) })
    const { client, dialed } = await sdkClient(hub, hub.registry.connectionString(id), t, { tokenRenewal: { tokenValidTimeInSeconds: VALID, tokenRenewalMarginInSeconds: MARGIN } })
    await within(client.open(), 10000, `${t} open`)
    const start = Date.now()
    await roundTrip(hub, client, id, `${t} first`)
    // past the expiry of every token made before `start`
    await new Promise(resolve => setTimeout(resolve, VALID * 1000 + 1000 - (Date.now() - start)))
    const late = await roundTrip(hub, client, id, `${t} after expiry`)
    assert.is(late.deviceId, id)
    if (t !== 'Http') {
      assert.ok(connects.length >= 2, `${t}: ${connects.length} connections`)
      const expiries = dialed.map(d => Number(parseSas(d.password)!.se))
      assert.ok(expiries.length >= 2 && expiries[expiries.length - 1] > expiries[0], `${t}: token expiries ${expiries}`)
      assert.ok(hub.connected(id))
    }
  }))
})

for (const t of TRANSPORTS) {
  test(`${t}: a connection string with a shared access policy that has DeviceConnect (SharedAccessKeyName=device)`, async () => {
    const id = `policy-${t.toLowerCase()}`
    hub.registry.addDevice(id)
    const cs = hub.registry.policyConnectionString('device', id)
    assert.match(cs, /;SharedAccessKeyName=device;SharedAccessKey=/)
    const { client, dialed } = await sdkClient(hub, cs, t)
    await within(client.open(), 10000, `${t} open`)
    const x = await roundTrip(hub, client, id, `${t} with a policy`)
    assert.is(x.deviceId, id)
    if (t !== 'Http') assert.is(parseSas(dialed[0].password)!.skn, 'device')
  })

  test(`${t}: a policy without DeviceConnect is refused`, async () => {
    const id = `nopolicy-${t.toLowerCase()}`
    hub.registry.addDevice(id)
    hub.registry.addPolicy('service-only', ['ServiceConnect'])
    const { client } = await sdkClient(hub, hub.registry.policyConnectionString('service-only', id), t)
    const before = hub.telemetry.length
    const err = await within(client.open().then(() => client.sendEvent(new Message('x'))).then(() => null, (e: Error) => e), 15000, `${t} refused`)
    assert.is(err?.name, 'UnauthorizedError', String(err))
    assert.is(hub.telemetry.length, before)
    assert.not.ok(hub.connected(id))
  })
}

test.run()
