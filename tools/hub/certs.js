// The emulator's certificates, made once with the `openssl` CLI: a self-signed root CA (what devices
// trust), an issuing CA signed by it, and the server certificate signed by the issuing CA. The servers
// send the server certificate followed by the issuing CA, as IoT Hub and DPS do (their chain ends below
// the root the device holds): TLS stacks that build the path from what the server sends (Moddable's)
// need the issuer there.
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isIP } from 'node:net'

const ISSUER_EXT = 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' +
  'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n'

/**
 * Make sure `dir` holds ca.pem/ca.key (the root), issuer.pem/issuer.key (the issuing CA, signed by the
 * root) and a server.pem/server.key signed by the issuer whose subjectAltName lists `names` (host names
 * or IP addresses). The CA and the issuer are kept across runs (devices trust the CA once); the server
 * certificate is remade when the names change.
 * @param {string} dir
 * @param {string[]} names
 * @returns {{ caPath: string, ca: string, key: string, cert: string, leaf: string, issuer: string }}
 *   `cert` is the chain the servers send: `leaf` (the server certificate) then `issuer`
 */
export function ensureCerts (dir, names) {
  const path = (/** @type {string} */ f) => join(dir, f)
  const openssl = (/** @type {string[]} */ args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  let fresh = true
  if (!existsSync(path('ca.pem')) || !existsSync(path('ca.key'))) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650',
      '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=tinyhub emulator CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-addext', 'subjectKeyIdentifier=hash'])
    fresh = false
  }
  if (!fresh || !existsSync(path('issuer.pem')) || !existsSync(path('issuer.key'))) {
    writeFileSync(path('issuer.ext'), ISSUER_EXT)
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'issuer.key', '-out', 'issuer.csr', '-subj', '/CN=tinyhub emulator issuing CA'])
    openssl(['x509', '-req', '-sha256', '-days', '3650', '-in', 'issuer.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
      '-CAcreateserial', '-out', 'issuer.pem', '-extfile', 'issuer.ext'])
    fresh = false
  }
  const san = [...new Set(names)].map(n => (isIP(n) ? 'IP:' : 'DNS:') + n).join(',')
  const ext = `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n` +
    'subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n'
  fresh = fresh && existsSync(path('server.pem')) && existsSync(path('server.key')) &&
    existsSync(path('server.ext')) && readFileSync(path('server.ext'), 'utf8') === ext
  if (!fresh) {
    writeFileSync(path('server.ext'), ext)
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${names[0]}`])
    openssl(['x509', '-req', '-sha256', '-days', '825', '-in', 'server.csr', '-CA', 'issuer.pem', '-CAkey', 'issuer.key',
      '-CAcreateserial', '-out', 'server.pem', '-extfile', 'server.ext'])
  }
  const leaf = readFileSync(path('server.pem'), 'utf8')
  const issuer = readFileSync(path('issuer.pem'), 'utf8')
  return {
    caPath: path('ca.pem'),
    ca: readFileSync(path('ca.pem'), 'utf8'),
    key: readFileSync(path('server.key'), 'utf8'),
    cert: leaf.trimEnd() + '\n' + issuer,
    leaf,
    issuer
  }
}

/**
 * A device's client certificate for X.509 authentication, issued by the emulator's issuing CA (ensureCerts made it
 * in `dir`): subject `CN={cn}`, an EC P-256 key, `days` valid. Written to `dir` as device-{cn}.pem/.key.
 * @param {string} dir
 * @param {string} cn the device id (IoT Hub) or registration id (DPS)
 * @param {number} [days]
 * @returns {{ cert: string, key: string, thumbprint: string }} PEM certificate and key; the SHA-256 thumbprint (hex)
 */
export function deviceCert (dir, cn, days = 30) {
  if (!/^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$/.test(cn)) throw new Error(`invalid CN ${JSON.stringify(cn)}`)
  const openssl = (/** @type {string[]} */ args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const name = `device-${cn.replace(/[^A-Za-z0-9\-._]/g, '_')}`
  writeFileSync(join(dir, `${name}.ext`), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n')
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.csr`, '-subj', `/CN=${cn.replace(/[/\\,+=<>;"#]/g, c => '\\' + c)}`])
  openssl(['x509', '-req', '-sha256', '-days', String(days), '-in', `${name}.csr`, '-CA', 'issuer.pem', '-CAkey', 'issuer.key',
    '-CAcreateserial', '-out', `${name}.pem`, '-extfile', `${name}.ext`])
  const cert = readFileSync(join(dir, `${name}.pem`), 'utf8')
  return { cert, key: readFileSync(join(dir, `${name}.key`), 'utf8'), thumbprint: new X509Certificate(cert).fingerprint256.replace(/:/g, '') }
}
