// The admin API: plain HTTP and JSON on 127.0.0.1, the service side of the emulator, for
// curl and for tests. The routes are listed in README.md.
import http from 'node:http'
import { HubError } from './registry.js'
import { readBody, reply } from './https.js'
import { refusedProperty } from './properties.js'

/**
 * @typedef {import('./index.js').Hub} Hub
 * @typedef {import('node:http').IncomingMessage} Request
 */

/** @param {Hub} hub */
export function createAdminServer (hub) {
  return http.createServer((req, res) => {
    route(hub, req).then(
      ([status, body]) => reply(res, status, body),
      err => reply(res, err.status || 500, { message: err.message }))
  })
}

/**
 * @param {Hub} hub
 * @param {Request} req
 * @returns {Promise<[number, unknown?]>} status and JSON body
 */
async function route (hub, req) {
  const url = new URL(req.url || '/', 'http://localhost')
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const body = await readJson(req)
  const method = req.method
  if (parts[0] === 'devices' && parts.length === 1 && method === 'GET') {
    return [200, hub.registry.ids().map(id => describe(hub, id))]
  }
  if (parts[0] === 'telemetry' && parts.length === 1) {
    const device = url.searchParams.get('device')
    if (method === 'DELETE') return [204, void hub.telemetry.splice(0)]
    if (method === 'GET') {
      return [200, hub.telemetry
        .filter(m => !device || m.deviceId === device || `${m.deviceId}/${m.moduleId}` === device)
        .map(m => ({ ...m, body: m.body.toString('utf8') }))]
    }
  }
  if (parts[0] === 'files' && method === 'GET') {
    const device = url.searchParams.get('device')
    if (parts.length === 1) return [200, hub.fileUploads.filter(u => !device || u.deviceId === device)]
    const blob = await hub.readBlob(parts.slice(1).join('/'))
    if (!blob) throw new HubError(404, `no blob ${parts.slice(1).join('/')}${hub.storage ? '' : ' (no storage: start the hub with storage)'}`)
    return [200, { blobName: parts.slice(1).join('/'), size: blob.length, base64: blob.toString('base64') }]
  }
  if (parts[0] === 'enrollments' && parts.length === 2 && method === 'POST') {
    const enrollment = hub.registry.addEnrollment(parts[1], body.key, body)
    return [200, { ...enrollment, idScope: hub.dpsIdScope, dpsPort: hub.ports.dps }]
  }
  if (parts[0] === 'enrollmentGroups' && parts.length === 2 && method === 'POST') {
    const group = hub.registry.addGroupEnrollment(parts[1], body.key)
    return [200, { ...group, idScope: hub.dpsIdScope, dpsPort: hub.ports.dps }]
  }
  if (parts[0] === 'policies' && parts.length === 1 && method === 'GET') {
    return [200, Object.entries(hub.registry.data.policies).map(([name, p]) => ({ name, ...p }))]
  }
  if (parts[0] === 'policies' && parts.length === 2 && method === 'POST') {
    const existed = Boolean(hub.registry.policy(parts[1]))
    return [existed ? 200 : 201, hub.registry.addPolicy(parts[1], body.rights, body)]
  }
  if (parts[0] !== 'devices' || parts.length < 2) throw new HubError(404, `no route ${method} ${url.pathname}`)
  // /devices/{id}[/modules/{mid}]/...
  const module = parts[2] === 'modules' && parts.length >= 4
  const id = module ? `${parts[1]}/${parts[3]}` : parts[1]
  const rest = `${method} ${parts.slice(module ? 4 : 2).join('/')}`
  switch (rest) {
    case 'GET ': return [200, describe(hub, id)]
    case 'POST ': {
      const existed = Boolean(hub.registry.get(id))
      if (module) hub.registry.addModule(parts[1], parts[3], body)
      else hub.registry.addDevice(id, body)
      return [existed ? 200 : 201, describe(hub, id)]
    }
    case 'DELETE ': return [204, void hub.registry.remove(id)]
    case 'GET twin': return [200, hub.getTwin(id)]
    case 'GET pnp': return [200, hub.pnp(id)]
    case 'GET routes': return [200, Object.fromEntries((hub.routes.get(id) || []).map(r => [r.name, r]))]
    case 'PUT routes':
      if (module) throw new HubError(400, 'routes belong to the Edge device, not a module')
      hub.setRoutes(id, body.routes ?? body)
      return [200, Object.fromEntries((hub.routes.get(id) || []).map(r => [r.name, r]))]
    case 'PATCH twin/desired':
      hub.updateDesired(id, body)
      return [200, hub.getTwin(id)]
    case 'GET messages':
      return [200, hub.c2dQueue(id).map(m => ({ messageId: m.messageId, body: m.body.toString('utf8'), properties: m.properties, system: m.system, deliveryCount: m.deliveryCount }))]
    case 'POST messages': {
      const refused = refusedProperty(body.properties || {})
      if (refused) throw new HubError(400, `property ${JSON.stringify(refused)}: IoT Hub allows only ASCII letters, digits and !#$%&'*+-.^_\`|~ in cloud-to-device message properties`)
      const m = hub.sendC2D(id, body.body ?? '', body.properties)
      return [201, { messageId: m.messageId, topic: m.topic }]
    }
  }
  if (method === 'POST' && parts[module ? 4 : 2] === 'methods' && parts.length === (module ? 6 : 4)) {
    const timeout = body.timeout ?? (body.responseTimeoutInSeconds ?? 30) * 1000
    const result = await hub.invokeMethod(id, parts[parts.length - 1], body.payload, timeout)
    return [result.status === 404 || result.status === 504 ? result.status : 200, result]
  }
  throw new HubError(404, `no route ${method} ${url.pathname}`)
}

/**
 * @param {Hub} hub
 * @param {string} id
 */
function describe (hub, id) {
  const ident = hub.registry.mustGet(id)
  const [deviceId, moduleId] = id.split('/')
  const { twin, modules, ...identity } = /** @type {import('./registry.js').Device} */ (ident)
  return {
    deviceId,
    moduleId,
    ...identity,
    modules: modules && Object.keys(modules),
    connected: hub.connected(id),
    connectionString: hub.registry.connectionString(id)
  }
}

/**
 * The JSON body ({} when empty).
 * @param {Request} req
 * @returns {Promise<any>}
 */
async function readJson (req) {
  const body = await readBody(req, 1024 * 1024)
  if (!body) throw new HubError(413, 'body over 1 MB')
  if (!body.length) return {}
  try {
    return JSON.parse(body.toString())
  } catch {
    throw new HubError(400, 'body is not JSON')
  }
}
