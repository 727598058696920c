// Every place the emulator reaches into aedes beyond its documented options and events, in one file. aedes is
// pinned to one exact version in package.json; test/hub/aedes-hooks.test.ts fails by name when a hook's target
// is gone in the installed aedes (checkHooks below), so an upgrade that moves one is caught before a session misbehaves.
import mqttPacket from 'mqtt-packet'

/**
 * @typedef {import('aedes').Client} Client
 */

/** The internals used, by name: where each lives, for the check and the error message. */
export const HOOKS = {
  outgoingClearMessageId: 'broker.persistence.outgoingClearMessageId(client, packet): every PUBACK/PUBCOMP the broker takes',
  parser: 'client._parser (an EventEmitter of parsed packets): QoS 2 subscriptions lowered before aedes grants them',
  conn: 'client.conn.write(bytes): a PUBLISH written outside aedes routing'
}

/**
 * The hooks whose targets are missing: [] when every one is there.
 * @param {any} broker an Aedes broker
 * @param {any} [client] a connected aedes Client
 */
export function checkHooks (broker, client) {
  const missing = []
  if (typeof broker?.persistence?.outgoingClearMessageId !== 'function') missing.push(HOOKS.outgoingClearMessageId)
  if (client && typeof client._parser?.prependListener !== 'function') missing.push(HOOKS.parser)
  if (client && typeof client.conn?.write !== 'function') missing.push(HOOKS.conn)
  return missing
}

/**
 * Calls `fn(client, messageId)` for every acknowledgement of a message the broker sent (aedes hands each
 * acknowledged packet id to its persistence), before aedes forgets it.
 * @param {any} broker
 * @param {(client: Client, messageId: number) => void} fn
 */
export function onAcknowledged (broker, fn) {
  const persistence = broker.persistence
  const clear = persistence.outgoingClearMessageId.bind(persistence)
  persistence.outgoingClearMessageId = (/** @type {Client} */ client, /** @type {{ messageId: number }} */ packet) => {
    fn(client, packet.messageId)
    return clear(client, packet)
  }
}

/**
 * Subscriptions asking for QoS 2 are granted QoS 1, like the service does. aedes takes the granted QoS from the
 * SUBSCRIBE before authorizeSubscribe runs, so lower it as it is parsed (call from preConnect).
 * @param {Client} client
 */
export function grantAtMostQos1 (client) {
  /** @type {any} */ (client)._parser.prependListener('packet', (/** @type {any} */ packet) => {
    if (packet.cmd === 'subscribe') for (const sub of packet.subscriptions) sub.qos = Math.min(sub.qos, 1)
  })
}

/**
 * Writes a PUBLISH straight to one client, outside aedes routing; false when it is not connected.
 * @param {Client} client
 * @param {{ topic: string, payload: string | Buffer, qos?: 0 | 1, messageId?: number, dup?: boolean }} packet
 */
export function send (client, packet) {
  /** @type {any} */
  const c = client
  if (!c.connected || c.closed) return false
  c.conn.write(mqttPacket.generate({ cmd: 'publish', qos: 0, dup: false, retain: false, ...packet }))
  return true
}
