// The official SDK's file upload (client.uploadToBlob: azure-iot-device's FileUploadApi and its @azure/storage-blob
// BlockBlobClient.uploadStream) against the emulator with Azurite as storage; both sides checked. The hub dial goes
// through the SDK's http.agent hook (tests/sdk/helpers.ts); the storage client takes no CA option, so Node's global
// agent trusts the emulator's CA here, as NODE_EXTRA_CA_CERTS would for an application.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import https from 'node:https'
import { createRequire } from 'node:module'
import { Readable } from 'node:stream'
import { closeAll, sdkClient, testHub, within } from './helpers'
import type { Hub, TransportName } from './helpers'

const test = suite('sdk/upload')
let hub: Hub & { stop: () => Promise<void> }
const D = 'sdk-upload'
let savedCa: unknown
// the SDK's blob uploader gives each upload AbortController.timeout(30 * 60 * 1000) (blob_uploader.js, from
// @azure/abort-controller), a timer it never clears: the test process would wait 30 minutes for it. Here that timeout is
// Node's own AbortSignal.timeout, the same abort without holding the process open.
const sdkRequire = createRequire(createRequire(import.meta.url).resolve('azure-iot-device/dist/blob_upload/blob_uploader.js'))
const { AbortController: SdkAbort } = sdkRequire('@azure/abort-controller')
const sdkTimeout = SdkAbort.timeout
// and uploadToBlob has the connection string's key provider schedule its token renewal (45 min), which no close stops
const Sak = sdkRequire('azure-iot-device').SharedAccessKeyAuthenticationProvider
const sakSchedule = Sak.prototype._scheduleNextExpiryTimeout

test.before(async () => {
  hub = await testHub({ storage: true, dpsPort: null })
  hub.registry.addDevice(D)
  savedCa = https.globalAgent.options.ca
  https.globalAgent.options.ca = [hub.ca]
  SdkAbort.timeout = (ms: number) => AbortSignal.timeout(ms)
  Sak.prototype._scheduleNextExpiryTimeout = function (this: any) {
    sakSchedule.call(this)
    this._renewalTimeout?.unref()
  }
})
test.after(async () => {
  https.globalAgent.options.ca = savedCa as any
  await closeAll()
  await hub.stop()
  SdkAbort.timeout = sdkTimeout
  Sak.prototype._scheduleNextExpiryTimeout = sakSchedule
})

/** `size` bytes of a pattern. */
const bytes = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 13 + (i >> 9)) & 255))

const cases: [TransportName, number][] = [['Http', 4.5 * 1024 * 1024], ['Mqtt', 3000]]
for (const [transport, size] of cases) {
  test(`${transport}: uploadToBlob of ${size} bytes${size > 4194304 ? ' (two 4 MiB blocks: Put Block and Put Block List)' : ''} is stored byte for byte, the notification recorded as a success`, async () => {
    const { client, dialed } = await sdkClient(hub, hub.registry.connectionString(D), transport)
    const data = bytes(size)
    const name = `sdk/${transport}.bin`
    const seen = new Promise<any>(resolve => hub.once('fileUpload', resolve))
    await within(client.uploadToBlob(name, Readable.from([data]), data.length), 60000, 'uploadToBlob')
    const u = await within(seen, 5000, 'fileUpload event')
    assert.equal([u.deviceId, u.blobName, u.isSuccess, u.statusCode, u.blobSizeInBytes], [D, `${D}/${name}`, true, 201, size])
    assert.ok((await hub.readBlob(`${D}/${name}`))!.equals(data), 'the blob holds what was sent')
    // the SDK went to the hub on 443 for the SAS and the notification (storage directly, at the hostName given)
    assert.ok(dialed.filter(d => d.url === `https://${hub.hubName}:443`).length >= 2, JSON.stringify(dialed))
  })
}

test('storage refusing the SAS (expired): the SDK fails with BlobUploadNotificationError after telling the hub, which records isSuccess false with 403', async () => {
  const { client } = await sdkClient(hub, hub.registry.connectionString(D), 'Http')
  const ttl = hub.options.fileUploadTtl
  hub.options.fileUploadTtl = -60
  try {
    const err = await within(client.uploadToBlob('late.bin', Readable.from([Buffer.from('late')]), 4).then(() => null, (e: Error) => e), 60000, 'uploadToBlob')
    assert.is(err?.name, 'BlobUploadNotificationError', String(err))
  } finally {
    hub.options.fileUploadTtl = ttl
  }
  const u = hub.fileUploads[hub.fileUploads.length - 1]
  assert.equal([u.blobName, u.isSuccess, u.statusCode], [`${D}/late.bin`, false, 403])
})

test('a hub without storage: the SDK fails with BlobSasError (the hub answered 400), nothing recorded', async () => {
  const { client } = await sdkClient(hub, hub.registry.connectionString(D), 'Http')
  const storage = hub.storage
  const before = hub.fileUploads.length
  hub.storage = null
  try {
    const err: any = await within(client.uploadToBlob('none.bin', Readable.from([Buffer.from('x')]), 1).then(() => null, (e: Error) => e), 60000, 'uploadToBlob')
    assert.is(err?.name, 'BlobSasError', String(err))
    assert.is(err.innerError?.response?.statusCode, 400)
  } finally {
    hub.storage = storage
  }
  assert.is(hub.fileUploads.length, before)
})

test.run()
