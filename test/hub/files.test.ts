// File upload's device endpoints, raw: POST /devices/{id}/files and /files/notifications against the emulator
// with Azurite as storage, the SAS it hands out used on Azurite directly, and what it refuses.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import http from 'node:http'
import https from 'node:https'
import { resource, sas, testHub, within } from './helpers'
import type { Hub } from './helpers'

const test = suite('hub/files')
let hub: Hub & { stop: () => Promise<void> }
const D = 'files-dev'
const V = '?api-version=2020-03-13'

test.before(async () => {
  hub = await testHub({ storage: true, dpsPort: null })
  hub.registry.addDevice(D)
  hub.registry.addDevice('other-dev')
})
test.after(async () => { await hub.stop() })

interface Answer { status: number, body: string, json: any }

/** A request to `url` (https: the emulator's or Azurite's port, verified with the emulator's CA). */
function call (method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const u = new URL(url)
  return within(new Promise((resolve, reject) => {
    const req = (u.protocol === 'https:' ? https : http).request(u, { method, ca: hub.ca, servername: u.hostname === '127.0.0.1' && u.port === String(hub.ports.https) ? 'localhost' : undefined, headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        let json
        try { json = JSON.parse(text) } catch {}
        resolve({ status: res.statusCode!, body: text, json })
      })
    })
    req.on('error', reject)
    req.end(body)
  }), 10000, `${method} ${url}`)
}

const token = (id = D) => sas(resource(hub, id), hub.registry.get(id)!.primaryKey!)
const files = (path: string, body: unknown, id = D, auth = token(id)) =>
  call('POST', `https://127.0.0.1:${hub.ports.https}/devices/${id}/files${path}${V}`, JSON.stringify(body), { authorization: auth, 'content-type': 'application/json' })

test('the SAS answer writes the blob {deviceId}/{blobName} on Azurite (path-style hostName), and only that blob; the notification is recorded and listed by the admin API', async () => {
  const r = await files('', { blobName: 'dir/a.txt' })
  assert.is(r.status, 200, r.body)
  const a = r.json
  assert.equal(Object.keys(a).sort(), ['blobName', 'containerName', 'correlationId', 'hostName', 'sasToken'])
  assert.is(a.hostName, `127.0.0.1:${hub.ports.storage}/devstoreaccount1`)
  assert.is(a.blobName, `${D}/dir/a.txt`)
  assert.match(a.sasToken, /^\?sv=2020-12-06&spr=https&se=[^&]+&sr=b&sp=cw&sig=[^&]+$/)
  const put = (name: string) => call('PUT', `https://${a.hostName}/${a.containerName}/${name}${a.sasToken}`, 'blob text', { 'x-ms-blob-type': 'BlockBlob' })
  assert.is((await put(a.blobName)).status, 201)
  assert.is((await put(`${D}/dir/other.txt`)).status, 403, 'the SAS is for that blob only')
  const n = await files('/notifications', { correlationId: a.correlationId, isSuccess: true, statusCode: 201, statusDescription: 'ok' })
  assert.is(n.status, 204, n.body)
  const u = hub.fileUploads[hub.fileUploads.length - 1]
  assert.equal([u.deviceId, u.blobName, u.isSuccess, u.statusCode, u.statusDescription, u.blobSizeInBytes], [D, `${D}/dir/a.txt`, true, 201, 'ok', 9])
  assert.equal(await hub.readBlob(`${D}/dir/a.txt`), Buffer.from('blob text'))
  const again = await files('/notifications', { correlationId: a.correlationId, isSuccess: true, statusCode: 201, statusDescription: 'ok' })
  assert.is(again.status, 400, 'a correlation id is used once')
})

test('refused: no api-version (400), a bad token (401), a body without blobName (400), another device\'s correlation id (400), isSuccess not a boolean (400)', async () => {
  assert.is((await call('POST', `https://127.0.0.1:${hub.ports.https}/devices/${D}/files`, '{"blobName":"x"}', { authorization: token() })).status, 400)
  assert.is((await files('', { blobName: 'x' }, D, token('other-dev'))).status, 401)
  assert.is((await files('', { name: 'x' })).status, 400)
  assert.is((await files('', { blobName: 'x'.repeat(1025) })).status, 400)
  const a = (await files('', { blobName: 'x' })).json
  assert.is((await files('/notifications', { correlationId: a.correlationId, isSuccess: true }, 'other-dev')).status, 400)
  assert.is((await files('/notifications', { correlationId: a.correlationId, isSuccess: 'yes' })).status, 400)
  // the official Node SDK's form: the correlation id in the path
  assert.is((await files(`/notifications/${a.correlationId}`, { isSuccess: false, statusCode: 500, statusDescription: 'x' })).status, 204)
  assert.equal([hub.fileUploads[hub.fileUploads.length - 1].isSuccess, hub.fileUploads[hub.fileUploads.length - 1].statusCode], [false, 500])
})

test('10 uploads under way at most per device (403 DeviceMaximumActiveFileUploadLimitExceeded); a notification frees one', async () => {
  hub.activeUploads.clear()
  const ids: string[] = []
  for (let i = 0; i < 10; i++) {
    const r = await files('', { blobName: `n${i}` })
    assert.is(r.status, 200)
    ids.push(r.json.correlationId)
  }
  const over = await files('', { blobName: 'n10' })
  assert.is(over.status, 403)
  assert.match(over.json.Message, /DeviceMaximumActiveFileUploadLimitExceeded/)
  assert.is((await files('', { blobName: 'o' }, 'other-dev')).status, 200, 'per device')
  assert.is((await files('/notifications', { correlationId: ids[0], isSuccess: false, statusCode: -1, statusDescription: '' })).status, 204)
  assert.is((await files('', { blobName: 'n10' })).status, 200)
  hub.activeUploads.clear()
})

test('without storage: 400 InvalidStorageEndpoint, as a hub with no storage account; the admin API lists notifications', async () => {
  const storage = hub.storage
  hub.storage = null
  try {
    const r = await files('', { blobName: 'x' })
    assert.is(r.status, 400)
    assert.match(r.json.Message, /InvalidStorageEndpoint/)
  } finally {
    hub.storage = storage
  }
  const list = await call('GET', `http://127.0.0.1:${hub.ports.admin}/files?device=${D}`)
  assert.is(list.status, 200)
  assert.ok(list.json.length >= 2 && list.json.every((u: any) => u.deviceId === D))
  const blob = await call('GET', `http://127.0.0.1:${hub.ports.admin}/files/${D}/dir/a.txt`)
  assert.equal([blob.status, Buffer.from(blob.json.base64, 'base64').toString()], [200, 'blob text'])
})

test.run()
