// Message property bags: the URL-encoded `k=v&k2=v2` tail of telemetry and C2D topics.

/** System property keys in a bag and the names the emulator reports them under. */
export const SYSTEM_PROPERTIES = {
  '$.mid': 'messageId',
  '$.cid': 'correlationId',
  '$.uid': 'userId',
  '$.to': 'to',
  '$.exp': 'expiryTimeUtc',
  '$.ct': 'contentType',
  '$.ce': 'contentEncoding',
  '$.ctime': 'creationTimeUtc',
  '$.sub': 'componentName',
  '$.ifid': 'interfaceId',
  '$.on': 'outputName'
}

/** @typedef {Record<string, string | null>} Bag */

/**
 * Parse a property bag into application and system properties. Keys and values are
 * URL-decoded (`%24.ct` is `$.ct`); a key without `=` has the value null.
 * @param {string} bag
 * @returns {{ properties: Bag, system: Bag }}
 */
export function parseBag (bag) {
  /** @type {Bag} */
  const all = {}
  for (const pair of bag.split('&')) {
    if (!pair) continue
    const eq = pair.indexOf('=')
    all[decode(eq < 0 ? pair : pair.slice(0, eq))] = eq < 0 ? null : decode(pair.slice(eq + 1))
  }
  return splitProperties(all)
}

/**
 * Separate `$.`-keyed system properties (renamed as in SYSTEM_PROPERTIES) from application ones.
 * @param {Bag} bag
 * @returns {{ properties: Bag, system: Bag }}
 */
export function splitProperties (bag) {
  /** @type {Bag} */
  const properties = {}
  /** @type {Bag} */
  const system = {}
  for (const [key, value] of Object.entries(bag)) {
    if (key.startsWith('$.')) system[SYSTEM_PROPERTIES[/** @type {keyof SYSTEM_PROPERTIES} */ (key)] || key] = value
    else properties[key] = value
  }
  return { properties, system }
}

/**
 * Build a bag from application properties and system properties (keyed by the names in
 * SYSTEM_PROPERTIES or by `$.x`); system properties first, `$` written as `%24` like the service.
 * @param {Bag} [properties]
 * @param {Bag} [system]
 */
export function buildBag (properties = {}, system = {}) {
  const byName = Object.fromEntries(Object.entries(SYSTEM_PROPERTIES).map(([k, v]) => [v, k]))
  const pairs = []
  for (const [name, value] of Object.entries(system)) pairs.push(pair(byName[name] || name, value))
  for (const [key, value] of Object.entries(properties)) pairs.push(pair(key, value))
  return pairs.join('&')
}

/**
 * Split `a/b/?x=1&y=2` into the part before `?` and its query.
 * @param {string} topic
 */
export function splitTopic (topic) {
  const q = topic.indexOf('?')
  return q < 0
    ? { path: topic, query: new URLSearchParams() }
    : { path: topic.slice(0, q), query: new URLSearchParams(topic.slice(q + 1)) }
}

/** @param {string} key @param {string | null} value */
function pair (key, value) {
  return value === null || value === undefined ? encode(key) : encode(key) + '=' + encode(String(value))
}

/** @param {string} s */
function encode (s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

/** @param {string} s */
function decode (s) {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** HTTPS device API: system property headers and the names the emulator reports them under. */
export const SYSTEM_HEADERS = {
  'iothub-messageid': 'messageId',
  'iothub-correlationid': 'correlationId',
  'iothub-userid': 'userId',
  'iothub-to': 'to',
  'iothub-expiry': 'expiryTimeUtc',
  'iothub-contenttype': 'contentType',
  'iothub-contentencoding': 'contentEncoding',
  'iothub-creationtimeutc': 'creationTimeUtc'
}
const APP_PREFIX = 'iothub-app-'

/**
 * Properties from HTTP headers (or a batch entry's `properties`): `iothub-app-{name}` are
 * application properties (the name keeps its case), SYSTEM_HEADERS are system properties.
 * @param {[string, string][]} headers name/value pairs
 * @returns {{ properties: Bag, system: Bag }}
 */
export function headersToProperties (headers) {
  /** @type {Bag} */
  const properties = {}
  /** @type {Bag} */
  const system = {}
  for (const [name, value] of headers) {
    const lower = name.toLowerCase()
    if (lower.startsWith(APP_PREFIX)) properties[name.slice(APP_PREFIX.length)] = value
    else if (Object.hasOwn(SYSTEM_HEADERS, lower)) system[SYSTEM_HEADERS[/** @type {keyof SYSTEM_HEADERS} */ (lower)]] = value
  }
  return { properties, system }
}

/**
 * HTTP headers for a message's properties: the inverse of headersToProperties. Values are
 * written as their UTF-8 bytes (one header octet per byte), so that text outside Latin-1
 * still makes a header; the service does not define any encoding (see HTTP_PROPERTY).
 * @param {Bag} properties
 * @param {Bag} system
 * @returns {Record<string, string>}
 */
export function propertiesToHeaders (properties, system) {
  const byName = Object.fromEntries(Object.entries(SYSTEM_HEADERS).map(([k, v]) => [v, k]))
  /** @type {Record<string, string>} */
  const headers = {}
  const octets = (/** @type {string | null} */ value) => Buffer.from(value ?? '', 'utf8').toString('latin1')
  for (const [name, value] of Object.entries(system)) if (byName[name]) headers[byName[name]] = octets(value)
  for (const [name, value] of Object.entries(properties)) headers[APP_PREFIX + name] = octets(value)
  return headers
}

/**
 * The characters IoT Hub allows in application property names and values of cloud-to-device
 * messages and of device-to-cloud messages sent over HTTPS: ASCII letters and digits and
 * ! # $ % & ' * + - . ^ _ ` | ~ ("Create and read IoT Hub messages", learn.microsoft.com).
 */
export const HTTP_PROPERTY = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]*$/

/**
 * The first application property whose name or value IoT Hub would refuse in a cloud-to-device
 * message, as `name=value`; null when all are allowed. `$.` keys are system properties.
 * @param {Bag} bag
 * @returns {string | null}
 */
export function refusedProperty (bag) {
  for (const [name, value] of Object.entries(bag)) {
    if (name.startsWith('$.')) continue
    if (!name || !HTTP_PROPERTY.test(name) || !HTTP_PROPERTY.test(value ?? '')) return `${name}=${value}`
  }
  return null
}
