// HTTPS on one port, like the service's 443: MQTT and AMQP over WebSockets at /$iothub/websocket
// (subprotocol mqtt or AMQPWSB10) and the HTTPS device API (telemetry, cloud-to-device receive and settle).
import https from 'node:https'
import { validateHeaderName, validateHeaderValue } from 'node:http'
import { randomUUID } from 'node:crypto'
import { WebSocketServer, createWebSocketStream } from 'ws'
import { MAX_D2C, refusal } from './broker.js'
import { headersToProperties, propertiesToHeaders } from './properties.js'
import { METHOD_ROUTE, edgeMethod } from './edge.js'
import { FILES_ROUTE, filesApi } from './files.js'

const LOCK_MS = 60 * 1000
/** A message delivered this often over HTTPS without being completed is dead-lettered. */
const MAX_DELIVERY_COUNT = 10
const BATCH = 'application/vnd.microsoft.iothub.json'
// `deviceBound` in any case: the service's docs write it so, its SDKs send `devicebound`
const ROUTE = /^\/devices\/([^/]+)(?:\/modules\/([^/]+))?\/messages\/(events|devicebound)(?:\/([^/]+))?(\/abandon)?$/i

/**
 * @typedef {import('./index.js').Hub} Hub
 * @typedef {import('node:http').IncomingMessage} Request
 * @typedef {import('node:http').ServerResponse} Response
 */

/**
 * @param {Hub} hub
 * @param {import('node:tls').TlsOptions} tlsOptions
 */
export function createHttpsServer (hub, tlsOptions) {
  const server = https.createServer(tlsOptions, (req, res) => {
    deviceApi(hub, req, res).catch(err => reply(res, err.status || 500, { Message: err.message }))
  })
  const wss = new WebSocketServer({
    server,
    path: '/$iothub/websocket',
    // the service refuses an upgrade that offers neither the `mqtt` nor the `AMQPWSB10` subprotocol
    verifyClient: (/** @type {{ req: Request }} */ info, /** @type {(ok: boolean, code?: number, message?: string) => void} */ done) =>
      subprotocol(info.req) ? done(true) : done(false, 400, 'subprotocol mqtt or AMQPWSB10 required'),
    handleProtocols: (_, req) => subprotocol(req) || false
  })
  wss.on('error', () => {}) // the server's own errors (EADDRINUSE) reach startHub through it
  wss.on('connection', (ws, req) => ws.protocol === 'AMQPWSB10' ? hub.amqp.acceptWebSocket(ws, req) : hub.mqtt.broker.handle(createWebSocketStream(ws), req))
  return server
}

/**
 * POST /devices/{id}/messages/events, GET /devices/{id}/messages/deviceBound,
 * DELETE /devices/{id}/messages/deviceBound/{etag}[?reject], POST .../deviceBound/{etag}/abandon
 * (with /modules/{mid} after the device id for module telemetry).
 * @param {Hub} hub
 * @param {Request} req
 * @param {Response} res
 */
