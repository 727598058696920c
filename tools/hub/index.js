// The local Azure IoT Hub emulator: MQTT over TLS (and, opt-in, plain TCP), AMQP over TLS, MQTT and
// AMQP over WebSockets and the HTTPS device API on one port, DPS on another, an admin HTTP API on a
// third. Everything listens on 127.0.0.1. See README.md.
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import { join, resolve } from 'node:path'
import { deviceCert, ensureCerts } from './certs.js'
import { HubError, Registry } from './registry.js'
import { createHubBroker } from './broker.js'
import { createAmqpServer } from './amqp.js'
import { createDpsBroker, createDpsServer } from './dps.js'
import { createHttpsServer } from './https.js'
import { createAdminServer } from './admin.js'
import { buildBag, splitProperties } from './properties.js'
import { parseRoute, routeMatches } from './edge.js'
import { startStorage } from './storage.js'

export { HubError, Registry } from './registry.js'
export { sasToken, checkSas } from './sas.js'

/** Pending cloud-to-device messages per device. */
export const MAX_C2D_QUEUE = 50
/** Cloud-to-device message body limit. */
export const MAX_C2D_BODY = 64 * 1024

/**
 * @typedef {import('./properties.js').Bag} Bag
 * @typedef {{ deviceId: string, moduleId?: string, protocol: 'mqtt' | 'https' | 'amqp', topic: string,
 *   body: Buffer, properties: Bag, system: Bag, at: Date }} Telemetry
 * @typedef {{ messageId: string, deviceId: string, body: Buffer, properties: Bag, system: Bag,
 *   topic: string, sequenceNumber: number, enqueuedAt: Date, deliveryCount: number,
 *   conn: number, packetId: number, lockToken: string | null, lockedUntil: number }} C2DMessage
 * @typedef {{
 *   dir?: string, host?: string, bind?: string, hubName?: string,
 *   mqttsPort?: number | null, plainPort?: number | null, httpsPort?: number | null, amqpsPort?: number | null,
 *   dpsPort?: number | null, adminPort?: number | null,
 *   log?: ((line: string) => void) | false, twinThrottle?: number, telemetryLimit?: number,
 *   storage?: boolean, fileUploadContainer?: string, fileUploadTtl?: number }} HubOptions
 * @typedef {{ mqtts?: number, plain?: number, https?: number, amqps?: number, dps?: number, admin?: number, storage?: number }} Ports
 */

const DEFAULTS = {
  dir: '.hub',
  host: 'localhost', // the name devices connect to (GatewayHostName), in the certificate
  bind: '127.0.0.1',
  hubName: 'tinyhub-emu.azure-devices.net', // the name in user names, SAS resources, HostName
  mqttsPort: 0, // 0 = ephemeral, null = off
  plainPort: null,
  httpsPort: 0,
  amqpsPort: 0,
  dpsPort: 0,
  adminPort: 0,
  /** @type {((line: string) => void) | false} */
  log: (/** @type {string} */ line) => console.log(line),
  twinThrottle: 0, // test hook: the next n twin requests answer 429
  telemetryLimit: 1000, // captured messages kept
  storage: false, // file upload: Azurite's blob service as the hub's storage account (tools/hub/storage.js)
  fileUploadContainer: 'fileuploads',
  fileUploadTtl: 300 // seconds a file upload's SAS (and correlation id) lasts
}

export class Hub extends EventEmitter {
  /**
   * Use startHub().
   * @param {typeof DEFAULTS} options
   * @param {Registry} registry
   * @param {ReturnType<typeof ensureCerts>} certs
   */
  constructor (options, registry, certs) {
    super()
    this.options = options
    this.registry = registry
    this.certs = certs
    this.caPath = certs.caPath
    this.ca = certs.ca
    /** @type {Ports} */
    this.ports = {}
    /** @type {Telemetry[]} captured device-to-cloud messages, oldest first */
    this.telemetry = []
    /** @type {Map<string, C2DMessage[]>} */
    this.c2d = new Map()
    /** @type {Map<string, import('./edge.js').Route[]>} the routes of each Edge device (setRoutes) */
    this.routes = new Map()
    this.sequenceNumber = 0
    /** @type {Awaited<ReturnType<typeof createHubBroker>>} */
    this.mqtt = /** @type {any} */ (null)
    /** @type {ReturnType<typeof createAmqpServer>} */
    this.amqp = /** @type {any} */ (null)
    /** @type {Awaited<ReturnType<typeof createDpsBroker>>} */
    this.dps = /** @type {any} */ (null)
    /** @type {(() => Promise<void>)[]} */
    this.closers = []
    /** @type {import('./storage.js').Storage | null} file upload's storage account; null: not configured */
    this.storage = null
    /** @type {Map<string, { deviceId: string, blobName: string, until: number }>} uploads under way, by correlation id */
    this.activeUploads = new Map()
    /** @type {import('./files.js').FileUpload[]} devices' file upload notifications, oldest first */
    this.fileUploads = []
  }

