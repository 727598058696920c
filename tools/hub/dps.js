// The Device Provisioning Service front end: its own aedes broker (on its own port) that registers
// individual enrollments (symmetric key or X.509) and symmetric-key enrollment groups, and assigns
// the devices to the emulated hub.
import { Aedes } from 'aedes'
import http from 'node:http'
import tls from 'node:tls'
import { WebSocketServer, createWebSocketStream } from 'ws'
import { X509Certificate, createHash, randomBytes, randomUUID } from 'node:crypto'
import { BAD_USER_NAME_OR_PASSWORD, NOT_AUTHORIZED, matches, parseJson, refuse } from './broker.js'
import { grantAtMostQos1, send } from './aedes-hooks.js'
import { checkSas, parseSas } from './sas.js'
import { derivedKey } from './registry.js'
import { splitTopic } from './properties.js'

export const DPS_API_VERSION = '2019-03-31'
const RES = '$dps/registrations/res/'
/** Seconds a device is told to wait before polling. */
const RETRY_AFTER = 1

/**
 * @typedef {import('./index.js').Hub} Hub
 * @typedef {import('aedes').Client} Client
 * @typedef {{ id: string, subs: Set<string> }} Session
 * @typedef {{ registrationId: string, polls: number, state?: object }} Operation
 * @typedef {{ status: number, body: object, retryAfter?: number }} Answer
 * @typedef {{ primaryKey?: string, auth?: 'x509', thumbprint?: string, group?: string }} Grant what the device is
 *   created with: its key (individual or derived), or X.509 and its certificate's thumbprint
 */

/**
 * Start the DPS broker for `hub`'s registry and enrollments.
 * @param {Hub} hub
 */