async function deviceApi (hub, req, res) {
  const url = new URL(req.url || '/', 'https://localhost')
  const files = FILES_ROUTE.exec(url.pathname) // file upload: tools/hub/files.js
  if (files) return filesApi(hub, req, res, url, files)
  const route = ROUTE.exec(url.pathname)
  const edge = METHOD_ROUTE.exec(url.pathname) // an Edge module invoking a method (edge.js)
  if (edge) return edgeMethod(hub, req, edge, await readBody(req, 256 * 1024)).then(r => reply(res, r.status, r.body))
  if (!route) return dps(hub, req, res, url)
  const [, deviceId, moduleId, k, etag, abandon] = route.map(p => p && decodeURIComponent(p))
  const kind = k.toLowerCase() === 'events' ? 'events' : 'deviceBound'
  const id = moduleId ? `${deviceId}/${moduleId}` : deviceId
  if (refused(hub, req, res, url, id)) return
  const method = `${req.method} ${kind}${etag ? '/{etag}' : ''}${abandon ? '/abandon' : ''}`
  if (method === 'POST events') return events(hub, req, res, deviceId, moduleId)
  if (moduleId) return reply(res, 404, { Message: 'modules do not receive cloud-to-device messages' })
  const queue = hub.c2dQueue(deviceId)
  if (method === 'GET deviceBound') {
    for (const m of queue.slice()) {
      if (m.lockedUntil > Date.now()) continue
      if (m.deliveryCount >= MAX_DELIVERY_COUNT) {
        hub.settleC2D(deviceId, m, 'DeliveryCountExceeded')
        continue
      }
      // the whole answer is built (and checked) before the message is locked and counted
      const lockToken = randomUUID()
      /** @type {Record<string, string>} */
      const headers = {
        ETag: `"${lockToken}"`,
        'iothub-sequencenumber': String(m.sequenceNumber),
        'iothub-deliverycount': String(m.deliveryCount),
        'iothub-enqueuedtime': m.enqueuedAt.toUTCString(),
        ...propertiesToHeaders(m.properties, m.system)
      }
      const bad = Object.entries(headers).find(([name, value]) => !validHeader(name, value))
      if (bad) {
        hub.log(`c2d ${deviceId} ${m.messageId} cannot be sent over HTTPS: header ${JSON.stringify(bad[0])}`)
        return reply(res, 500, { Message: `message ${m.messageId} has a property that is no HTTP header: ${JSON.stringify(bad[0])}` })
      }
      m.deliveryCount++
      m.lockToken = lockToken
      m.lockedUntil = Date.now() + LOCK_MS
      res.writeHead(200, headers)
      return res.end(m.body)
    }
    return reply(res, 204)
  }
  const m = queue.find(m => m.lockToken === etag?.replace(/"/g, '') && m.lockedUntil > Date.now())
  if (method === 'DELETE deviceBound/{etag}' || method === 'POST deviceBound/{etag}/abandon') {
    if (!m) return reply(res, 412, { Message: `no locked message ${etag}` })
    if (abandon) {
      m.lockToken = null
      m.lockedUntil = 0
      hub.log(`c2d ${deviceId} ${m.messageId} abandoned`)
      hub.mqtt.flushC2D(deviceId)
    } else hub.settleC2D(deviceId, m, url.searchParams.has('reject') ? 'Rejected' : 'Success')
    return reply(res, 204)
  }
  return reply(res, 405, { Message: `${req.method} not allowed here` })
}

const DPS_ROUTE = /^\/([^/]+)\/registrations\/([^/]+)\/(register|operations\/([^/]+))$/

/**
 * DPS over HTTPS, on the same port (the service has its own host; the SDKs' HTTPS provisioning
 * transports take any): PUT /{idScope}/registrations/{registrationId}/register and
 * GET /{idScope}/registrations/{registrationId}/operations/{operationId}, `?api-version=`,
 * `Authorization` the registration SAS token; `retry-after` in a header.
 * @param {Hub} hub
 * @param {Request} req
 * @param {Response} res
 * @param {URL} url
 */
async function dps (hub, req, res, url) {
  const route = DPS_ROUTE.exec(url.pathname)
  if (!route || route[1].toLowerCase() !== hub.dpsIdScope.toLowerCase()) return reply(res, 404, { Message: `no route ${req.method} ${url.pathname}` })
  const registrationId = decodeURIComponent(route[2])
  const operationId = route[4] && decodeURIComponent(route[4])
  if (!url.searchParams.get('api-version')) return reply(res, 400, { errorCode: 400001, message: 'api-version missing' })
  const why = hub.dps.checkRegistration(registrationId, req.headers.authorization, /** @type {any} */ (req.socket))
  if (why) {
    hub.log(`dps refused ${JSON.stringify(registrationId)}: ${why}`)
    return reply(res, 401, { errorCode: 401002, message: why })
  }
  const body = await readBody(req, 64 * 1024)
  /** @type {import('./dps.js').Answer} */
  let answer
  if (req.method === 'PUT' && !operationId) {
    let json
    try {
      json = body?.length ? JSON.parse(body.toString()) : null
    } catch {
      return reply(res, 400, { errorCode: 400004, message: 'body is not JSON' })
    }
    answer = hub.dps.register(registrationId, json)
  } else if (req.method === 'GET' && operationId) answer = hub.dps.operationStatus(registrationId, operationId)
  else return reply(res, 405, { errorCode: 405000, message: `${req.method} not allowed here` })
  if (answer.retryAfter) res.setHeader('retry-after', String(answer.retryAfter))
  reply(res, answer.status, answer.body)
}

/**
 * Can `name: value` be written as an HTTP header?
 * @param {string} name
 * @param {string} value
 */
function validHeader (name, value) {
  try {
    validateHeaderName(name)
    validateHeaderValue(name, value)
    return true
  } catch {
    return false
  }
}

/**
 * The WebSocket subprotocol the upgrade request offers that the hub speaks, `mqtt` first, or undefined.
 * @param {Request} req
 */
function subprotocol (req) {
  const offered = String(req.headers['sec-websocket-protocol'] || '').split(',').map(p => p.trim())
  return ['mqtt', 'AMQPWSB10'].find(p => offered.includes(p))
}

/**
 * Telemetry, one message (properties in headers) or a batch (JSON array of
 * {body: base64, properties: {"iothub-app-k": "v"}}).
 * @param {Hub} hub
 * @param {Request} req
 * @param {Response} res
 * @param {string} deviceId
 * @param {string} [moduleId]
 */
async function events (hub, req, res, deviceId, moduleId) {
  const body = await readBody(req, MAX_D2C)
  if (!body) return reply(res, 413, { Message: 'message over 256 KB' })
  /** @type {{ body: Buffer, props: [string, string][] }[]} */
  let messages
  if ((req.headers['content-type'] || '').startsWith(BATCH)) {
    try {
      messages = JSON.parse(body.toString()).map((/** @type {any} */ m) => ({
        body: Buffer.from(m.body || '', 'base64'),
        props: Object.entries(m.properties || {})
      }))
    } catch {
      return reply(res, 400, { Message: 'a batch is a JSON array of {body, properties}' })
    }
  } else {
    const pairs = req.rawHeaders
    messages = [{ body, props: pairs.filter((_, i) => i % 2 === 0).map((name, i) => [name, pairs[2 * i + 1]]) }]
  }
  for (const m of messages) {
    const { properties, system } = headersToProperties(m.props)
    hub.recordTelemetry({ deviceId, moduleId, protocol: 'https', topic: '', body: m.body, properties, system, at: new Date() })
  }
  reply(res, 204)
}

/**
 * The request body, or null when it is over `limit` bytes.
 * @param {Request} req
 * @param {number} limit
 * @returns {Promise<Buffer | null>}
 */
export async function readBody (req, limit) {
  /** @type {Buffer[]} */
  const chunks = []
  let size = 0
  for await (const chunk of req) {
    size += chunk.length
    if (size <= limit) chunks.push(chunk) // past the limit, read on but keep nothing
  }
  return size > limit ? null : Buffer.concat(chunks)
}

/**
 * The device API's checks of a request for identity `id`, answered here when one fails: an api-version (400), the
 * identity and its credentials (401).
 * @param {Hub} hub @param {import('node:http').IncomingMessage} req @param {Response} res
 * @param {URL} url @param {string} id
 * @returns {boolean} true when refused (answered)
 */
export function refused (hub, req, res, url, id) {
  if (!url.searchParams.get('api-version')) {
    reply(res, 400, { Message: 'api-version missing' })
    return true
  }
  const why = refusal(hub.registry, id, req.headers.authorization, req.socket)
  if (!why) return false
  hub.log(`https refused ${id}: ${why}`)
  reply(res, 401, { Message: why })
  return true
}

/**
 * @param {Response} res
 * @param {number} status
 * @param {unknown} [body] sent as JSON
 */
export function reply (res, status, body) {
  if (body === undefined) return res.writeHead(status).end()
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 2) + '\n')
}
