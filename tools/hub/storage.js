// File upload's storage account: Azurite's blob service (Microsoft's Azure Storage emulator, a dev dependency) as a
// child process on 127.0.0.1, in memory, over HTTPS with the emulator's own certificate (devices verify it with the
// CA they already trust). Azurite serves the well-known development account `devstoreaccount1` path-style:
// https://127.0.0.1:{port}/devstoreaccount1/{container}/{blob}.
import { spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import https from 'node:https'
import { join } from 'node:path'

/** Azurite's development account and its well-known key (published in Azurite's and Azure Storage's docs). */
export const ACCOUNT = 'devstoreaccount1'
export const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
/** The SAS version signed (Azure Storage "Create a service SAS", version 2020-12-06 and later). */
export const SAS_VERSION = '2020-12-06'
/** Milliseconds Azurite may take to start (it loads ~3 s of modules on a busy machine). */
const START_MS = 90 * 1000

/** The path of Azurite's blob service entry, or null when the package is not installed. */
export function azuriteBlobMain () {
  try {
    return createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js')
  } catch {
    return null
  }
}

/**
 * @typedef {{ port: number, hostName: string, container: string,
 *   blobSas: (blobName: string, permissions: string, seconds: number) => string,
 *   request: (method: string, path: string, body?: Buffer | null) => Promise<{ status: number, headers: import('node:http').IncomingHttpHeaders, body: Buffer }>,
 *   readBlob: (blobName: string) => Promise<Buffer | null>,
 *   close: () => Promise<void> }} Storage
 */

/**
 * Start Azurite's blob service on `bind` (an ephemeral port) with the certificate chain and key of `certs`, and create
 * `container`. Rejects when Azurite is missing or does not start.
 * @param {{ dir: string, certs: { cert: string, key: string, ca: string }, container: string, bind: string,
 *   log: (line: string) => void }} o
 * @returns {Promise<Storage>}
 */
export async function startStorage (o) {
  const main = azuriteBlobMain()
  if (!main) throw new Error('file upload storage needs the azurite package (npm install --save-dev azurite)')
  // the servers send the leaf and the issuing CA: Azurite gets the same chain
  const certPath = join(o.dir, 'storage-chain.pem')
  const keyPath = join(o.dir, 'storage-key.pem')
  writeFileSync(certPath, o.certs.cert)
  writeFileSync(keyPath, o.certs.key, { mode: 0o600 })
  // --loose: the official device SDK's storage client (@azure/storage-blob 12.8.0) sends x-ms-encryption-algorithm
  // on every Put Block, which the service ignores without a customer key and strict Azurite refuses (500)
  const child = spawn(process.execPath, [main, '--blobHost', o.bind, '--blobPort', '0', '--inMemoryPersistence',
    '--extentMemoryLimit', '256', '--disableTelemetry', '--loose',
    '--cert', certPath, '--key', keyPath], { cwd: o.dir, stdio: ['ignore', 'pipe', 'pipe'] })
  const kill = () => child.kill()
  process.once('exit', kill) // never outlive the emulator's process
  let output = ''
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`Azurite did not start in ${START_MS / 1000} s: ${output.trim()}`)), START_MS)
    const fail = (/** @type {Error} */ err) => {
      clearTimeout(timer)
      child.kill()
      reject(err)
    }
    child.on('error', fail)
    child.on('exit', code => fail(new Error(`Azurite exited (${code}): ${output.trim()}`)))
    const read = (/** @type {Buffer} */ d) => {
      output += d
      const m = /successfully listens on https:\/\/[^:]+:(\d+)/.exec(output)
      if (m) {
        clearTimeout(timer)
        child.removeAllListeners('exit')
        resolve(Number(m[1]))
      }
    }
    child.stdout.on('data', read)
    child.stderr.on('data', read)
  })
  child.stdout.removeAllListeners('data')
  child.stdout.resume()
  child.stderr.on('data', d => o.log(`storage: ${String(d).trim()}`))
  const exited = new Promise(resolve => child.once('exit', resolve))

  /**
   * A request to the account with an account SAS (every right, 5 minutes) added to the query.
   * @param {string} method
   * @param {string} path after /devstoreaccount1/, with its query
   * @param {Buffer | null} [body]
   */
  function request (method, path, body = null) {
    const sas = accountSas(300)
    return new Promise((resolve, reject) => {
      const req = https.request({
        host: o.bind, port, method, ca: o.certs.ca, path: `/${ACCOUNT}/${path}${path.includes('?') ? '&' : '?'}${sas}`,
        headers: { 'x-ms-version': SAS_VERSION, ...(body ? { 'content-length': body.length } : {}) },
        agent: false
      }, res => {
        /** @type {Buffer[]} */
        const chunks = []
        res.on('data', c => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode || 0, headers: res.headers, body: Buffer.concat(chunks) }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body || undefined)
    })
  }

  const made = await request('PUT', `${o.container}?restype=container`)
  if (made.status !== 201 && made.status !== 409) throw new Error(`Azurite: creating container ${o.container}: ${made.status} ${made.body}`)
  o.log(`storage: Azurite blob service on https://${o.bind}:${port}/${ACCOUNT}, container ${o.container}`)
  return {
    port,
    // the SDKs build https://{hostName}/{containerName}/{blobName}{sasToken}: with the account in the host name's
    // path part, that is Azurite's path-style URL (the storage SDK reads an IP host as path-style too)
    hostName: `${o.bind}:${port}/${ACCOUNT}`,
    container: o.container,
    blobSas: (blobName, permissions, seconds) => blobSas(o.container, blobName, permissions, seconds),
    request,
    async readBlob (blobName) {
      const r = await request('GET', `${o.container}/${encodePath(blobName)}`)
      return r.status === 200 ? r.body : null
    },
    async close () {
      process.removeListener('exit', kill)
      if (child.exitCode === null && child.signalCode === null) {
        child.kill()
        await exited
      }
    }
  }
}

