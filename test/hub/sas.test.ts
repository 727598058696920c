// SAS parsing and checking, against a signature computed with the openssl CLI.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { checkSas, parseSas, sasToken, sign } from '../../tools/hub/sas.js'

const test = suite('hub/sas')
// printf 'myhub.azure-devices.net%2Fdevices%2Fdev1\n1700000000' |
//   openssl dgst -sha256 -mac HMAC -macopt hexkey:<hex of the key bytes> -binary | base64
const KEY = 'dGlueWh1Yi10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGVm'
const SIG = 'jMe0YEpFuZcsbx6Zs6uURRw8+Ablj7gqdgMfk1ORiEA='
const RES = 'myhub.azure-devices.net/devices/dev1'
const NOW = 1_699_999_000_000
const GOLDEN = `SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=${encodeURIComponent(SIG)}&se=1700000000`

test('sign is HMAC-SHA256 of "{urlencoded sr}\\n{se}" with the decoded key', () => {
  assert.is(sign(KEY, 'myhub.azure-devices.net%2Fdevices%2Fdev1', 1700000000), SIG)
})

test('sasToken builds the golden token; skn is appended', () => {
  assert.is(sasToken(RES, KEY, 1700000000), GOLDEN)
  assert.is(sasToken(RES, KEY, 1700000000, 'registration'), GOLDEN + '&skn=registration')
})

test('parseSas: raw fields in any order, null for anything else', () => {
  assert.equal(parseSas('SharedAccessSignature se=1&skn=p&sig=a%3D&sr=h%2Fd'), { se: '1', skn: 'p', sig: 'a%3D', sr: 'h%2Fd' })
  assert.is(parseSas('sr=a&sig=b&se=1'), null)
  assert.is(parseSas('SharedAccessSignature sr=a&sig=b'), null)
  assert.is(parseSas('SharedAccessSignature sr=a&&sig=b&se=1'), null)
  assert.is(parseSas(undefined), null)
})

test('checkSas accepts the golden token, with either key, before expiry', () => {
  assert.is(checkSas(GOLDEN, [RES], [KEY], NOW), null)
  assert.is(checkSas(GOLDEN, [RES], [undefined, 'b3RoZXI=', KEY], NOW), null)
})

test('checkSas: the host compares case-insensitively, the device id exactly', () => {
  const upper = sasToken('MYHUB.azure-devices.NET/devices/dev1', KEY, 1700000000)
  assert.is(checkSas(upper, [RES], [KEY], NOW), null)
  const otherCase = sasToken('myhub.azure-devices.net/devices/DEV1', KEY, 1700000000)
  assert.match(String(checkSas(otherCase, [RES], [KEY], NOW)), /is not/)
})

test('checkSas signs the sr as sent: lower-case percent escapes sign differently', () => {
  const lower = GOLDEN.replace(/%2F/g, '%2f')
  assert.is(checkSas(lower, [RES], [KEY], NOW), 'signature does not match')
  const relowered = `SharedAccessSignature sr=myhub.azure-devices.net%2fdevices%2fdev1&sig=${encodeURIComponent(sign(KEY, 'myhub.azure-devices.net%2fdevices%2fdev1', 1700000000))}&se=1700000000`
  assert.is(checkSas(relowered, [RES], [KEY], NOW), null)
})

test('checkSas refuses: expired, wrong key, wrong resource, garbage', () => {
  assert.is(checkSas(GOLDEN, [RES], [KEY], 1_700_000_000_000), 'token expired')
  assert.is(checkSas(GOLDEN, [RES], ['b3RoZXI='], NOW), 'signature does not match')
  assert.match(String(checkSas(GOLDEN, ['myhub.azure-devices.net/devices/dev2'], [KEY], NOW)), /is not/)
  assert.is(checkSas('Bearer x', [RES], [KEY], NOW), 'not a SharedAccessSignature')
  assert.is(checkSas(GOLDEN.replace('se=1700000000', 'se=soon'), [RES], [KEY], NOW), 'malformed se')
  assert.is(checkSas(GOLDEN.replace('sr=', 'sr=%E0%A4%A'), [RES], [KEY], NOW), 'malformed sr or sig')
})

test.run()