export async function createDpsBroker (hub) {
  const { registry } = hub
  /** @type {WeakMap<Client, string>} */
  const clientIds = new WeakMap()
  /** @type {WeakMap<Client, Session>} */
  const sessions = new WeakMap()
  /** @type {Map<string, Operation>} */
  const operations = new Map()
  /** @type {Map<string, Grant>} per registration id, from its last accepted credentials */
  const grants = new Map()
  const signers = [hub.certs.issuer, hub.certs.ca].map(pem => new X509Certificate(pem))

  const broker = await Aedes.createBroker({
    preConnect (client, packet, done) {
      clientIds.set(client, packet.clientId)
      grantAtMostQos1(client)
      done(null, true)
    },
    authenticate,
    authorizeSubscribe (client, sub, done) {
      const s = sessions.get(client)
      if (!s || !sub.topic.startsWith(RES)) return done(null, null)
      s.subs.add(sub.topic)
      done(null, sub)
    },
    authorizePublish,
    authorizeForward: () => null
  })
  broker.on('clientError', (client, err) => hub.log(`dps closed ${client.id}: ${err.message}`))

  /** @type {NonNullable<import('aedes').AedesOptions['authenticate']>} */
  function authenticate (client, username, password, done) {
    const id = clientIds.get(client) || ''
    const fail = (/** @type {number} */ code, /** @type {string} */ why) => {
      hub.log(`dps refused ${JSON.stringify(id)}: ${why}`)
      done(refuse(code, why), false)
    }
    if (!registry.enrollment(id) && !Object.keys(registry.data.groupEnrollments).length) return fail(NOT_AUTHORIZED, 'no such enrollment')
    // {idScope}/registrations/{registrationId}/api-version=2019-03-31[&ClientVersion=...]
    const [scope, registrations, rid, ...query] = (username || '').split('/')
    if (scope.toLowerCase() !== registry.idScope.toLowerCase() || registrations !== 'registrations' || rid !== id ||
      !new URLSearchParams(query.join('/')).get('api-version')) {
      return fail(BAD_USER_NAME_OR_PASSWORD, `user name ${JSON.stringify(username)} is not ${registry.idScope}/registrations/${id}/api-version=${DPS_API_VERSION}`)
    }
    // the TLS connection (X.509): the socket itself, or the one under a WebSocket
    /** @type {any} */
    const conn = /** @type {any} */ (client).req?.socket ?? client.conn
    const why = checkRegistration(id, password?.toString(), conn)
    if (why) return fail(BAD_USER_NAME_OR_PASSWORD, why)
    sessions.set(client, { id, subs: new Set() })
    done(null, true)
  }

  /** @type {NonNullable<import('aedes').AedesOptions['authorizePublish']>} */
  function authorizePublish (client, packet, done) {
    const s = client && sessions.get(client)
    if (!client || !s) return done(new Error('not authenticated'))
    if (packet.qos === 2) return done(new Error('QoS 2 publish is not supported'))
    packet.retain = false
    const { path, query } = splitTopic(packet.topic)
    const rid = query.get('$rid')
    const answer = (/** @type {number} */ status, /** @type {object} */ body, extra = '') => {
      const topic = `${RES}${status}/?$rid=${rid}${extra}`
      if ([...s.subs].some(f => matches(f, topic))) send(client, { topic, payload: JSON.stringify(body) })
    }
    if (rid === null) return done(new Error(`may not publish to ${packet.topic}`))
    /** @param {Answer} a */
    const respond = a => answer(a.status, a.body, a.retryAfter ? `&retry-after=${a.retryAfter}` : '')
    if (path === '$dps/registrations/PUT/iotdps-register/') respond(register(s.id, parseJson(packet.payload)))
    else if (path === '$dps/registrations/GET/iotdps-get-operationstatus/') respond(operationStatus(s.id, query.get('operationId') || ''))
    else return done(new Error(`may not publish to ${packet.topic}`))
    done(null)
  }

  /**
   * May `registrationId` register? An individual enrollment: a registration token (`skn=registration`,
   * `sr={idScope}/registrations/{registrationId}`) signed with its key, or, for X.509, a client certificate
   * whose CN is the registration id (with the enrollment's thumbprint, or signed by the emulator's CA).
   * Without one: a token signed with the key derived from an enrollment group's key. What the device is
   * then created with is kept for the assignment.
   * @param {string} registrationId
   * @param {string | undefined} token
   * @param {import('node:tls').TLSSocket} [socket] the TLS connection (X.509)
   * @returns {string | null} why not
   */
  function checkRegistration (registrationId, token, socket) {
    const enrollment = registry.enrollment(registrationId)
    const grant = (/** @type {Grant} */ g) => { grants.set(registrationId, g); return null }
    if (enrollment?.auth === 'x509') {
      const raw = typeof socket?.getPeerCertificate === 'function' ? socket.getPeerCertificate().raw : null
      if (!raw) return 'no client certificate'
      const cert = new X509Certificate(raw)
      const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1]
      if (cn !== registrationId) return `certificate CN ${JSON.stringify(cn)} is not the registration id`
      const thumbs = ['sha1', 'sha256'].map(a => createHash(a).update(raw).digest('hex'))
      if (enrollment.thumbprint ? !thumbs.includes(enrollment.thumbprint.replace(/:/g, '').toLowerCase())
        : !signers.some(ca => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
        return enrollment.thumbprint ? 'certificate thumbprint is not the enrollment\'s' : 'certificate not signed by the emulator CA'
      }
      return grant({ auth: 'x509', thumbprint: thumbs[1] })
    }
    if (parseSas(token)?.skn !== 'registration') return 'token has no skn=registration'
    const resources = [`${registry.idScope}/registrations/${registrationId}`]
    if (enrollment) return checkSas(token, resources, [enrollment.key]) ?? grant({ primaryKey: enrollment.key })
    const groups = Object.entries(registry.data.groupEnrollments)
    if (!groups.length) return 'no such enrollment'
    for (const [group, { key }] of groups) {
      const primaryKey = derivedKey(key, registrationId)
      if (!checkSas(token, resources, [primaryKey])) return grant({ primaryKey, group })
    }
    return `no enrollment group's derived key signs the token (${checkSas(token, resources, [derivedKey(groups[0][1].key, registrationId)])})`
  }

  /**
   * PUT iotdps-register (MQTT) or PUT .../register (HTTPS).
   * @param {string} registrationId
   * @param {any} body
   * @returns {Answer}
   */
  function register (registrationId, body) {
    if (body?.registrationId !== registrationId) {
      return { status: 400, body: { errorCode: 400004, message: 'registrationId in the body does not match the registration' } }
    }
    const operationId = `4.${randomBytes(8).toString('hex')}.${randomUUID()}`
    operations.set(operationId, { registrationId, polls: 0 })
    hub.log(`dps register ${registrationId} operation ${operationId}`)
    return { status: 202, body: { operationId, status: 'assigning' }, retryAfter: RETRY_AFTER }
  }

  /**
   * The status of an operation: 202 `assigning` on the first poll, then 200 `assigned`.
   * @param {string} registrationId
   * @param {string} operationId
   * @returns {Answer}
   */
  function operationStatus (registrationId, operationId) {
    const op = operations.get(operationId)
    if (!op || op.registrationId !== registrationId) return { status: 404, body: { errorCode: 404002, message: `no operation ${operationId}` } }
    if (op.polls++ === 0) return { status: 202, body: { operationId, status: 'assigning' }, retryAfter: RETRY_AFTER }
    return { status: 200, body: { operationId, status: 'assigned', registrationState: op.state ??= assign(registrationId) } }
  }

  /**
   * Create (or update) the device with what its credentials showed, as DPS does: the enrollment's key,
   * the key derived from its group's, or X.509 with its certificate's thumbprint; describe the assignment.
   * @param {string} registrationId
   */
  function assign (registrationId) {
    const { group, ...grant } = grants.get(registrationId) ?? {}
    registry.addDevice(registrationId, grant.auth ? grant : { auth: 'sas', ...grant })
    const now = new Date().toISOString()
    hub.log(`dps assigned ${registrationId} to ${registry.hubName}${group ? ` (enrollment group ${group})` : ''}`)
    hub.emit('provisioned', { registrationId, deviceId: registrationId, ...(group ? { group } : {}) })
    return {
      registrationId,
      createdDateTimeUtc: now,
      assignedHub: registry.hubName,
      deviceId: registrationId,
      status: 'assigned',
      substatus: 'initialAssignment',
      lastUpdatedDateTimeUtc: now,
      etag: JSON.stringify(randomUUID())
    }
  }

  return {
    broker,
    checkRegistration,
    register,
    operationStatus,
    async close () {
      await new Promise(resolve => broker.close(() => resolve(undefined)))
    }
  }
}

