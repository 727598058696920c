// The emulator's CA and server certificate, made with the openssl CLI.
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

test('the server certificate is signed by the CA and valid for the names given', () => {
  const certs = ensureCerts(dir, ['localhost', '127.0.0.1', 'hub.example'])
  const ca = new X509Certificate(certs.ca)
  const server = new X509Certificate(certs.cert)
  assert.ok(ca.ca)
  assert.ok(server.verify(ca.publicKey))
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
