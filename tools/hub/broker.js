// The IoT Hub MQTT front end: an aedes broker whose hooks authenticate devices, enforce the
// per-device topic rules and answer twin and method traffic itself. Nothing is routed from
// one device to another; everything a device receives is written to it by the emulator.
import { Aedes } from 'aedes'
import { onAcknowledged, grantAtMostQos1, send } from './aedes-hooks.js'
import { pnpState, modelIdOf, readReported } from './pnp.js'
import { createHash } from 'node:crypto'
import { checkSas, parseSas } from './sas.js'
import { parseBag, splitTopic } from './properties.js'

/** Device-to-cloud message limit: body plus property names and values. */
export const MAX_D2C = 256 * 1024
// CONNACK return codes, MQTT 3.1.1 §3.2.2.3
export const IDENTIFIER_REJECTED = 2
export const BAD_USER_NAME_OR_PASSWORD = 4
export const NOT_AUTHORIZED = 5

const TWIN_RES = '$iothub/twin/res/'
const TWIN_DESIRED = '$iothub/twin/PATCH/properties/desired/'
const METHODS = '$iothub/methods/POST/'

/**
 * @typedef {import('./index.js').Hub} Hub
 * @typedef {import('./index.js').C2DMessage} C2DMessage
 * @typedef {import('aedes').Client} Client
 * @typedef {{ id: string, deviceId: string, moduleId?: string, serial: number,
 *   subs: Map<string, number>, nextMessageId: number }} Session
 * @typedef {{ status: number, payload: unknown }} MethodResult
 */

/**
 * An Error that makes aedes answer CONNACK with `code`.
 * @param {number} code
 * @param {string} message
 */
export function refuse (code, message) {
  return Object.assign(new Error(message), { returnCode: code })
}

/**
 * Does the MQTT topic filter match the topic? [MQTT-4.7]
 * @param {string} filter
 * @param {string} topic
 */
export function matches (filter, topic) {
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false
  }
  return f.length === t.length
}

/**
 * Why identity `id` may not connect with `token` (or the TLS socket's client certificate): no such device, disabled,
 * or its credentials (checkCredentials); null when it may.
 * @param {import('./registry.js').Registry} registry @param {string} id @param {string | undefined} token @param {any} socket
 * @returns {string | null}
 */
export function refusal (registry, id, token, socket) {
  const ident = registry.get(id)
  return !ident ? 'no such device' : ident.status === 'disabled' ? 'device disabled' : checkCredentials(registry, id, ident, token, socket)
}

/**
 * Check a device's credentials: its SAS token, or for an X.509 device the client certificate
 * the TLS socket presented (SHA-1 or SHA-256 thumbprint of its DER, as registered).
 * @param {import('./registry.js').Registry} registry
 * @param {string} id device id or `deviceId/moduleId`
 * @param {import('./registry.js').Identity} ident
 * @param {string | undefined} token
 * @param {any} socket a TLSSocket, or anything else when there is none
 * @returns {string | null} null when good, else why not
 */
export function checkCredentials (registry, id, ident, token, socket) {
  const skn = parseSas(token)?.skn
  if (skn !== undefined) return checkPolicyToken(registry, id, token, skn)
  if (ident.auth !== 'x509') return checkSas(token, registry.sasResources(id), [ident.primaryKey, ident.secondaryKey])
  const cert = typeof socket?.getPeerCertificate === 'function' ? socket.getPeerCertificate() : null
  const presented = cert?.raw ? ['sha1', 'sha256'].map(a => createHash(a).update(cert.raw).digest('hex')) : []
  const registered = [ident.thumbprint, ident.secondaryThumbprint].map(t => t?.replace(/:/g, '').toLowerCase())
  return presented.some(t => registered.includes(t)) ? null : 'no client certificate with a registered thumbprint'
}

/**
 * A token signed with a hub shared access policy (`skn` names it): the policy must exist and
 * have DeviceConnect, and its `sr` may be the identity's resource or any prefix of it at a `/`
 * (`{hub}`, `{hub}/devices`, `{hub}/devices/{id}`, ...), as the service scopes tokens.
 * @param {import('./registry.js').Registry} registry
 * @param {string} id
 * @param {string | undefined} token
 * @param {string} skn still URL-encoded
 */
