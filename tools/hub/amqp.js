// The IoT Hub AMQP 1.0 front end, with rhea as the server: claims-based security ($cbs put-token,
// or SASL PLAIN), telemetry, cloud-to-device messages, the twin and direct methods, for devices and
// modules, on AMQPS and on AMQP over WebSockets. The link addresses and annotations are the ones the
// official SDKs use (see README.md, "AMQP").
import { randomUUID } from 'node:crypto'
import rhea from 'rhea'
import { MAX_D2C, checkCredentials, parseJson, refusal } from './broker.js'
import { checkSas, parseSas } from './sas.js'

/** A C2D message delivered this often without being accepted is dead-lettered (as over HTTPS). */
const MAX_DELIVERY_COUNT = 10
const UNAUTHORIZED = 'amqp:unauthorized-access'
// `/devices/{d}[/modules/{m}]/{what}`, optionally after `amqps://{host}` (the C SDK writes the full URI)
const ADDRESS = /^(?:amqps?:\/\/[^/]+)?\/devices\/([^/]+)(?:\/modules\/([^/]+))?\/(messages\/events|messages\/devicebound|twin|methods\/devicebound)\/?$/i
const TOKEN_TYPES = ['servicebus.windows.net:sastoken', 'azure-devices.net:sastoken']

/**
 * @typedef {import('./index.js').Hub} Hub
 * @typedef {import('./index.js').C2DMessage} C2DMessage
 * @typedef {import('rhea').Connection} Connection
 * @typedef {import('rhea').Sender} Sender
 * @typedef {import('rhea').Receiver} Receiver
 * @typedef {import('rhea').Message} Message
 * @typedef {{ se: number, timer: NodeJS.Timeout }} Grant
 * @typedef {{ serial: number, connection: Connection | null, socket: unknown, grants: Map<string, Grant>, links: Set<Link>, closed: boolean }} State
 * @typedef {{ state: State, link: Sender | Receiver, address: string, id: string, deviceId: string, moduleId?: string,
 *   kind: 'events' | 'c2d' | 'inputs' | 'twin' | 'methods', sender: boolean, desired: boolean }} Link
 */

/**
 * @param {Hub} hub
 */
