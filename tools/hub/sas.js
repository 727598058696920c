// Shared access signatures, checked the way IoT Hub and DPS check them.
import { createHmac, timingSafeEqual } from 'node:crypto'

const PREFIX = 'SharedAccessSignature '

/**
 * Split `SharedAccessSignature sr=..&sig=..&se=..[&skn=..]` (fields in any order) into its
 * raw, still URL-encoded fields; null when it is not a token.
 * @param {string | undefined} token
 * @returns {Record<string, string> | null}
 */
export function parseSas (token) {
  if (typeof token !== 'string' || !token.startsWith(PREFIX)) return null
  /** @type {Record<string, string>} */
  const fields = {}
  for (const part of token.slice(PREFIX.length).split('&')) {
    const eq = part.indexOf('=')
    if (eq < 1) return null
    fields[part.slice(0, eq)] = part.slice(eq + 1)
  }
  return fields.sr && fields.sig && fields.se ? fields : null
}

/**
 * base64(HMAC-SHA256(base64decode(key), `${sr}\n${se}`)), `sr` exactly as it appears in the token.
 * @param {string} key base64
 * @param {string} sr
 * @param {string | number} se
 */
export function sign (key, sr, se) {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(sr + '\n' + se).digest('base64')
}

/**
 * A token for `resource` (not yet URL-encoded), valid until `expiry` (seconds since the epoch).
 * @param {string} resource
 * @param {string} key base64
 * @param {number} expiry
 * @param {string} [policy] skn
 */
export function sasToken (resource, key, expiry, policy) {
  const sr = encodeURIComponent(resource)
  const sig = encodeURIComponent(sign(key, sr, expiry))
  return `${PREFIX}sr=${sr}&sig=${sig}&se=${expiry}` + (policy ? `&skn=${encodeURIComponent(policy)}` : '')
}

/**
 * Check `token` against the resources it may name and the keys that may have signed it.
 * The host part of `sr` compares case-insensitively, the rest exactly.
 * @param {string | undefined} token
 * @param {string[]} resources accepted resource URIs, decoded (`host/devices/id`)
 * @param {(string | undefined)[]} keys base64 keys
 * @param {number} [now] ms
 * @returns {string | null} null when good, else why not
 */
export function checkSas (token, resources, keys, now = Date.now()) {
  const fields = parseSas(token)
  if (!fields) return 'not a SharedAccessSignature'
  let sr, sig
  try {
    sr = decodeURIComponent(fields.sr)
    sig = Buffer.from(decodeURIComponent(fields.sig), 'base64')
  } catch {
    return 'malformed sr or sig'
  }
  if (!resources.some(r => sameResource(r, sr))) return `sr ${sr} is not ${resources[0]}`
  const se = Number(fields.se)
  if (!Number.isSafeInteger(se)) return 'malformed se'
  if (se * 1000 <= now) return 'token expired'
  for (const key of keys) {
    if (!key) continue
    const good = Buffer.from(sign(key, fields.sr, fields.se), 'base64')
    if (good.length === sig.length && timingSafeEqual(good, sig)) return null
  }
  return 'signature does not match'
}

/** @param {string} a @param {string} b */
function sameResource (a, b) {
  const i = a.indexOf('/') < 0 ? a.length : a.indexOf('/')
  const j = b.indexOf('/') < 0 ? b.length : b.indexOf('/')
  return i === j && a.slice(0, i).toLowerCase() === b.slice(0, j).toLowerCase() && a.slice(i) === b.slice(j)
}