function checkPolicyToken (registry, id, token, skn) {
  let name
  try {
    name = decodeURIComponent(skn)
  } catch {
    return 'malformed skn'
  }
  const policy = registry.policy(name)
  if (!policy) return `no shared access policy ${JSON.stringify(name)}`
  if (!policy.rights.includes('DeviceConnect')) return `policy ${name} has no DeviceConnect`
  const resources = registry.sasResources(id).flatMap(r => r.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/')))
  return checkSas(token, resources, [policy.primaryKey, policy.secondaryKey])
}

/**
 * Start the aedes broker that plays IoT Hub for `hub`'s registry.
 * @param {Hub} hub
 */
export async function createHubBroker (hub) {
  const { registry } = hub
  const hubNames = [registry.hubName, registry.host].map(n => n.toLowerCase())
  /** @type {WeakMap<Client, string>} client ids as sent, before aedes substitutes one for '' */
  const clientIds = new WeakMap()
  /** @type {WeakMap<Client, Session>} */
  const sessions = new WeakMap()
  /** @type {Map<string, { id: string, finish: (r: MethodResult) => void }>} */
  const methods = new Map()
  let serial = 0
  let lastRid = 0
  /** @type {Map<string, import('./pnp.js').PnpState>} Plug and Play conventions seen, per identity */
  const pnp = new Map()
  const pnpOf = (/** @type {string} */ id) => pnp.get(id) ?? pnp.set(id, pnpState()).get(id) ?? pnpState()

  /** @type {Aedes & { persistence: any, clients: Record<string, Client> }} typed without these */
  const broker = /** @type {any} */ (await Aedes.createBroker({
    preConnect (client, packet, done) {
      clientIds.set(client, packet.clientId)
      grantAtMostQos1(client)
      done(null, true)
    },
    authenticate,
    authorizePublish,
    authorizeSubscribe,
    authorizeForward: () => null // devices never receive each other's messages
  }))

  // PUBACKs of C2D messages
  onAcknowledged(broker, acknowledged)

  broker.on('clientReady', client => {
    const s = sessions.get(client)
    if (!s) return
    hub.log(`connected ${s.id}${client.clean ? '' : ' (persistent session)'}`)
    hub.emit('connect', info(s))
    flushC2D(s.id)
  })
  broker.on('clientDisconnect', client => {
    const s = sessions.get(client)
    if (!s) return
    hub.log(`disconnected ${s.id}`)
    hub.emit('disconnect', info(s))
  })
  broker.on('subscribe', (subs, client) => {
    const s = sessions.get(client)
    if (!s) return
    hub.log(`subscribe ${s.id} ${subs.map(sub => /** @type {number} */ (sub.qos) === 128 ? `${sub.topic} (refused)` : sub.topic).join(' ')}`)
    flushC2D(s.id)
  })
  broker.on('unsubscribe', (topics, client) => {
    const s = sessions.get(client)
    for (const topic of topics) s?.subs.delete(topic)
  })
  broker.on('clientError', (client, err) => hub.log(`closed ${sessions.get(client)?.id ?? client.id}: ${err.message}`))

  /** @type {NonNullable<import('aedes').AedesOptions['authenticate']>} */
  function authenticate (client, username, password, done) {
    const id = clientIds.get(client) || ''
    const [deviceId, moduleId, extra] = id.split('/')
    const fail = (/** @type {number} */ code, /** @type {string} */ why) => {
      hub.log(`refused ${JSON.stringify(id)}: ${why}`)
      done(refuse(code, why), false)
    }
    if (!deviceId || moduleId === '' || extra !== undefined) return fail(IDENTIFIER_REJECTED, 'client id is not {deviceId} or {deviceId}/{moduleId}')
    const ident = registry.get(id)
    if (!ident) return fail(NOT_AUTHORIZED, 'no such device')
    if (ident.status === 'disabled') return fail(NOT_AUTHORIZED, 'device disabled')
    /** @type {any} */
    const conn = client.conn
    const socket = conn.getPeerCertificate ? conn : client.req?.socket // TLS, or WebSocket over TLS
    const why = checkUserName(username, deviceId, moduleId) ?? checkCredentials(registry, id, ident, password?.toString(), socket)
    if (why) return fail(BAD_USER_NAME_OR_PASSWORD, why)
    sessions.set(client, { id, deviceId, moduleId, serial: ++serial, subs: new Map(), nextMessageId: 1 })
    pnpOf(id).modelId = modelIdOf(username)
    closeAtExpiry(client, password?.toString())
    done(null, true)
  }

  /**
   * The service closes an MQTT connection when its SAS token expires (the device must connect again with a new
   * one: "401003 IoTHubUnauthorized" in the troubleshooting guide); so does the emulator, at the token's `se`.
   * @param {Client} client
   * @param {string} [password]
   */
  function closeAtExpiry (client, password) {
    const se = /(?:^|[&\s])se=(\d+)/.exec(password || '')
    if (!se) return
    const s = sessions.get(client)
    const t = setTimeout(() => {
      if (sessions.get(client) !== s || client.closed) return
      hub.log(`closing ${s?.id}: SAS token expired`)
      client.close()
    }, Math.max(0, +se[1] * 1000 - Date.now()))
    t.unref()
  }

  /**
   * `{hub}/{deviceId}[/{moduleId}]/?api-version=...[&DeviceClientType=...][&model-id=...]`
   * @param {string | undefined} username
   * @param {string} deviceId
   * @param {string} [moduleId]
   * @returns {string | null} what is wrong with it
   */
  function checkUserName (username = '', deviceId, moduleId) {
    const q = username.indexOf('/?')
    if (q < 0) return `user name ${JSON.stringify(username)} has no /?api-version=`
    if (!new URLSearchParams(username.slice(q + 1)).get('api-version')) return 'user name has no api-version'
    const [host, d, m, ...rest] = username.slice(0, q).split('/')
    if (!hubNames.includes(host.toLowerCase()) || d !== deviceId || m !== moduleId || rest.length) {
      return `user name ${JSON.stringify(username)} is not ${registry.hubName}/${deviceId}${moduleId ? '/' + moduleId : ''}/?api-version=...`
    }
    return null
  }

  /** @type {NonNullable<import('aedes').AedesOptions['authorizeSubscribe']>} */
  function authorizeSubscribe (client, sub, done) {
    const s = sessions.get(client)
    if (!s) return done(null, null)
    // a module's inputs only on an Edge device (one with routes): the Edge hub, not IoT Hub, delivers them
    const own = s.moduleId ? (hub.routes.has(s.deviceId) ? [`devices/${s.deviceId}/modules/${s.moduleId}/inputs/`] : []) : [`devices/${s.deviceId}/messages/devicebound/`]
    const scopes = [...own, TWIN_RES, TWIN_DESIRED, METHODS]
    if (!scopes.some(scope => sub.topic.startsWith(scope))) {
      hub.log(`refused ${s.id} subscribe ${sub.topic}: not a topic of this device`)
      return done(null, null) // SUBACK 0x80
    }
    s.subs.set(sub.topic, sub.qos)
    done(null, sub)
  }

  /** @type {NonNullable<import('aedes').AedesOptions['authorizePublish']>} */
  function authorizePublish (client, packet, done) {
    const s = client && sessions.get(client)
    if (!client || !s) return done(new Error('not authenticated'))
    const topic = packet.topic
    const events = s.moduleId ? `devices/${s.deviceId}/modules/${s.moduleId}/messages/events/` : `devices/${s.deviceId}/messages/events/`
    const retained = packet.retain
    packet.retain = false // IoT Hub does not store retained messages
    let why = null
    if (packet.qos === 2) why = 'QoS 2 publish is not supported'
    else if (topic.startsWith(events) || topic + '/' === events) why = telemetry(client, s, packet, topic.slice(events.length), retained)
    else if (topic.startsWith('$iothub/twin/')) why = twin(client, s, topic, packet.payload)
    else if (topic.startsWith('$iothub/methods/res/')) why = methodResponse(s, topic, packet.payload)
    else why = `may not publish to ${topic}`
    done(why ? new Error(why) : null)
  }

  /**
   * @param {Client} client
   * @param {Session} s
   * @param {import('aedes').PublishPacket} packet
   * @param {string} bag
   * @param {boolean} retained
   */
  function telemetry (client, s, packet, bag, retained) {
    const body = Buffer.from(packet.payload)
    if (body.length + Buffer.byteLength(bag) > MAX_D2C) return 'message over 256 KB'
    // the Node SDK's sendOutputEvent ends the bag with "/" (devices/{d}/modules/{m}/messages/events/%24.on=o&k=v/),
    // which the service takes as the end of the topic, not part of the last value
    const { properties, system } = parseBag(bag.endsWith('/') ? bag.slice(0, -1) : bag)
    if (retained) properties['mqtt-retain'] = 'true'
    if (client.closed) properties['iothub-MessageType'] = 'Will' // aedes publishes the will as the client goes
    if (s.moduleId && !hub.routeModuleMessage(s.deviceId, s.moduleId, { body, properties, system })) return null
    hub.recordTelemetry({ deviceId: s.deviceId, moduleId: s.moduleId, topic: packet.topic, body, properties, system, at: new Date() })
    return null
  }

  /**
   * GET and reported PATCH, answered on $iothub/twin/res/{status}/?$rid={rid}.
   * @param {Client} client
   * @param {Session} s
   * @param {string} topic
   * @param {Buffer | string} payload
   */
  function twin (client, s, topic, payload) {
    const { path, query } = splitTopic(topic)
    const rid = query.get('$rid')
    const get = path === '$iothub/twin/GET/'
    if ((!get && path !== '$iothub/twin/PATCH/properties/reported/') || rid === null) return `may not publish to ${topic}`
    const answer = (/** @type {number} */ status, body = '', extra = '') =>
      reply(client, s, `${TWIN_RES}${status}/?$rid=${rid}${extra}`, body)
    if (hub.options.twinThrottle > 0) {
      hub.options.twinThrottle--
      answer(429, JSON.stringify({ errorCode: 429001, message: 'throttled (twinThrottle)' }))
      return null
    }
    try {
      if (get) return void answer(200, JSON.stringify(registry.twin(s.id)))
      const patch = JSON.parse(payload.toString())
      const version = registry.patchTwin(s.id, 'reported', patch)
      readReported(pnpOf(s.id), patch)
      answer(204, '', `&$version=${version}`)
      hub.log(`reported ${s.id} ${JSON.stringify(patch)} $version=${version}`)
      hub.emit('reported', { ...info(s), patch, version })
    } catch (err) {
      const e = /** @type {Error & { status?: number }} */ (err)
      answer(e.status || 400, JSON.stringify({ message: e.message }))
    }
    return null
  }

  /**
   * $iothub/methods/res/{status}/?$rid={rid}
   * @param {Session} s
   * @param {string} topic
   * @param {Buffer | string} payload
   */
  function methodResponse (s, topic, payload) {
    const { path, query } = splitTopic(topic)
    const status = Number(path.split('/')[3])
    const rid = query.get('$rid')
    if (!Number.isInteger(status) || rid === null) return `may not publish to ${topic}`
    const pending = methods.get(rid)
    if (pending && pending.id === s.id) pending.finish({ status, payload: parseJson(payload) })
    else hub.log(`${s.id} answered method request ${rid}, which is not pending`)
    return null
  }

  /**
   * Publish to the session's connection if one of its subscriptions matches.
   * @param {Client} client
   * @param {Session} s
   * @param {string} topic
   * @param {string} payload
   */
  function reply (client, s, topic, payload) {
    return grantedQos(s, topic) >= 0 && send(client, { topic, payload })
  }

  /** @param {Session} s @param {string} topic granted QoS of the best matching subscription, -1 for none */
  function grantedQos (s, topic) {
    let qos = -1
    for (const [filter, q] of s.subs) if (q > qos && matches(filter, topic)) qos = q
    return qos
  }

  /** @param {string} id */
  function connection (id) {
    const client = broker.clients[id]
    const s = client && sessions.get(client)
    return s && client.connected ? { client, s } : null
  }

  /**
   * Send the device's queued C2D messages that are not already in flight on its connection.
   * @param {string} deviceId
   */
  function flushC2D (deviceId) {
    const c = connection(deviceId)
    if (!c) return
    const { client, s } = c
    for (const m of hub.c2dQueue(deviceId).slice()) {
      const qos = grantedQos(s, m.topic)
      if (qos < 0) return
      if (m.conn === s.serial || m.lockedUntil > Date.now()) continue
      const dup = m.conn !== 0
      m.deliveryCount++
      if (qos === 0) {
        send(client, { topic: m.topic, payload: m.body })
        hub.settleC2D(deviceId, m, 'Success') // QoS 0: delivered is done
        continue
      }
      m.conn = s.serial
      m.packetId = s.nextMessageId
      s.nextMessageId = s.nextMessageId % 65535 + 1
      send(client, { topic: m.topic, payload: m.body, qos: 1, messageId: m.packetId, dup })
    }
  }

  /** @param {Client} client @param {number} packetId */
  function acknowledged (client, packetId) {
    const s = sessions.get(client)
    if (!s) return
    // a device's C2D message, or a module's input message (keyed by deviceId/moduleId)
    const m = hub.c2dQueue(s.id).find(m => m.conn === s.serial && m.packetId === packetId)
    if (m) hub.settleC2D(s.id, m, 'Success')
  }

  return {
    broker,
    flushC2D,

    /** @param {string} id */
    connected: (id) => connection(id) !== null,

    /**
     * The Plug and Play conventions seen for an identity: model id, components, acknowledgements, violations.
     * @param {string} id
     */
    pnp: (id) => pnp.get(id) ?? pnpState(),

    /**
     * Push a desired-properties patch to the device if it subscribed to them.
     * @param {string} id
     * @param {Record<string, unknown>} patch
     * @param {number} version
     */
    pushDesired (id, patch, version) {
      const c = connection(id)
      if (c) reply(c.client, c.s, `${TWIN_DESIRED}?$version=${version}`, JSON.stringify({ ...patch, $version: version }))
    },

    /**
     * Call a direct method; 404 when the device is not connected and subscribed, 504 on timeout.
     * @param {string} id
     * @param {string} name
     * @param {unknown} payload
     * @param {number} timeoutMs
     * @returns {Promise<MethodResult>}
     */
    invokeMethod (id, name, payload, timeoutMs) {
      return new Promise(resolve => {
        const rid = String(++lastRid)
        const topic = `${METHODS}${name}/?$rid=${rid}`
        /** @type {NodeJS.Timeout | undefined} */
        let timer
        const finish = (/** @type {MethodResult} */ result) => {
          clearTimeout(timer)
          methods.delete(rid)
          hub.log(`method ${id} ${name} -> ${result.status} ${JSON.stringify(result.payload)}`)
          resolve(result)
        }
        const c = connection(id)
        if (!c || grantedQos(c.s, topic) < 0) {
          return finish({ status: 404, payload: { errorCode: 404103, message: `${id} is not online or not subscribed to methods` } })
        }
        timer = setTimeout(() => finish({ status: 504, payload: { errorCode: 504101, message: `${id} did not answer ${name} in ${timeoutMs} ms` } }), timeoutMs)
        methods.set(rid, { id, finish })
        send(c.client, { topic, payload: JSON.stringify(payload ?? null) })
      })
    },

    /** Close every connection; pending method calls answer 503. */
    async close () {
      for (const m of [...methods.values()]) m.finish({ status: 503, payload: { message: 'hub closed' } })
      await new Promise(resolve => broker.close(() => resolve(undefined)))
    }
  }
}

/** @param {Session} s */
function info (s) {
  return { id: s.id, deviceId: s.deviceId, moduleId: s.moduleId }
}

/**
 * JSON if it parses, the text if not, null when empty.
 * @param {Buffer | string} payload
 */
export function parseJson (payload) {
  const text = payload.toString()
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
