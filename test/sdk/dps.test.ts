// The official SDK's ProvisioningDeviceClient against the emulator's DPS, over its MQTT, MQTT over WebSockets and its
// HTTPS provisioning transports (symmetric-key individual enrollments, symmetric-key enrollment groups
// with the derived device key, X.509 individual enrollments); the device it creates then connects with
// the SDK's device client.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Message, closeAll, nextTelemetry, sdkClient, sdkProvision, testHub, within } from './helpers'
import type { Hub } from './helpers'
import { parseSas } from '../../tools/hub/sas.js'
import { derivedKey } from '../../tools/hub/registry.js'

const test = suite('sdk/dps')
let hub: Hub & { stop: () => Promise<void> }

test.before(async () => { hub = await testHub() })
test.after(async () => {
  await closeAll()
  await hub.stop()
})

for (const t of ['Mqtt', 'MqttWs', 'Http'] as const) {
  test(`${t}: register, assigned to the hub, the device created with the enrollment key, then it connects and sends`, async () => {
    const registrationId = `sdk-dps-${t.toLowerCase()}`
    const { key } = hub.registry.addEnrollment(registrationId)
    assert.is(hub.registry.get(registrationId), undefined)
    const provisioned = within(new Promise<any>(resolve => hub.on('provisioned', function f (p: any) {
      if (p.registrationId === registrationId) { hub.off('provisioned', f); resolve(p) }
    })), 15000, 'provisioned event')
    const { result, dialed } = await within(sdkProvision(hub, registrationId, key, t), 15000, `${t} register`)
    assert.is(result.assignedHub, hub.hubName)
    assert.is(result.deviceId, registrationId)
    assert.is(result.status, 'assigned')
    assert.equal(await provisioned, { registrationId, deviceId: registrationId })
    assert.is(hub.registry.get(registrationId)!.primaryKey, key)
    if (t !== 'Http') {
      assert.is(dialed[0].url, t === 'Mqtt' ? `mqtts://${hub.host}` : `wss://${hub.host}:443/$iothub/websocket`)
      assert.is(dialed[0].clientId, registrationId)
      assert.match(dialed[0].username!, new RegExp(`^${hub.dpsIdScope}/registrations/${registrationId}/api-version=`))
      assert.is(parseSas(dialed[0].password)!.skn, 'registration')
    } else {
      assert.ok(dialed.length >= 2 && dialed.every(d => d.url === `https://${hub.host}:443`), JSON.stringify(dialed))
    }

    // as an application continues: a connection string from the result
    const cs = `HostName=${result.assignedHub};DeviceId=${result.deviceId};SharedAccessKey=${key};GatewayHostName=${hub.host}`
    const { client } = await sdkClient(hub, cs, 'Mqtt')
    await within(client.open(), 10000, 'open')
    const stored = nextTelemetry(hub, x => x.deviceId === registrationId)
    await within(client.sendEvent(new Message('provisioned')), 10000, 'send')
    assert.is((await stored).body.toString(), 'provisioned')
  })
}

for (const t of ['Mqtt', 'MqttWs', 'Http'] as const) {
  test(`${t}: an enrollment group: the device key derived from the group key registers; the device is created with it and connects`, async () => {
    const group = hub.registry.addGroupEnrollment('sdk-group')
    const registrationId = `sdk-grp-${t.toLowerCase()}`
    const key = derivedKey(group.key, registrationId)
    const provisioned = within(new Promise<any>(resolve => hub.on('provisioned', function f (p: any) {
      if (p.registrationId === registrationId) { hub.off('provisioned', f); resolve(p) }
    })), 15000, 'provisioned event')
    const { result } = await within(sdkProvision(hub, registrationId, key, t), 15000, `${t} register`)
    assert.is(result.deviceId, registrationId)
    assert.is(result.status, 'assigned')
    assert.equal(await provisioned, { registrationId, deviceId: registrationId, group: 'sdk-group' })
    assert.is(hub.registry.get(registrationId)!.primaryKey, key)
    const cs = `HostName=${result.assignedHub};DeviceId=${result.deviceId};SharedAccessKey=${key};GatewayHostName=${hub.host}`
    const { client } = await sdkClient(hub, cs, 'Mqtt')
    await within(client.open(), 10000, 'open')

    const err = await within(sdkProvision(hub, `${registrationId}-x`, group.key, t).then(() => null, (e: Error) => e), 15000, `${t} refused`)
    assert.match(`${err?.name}: ${err?.message}`, t !== 'Http' ? /Bad username or password/ : /^UnauthorizedError/, `${t}: the group key itself is not a device key`)
  })

  test(`${t}: an X.509 enrollment: the certificate from the emulator's CA (CN = registration id) registers; a CN mismatch is refused`, async () => {
    const registrationId = `sdk-x509-${t.toLowerCase()}`
    const cert = hub.deviceCert(registrationId)
    hub.registry.addEnrollment(registrationId, undefined, { auth: 'x509' })
    const { result, dialed } = await within(sdkProvision(hub, registrationId, cert, t), 15000, `${t} register`)
    assert.is(result.deviceId, registrationId)
    assert.is(result.status, 'assigned')
    if (t !== 'Http') assert.not.ok(dialed[0].password, 'no password')
    assert.is(hub.registry.get(registrationId)!.auth, 'x509')

    hub.registry.addEnrollment(`${registrationId}-2`, undefined, { auth: 'x509' })
    const err = await within(sdkProvision(hub, `${registrationId}-2`, cert, t).then(() => null, (e: Error) => e), 15000, `${t} refused`)
    assert.match(`${err?.name}: ${err?.message}`, t !== 'Http' ? /Bad username or password/ : /^UnauthorizedError/, `${t}: CN mismatch`)
    assert.is(hub.registry.get(`${registrationId}-2`), undefined)
  })
}

test('a wrong enrollment key is refused over both transports, and no device is created', async () => {
  hub.registry.addEnrollment('sdk-dps-bad')
  const wrong = Buffer.alloc(32, 1).toString('base64')
  for (const t of ['Mqtt', 'MqttWs', 'Http'] as const) {
    const err = await within(sdkProvision(hub, 'sdk-dps-bad', wrong, t).then(() => null, (e: Error) => e), 15000, `${t} refused`)
    assert.ok(err, `${t}: registered with a wrong key`)
    // MQTT: the SDK passes MQTT.js's CONNACK error on; HTTPS: its UnauthorizedError for the 401
    assert.match(`${err!.name}: ${err!.message}`, t !== 'Http' ? /Bad username or password/ : /^UnauthorizedError/, `${t}: ${err}`)
  }
  assert.is(hub.registry.get('sdk-dps-bad'), undefined)
})

test.run()