  get hubName () { return this.registry.hubName }
  get host () { return this.registry.host }
  get dpsIdScope () { return this.registry.idScope }

  /**
   * A client certificate for X.509 devices and DPS enrollments, issued by the emulator's CA: `CN={cn}`.
   * @param {string} cn
   * @param {number} [days]
   */
  deviceCert (cn, days) {
    return deviceCert(this.options.dir, cn, days)
  }

  /** @param {string} line */
  log (line) {
    if (this.options.log) this.options.log('[hub] ' + line)
  }

  /**
   * Capture a device-to-cloud message, emit 'telemetry' and log it.
   * @param {Omit<Telemetry, 'protocol'> & { protocol?: Telemetry['protocol'] }} message
   */
  recordTelemetry (message) {
    const m = /** @type {Telemetry} */ ({ protocol: 'mqtt', ...message })
    this.telemetry.push(m)
    if (this.telemetry.length > this.options.telemetryLimit) this.telemetry.shift()
    this.log(`telemetry ${m.moduleId ? `${m.deviceId}/${m.moduleId}` : m.deviceId} ${preview(m.body)}${describe(m.properties, m.system)}`)
    this.emit('telemetry', m)
  }

  /**
   * The pending cloud-to-device messages of a device (live array).
   * @param {string} deviceId
   */
  c2dQueue (deviceId) {
    let queue = this.c2d.get(deviceId)
    if (!queue) this.c2d.set(deviceId, queue = [])
    return queue
  }

  /**
   * Queue a cloud-to-device message. It is delivered at QoS 1 on
   * devices/{id}/messages/devicebound/{bag} while the device is subscribed, and stays queued
   * until the device acknowledges it (PUBACK, or HTTPS complete/reject).
   * @param {string} deviceId
   * @param {string | Uint8Array | object} body objects are sent as JSON
   * @param {Bag} [properties] application properties; `$.`-keys (`$.mid`, `$.cid`, `$.ct`, ...) are system properties
   * @returns {C2DMessage}
   */
  sendC2D (deviceId, body, properties = {}) {
    if (deviceId.includes('/')) throw new HubError(400, 'modules do not receive cloud-to-device messages')
    this.registry.mustGet(deviceId)
    const queue = this.c2dQueue(deviceId)
    if (queue.length >= MAX_C2D_QUEUE) throw new HubError(403, `${deviceId} already has ${MAX_C2D_QUEUE} messages pending`)
    const data = body instanceof Uint8Array ? Buffer.from(body) : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    if (data.length > MAX_C2D_BODY) throw new HubError(413, 'cloud-to-device message over 64 KB')
    const split = splitProperties(properties)
    const messageId = split.system.messageId || randomUUID()
    const system = { messageId, to: `/devices/${deviceId}/messages/deviceBound`, ...split.system }
    /** @type {C2DMessage} */
    const m = {
      messageId,
      deviceId,
      body: data,
      properties: split.properties,
      system,
      topic: `devices/${deviceId}/messages/devicebound/${buildBag(split.properties, system)}`,
      sequenceNumber: ++this.sequenceNumber,
      enqueuedAt: new Date(),
      deliveryCount: 0,
      conn: 0,
      packetId: 0,
      lockToken: null,
      lockedUntil: 0
    }
    queue.push(m)
    this.log(`c2d ${deviceId} ${preview(data)}${describe(m.properties, {})} (${queue.length} pending)`)
    this.flushC2D(deviceId)
    return m
  }

  /**
   * Make `deviceId` an IoT Edge device with these routes (tools/hub/edge.js), as its deployment's
   * `$edgeHub` routes: `{ name: "FROM /messages/modules/a/outputs/o INTO BrokeredEndpoint(\"/modules/b/inputs/i\")" }`.
   * Its modules may then subscribe to their inputs, and their telemetry goes where the routes say. An empty
   * object ends it.
   * @param {string} deviceId
   * @param {Record<string, string>} routes
   */
  setRoutes (deviceId, routes) {
    this.registry.mustGet(deviceId)
    const parsed = Object.entries(routes).map(([name, text]) => parseRoute(name, text))
    if (parsed.length) this.routes.set(deviceId, parsed)
    else this.routes.delete(deviceId)
    this.log(`routes ${deviceId}: ${parsed.length ? Object.values(routes).join('; ') : 'none (not an Edge device)'}`)
  }

