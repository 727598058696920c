// The emulator's CA, issuing CA and server certificate, made with the openssl CLI.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureCerts } from '../../tools/hub/certs.js'

const test = suite('hub/certs')
let dir = ''
test.before(() => { dir = mkdtempSync(join(tmpdir(), 'tinyhub-certs-')) })
test.after(() => rmSync(dir, { recursive: true, force: true }))

test('the server certificate chains to the CA through the issuing CA, and is valid for the names given', () => {
  const certs = ensureCerts(dir, ['localhost', '127.0.0.1', 'hub.example'])
  const ca = new X509Certificate(certs.ca)
  const server = new X509Certificate(certs.leaf)
  const issuer = new X509Certificate(certs.issuer)
  assert.ok(ca.ca)
  assert.ok(issuer.ca)
  assert.ok(issuer.verify(ca.publicKey), 'the issuer is signed by the CA')
  assert.ok(server.verify(issuer.publicKey), 'the server certificate is signed by the issuer')
  assert.not.ok(server.verify(ca.publicKey))
  // what the servers send: the server certificate, then the issuer (not the root: the device has it)
  assert.is(certs.cert, certs.leaf.trimEnd() + '\n' + certs.issuer)
  assert.is(certs.cert.split('BEGIN CERTIFICATE').length - 1, 2)
  assert.ok(issuer.checkIssued(ca) && server.checkIssued(issuer))
  assert.is(issuer.subject, 'CN=tinyhub emulator issuing CA')
  assert.is(server.checkHost('localhost'), 'localhost')
  assert.is(server.checkIP('127.0.0.1'), '127.0.0.1')
  assert.is(server.checkHost('hub.example'), 'hub.example')
  assert.is(server.checkHost('elsewhere.example'), undefined)
  assert.is(certs.caPath, join(dir, 'ca.pem'))
})

test('the CA is kept; the server certificate is remade only when the names change', () => {
  const first = ensureCerts(dir, ['localhost', '127.0.0.1', 'hub.example'])
  const same = ensureCerts(dir, ['localhost', '127.0.0.1', 'hub.example'])
  assert.is(same.cert, first.cert)
  const renamed = ensureCerts(dir, ['localhost', '127.0.0.1', 'other.example'])
  assert.is(renamed.ca, first.ca)
  assert.is.not(renamed.cert, first.cert)
  assert.is(new X509Certificate(renamed.cert).checkHost('other.example'), 'other.example')
})

test.run()