export function createAmqpServer (hub) {
  const { registry } = hub
  /** @type {Set<State>} live connections */
  const states = new Set()
  /** @type {Map<string, { id: string, finish: (r: import('./broker.js').MethodResult) => void }>} */
  const methods = new Map()
  /** @type {WeakMap<object, { m: C2DMessage, link: Link }>} C2D deliveries in flight */
  const inFlight = new WeakMap()
  let serial = 0

  /**
   * A new connection: its own container, so SASL PLAIN can grant to this connection.
   * @param {(container: any) => Connection} accept
   * @param {unknown} socket the TLS socket, for X.509 devices' client certificates
   */
  function open (accept, socket) {
    /** @type {State} */
    const state = { serial: ++serial, connection: null, socket, grants: new Map(), links: new Set(), closed: false }
    states.add(state)
    const container = rhea.create_container({ id: 'tinyhub-emu', autoaccept: false })
    container.sasl_server_mechanisms.enable_anonymous()
    // SASL PLAIN: user `{deviceId}[/{moduleId}]@sas.{hub}` (the part before @ is informative), password a SAS token
    container.sasl_server_mechanisms.enable_plain((/** @type {string} */ user, /** @type {string} */ password) => {
      const result = grant(state, password, parseSas(password)?.sr)
      if (result.status !== 200) hub.log(`amqp refused SASL PLAIN ${user}: ${result.description}`)
      return result.status === 200
    })
    container.on('sender_open', (/** @type {any} */ c) => attach(state, c.sender, true))
    container.on('receiver_open', (/** @type {any} */ c) => attach(state, c.receiver, false))
    container.on('sender_close', (/** @type {any} */ c) => detach(state, c.sender))
    container.on('receiver_close', (/** @type {any} */ c) => detach(state, c.receiver))
    container.on('message', (/** @type {any} */ c) => message(state, c.receiver, c.delivery, c.message))
    container.on('sendable', (/** @type {any} */ c) => { const l = linkOf(state, c.sender); if (l?.kind === 'c2d' || l?.kind === 'inputs') flushC2D(l.id) })
    container.on('accepted', (/** @type {any} */ c) => settled(c.delivery, 'accepted'))
    container.on('rejected', (/** @type {any} */ c) => settled(c.delivery, 'rejected'))
    container.on('released', (/** @type {any} */ c) => settled(c.delivery, 'released'))
    container.on('modified', (/** @type {any} */ c) => settled(c.delivery, 'modified'))
    container.on('connection_close', () => end(state))
    container.on('disconnected', () => end(state))
    container.on('error', (/** @type {any} */ e) => hub.log(`amqp error: ${e?.error?.message || e?.message || e}`))
    state.connection = accept(container)
    // rhea clears its heartbeat timers on the socket's 'end' or 'error' only: a socket that closes without either kept a
    // 4-minute idle timer (and the test process) alive
    const raw = /** @type {import('node:net').Socket} */ (socket)
    raw.once('close', () => {
      const c = /** @type {any} */ (state.connection)
      if (c && (c.heartbeat_in || c.heartbeat_out)) c._disconnected()
    })
  }

  /** @param {State} state */
  function end (state) {
    if (state.closed) return
    state.closed = true
    states.delete(state)
    for (const g of state.grants.values()) clearTimeout(g.timer)
    for (const l of [...state.links]) drop(l)
    const ids = [...state.grants.keys()].map(identityOf).filter(Boolean)
    for (const id of ids) if (!connected(/** @type {string} */ (id))) hub.emit('disconnect', info(/** @type {string} */ (id)))
    if (ids.length) hub.log(`amqp disconnected ${ids.join(' ')}`)
  }

  /**
   * CBS put-token (or SASL PLAIN): check the token and let the connection use the identities its `sr` covers until
   * its `se`. A new token for the same `sr` replaces the old one; the links stay.
   * @param {State} state
   * @param {unknown} token
   * @param {unknown} audience
   * @returns {{ status: number, description: string }}
   */
  function grant (state, token, audience) {
    const fields = parseSas(typeof token === 'string' ? token : undefined)
    if (!fields) return { status: 401, description: 'not a SharedAccessSignature' }
    let sr
    try {
      sr = decodeURIComponent(fields.sr)
    } catch {
      return { status: 401, description: 'malformed sr' }
    }
    // the audience (`name`) is the token's sr, URL-encoded as in the token (the Node SDK) or decoded
    if (typeof audience !== 'string' || (normalize(audience) !== normalize(sr) && normalize(audience) !== normalize(fields.sr))) {
      return { status: 401, description: `audience ${audience} is not the token's sr ${sr}` }
    }
    const id = identityOf(normalize(sr))
    let why
    if (id) {
      why = refusal(registry, id, /** @type {string} */ (token), null)
    } else why = checkHubToken(/** @type {string} */ (token), fields, sr)
    if (why) return { status: 401, description: why }
    const key = normalize(sr)
    const se = Number(fields.se)
    const old = state.grants.get(key)
    if (old) clearTimeout(old.timer)
    const timer = setTimeout(() => expire(state, key, se), Math.min(se * 1000 - Date.now(), 2 ** 31 - 1))
    timer.unref()
    state.grants.set(key, { se, timer })
    if (id && !old) {
      hub.log(`amqp connected ${id}`)
      hub.emit('connect', info(id))
    } else hub.log(`amqp token ${old ? 'renewed' : 'accepted'} for ${sr}`)
    return { status: 200, description: 'OK' }
  }

  /**
   * A token for a hub-level resource (`{hub}` or `{hub}/devices`): only a shared access policy's with DeviceConnect.
   * @param {string} token @param {Record<string, string>} fields @param {string} sr
   */
  function checkHubToken (token, fields, sr) {
    if (!/^[^/]+(\/devices)?$/.test(sr) || ![registry.hubName, registry.host].some(h => h.toLowerCase() === sr.split('/')[0].toLowerCase())) return `sr ${sr} is not a device of this hub`
    if (fields.skn === undefined) return 'a token for the hub needs a shared access policy (skn)'
    const policy = registry.policy(decodeURIComponent(fields.skn))
    if (!policy) return `no shared access policy ${fields.skn}`
    if (!policy.rights.includes('DeviceConnect')) return `policy ${fields.skn} has no DeviceConnect`
    return checkSas(token, [sr], [policy.primaryKey, policy.secondaryKey])
  }

  /** A token's time is up: the links it authorized are detached with amqp:unauthorized-access. @param {State} state @param {string} key @param {number} se */
  function expire (state, key, se) {
    if (state.grants.get(key)?.se !== se) return
    state.grants.delete(key)
    for (const l of [...state.links]) {
      if (authorized(state, l.id)) continue
      hub.log(`amqp ${l.address}: SAS token expired`)
      close(l.link, UNAUTHORIZED, 'SAS token expired')
      drop(l)
    }
  }

  /**
   * Does a live token of the connection cover the identity? An X.509 identity needs no token: the TLS client
   * certificate with its registered thumbprint (as the SDK does, no CBS at all).
   * @param {State} state @param {string} id
   */
  function authorized (state, id) {
    const ident = registry.get(id)
    if (ident?.auth === 'x509' && !checkCredentials(registry, id, ident, undefined, state.socket)) return true
    const now = Date.now()
    return registry.sasResources(id).map(normalize).some(r =>
      [...state.grants].some(([g, { se }]) => se * 1000 > now && (r === g || r.startsWith(g + '/'))))
  }

  /**
   * The peer attached a link: we are its sender (the device receives) or its receiver (the device sends).
   * @param {State} state @param {any} link @param {boolean} sender
   */
  function attach (state, link, sender) {
    const remote = sender ? link.remote.attach.source : link.remote.attach.target
    const address = String(remote?.address ?? '')
    if (sender) link.set_source({ address })
    else link.set_target({ address })
    if (address === '$cbs') return
    const m = ADDRESS.exec(address)
    if (!m) return refuse(link, 'amqp:not-found', `no node ${address}`)
    const [deviceId, moduleId] = [m[1], m[2]].map(p => p && decodeURIComponent(p))
    const id = moduleId ? `${deviceId}/${moduleId}` : deviceId
    const what = m[3].toLowerCase()
    /** @type {Link['kind'] | undefined} */
    const kind = what === 'messages/events' ? (sender ? (moduleId ? 'inputs' : undefined) : 'events')
      : what === 'messages/devicebound' ? (sender && !moduleId ? 'c2d' : undefined)
        : what === 'twin' ? 'twin' : 'methods'
    if (!kind) return refuse(link, 'amqp:not-allowed', `cannot ${sender ? 'receive from' : 'send to'} ${address}`)
    const ident = registry.get(id)
    if (!ident || ident.status === 'disabled') return refuse(link, UNAUTHORIZED, `${id}: ${ident ? 'device disabled' : 'no such device'}`)
    if (!authorized(state, id)) return refuse(link, UNAUTHORIZED, `no valid token for ${id} on this connection (put-token first)`)
    /** @type {Link} */
    const l = { state, link, address, id, deviceId, moduleId, kind, sender, desired: false }
    state.links.add(l)
    link.tinyhub = l
    hub.log(`amqp attach ${id} ${kind} (${sender ? 'device receives' : 'device sends'})`)
    if (kind === 'c2d' || kind === 'inputs') flushC2D(id)
  }

  /** @param {any} link @param {string} condition @param {string} description */
  function refuse (link, condition, description) {
    hub.log(`amqp refused link ${link.name}: ${description}`)
    close(link, condition, description)
  }

  /** @param {any} link @param {string} condition @param {string} description */
  function close (link, condition, description) {
    if (!link.is_closed()) link.close({ condition, description })
  }

  /** @param {State} state @param {any} link @returns {Link | undefined} */
  function linkOf (state, link) {
    const l = link?.tinyhub
    return l && l.state === state && state.links.has(l) ? l : undefined
  }

  /** @param {State} state @param {any} link */
  function detach (state, link) {
    const l = linkOf(state, link)
    if (l) drop(l)
  }

  /** Forget a link; its C2D messages in flight go back to the queue. @param {Link} l */
  function drop (l) {
    if (!l.state.links.delete(l)) return
    if (l.kind !== 'c2d' && l.kind !== 'inputs') return
    for (const m of hub.c2dQueue(l.id)) {
      if (m.lockToken !== lockOf(l)) continue
      m.lockToken = null
      m.lockedUntil = 0
    }
    hub.flushC2D(l.id)
  }

  /** @param {Link} l */
  const lockOf = l => `amqp:${l.state.serial}:${l.link.name}`

  /**
   * A message from the device: a CBS request, telemetry, a twin request or a method response.
   * @param {State} state @param {any} link @param {any} delivery @param {Message} msg
   */
  function message (state, link, delivery, msg) {
    const address = link.remote.attach.target?.address
    if (address === '$cbs') return cbs(state, link, delivery, msg)
    const l = linkOf(state, link)
    if (!l) return delivery.reject({ condition: UNAUTHORIZED, description: 'link not authorized' })
    if (!authorized(state, l.id)) return delivery.reject({ condition: UNAUTHORIZED, description: 'SAS token expired' })
    if (l.kind === 'events') return telemetry(l, delivery, msg)
    delivery.accept()
    if (l.kind === 'twin') return twin(l, msg)
    if (l.kind === 'methods') return methodResponse(l, msg)
  }

  /** @param {State} state @param {any} link @param {any} delivery @param {Message} msg */
  function cbs (state, link, delivery, msg) {
    delivery.accept()
    const p = msg.application_properties || {}
    let result
    if (p.operation !== 'put-token') result = { status: 400, description: `unknown operation ${p.operation}` }
    else if (!TOKEN_TYPES.includes(p.type)) result = { status: 400, description: `token type ${p.type} is not ${TOKEN_TYPES[0]}` }
    else result = grant(state, bodyOf(msg).toString(), p.name)
    if (result.status !== 200) hub.log(`amqp put-token ${p.name} refused: ${result.description}`)
    senderFor(link.connection, '$cbs')?.send({
      correlation_id: msg.message_id,
      to: msg.reply_to,
      application_properties: { 'status-code': rhea.types.wrap_int(result.status), 'status-description': result.description }
    })
  }

  /**
   * The connection's sender whose (mirrored) source is `address`, optionally with this channel correlation id.
   * @param {any} connection @param {string} address @param {unknown} [channel]
   */
  function senderFor (connection, address, channel) {
    return connection.find_sender((/** @type {any} */ s) => s.is_open() && s.remote.attach?.source?.address === address &&
      (channel === undefined || s.remote.attach.properties?.['com.microsoft:channel-correlation-id'] === channel))
  }

  /** @param {Link} l @param {any} delivery @param {Message} msg */
  function telemetry (l, delivery, msg) {
    const body = bodyOf(msg)
    const { properties, system } = propertiesOf(msg)
    const size = body.length + Object.entries(properties).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v ?? ''), 0)
    if (size > MAX_D2C) {
      hub.log(`amqp ${l.id}: message over 256 KB rejected`)
      return delivery.reject({ condition: 'amqp:link:message-size-exceeded', description: 'message over 256 KB' })
    }
    delivery.accept()
    if (l.moduleId && !hub.routeModuleMessage(l.deviceId, l.moduleId, { body, properties, system })) return
    hub.recordTelemetry({ deviceId: l.deviceId, moduleId: l.moduleId, protocol: 'amqp', topic: l.address, body, properties, system, at: new Date() })
  }

  /**
   * Twin requests: `operation` GET, PATCH (resource /properties/reported), PUT and DELETE (resource
   * /notifications/twin/properties/desired) in the message annotations; the answer on the twin sender of the same
   * channel, `status` (and `version`) in its annotations, the request's correlation id.
   * @param {Link} l @param {Message} msg
   */
  function twin (l, msg) {
    const a = msg.message_annotations || {}
    const channel = l.link.remote.attach.properties?.['com.microsoft:channel-correlation-id']
    const out = senderFor(l.link.connection, l.address, channel) ?? senderFor(l.link.connection, l.address)
    const answer = (/** @type {number} */ status, /** @type {string} */ body = '', extra = {}) => out?.send({
      correlation_id: msg.correlation_id,
      message_annotations: { status: rhea.types.wrap_int(status), ...extra }, // int and long: the C SDK checks the types
      body: rhea.message.data_section(Buffer.from(body))
    })
    const desiredLinks = () => [...l.state.links].filter(x => x.kind === 'twin' && x.sender && x.id === l.id && x.link === out)
    if (hub.options.twinThrottle > 0) {
      hub.options.twinThrottle--
      return answer(429, JSON.stringify({ errorCode: 429001, message: 'throttled (twinThrottle)' }))
    }
    const op = `${a.operation} ${a.resource ?? ''}`.trim()
    try {
      if (op === 'GET') return answer(200, JSON.stringify(registry.twin(l.id)))
      if (op === 'PATCH /properties/reported') {
        const patch = JSON.parse(bodyOf(msg).toString())
        const version = registry.patchTwin(l.id, 'reported', patch)
        hub.log(`reported ${l.id} ${JSON.stringify(patch)} $version=${version}`)
        answer(204, '', { version: rhea.types.wrap_long(version) })
        hub.emit('reported', { ...info(l.id), patch, version })
        return
      }
      if (op === 'PUT /notifications/twin/properties/desired' || op === 'DELETE /notifications/twin/properties/desired') {
        for (const x of desiredLinks()) x.desired = a.operation === 'PUT'
        hub.log(`amqp ${l.id} desired notifications ${a.operation === 'PUT' ? 'on' : 'off'}`)
        return answer(200)
      }
      answer(400, JSON.stringify({ message: `unknown twin operation ${op}` }))
    } catch (err) {
      const e = /** @type {Error & { status?: number }} */ (err)
      answer(e.status || 400, JSON.stringify({ message: e.message }))
    }
  }

  /** @param {Link} l @param {Message} msg */
  function methodResponse (l, msg) {
    const rid = idString(msg.correlation_id)
    const status = Number(msg.application_properties?.['IoThub-status'])
    const pending = methods.get(rid)
    if (pending && pending.id === l.id && Number.isInteger(status)) pending.finish({ status, payload: parseJson(bodyOf(msg)) })
    else hub.log(`${l.id} answered method request ${rid}${Number.isInteger(status) ? '' : ' without IoThub-status'}, which is not pending`)
  }

  /**
   * Send the identity's queued C2D (or a module's input) messages on its AMQP receiver links while they have credit.
   * @param {string} id
   */
  function flushC2D (id) {
    const links = [...states].flatMap(s => [...s.links]).filter(l => l.id === id && (l.kind === 'c2d' || l.kind === 'inputs'))
    if (!links.length) return
    for (const m of hub.c2dQueue(id).slice()) {
      if (m.lockedUntil > Date.now()) continue
      if (m.deliveryCount >= MAX_DELIVERY_COUNT) {
        hub.settleC2D(id, m, 'DeliveryCountExceeded')
        continue
      }
      const l = links.find(l => /** @type {Sender} */ (l.link).sendable())
      if (!l) return
      const input = l.kind === 'inputs' ? /\/inputs\/([^/]+)\//.exec(m.topic)?.[1] : undefined
      const delivery = /** @type {Sender} */ (l.link).send(c2dMessage(m, input))
      m.lockToken = lockOf(l)
      m.lockedUntil = Number.MAX_SAFE_INTEGER // until the device settles it or the link goes
      m.deliveryCount++
      inFlight.set(delivery, { m, link: l })
    }
  }

  /**
   * A C2D message as the service sends it: system properties in the AMQP properties, application ones in
   * application-properties, the delivery count in the header, the sequence number and enqueued time annotated.
   * @param {C2DMessage} m @param {string} [input] a module's input name (x-opt-input-name)
   */
  function c2dMessage (m, input) {
    const s = m.system
    /** @type {Record<string, unknown>} */
    const annotations = { 'x-opt-sequence-number': rhea.types.wrap_long(m.sequenceNumber), 'x-opt-enqueued-time': m.enqueuedAt }
    if (input) annotations['x-opt-input-name'] = input
    /** @type {Record<string, unknown>} */
    const out = {
      message_id: s.messageId,
      to: s.to ?? undefined,
      correlation_id: s.correlationId ?? undefined,
      user_id: s.userId ? Buffer.from(s.userId) : undefined,
      content_type: s.contentType ?? undefined,
      content_encoding: s.contentEncoding ?? undefined,
      absolute_expiry_time: s.expiryTimeUtc ? new Date(s.expiryTimeUtc) : undefined,
      delivery_count: m.deliveryCount,
      message_annotations: annotations,
      application_properties: m.properties,
      body: rhea.message.data_section(m.body)
    }
    return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined))
  }

  /**
   * The device settled a C2D delivery: accepted completes, rejected dead-letters, released and modified abandon
   * (the message is sent again; its delivery count grows).
   * @param {any} delivery @param {'accepted' | 'rejected' | 'released' | 'modified'} outcome
   */
  function settled (delivery, outcome) {
    const f = inFlight.get(delivery)
    if (!f) return
    inFlight.delete(delivery)
    const { m, link: l } = f
    if (m.lockToken !== lockOf(l)) return
    if (outcome === 'accepted' || outcome === 'rejected') return hub.settleC2D(l.id, m, outcome === 'accepted' ? 'Success' : 'Rejected')
    m.lockToken = null
    m.lockedUntil = 0
    hub.log(`c2d ${l.id} ${m.messageId} abandoned (${outcome})`)
    setImmediate(() => hub.flushC2D(l.id))
  }

  /** @param {string} id */
  function connected (id) {
    const own = registry.sasResources(id).map(normalize)
    return [...states].some(s => own.some(r => s.grants.has(r)) || [...s.links].some(l => l.id === id))
  }

  return {
    flushC2D,
    connected,

    /** Accept a TLS (or plain) socket. @param {import('node:net').Socket} socket */
    accept (socket) {
      open(container => container.create_connection({ idle_time_out: 120000 }).accept(socket), socket)
    },

    /**
     * Accept a WebSocket (subprotocol AMQPWSB10).
     * @param {import('ws').WebSocket} ws @param {import('node:http').IncomingMessage} req
     */
    acceptWebSocket (ws, req) {
      open(container => container.websocket_accept(ws, { idle_time_out: 120000 }), req.socket)
    },

    /** Has the identity an AMQP method link? @param {string} id */
    hasMethods (id) {
      return [...states].some(s => [...s.links].some(l => l.id === id && l.kind === 'methods' && l.sender))
    },

    /**
     * Push a desired-properties patch to the identity's twin links that asked for it (PUT /notifications/...).
     * @param {string} id @param {Record<string, unknown>} patch @param {number} version
     */
    pushDesired (id, patch, version) {
      for (const s of states) {
        for (const l of s.links) {
          if (l.id !== id || l.kind !== 'twin' || !l.sender || !l.desired) continue
          const sender = /** @type {Sender} */ (l.link)
          sender.send({
            message_annotations: { version: rhea.types.wrap_long(version) },
            body: rhea.message.data_section(Buffer.from(JSON.stringify({ ...patch, $version: version })))
          })
        }
      }
    },

    /**
     * Call a direct method over the identity's method link: application property `IoThub-methodname`, a
     * correlation id, the JSON payload as the body; the answer carries `IoThub-status`.
     * @param {string} id @param {string} name @param {unknown} payload @param {number} timeoutMs
     * @returns {Promise<import('./broker.js').MethodResult>}
     */
    invokeMethod (id, name, payload, timeoutMs) {
      return new Promise(resolve => {
        const rid = randomUUID()
        /** @type {NodeJS.Timeout | undefined} */
        let timer
        const finish = (/** @type {import('./broker.js').MethodResult} */ result) => {
          clearTimeout(timer)
          methods.delete(rid)
          hub.log(`method ${id} ${name} -> ${result.status} ${JSON.stringify(result.payload)} (amqp)`)
          resolve(result)
        }
        const l = [...states].flatMap(s => [...s.links]).find(l => l.id === id && l.kind === 'methods' && l.sender)
        if (!l) return finish({ status: 404, payload: { errorCode: 404103, message: `${id} is not online or has no method link` } })
        timer = setTimeout(() => finish({ status: 504, payload: { errorCode: 504101, message: `${id} did not answer ${name} in ${timeoutMs} ms` } }), timeoutMs)
        methods.set(rid, { id, finish })
        const sender = /** @type {Sender} */ (l.link)
        sender.send({
          correlation_id: rhea.string_to_uuid(rid),
          application_properties: { 'IoThub-methodname': name },
          body: rhea.message.data_section(Buffer.from(JSON.stringify(payload ?? null)))
        })
      })
    },

    /** Close every connection; pending method calls answer 503. */
    close () {
      for (const m of [...methods.values()]) m.finish({ status: 503, payload: { message: 'hub closed' } })
      for (const s of [...states]) {
        try { s.connection?.close() } catch {}
        end(s)
      }
    }
  }
}

