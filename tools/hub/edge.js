// IoT Edge routing: the emulator as the Edge hub of an Edge device. A deployment gives the Edge hub its routes
// ($edgeHub desired properties, `routes: { name: "FROM ... INTO ..." }`); the emulator takes the same strings:
//
//   FROM /messages/*                                   INTO $upstream
//   FROM /messages/modules/filter/*                    INTO BrokeredEndpoint("/modules/sink/inputs/in1")
//   FROM /messages/modules/filter/outputs/alerts       INTO BrokeredEndpoint("/modules/sink/inputs/alerts")
//
// A module's telemetry (devices/{d}/modules/{m}/messages/events/{bag}, the output name in `$.on`) goes where the
// routes of its device send it: to the hub's own telemetry ($upstream), and/or as an input message to another
// module of the same device (devices/{d}/modules/{m2}/inputs/{input}/{bag}, QoS 1, kept until PUBACK, as the Edge
// hub stores and forwards). A message no route matches is dropped, as the Edge hub drops it. A device without
// routes is not an Edge device: its modules' telemetry goes upstream and they cannot subscribe to inputs.
// Route conditions (WHERE) are not supported: setting one is refused.
import { HubError } from './registry.js'
import { checkCredentials } from './broker.js'

const ROUTE = /^FROM\s+\/messages\/(\*|modules\/([^/\s]+)\/(\*|outputs\/(\*|[^/\s]+)))\s+INTO\s+(\$upstream|BrokeredEndpoint\(\s*"\/modules\/([^/"\s]+)\/inputs\/([^/"\s]+)"\s*\))\s*$/i

/**
 * @typedef {{ name: string, module: string | null, output: string | null, upstream: boolean, toModule?: string, input?: string }} Route
 *   module/output null: any (output null also matches a message without an output name)
 */

/**
 * One route string, parsed.
 * @param {string} name @param {string} text
 * @returns {Route}
 */
export function parseRoute (name, text) {
  const m = ROUTE.exec(String(text).trim())
  if (!m) {
    throw new HubError(400, /\bWHERE\b/i.test(text)
      ? `route ${name}: conditions (WHERE) are not supported by the emulator`
      : `route ${name}: ${JSON.stringify(text)} is not FROM /messages/* | /messages/modules/{m}/* | /messages/modules/{m}/outputs/{o|*} INTO $upstream | BrokeredEndpoint("/modules/{m}/inputs/{i}")`)
  }
  const [, , module, rest, output, into, toModule, input] = m
  return {
    name,
    module: module ?? null,
    output: rest === '*' || output === '*' || output === undefined ? null : output,
    // "/messages/modules/m/outputs/*" matches only messages that have an output name
    ...(output === '*' ? { anyOutput: true } : {}),
    upstream: into.toLowerCase() === '$upstream',
    toModule,
    input
  }
}

/**
 * Whether `r` takes a message of `moduleId` with output name `output` (undefined: none).
 * @param {Route & { anyOutput?: boolean }} r @param {string} moduleId @param {string | undefined | null} output
 */
export function routeMatches (r, moduleId, output) {
  if (r.module !== null && r.module !== moduleId) return false
  if (r.output !== null) return r.output === output
  return !r.anyOutput || !!output
}

// Module-to-module direct methods, the Edge hub's HTTPS API (its TwinsController): a module of an Edge device POSTs
// /twins/{d}/methods or /twins/{d}/modules/{m}/methods with {methodName, payload, responseTimeoutInSeconds,
// connectTimeoutInSeconds}, `x-ms-edge-moduleId: {its device}/{its module}` and its own SAS token. The answer:
// 200 {status, payload} from the target; else an error status with {message}: 400 (bad header or body), 401 (bad
// token, or the caller is not a module of an Edge device), 404 (the target is not connected to this Edge hub or not
// subscribed to methods: a module of the caller's device, or a device), 504 (no answer within responseTimeoutInSeconds,
// default 30). The target is invoked over its live connection, as hub.invokeMethod does.
export const METHOD_ROUTE = /^\/twins\/([^/]+)(?:\/modules\/([^/]+))?\/methods\/?$/

/**
 * @param {import('./index.js').Hub} hub
 * @param {import('node:http').IncomingMessage} req
 * @param {RegExpExecArray} route METHOD_ROUTE's match
 * @param {Buffer | null} body
 * @returns {Promise<{ status: number, body: object }>}
 */
export async function edgeMethod (hub, req, route, body) {
  const fail = (/** @type {number} */ status, /** @type {string} */ message) => {
    hub.log(`edge method refused: ${message}`)
    return { status, body: { message } }
  }
  if (req.method !== 'POST') return fail(405, `${req.method} not allowed here`)
  const [actorDevice, actorModule, ...rest] = String(req.headers['x-ms-edge-moduleid'] || '').split('/')
  if (!actorDevice || !actorModule || rest.length) return fail(400, 'Invalid header value for x-ms-edge-moduleId')
  const actor = `${actorDevice}/${actorModule}`
  const ident = hub.registry.get(actor)
  const why = !ident ? `no module ${actor}` : ident.status === 'disabled' ? `${actor} disabled`
    : !hub.routes.has(actorDevice) ? `${actorDevice} is not an IoT Edge device (no routes)`
      : checkCredentials(hub.registry, actor, ident, req.headers.authorization, req.socket)
  if (why) return fail(401, why)
  let params
  try {
    params = JSON.parse(body?.toString() || '')
  } catch {
    return fail(400, 'the body is not JSON')
  }
  if (!params || typeof params.methodName !== 'string' || !params.methodName) return fail(400, 'methodName missing')
  const [deviceId, moduleId] = [route[1], route[2]].map(p => p && decodeURIComponent(p))
  // the Edge hub reaches the modules of its own device, and the devices connected through it
  if (moduleId && deviceId !== actorDevice) return fail(404, `${deviceId}/${moduleId} is not connected to the Edge hub of ${actorDevice}`)
  const target = moduleId ? `${deviceId}/${moduleId}` : deviceId
  const seconds = params.responseTimeoutInSeconds ?? 30
  hub.log(`edge method ${actor} -> ${target} ${params.methodName}`)
  const r = await hub.invokeMethod(target, params.methodName, params.payload ?? null, seconds * 1000)
  const code = r.payload && typeof r.payload === 'object' ? r.payload.errorCode : undefined
  // the hub's own answers (not connected, no answer in time) are the Edge hub's error statuses
  if ((r.status === 404 && code === 404103) || (r.status === 504 && code === 504101)) return { status: r.status, body: { message: r.payload.message } }
  return { status: 200, body: { status: r.status, payload: r.payload } }
}