/**
 * The DPS listener: MQTT over TLS, and on the same port, as the service offers both on its host, MQTT over
 * WebSockets at `/$iothub/websocket` (subprotocol `mqtt`; the service's is on 443, the official SDK's MqttWs
 * transport dials `wss://{host}:443/$iothub/websocket`). Each TLS connection's first byte tells them apart: an MQTT
 * CONNECT starts with 0x10, an HTTP upgrade request with a letter.
 * @param {Hub} hub
 * @param {import('node:tls').TlsOptions} tlsOptions
 */
export function createDpsServer (hub, tlsOptions) {
  const upgrades = http.createServer((req, res) => res.writeHead(404).end())
  const wss = new WebSocketServer({
    server: upgrades,
    path: '/$iothub/websocket',
    verifyClient: (/** @type {{ req: import('node:http').IncomingMessage }} */ info, /** @type {(ok: boolean, code?: number, message?: string) => void} */ done) =>
      String(info.req.headers['sec-websocket-protocol'] || '').split(',').some(p => p.trim() === 'mqtt') ? done(true) : done(false, 400, 'subprotocol mqtt required'),
    handleProtocols: () => 'mqtt'
  })
  wss.on('error', () => {})
  wss.on('connection', (ws, req) => hub.dps.broker.handle(createWebSocketStream(ws), req))
  return tls.createServer(tlsOptions, socket => {
    socket.once('data', first => {
      socket.pause()
      socket.unshift(first)
      if (first[0] === 0x10) hub.dps.broker.handle(socket)
      else upgrades.emit('connection', socket)
      socket.resume()
    })
  })
}
