// Self-signed CA and server certificate for the emulator, made once with the `openssl` CLI.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isIP } from 'node:net'

/**
 * Make sure `dir` holds ca.pem/ca.key and a server.pem/server.key signed by it whose
 * subjectAltName lists `names` (host names or IP addresses). The CA is kept across runs
 * (devices trust it once); the server certificate is remade when the names change.
 * @param {string} dir
 * @param {string[]} names
 * @returns {{ caPath: string, ca: string, key: string, cert: string }}
 */
export function ensureCerts (dir, names) {
  const path = (/** @type {string} */ f) => join(dir, f)
  const openssl = (/** @type {string[]} */ args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  if (!existsSync(path('ca.pem')) || !existsSync(path('ca.key'))) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650',
      '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=tinyhub emulator CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  }
  const san = [...new Set(names)].map(n => (isIP(n) ? 'IP:' : 'DNS:') + n).join(',')
  const ext = `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`
  const fresh = existsSync(path('server.pem')) && existsSync(path('server.key')) &&
    existsSync(path('server.ext')) && readFileSync(path('server.ext'), 'utf8') === ext
  if (!fresh) {
    writeFileSync(path('server.ext'), ext)
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${names[0]}`])
    openssl(['x509', '-req', '-sha256', '-days', '825', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
      '-CAcreateserial', '-out', 'server.pem', '-extfile', 'server.ext'])
  }
  return {
    caPath: path('ca.pem'),
    ca: readFileSync(path('ca.pem'), 'utf8'),
    key: readFileSync(path('server.key'), 'utf8'),
    cert: readFileSync(path('server.pem'), 'utf8')
  }
}
