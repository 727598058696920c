// The emulator's AMQP endpoint at the wire, with rhea as the client: what the official SDK never does (SASL
// PLAIN and ANONYMOUS, links before a token, another device's link, a bad token type, a hub-level policy token,
// a token left to expire, an amqp-value body). The SDK's own scenarios are in test/sdk/amqp.test.ts.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import rhea from 'rhea'
import tls from 'node:tls'
import type { Connection, ConnectionOptions, Message } from 'rhea'
import { resource, sas, testHub, within } from './helpers'
import type { Hub } from './helpers'

const test = suite('hub/amqp')
let hub: Hub & { stop: () => Promise<void> }
const D = 'amqp-dev'
const OTHER = 'amqp-other'
const open: Connection[] = []

test.before(async () => {
  hub = await testHub()
  hub.registry.addDevice(D)
  hub.registry.addDevice(OTHER)
})
test.after(async () => {
  for (const c of open.splice(0)) c.close()
  await hub.stop()
})

/** Open an AMQPS connection to the emulator, trusting its CA; rejects with the connection's error. */
function connect (extra: Record<string, unknown> = {}): Promise<Connection> {
  const container = rhea.create_container()
  const conn = container.connect({ host: '127.0.0.1', port: hub.ports.amqps, transport: 'tls', ca: hub.ca, servername: 'localhost', hostname: hub.hubName, reconnect: false, ...extra } as ConnectionOptions)
  open.push(conn)
  return within(new Promise((resolve, reject) => {
    conn.once('connection_open', () => resolve(conn))
    conn.once('connection_error', c => reject(c.connection.error ?? new Error('connection error')))
    conn.once('disconnected', c => reject(c.error ?? new Error('disconnected')))
  }), 5000, 'AMQP connection')
}

/** A put-token on the connection's $cbs node: the reply's status code and description. */
async function putToken (conn: Connection, token: string, name: string, type = 'servicebus.windows.net:sastoken'): Promise<{ status: number, description: string }> {
  const receiver = conn.open_receiver('$cbs')
  const sender = conn.open_sender('$cbs')
  const id = `put-${Math.random()}`
  const reply = within(new Promise<Message>(resolve => receiver.on('message', c => { if (c.message.correlation_id === id) resolve(c.message) })), 5000, 'put-token reply')
  await within(new Promise(resolve => sender.once('sendable', resolve)), 5000, '$cbs sendable')
  sender.send({ message_id: id, to: '$cbs', application_properties: { operation: 'put-token', type, name }, body: token })
  const m = await reply
  sender.close()
  receiver.close()
  return { status: m.application_properties!['status-code'], description: m.application_properties!['status-description'] }
}

/** Attach a sender (the device's) to `address`: 'open' when the hub keeps it, else the detach error's condition. */
function attachSender (conn: Connection, address: string) {
  const sender = conn.open_sender(address)
  const outcome = within(new Promise<string>(resolve => {
    sender.once('sender_close', c => resolve(c.sender.error ? (c.sender.error as any).condition : 'closed'))
    sender.once('sendable', () => setTimeout(() => { if (sender.is_open()) resolve('open') }, 200))
  }), 5000, `attach ${address}`)
  return { sender, outcome }
}

/** Send on a sender and resolve with the outcome the hub settled it with. */
function settle (sender: ReturnType<Connection['open_sender']>, message: Message): Promise<string> {
  return within(new Promise<string>(resolve => {
    const delivery = sender.send(message)
    for (const outcome of ['accepted', 'rejected', 'released', 'modified'] as const) {
      sender.on(outcome, c => { if (c.delivery === delivery) resolve(outcome) })
    }
  }), 5000, 'settlement')
}

const token = (id: string, key = hub.registry.get(id)!.primaryKey!, se?: number) => sas(resource(hub, id), key, se)