/** `host/devices/{d}/modules/{m}` with the host in lower case. @param {string} resource */
function normalize (resource) {
  const i = resource.indexOf('/')
  return i < 0 ? resource.toLowerCase() : resource.slice(0, i).toLowerCase() + resource.slice(i)
}

/** The identity a resource names (`d` or `d/m`), or null for a hub-level one. @param {string} resource */
function identityOf (resource) {
  const m = /^[^/]+\/devices\/([^/]+)(?:\/modules\/([^/]+))?$/.exec(resource)
  return m ? (m[2] ? `${m[1]}/${m[2]}` : m[1]) : null
}

/** @param {string} id */
function info (id) {
  const [deviceId, moduleId] = id.split('/')
  return { id, deviceId, moduleId }
}

/**
 * The body's bytes: data sections, an amqp-value string or binary (a JSON text for other values).
 * @param {Message} msg
 * @returns {Buffer}
 */
export function bodyOf (msg) {
  const b = /** @type {any} */ (msg.body)
  if (b === undefined || b === null) return Buffer.alloc(0)
  if (b.typecode === 0x75) return Array.isArray(b.content) && b.multiple ? Buffer.concat(b.content) : Buffer.from(b.content)
  if (Buffer.isBuffer(b)) return b
  if (typeof b === 'string') return Buffer.from(b)
  return Buffer.from(JSON.stringify(b))
}

