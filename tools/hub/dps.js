// The Device Provisioning Service front end: its own aedes broker (on its own port) that
// registers individual symmetric-key enrollments and assigns them to the emulated hub.
import { Aedes } from 'aedes'
import { randomBytes, randomUUID } from 'node:crypto'
import { BAD_USER_NAME_OR_PASSWORD, NOT_AUTHORIZED, matches, parseJson, refuse } from './broker.js'
import { grantAtMostQos1, send } from './aedes-hooks.js'
import { checkSas, parseSas } from './sas.js'
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
    if (!registry.enrollment(id)) return fail(NOT_AUTHORIZED, 'no such enrollment')
    // {idScope}/registrations/{registrationId}/api-version=2019-03-31[&ClientVersion=...]
    const [scope, registrations, rid, ...query] = (username || '').split('/')
    if (scope.toLowerCase() !== registry.idScope.toLowerCase() || registrations !== 'registrations' || rid !== id ||
      !new URLSearchParams(query.join('/')).get('api-version')) {
      return fail(BAD_USER_NAME_OR_PASSWORD, `user name ${JSON.stringify(username)} is not ${registry.idScope}/registrations/${id}/api-version=${DPS_API_VERSION}`)
    }
    const why = checkRegistration(id, password?.toString())
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
   * Is `token` a registration token of the enrollment `registrationId`? (`skn=registration`,
   * `sr={idScope}/registrations/{registrationId}`, signed with the enrollment key.)
   * @param {string} registrationId
   * @param {string | undefined} token
   * @returns {string | null} why not
   */
  function checkRegistration (registrationId, token) {
    const enrollment = registry.enrollment(registrationId)
    if (!enrollment) return 'no such enrollment'
    return parseSas(token)?.skn !== 'registration'
      ? 'token has no skn=registration'
      : checkSas(token, [`${registry.idScope}/registrations/${registrationId}`], [enrollment.key])
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
   * Create (or re-key) the device with the enrollment's key, as DPS does for individual
   * symmetric-key enrollments, and describe the assignment.
   * @param {string} registrationId
   */
  function assign (registrationId) {
    const enrollment = registry.enrollment(registrationId)
    registry.addDevice(registrationId, { primaryKey: enrollment?.key })
    const now = new Date().toISOString()
    hub.log(`dps assigned ${registrationId} to ${registry.hubName}`)
    hub.emit('provisioned', { registrationId, deviceId: registrationId })
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