  /**
   * Route a module's telemetry on an Edge device: to its inputs, upstream, both or nowhere. Returns whether it
   * goes upstream (recorded as the hub's telemetry); an Edge device's module has no other way up.
   * @param {string} deviceId @param {string} moduleId
   * @param {{ body: Buffer, properties: import('./properties.js').Bag, system: import('./properties.js').Bag }} m
   */
  routeModuleMessage (deviceId, moduleId, m) {
    const routes = this.routes.get(deviceId)
    if (!routes) return true
    const output = m.system.outputName ?? undefined
    let upstream = false
    for (const r of routes) {
      if (!routeMatches(r, moduleId, output)) continue
      if (r.upstream) upstream = true
      else this.sendInput(deviceId, /** @type {string} */ (r.toModule), /** @type {string} */ (r.input), m.body, m.properties, m.system, r.name)
    }
    if (!upstream) this.log(`edge ${deviceId}/${moduleId}${output ? ` output ${output}` : ''}: ${routes.some(r => routeMatches(r, moduleId, output)) ? 'routed to modules only' : 'no route, dropped'}`)
    return upstream
  }

  /**
   * Queue an input message for a module of an Edge device, delivered at QoS 1 on
   * devices/{d}/modules/{m}/inputs/{input}/{bag} while it is subscribed, kept until it acknowledges it.
   * @param {string} deviceId @param {string} moduleId @param {string} input
   * @param {Buffer} body @param {import('./properties.js').Bag} properties @param {import('./properties.js').Bag} system
   * @param {string} [route] the route's name, for the log
   */
  sendInput (deviceId, moduleId, input, body, properties, system, route) {
    const id = `${deviceId}/${moduleId}`
    const queue = this.c2dQueue(id)
    if (queue.length >= MAX_C2D_QUEUE) return this.log(`edge ${id} input ${input}: ${MAX_C2D_QUEUE} messages pending, dropped`)
    const { outputName, ...rest } = system
    const messageId = rest.messageId || randomUUID()
    queue.push(/** @type {C2DMessage} */ ({
      messageId,
      deviceId: id,
      body,
      properties,
      system: { ...rest, messageId },
      topic: `devices/${deviceId}/modules/${moduleId}/inputs/${input}/${buildBag(properties, { ...rest, messageId })}`,
      sequenceNumber: ++this.sequenceNumber,
      enqueuedAt: new Date(),
      deliveryCount: 0,
      conn: 0,
      packetId: 0,
      lockToken: null,
      lockedUntil: 0
    }))
    this.log(`edge ${id} input ${input}${route ? ` (route ${route})` : ''}: ${preview(body)}${describe(properties, {})}`)
    this.flushC2D(id)
  }

  /**
   * Send queued C2D (or module input) messages to the identity, over MQTT or AMQP, where it listens.
   * @param {string} id
   */
  flushC2D (id) {
    this.mqtt.flushC2D(id)
    this.amqp.flushC2D(id)
  }

  /**
   * Take a message off the queue and emit 'feedback' ({deviceId, messageId, statusCode}).
   * @param {string} deviceId
   * @param {C2DMessage} m
   * @param {'Success' | 'Rejected' | 'DeliveryCountExceeded'} statusCode
   */
  settleC2D (deviceId, m, statusCode) {
    const queue = this.c2dQueue(deviceId)
    const i = queue.indexOf(m)
    if (i < 0) return
    queue.splice(i, 1)
    this.log(`c2d ${deviceId} ${m.messageId} ${statusCode}`)
    this.emit('feedback', { deviceId, messageId: m.messageId, statusCode })
  }

  /**
   * Merge a patch into the desired properties, bump their $version and push the patch to the
   * device on $iothub/twin/PATCH/properties/desired/?$version={n} if it is subscribed.
   * @param {string} id device id or `deviceId/moduleId`
   * @param {Record<string, unknown>} patch
   * @returns {number} the new desired $version
   */
  updateDesired (id, patch) {
    const version = this.registry.patchTwin(id, 'desired', patch)
    this.log(`desired ${id} ${JSON.stringify(patch)} $version=${version}`)
    this.mqtt.pushDesired(id, patch, version)
    this.amqp.pushDesired(id, patch, version)
    return version
  }

  /**
   * @param {string} id device id or `deviceId/moduleId`
   * @returns {import('./registry.js').Twin} a copy: {desired: {..., $version}, reported: {..., $version}}
   */
  getTwin (id) {
    return this.registry.twin(id)
  }

  /**
   * Invoke a direct method. Resolves (never rejects) with the device's {status, payload}, or
   * status 404 when the device is not connected and subscribed, 504 when it does not answer in time.
   * @param {string} id device id or `deviceId/moduleId`
   * @param {string} name
   * @param {unknown} [payload]
   * @param {number} [timeoutMs]
   */
  invokeMethod (id, name, payload = null, timeoutMs = 30000) {
    if (this.amqp.hasMethods(id)) return this.amqp.invokeMethod(id, name, payload, timeoutMs)
    return this.mqtt.invokeMethod(id, name, payload, timeoutMs)
  }

