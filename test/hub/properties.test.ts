// Property bags and their HTTP header form.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { buildBag, headersToProperties, parseBag, propertiesToHeaders, splitTopic } from '../../tools/hub/properties.js'

const test = suite('hub/properties')

test('parseBag decodes keys and values and separates system properties', () => {
  assert.equal(parseBag('%24.mid=42&%24.ct=application%2Fjson&$.ce=utf-8&%24.ctime=2024-01-01T00%3A00%3A00Z&a=1&b%20c=d%26e'), {
    properties: { a: '1', 'b c': 'd&e' },
    system: { messageId: '42', contentType: 'application/json', contentEncoding: 'utf-8', creationTimeUtc: '2024-01-01T00:00:00Z' }
  })
})

test('parseBag: a key without = is null, key= is empty, unknown $. keys stay as they are', () => {
  assert.equal(parseBag('flag&empty=&%24.x=1'), { properties: { flag: null, empty: '' }, system: { '$.x': '1' } })
  assert.equal(parseBag(''), { properties: {}, system: {} })
  assert.equal(parseBag('bad=%E0%A4%A'), { properties: { bad: '%E0%A4%A' }, system: {} }, 'malformed escapes kept raw')
  assert.equal(parseBag('plus=a+b'), { properties: { plus: 'a+b' }, system: {} }, '+ is not a space')
})

test('buildBag: system first with $ as %24, upper-case escapes, nulls as bare keys', () => {
  assert.is(buildBag({ a: 'x/y', "it's": '(1)', n: null }, { messageId: 'm', to: '/devices/d/messages/deviceBound' }),
    '%24.mid=m&%24.to=%2Fdevices%2Fd%2Fmessages%2FdeviceBound&a=x%2Fy&it%27s=%281%29&n')
})

test('buildBag and parseBag are inverses', () => {
  const bag = { properties: { 'k ey': 'v=al&ue', e: '', u: 'ünï' }, system: { correlationId: 'c', contentType: 'text/plain' } }
  assert.equal(parseBag(buildBag(bag.properties, bag.system)), bag)
})

test('splitTopic', () => {
  const { path, query } = splitTopic('$iothub/twin/res/204/?$rid=1&$version=3')
  assert.is(path, '$iothub/twin/res/204/')
  assert.is(query.get('$rid'), '1')
  assert.is(query.get('$version'), '3')
  assert.is(splitTopic('a/b').path, 'a/b')
})

test('HTTP headers: iothub-app-* keep their case; system headers map both ways', () => {
  const parsed = headersToProperties([['IoTHub-App-Color', 'red'], ['IoTHub-MessageId', 'm1'], ['iothub-contenttype', 'text/plain'], ['Host', 'x']])
  assert.equal(parsed, { properties: { Color: 'red' }, system: { messageId: 'm1', contentType: 'text/plain' } })
  assert.equal(propertiesToHeaders(parsed.properties, parsed.system), {
    'iothub-messageid': 'm1', 'iothub-contenttype': 'text/plain', 'iothub-app-Color': 'red'
  })
})

test.run()
