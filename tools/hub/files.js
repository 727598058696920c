// File upload, the device side of the service: POST /devices/{id}/files hands out a blob SAS for the hub's storage
// (tools/hub/storage.js, Azurite), POST /devices/{id}/files/notifications takes the device's report of how the
// upload went. Same authentication as the rest of the HTTPS device API.
import { randomUUID } from 'node:crypto'
import { readBody, refused, reply } from './https.js'
import { encodePath } from './storage.js'

/** The official Node SDK also puts the correlation id in the path: /files/notifications/{correlationId}. */
export const FILES_ROUTE = /^\/devices\/([^/]+)\/files(\/notifications(?:\/([^/]+))?)?$/
/** Uploads a device may have under way (the service's DeviceMaximumActiveFileUploadLimitExceeded, 403006). */
export const MAX_ACTIVE_UPLOADS = 10
/** Longest blob name the service takes (Azure Storage's limit). */
const MAX_BLOB_NAME = 1024

/**
 * @typedef {import('./index.js').Hub} Hub
 * @typedef {{ deviceId: string, correlationId: string, blobName: string, isSuccess: boolean, statusCode: number | null,
 *   statusDescription: string, blobUri: string, blobSizeInBytes: number | null, at: Date }} FileUpload
 */

/**
 * @param {Hub} hub
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {URL} url
 * @param {RegExpExecArray} route FILES_ROUTE's match
 */
export async function filesApi (hub, req, res, url, route) {
  const deviceId = decodeURIComponent(route[1])
  const notify = Boolean(route[2])
  if (refused(hub, req, res, url, deviceId)) return
  if (req.method !== 'POST') return reply(res, 405, { Message: `${req.method} not allowed here` })
  const raw = await readBody(req, 64 * 1024)
  let body
  try {
    body = JSON.parse(raw?.toString() || '')
  } catch {
    return reply(res, 400, { Message: 'ErrorCode:ArgumentInvalid;the body is not JSON' })
  }
  if (!body || typeof body !== 'object') return reply(res, 400, { Message: 'ErrorCode:ArgumentInvalid;the body is not a JSON object' })
  return notify ? notification(hub, res, deviceId, body, route[3] && decodeURIComponent(route[3])) : sasUri(hub, res, deviceId, body)
}

/**
 * POST /devices/{id}/files {blobName}: {correlationId, hostName, containerName, blobName, sasToken}, the blob being
 * `{deviceId}/{blobName}` in the container, the SAS allowing create and write until the hub's fileUploadTtl.
 * @param {Hub} hub @param {import('node:http').ServerResponse} res @param {string} deviceId @param {any} body
 */
function sasUri (hub, res, deviceId, body) {
  const name = body.blobName
  if (typeof name !== 'string' || !name || name.length > MAX_BLOB_NAME) {
    return reply(res, 400, { Message: `ErrorCode:ArgumentInvalid;blobName must be a string of 1 to ${MAX_BLOB_NAME} characters` })
  }
  const storage = hub.storage
  if (!storage) {
    hub.log(`file upload ${deviceId} ${name}: refused, no storage account configured`)
    return reply(res, 400, { Message: 'ErrorCode:InvalidStorageEndpoint;no storage account is configured for file upload' })
  }
  const now = Date.now()
  const active = [...hub.activeUploads.values()].filter(u => u.deviceId === deviceId && u.until > now)
  if (active.length >= MAX_ACTIVE_UPLOADS) {
    return reply(res, 403, { Message: `ErrorCode:DeviceMaximumActiveFileUploadLimitExceeded;${deviceId} already has ${MAX_ACTIVE_UPLOADS} uploads under way` })
  }
  const ttl = hub.options.fileUploadTtl
  const blobName = `${deviceId}/${name}`
  const correlationId = randomUUID()
  hub.activeUploads.set(correlationId, { deviceId, blobName, until: now + ttl * 1000 })
  hub.log(`file upload ${deviceId} ${blobName}: SAS for ${ttl} s, correlation ${correlationId}`)
  reply(res, 200, {
    correlationId,
    hostName: storage.hostName,
    containerName: storage.container,
    blobName,
    sasToken: storage.blobSas(blobName, 'cw', ttl)
  })
}

/**
 * POST /devices/{id}/files/notifications {correlationId, isSuccess, statusCode, statusDescription}: 204, the upload
 * recorded in hub.fileUploads and emitted as 'fileUpload' (with the blob's size when it is there).
 * @param {Hub} hub @param {import('node:http').ServerResponse} res @param {string} deviceId @param {any} body
 * @param {string} [pathId] the correlation id in the path (the official Node SDK's form)
 */
async function notification (hub, res, deviceId, body, pathId) {
  const correlationId = body.correlationId ?? pathId
  const upload = hub.activeUploads.get(correlationId)
  if (typeof correlationId !== 'string' || !upload || upload.deviceId !== deviceId) {
    return reply(res, 400, { Message: `ErrorCode:ArgumentInvalid;no upload under way with correlation id ${JSON.stringify(correlationId)}` })
  }
  if (typeof body.isSuccess !== 'boolean') return reply(res, 400, { Message: 'ErrorCode:ArgumentInvalid;isSuccess must be true or false' })
  hub.activeUploads.delete(correlationId)
  const storage = /** @type {import('./storage.js').Storage} */ (hub.storage)
  let size = null
  if (storage) {
    const head = await storage.request('HEAD', `${storage.container}/${encodePath(upload.blobName)}`).catch(() => null)
    if (head?.status === 200) size = Number(head.headers['content-length'])
  }
  /** @type {FileUpload} */
  const record = {
    deviceId,
    correlationId,
    blobName: upload.blobName,
    isSuccess: body.isSuccess,
    statusCode: typeof body.statusCode === 'number' ? body.statusCode : null,
    statusDescription: String(body.statusDescription ?? ''),
    blobUri: storage ? `https://${storage.hostName}/${storage.container}/${encodePath(upload.blobName)}` : '',
    blobSizeInBytes: size,
    at: new Date()
  }
  hub.fileUploads.push(record)
  if (hub.fileUploads.length > hub.options.telemetryLimit) hub.fileUploads.shift()
  hub.log(`file upload ${deviceId} ${upload.blobName}: ${record.isSuccess ? 'done' : 'failed'}, status ${record.statusCode}` +
    `${record.statusDescription ? ` "${record.statusDescription}"` : ''}${size !== null ? `, ${size} bytes stored` : ''}`)
  hub.emit('fileUpload', record)
  reply(res, 204)
}