  /** Is the device (or `deviceId/moduleId`) connected over MQTT, or authorized on an AMQP connection? @param {string} id */
  connected (id) {
    return this.mqtt.connected(id) || this.amqp.connected(id)
  }

  /** Plug and Play conventions seen for the identity (tools/hub/pnp.js): model id, components, acks, violations. @param {string} id */
  pnp (id) {
    return this.mqtt.pnp(id)
  }

  /**
   * The bytes of a blob in the file upload container (`{deviceId}/{name}`), or null when there is none.
   * @param {string} blobName
   */
  async readBlob (blobName) {
    return this.storage ? this.storage.readBlob(blobName) : null
  }

  /** Stop listening and drop every connection. */
  async close () {
    await Promise.all(this.closers.splice(0).map(close => close()))
  }
}

/**
 * Start the emulator. Ports given as 0 are ephemeral; see `hub.ports` for the real ones.
 * @param {HubOptions} [options]
 */
export async function startHub (options = {}) {
  const opts = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) }
  opts.dir = resolve(opts.dir)
  mkdirSync(opts.dir, { recursive: true })
  const certs = ensureCerts(opts.dir, [opts.host, 'localhost', '127.0.0.1', opts.hubName])
  const registry = new Registry(join(opts.dir, 'registry.json'), opts)
  const hub = new Hub(opts, registry, certs)
  hub.mqtt = await createHubBroker(hub)
  hub.dps = await createDpsBroker(hub)
  hub.amqp = createAmqpServer(hub)
  hub.closers.push(() => hub.mqtt.close(), () => hub.dps.close(), async () => hub.amqp.close())
  const tlsOptions = { key: certs.key, cert: certs.cert, requestCert: true, rejectUnauthorized: false }
  /** @type {[keyof Ports, number | null, () => net.Server][]} */
  const servers = [
    ['mqtts', opts.mqttsPort, () => tls.createServer(tlsOptions, hub.mqtt.broker.handle)],
    ['plain', opts.plainPort, () => net.createServer(hub.mqtt.broker.handle)],
    ['https', opts.httpsPort, () => createHttpsServer(hub, tlsOptions)],
    ['amqps', opts.amqpsPort, () => tls.createServer(tlsOptions, socket => hub.amqp.accept(socket))],
    ['dps', opts.dpsPort, () => createDpsServer(hub, tlsOptions)], // MQTT/TLS and MQTT/WebSockets/TLS
    ['admin', opts.adminPort, () => createAdminServer(hub)]
  ]
  // Azurite takes seconds to start: it starts while the servers open
  const storage = opts.storage
    ? startStorage({ dir: opts.dir, certs, container: opts.fileUploadContainer, bind: opts.bind, log: line => hub.log(line) })
    : null
  try {
    for (const [name, port, create] of servers) {
      if (port === null || port === undefined) continue
      hub.ports[name] = await listen(hub, create(), port, opts.bind)
    }
    if (storage) {
      const s = hub.storage = await storage
      hub.closers.push(() => s.close())
      hub.ports.storage = s.port
    }
  } catch (err) {
    await hub.close()
    if (storage && !hub.storage) await storage.then(s => s.close(), () => {})
    throw err
  }
  return hub
}

/**
 * Listen on bind:port; register a closer that also drops open connections.
 * @param {Hub} hub
 * @param {net.Server} server
 * @param {number} port
 * @param {string} bind
 * @returns {Promise<number>} the port
 */
async function listen (hub, server, port, bind) {
  /** @type {Set<net.Socket>} */
  const sockets = new Set()
  server.on('connection', socket => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, bind, () => resolve(undefined))
  })
  hub.closers.push(() => new Promise(resolve => {
    server.close(() => resolve(undefined))
    for (const socket of sockets) socket.destroy()
  }))
  return /** @type {net.AddressInfo} */ (server.address()).port
}

/**
 * A body for the log: its text when it is printable UTF-8 (shortened), else its size.
 * @param {Buffer} body
 */
export function preview (body) {
  const text = body.toString('utf8')
  // eslint-disable-next-line no-control-regex
  if (!Buffer.from(text, 'utf8').equals(body) || /[\x00-\x08\x0e-\x1f\x7f]/.test(text)) return `<${body.length} bytes>`
  const line = text.replace(/\s+/g, ' ')
  return line.length > 200 ? line.slice(0, 200) + `... (${body.length} bytes)` : line
}

/** @param {Bag} properties @param {Bag} system */
function describe (properties, system) {
  const list = (/** @type {Bag} */ bag) => Object.entries(bag).map(([k, v]) => v === null ? k : `${k}=${v}`).join(' ')
  return (Object.keys(properties).length ? ` props: ${list(properties)}` : '') +
    (Object.keys(system).length ? ` system: ${list(system)}` : '')
}