test('no SASL layer, then put-token: the token is checked; links to the device only after a good one', async () => {
  const conn = await connect()
  const early = attachSender(conn, `/devices/${D}/messages/events`)
  assert.is(await early.outcome, 'amqp:unauthorized-access')

  const wrong = await putToken(conn, token(D, Buffer.alloc(32, 1).toString('base64')), resource(hub, D))
  assert.equal(wrong, { status: 401, description: 'signature does not match' })
  assert.is((await putToken(conn, token(D), resource(hub, D), 'jwt')).status, 400)
  assert.is((await putToken(conn, token(D), resource(hub, OTHER))).status, 401, 'audience is not the sr')
  assert.is((await putToken(conn, token(D, undefined, Math.floor(Date.now() / 1000) - 1), resource(hub, D))).description, 'token expired')
  assert.equal(await putToken(conn, token(D), encodeURIComponent(resource(hub, D))), { status: 200, description: 'OK' })
  assert.ok(hub.connected(D))

  const { sender, outcome } = attachSender(conn, `/devices/${D}/messages/events`)
  assert.is(await outcome, 'open')
  assert.is(await attachSender(conn, `/devices/${OTHER}/messages/events`).outcome, 'amqp:unauthorized-access', 'another device')
  assert.is(await attachSender(conn, `/devices/${D}/nowhere`).outcome, 'amqp:not-found')
  assert.is(await attachSender(conn, `/devices/${D}/messages/devicebound`).outcome, 'amqp:not-allowed', 'C2D is the device\'s receiver')

  // an amqp-value body and typed application properties
  const stored = new Promise<any>(resolve => hub.once('telemetry', resolve))
  assert.is(await settle(sender, { body: 'plain text', application_properties: { n: 42, ok: true, s: 'é' }, message_id: 7, user_id: Buffer.from('me') as any }), 'accepted')
  const x = await within(stored, 5000, 'telemetry')
  assert.is(x.body.toString(), 'plain text')
  assert.equal(x.properties, { n: '42', ok: 'true', s: 'é' })
  assert.equal(x.system, { messageId: '7', userId: 'me' })
  // over 256 KB: rejected, nothing stored
  const before = hub.telemetry.length
  assert.is(await settle(sender, { body: rhea.message.data_section(Buffer.alloc(256 * 1024 + 1)) }), 'rejected')
  assert.is(hub.telemetry.length, before)
  conn.close()
})

test('SASL ANONYMOUS and SASL PLAIN ({id}@sas.{hub}, the SAS token as password); a bad PLAIN password fails the connection', async () => {
  const anon = await connect({ username: 'anonymous' })
  assert.is((await putToken(anon, token(D), resource(hub, D))).status, 200)
  anon.close()

  const plain = await connect({ username: `${D}@sas.${hub.hubName}`, password: token(D) })
  const { sender, outcome } = attachSender(plain, `/devices/${D}/messages/events`)
  assert.is(await outcome, 'open', 'authorized by the PLAIN password, no put-token')
  assert.is(await settle(sender, { body: 'via plain' }), 'accepted')
  plain.close()

  const err = await connect({ username: `${D}@sas.${hub.hubName}`, password: token(D, Buffer.alloc(32, 2).toString('base64')) }).then(() => null, (e: unknown) => e)
  assert.ok(err, 'refused')
})

test('a hub-level policy token (sr = the hub, skn with DeviceConnect) authorizes every device on the connection; one without DeviceConnect is 401', async () => {
  const conn = await connect()
  const policy = hub.registry.policy('device')!
  assert.is((await putToken(conn, sas(hub.hubName, policy.primaryKey, undefined, 'device'), hub.hubName)).status, 200)
  assert.is(await attachSender(conn, `/devices/${D}/messages/events`).outcome, 'open')
  assert.is(await attachSender(conn, `/devices/${OTHER}/messages/events`).outcome, 'open')
  const owner = hub.registry.addPolicy('reader-only', ['RegistryRead'])
  assert.is((await putToken(conn, sas(hub.hubName, owner.primaryKey, undefined, 'reader-only'), hub.hubName)).description, 'policy reader-only has no DeviceConnect')
  conn.close()
})

test('a token left to expire: its links are detached with amqp:unauthorized-access', async () => {
  const conn = await connect()
  const se = Math.floor(Date.now() / 1000) + 2
  assert.is((await putToken(conn, token(D, undefined, se), resource(hub, D))).status, 200)
  const { sender, outcome } = attachSender(conn, `/devices/${D}/messages/events`)
  assert.is(await outcome, 'open')
  const detached = await within(new Promise<string>(resolve => sender.once('sender_close', c => resolve((c.sender.error as any)?.condition))), 10000, 'detach at expiry')
  assert.is(detached, 'amqp:unauthorized-access')
  assert.ok(Date.now() >= se * 1000)
  conn.close()
})

test('bytes that are no AMQP close that connection; the hub goes on', async () => {
  const socket = tls.connect({ host: '127.0.0.1', port: hub.ports.amqps, ca: hub.ca, servername: 'localhost' })
  await within(new Promise(resolve => socket.once('secureConnect', resolve)), 5000, 'TLS')
  const closed = within(new Promise(resolve => socket.once('close', resolve)), 5000, 'closed by the hub')
  socket.on('error', () => {})
  socket.on('data', () => {})
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  await closed
  const conn = await connect()
  assert.is((await putToken(conn, token(D), resource(hub, D))).status, 200)
  conn.close()
})

test.run()
