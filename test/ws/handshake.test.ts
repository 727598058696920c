import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { wsAccept, wsKey, encodeUpgrade, WS_GUID } from '../../src/ws/handshake';
import * as E from '../../src/errors';
import { canaryBuffer, trampled, untouched, AT } from '../helpers/bytes';
import { createRng, withSeed } from '../helpers/rng';

// RFC 6455 §4.1 / §4.2.2: the key, the accept value a server must answer, the upgrade request.

test('wsAccept: the RFC 6455 §1.3 example key', () => {
  assert.is(wsAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('wsAccept: base64(SHA-1(key + GUID)) for random keys, as node:crypto computes it', () => {
  const rng = createRng();
  withSeed(rng, () => {
    for (let i = 0; i < 50; i++) {
      const key = Buffer.from(rng.bytes(16)).toString('base64');
      assert.is(wsAccept(key), createHash('sha1').update(key + WS_GUID).digest('base64'), key);
    }
  });
});

test('wsKey: 16 random bytes in base64 (§4.1 item 7), from the injected rng', () => {
  // an rng walking 0, 1/256, 2/256, ...: the bytes 00 01 02 ... 0f
  let n = 0;
  const key = wsKey(() => n++ / 256);
  assert.is(key, Buffer.from([...Array(16).keys()]).toString('base64'));
  assert.is(key, 'AAECAwQFBgcICQoLDA0ODw==');
  // extremes of [0, 1) stay bytes
  assert.is(Buffer.from(wsKey(() => 0.999999999), 'base64').toString('hex'), 'ff'.repeat(16));
  const a = wsKey(Math.random), b = wsKey(Math.random);
  assert.is(a.length, 24);
  assert.is(Buffer.from(a, 'base64').length, 16);
  assert.is.not(a, b, 'a new key each time');
});

const REQUEST =
  'GET /mqtt HTTP/1.1\r\n' +
  'Host: broker.example:8080\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Protocol: mqtt\r\n' +
  '\r\n';

test('encodeUpgrade: the request, golden string; canaries intact', () => {
  const n = REQUEST.length, b = canaryBuffer(n);
  const view = b.subarray(AT);
  assert.is(encodeUpgrade(view, n, '/mqtt', 'broker.example:8080', 'dGhlIHNhbXBsZSBub25jZQ==', 'mqtt'), n);
  assert.is(Buffer.from(view.subarray(0, n)).toString('latin1'), REQUEST);
  assert.equal(trampled(b, AT, AT + n), []);
});

test('encodeUpgrade: IoT Hub path, UTF-8 in the path written as UTF-8', () => {
  const b = new Uint8Array(400);
  const n = encodeUpgrade(b, 400, '/$iothub/websocket', 'hub.azure-devices.net', 'AAECAwQFBgcICQoLDA0ODw==', 'mqtt');
  const s = Buffer.from(b.subarray(0, n)).toString('utf8');
  assert.ok(s.startsWith('GET /$iothub/websocket HTTP/1.1\r\nHost: hub.azure-devices.net\r\n'));
  const u = encodeUpgrade(b, 400, '/é', 'h', 'k', 'mqtt');
  assert.ok(Buffer.from(b.subarray(0, u)).toString('utf8').startsWith('GET /é HTTP/1.1'));
  assert.is(u, Buffer.byteLength(Buffer.from(b.subarray(0, u)).toString('utf8')));
});

test('encodeUpgrade: one byte short gives E_BUFFER and writes nothing', () => {
  const n = REQUEST.length, b = canaryBuffer(n - 1, 0);
  assert.is(encodeUpgrade(b.subarray(AT), n - 1, '/mqtt', 'broker.example:8080', 'dGhlIHNhbXBsZSBub25jZQ==', 'mqtt'), E.E_BUFFER);
  assert.ok(untouched(b));
  assert.is(encodeUpgrade(new Uint8Array(400), 400, '/\ud800', 'h', 'k', 'mqtt'), E.E_BUFFER, 'a lone surrogate cannot be written');
});

test.run();
