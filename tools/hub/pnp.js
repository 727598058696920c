// IoT Plug and Play conventions as the emulator checks them (the IoT Plug and Play conventions document): the model
// id a device announces in its MQTT user name (`model-id=`), the components it reports (objects marked
// {"__t": "c"}), and writable-property acknowledgements ({value, ac, av, ad}: an integer status, the desired
// version answered, the value, an optional description). Kept per identity and shown by the admin API
// (GET /devices/{id}/pnp).

/**
 * @typedef {{ modelId: string | null, components: string[], acks: Record<string, { value: unknown, ac: number, av: number, ad?: string }>, violations: string[] }} PnpState
 */

/** @returns {PnpState} */
export function pnpState () {
  return { modelId: null, components: [], acks: {}, violations: [] }
}

/**
 * The model id in a user name's query (`...&model-id=dtmi%3A...`), or null.
 * @param {string} [username]
 */
export function modelIdOf (username = '') {
  const q = username.indexOf('/?')
  return q < 0 ? null : new URLSearchParams(username.slice(q + 1)).get('model-id')
}

/**
 * Reads a reported patch into `state`: components seen, acknowledgements by path ("prop" or "component.prop"), and
 * what breaks the conventions.
 * @param {PnpState} state
 * @param {Record<string, any>} patch
 */
export function readReported (state, patch) {
  /** @param {string} path @param {any} v */
  const prop = (path, v) => {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !('ac' in v || 'av' in v || 'ad' in v)) return
    const bad = []
    if (!Number.isInteger(v.ac)) bad.push('ac must be an integer status')
    if (!Number.isInteger(v.av) || v.av < 0) bad.push('av must be the desired $version answered (an integer >= 0)')
    if (!('value' in v)) bad.push('value is missing')
    if ('ad' in v && typeof v.ad !== 'string') bad.push('ad must be a string')
    if (bad.length) state.violations.push(`${path}: ${bad.join('; ')}`)
    else state.acks[path] = v
  }
  for (const [k, v] of Object.entries(patch || {})) {
    if (k.startsWith('$')) continue
    if (v && typeof v === 'object' && v.__t === 'c') {
      if (!state.components.includes(k)) state.components.push(k)
      for (const [p, pv] of Object.entries(v)) if (p !== '__t') prop(`${k}.${p}`, pv)
    } else prop(k, v)
  }
}