/** A message or correlation id as text: UUIDs (16 bytes) in their usual form. @param {unknown} v */
function idString (v) {
  if (Buffer.isBuffer(v) && v.length === 16) return rhea.uuid_to_string(v)
  if (Buffer.isBuffer(v)) return v.toString()
  return v === undefined || v === null ? '' : String(v)
}

/**
 * Telemetry properties in the emulator's shape: application properties as text, system ones under their readable
 * names (`messageId`, `correlationId`, `userId`, `to`, `contentType`, `contentEncoding`, `expiryTimeUtc`,
 * `creationTimeUtc`, `outputName` from `iothub-outputname`, `interfaceId` and `componentName` from annotations).
 * @param {Message} msg
 */
export function propertiesOf (msg) {
  /** @type {import('./properties.js').Bag} */
  const properties = {}
  /** @type {import('./properties.js').Bag} */
  const system = {}
  for (const [k, v] of Object.entries(msg.application_properties || {})) {
    const text = v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : Buffer.isBuffer(v) ? v.toString() : String(v)
    if (k === 'iothub-outputname') system.outputName = text
    else properties[k] = text
  }
  /** @type {[string, unknown][]} */
  const fields = [
    ['messageId', msg.message_id], ['correlationId', msg.correlation_id], ['userId', msg.user_id], ['to', msg.to],
    ['contentType', msg.content_type], ['contentEncoding', msg.content_encoding],
    ['expiryTimeUtc', msg.absolute_expiry_time], ['creationTimeUtc', msg.creation_time],
    ['interfaceId', msg.message_annotations?.['iothub-interface-id']], ['componentName', msg.message_annotations?.['dt-subject']]
  ]
  for (const [name, v] of fields) {
    if (v === undefined || v === null || v === '') continue
    system[name] = v instanceof Date ? v.toISOString() : idString(v)
  }
  return { properties, system }
}