/** @param {string} name a blob name: each segment percent-encoded, the slashes kept */
export function encodePath (name) {
  return name.split('/').map(encodeURIComponent).join('/')
}

/** @param {number} seconds from now @returns {string} ISO 8601 UTC to the second, as SAS times are written */
function expiry (seconds) {
  return new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/** @param {string} text @returns {string} base64 HMAC-SHA256 with the account key */
function sign (text) {
  return createHmac('sha256', Buffer.from(ACCOUNT_KEY, 'base64')).update(text, 'utf8').digest('base64')
}

/**
 * A blob service SAS (Azure Storage "Create a service SAS", version 2020-12-06): `?sv=...&se=...&sr=b&sp=...&sig=...`,
 * the query the file upload API hands to devices.
 * @param {string} container
 * @param {string} blobName
 * @param {string} permissions in the order racwd... ("cw": create and write, what an upload needs)
 * @param {number} seconds
 */
export function blobSas (container, blobName, permissions, seconds) {
  const se = expiry(seconds)
  // sp, st, se, canonicalized resource, si, sip, spr, sv, sr, snapshot time, encryption scope, rscc, rscd, rsce, rscl, rsct
  const text = [permissions, '', se, `/blob/${ACCOUNT}/${container}/${blobName}`, '', '', 'https', SAS_VERSION, 'b', '', '', '', '', '', '', ''].join('\n')
  return `?sv=${SAS_VERSION}&spr=https&se=${encodeURIComponent(se)}&sr=b&sp=${permissions}&sig=${encodeURIComponent(sign(text))}`
}

/** An account SAS for the emulator's own requests: blob service, every resource type and right. @param {number} seconds */
function accountSas (seconds) {
  const se = expiry(seconds)
  // account, sp, ss, srt, st, se, sip, spr, sv, ses, and an empty line
  const text = [ACCOUNT, 'rwdlac', 'b', 'sco', '', se, '', 'https', SAS_VERSION, '', ''].join('\n')
  return `sv=${SAS_VERSION}&ss=b&srt=sco&sp=rwdlac&spr=https&se=${encodeURIComponent(se)}&sig=${encodeURIComponent(sign(text))}`
}
