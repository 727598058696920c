// The device registry: identities, keys, twins and DPS enrollments, kept in one JSON file.
import { createHmac, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

/** Device and module ids: 1–128 of the characters IoT Hub allows (no `/`). */
const ID = /^[A-Za-z0-9\-.+%_#*?!(),:=@$']{1,128}$/
const MAX_TWIN_PART = 32 * 1024
export const DEMO_DEVICE = 'demo-device'

/**
 * @typedef {Record<string, any>} Json
 * @typedef {{ desired: Json, reported: Json }} Twin
 * @typedef {{ auth: 'sas' | 'x509', primaryKey?: string, secondaryKey?: string,
 *   thumbprint?: string, secondaryThumbprint?: string, status: 'enabled' | 'disabled', twin: Twin }} Identity
 * @typedef {Identity & { modules: Record<string, Identity> }} Device
 * @typedef {{ primaryKey?: string, secondaryKey?: string, auth?: 'sas' | 'x509',
 *   thumbprint?: string, secondaryThumbprint?: string, status?: 'enabled' | 'disabled' }} IdentityOptions
 * @typedef {{ primaryKey: string, secondaryKey: string, rights: string[] }} Policy
 * @typedef {{ key?: string, auth?: 'x509', thumbprint?: string }} Enrollment an individual enrollment: a
 *   symmetric key, or X.509 (the registration id is the certificate's CN; the certificate has `thumbprint`, or
 *   without one is signed by the emulator's CA)
 * @typedef {{ idScope: string, devices: Record<string, Device>, enrollments: Record<string, Enrollment>,
 *   groupEnrollments: Record<string, { key: string }>, policies: Record<string, Policy> }} RegistryData
 */

/** Rights a shared access policy may hold (DeviceConnect is what lets its tokens connect devices). */
export const RIGHTS = ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect']
/** The policies a new hub has, as in a new IoT Hub: `iothubowner` (all rights) and `device`. */
const DEFAULT_POLICIES = { iothubowner: RIGHTS, device: ['DeviceConnect'] }

/** A new base64 symmetric key: 32 random bytes, like the service generates. */
export const newKey = () => randomBytes(32).toString('base64')

/**
 * The device key of `registrationId` in a symmetric-key enrollment group: base64(HMAC-SHA256(base64-decoded group
 * key, registrationId)), as DPS derives it.
 * @param {string} groupKey
 * @param {string} registrationId
 */
export const derivedKey = (groupKey, registrationId) =>
  createHmac('sha256', Buffer.from(groupKey, 'base64')).update(registrationId).digest('base64')

/** An error carrying the HTTP status the service would answer. */
export class HubError extends Error {
  /** @param {number} status @param {string} message */
  constructor (status, message) {
    super(message)
    this.status = status
  }
}

export class Registry {
  /**
   * Open `file`, or create it with one demo device.
   * @param {string} file
   * @param {{ hubName: string, host: string }} names hub name (in user names, SAS and
   *   connection strings) and the host devices connect to (GatewayHostName when they differ)
   */
  constructor (file, { hubName, host }) {
    this.file = file
    this.hubName = hubName
    this.host = host
    /** @type {RegistryData} */
    this.data = existsSync(file)
      ? JSON.parse(readFileSync(file, 'utf8'))
      : { idScope: '0ne' + randomBytes(4).toString('hex').toUpperCase(), devices: {}, enrollments: {}, groupEnrollments: {}, policies: {} }
    this.data.groupEnrollments ??= {} // a registry file from before enrollment groups
    if (!this.data.policies) { // a registry file from before policies
      this.data.policies = {}
      for (const [name, rights] of Object.entries(DEFAULT_POLICIES)) this.addPolicy(name, rights)
    }
    if (!existsSync(file)) {
      for (const [name, rights] of Object.entries(DEFAULT_POLICIES)) this.addPolicy(name, rights)
      this.addDevice(DEMO_DEVICE)
    }
  }

  /**
   * Create (or update) a hub-level shared access policy. Tokens signed with its key and naming
   * it in `skn` connect any device (and module) when it has DeviceConnect.
   * @param {string} name
   * @param {string[]} [rights] default: the policy's rights, or DeviceConnect for a new one
   * @param {{ primaryKey?: string, secondaryKey?: string }} [keys]
   * @returns {Policy & { name: string }}
   */
  addPolicy (name, rights, keys = {}) {
    if (typeof name !== 'string' || !/^[A-Za-z0-9\-._]{1,64}$/.test(name)) throw new HubError(400, `invalid policy name ${JSON.stringify(name)}`)
    const old = this.policy(name)
    rights ??= old?.rights ?? ['DeviceConnect']
    if (!Array.isArray(rights) || !rights.length || rights.some(r => !RIGHTS.includes(r))) throw new HubError(400, `rights are some of ${RIGHTS.join(', ')}`)
    const policy = { primaryKey: keys.primaryKey || old?.primaryKey || newKey(), secondaryKey: keys.secondaryKey || old?.secondaryKey || newKey(), rights: [...rights] }
    this.data.policies[name] = policy
    this.save()
    return { name, ...policy }
  }

  /** @param {string} name @returns {Policy | undefined} */
  policy (name) {
    return Object.hasOwn(this.data.policies, name) ? this.data.policies[name] : undefined
  }

  /**
   * The device connection string that authenticates with a policy instead of the device's key
   * (`SharedAccessKeyName`, as the service's connection strings for policies).
   * @param {string} policyName
   * @param {string} id device id or `deviceId/moduleId`
   */
  policyConnectionString (policyName, id) {
    const policy = this.policy(policyName)
    if (!policy) throw new HubError(404, `no policy ${policyName}`)
    this.mustGet(id)
    const [deviceId, moduleId] = id.split('/')
    const parts = [`HostName=${this.hubName}`, `DeviceId=${deviceId}`]
    if (moduleId) parts.push(`ModuleId=${moduleId}`)
    parts.push(`SharedAccessKeyName=${policyName}`, `SharedAccessKey=${policy.primaryKey}`)
    if (this.host !== this.hubName) parts.push(`GatewayHostName=${this.host}`)
    return parts.join(';')
  }

  /** The DPS ID scope of this emulator. */
  get idScope () { return this.data.idScope }

  /**
   * The identity for `id`: a device id, or `deviceId/moduleId` for a module.
   * @param {string} id
   * @returns {Identity | undefined}
   */
  get (id) {
    const [deviceId, moduleId] = id.split('/')
    const device = Object.hasOwn(this.data.devices, deviceId) ? this.data.devices[deviceId] : undefined
    if (moduleId === undefined) return device
    return device && Object.hasOwn(device.modules, moduleId) ? device.modules[moduleId] : undefined
  }

  /** Every device and module id (`deviceId/moduleId`). */
  ids () {
    return Object.entries(this.data.devices).flatMap(([d, dev]) => [d, ...Object.keys(dev.modules).map(m => `${d}/${m}`)])
  }

  /**
   * Create a device, or update the given fields of an existing one.
   * @param {string} deviceId
   * @param {IdentityOptions} [options]
   * @returns {Device}
   */
  addDevice (deviceId, options = {}) {
    check(deviceId)
    const devices = this.data.devices
    if (!Object.hasOwn(devices, deviceId)) devices[deviceId] = { ...identity(), modules: {} }
    Object.assign(devices[deviceId], defined(options))
    this.save()
    return devices[deviceId]
  }

  /**
   * Create a module identity on an existing device, or update it.
   * @param {string} deviceId
   * @param {string} moduleId
   * @param {IdentityOptions} [options]
   * @returns {Identity}
   */
  addModule (deviceId, moduleId, options = {}) {
    check(moduleId)
    const device = /** @type {Device | undefined} */ (this.get(deviceId))
    if (!device) throw new HubError(404, `no device ${deviceId}`)
    if (!Object.hasOwn(device.modules, moduleId)) device.modules[moduleId] = identity()
    Object.assign(device.modules[moduleId], defined(options))
    this.save()
    return device.modules[moduleId]
  }

  /** Delete a device (with its modules) or a module. @param {string} id */
  remove (id) {
    if (!this.get(id)) throw new HubError(404, `no device ${id}`)
    const [deviceId, moduleId] = id.split('/')
    if (moduleId === undefined) delete this.data.devices[deviceId]
    else delete this.data.devices[deviceId].modules[moduleId]
    this.save()
  }

  /**
   * Create (or re-key) an individual DPS enrollment: with a symmetric key (`key`, or a new one), or, with
   * `{ auth: 'x509' }`, for the client certificate whose CN is `registrationId` (and whose thumbprint is
   * `thumbprint`, SHA-1 or SHA-256 hex, when given; else any signed by the emulator's CA).
   * @overload
   * @param {string} registrationId
   * @param {string} [key]
   * @param {{ auth?: 'sas' }} [options]
   * @returns {{ registrationId: string, key: string }}
   */
  /**
   * @overload
   * @param {string} registrationId
   * @param {string | undefined} key
   * @param {{ auth: 'x509', thumbprint?: string }} options
   * @returns {{ registrationId: string, auth: 'x509', thumbprint?: string }}
   */
  /**
   * @param {string} registrationId
   * @param {string} [key]
   * @param {{ auth?: 'sas' | 'x509', thumbprint?: string }} [options]
   * @returns {Enrollment & { registrationId: string }}
   */
  addEnrollment (registrationId, key, { auth, thumbprint } = {}) {
    check(registrationId)
    if (auth !== undefined && auth !== 'sas' && auth !== 'x509') throw new HubError(400, 'auth is sas or x509')
    const enrollments = this.data.enrollments
    enrollments[registrationId] = auth === 'x509'
      ? { auth, ...(thumbprint ? { thumbprint } : {}) }
      : { key: key || enrollments[registrationId]?.key || newKey() }
    this.save()
    return { registrationId, ...enrollments[registrationId] }
  }

  /** @param {string} registrationId @returns {Enrollment | undefined} */
  enrollment (registrationId) {
    return Object.hasOwn(this.data.enrollments, registrationId) ? this.data.enrollments[registrationId] : undefined
  }

  /**
   * Create (or re-key) a symmetric-key enrollment group: a device registers with any registration id and the
   * key derived from the group key (`derivedKey`), unless an individual enrollment has that id.
   * @param {string} name
   * @param {string} [key] base64 group key (default: the group's, or a new one)
   */
  addGroupEnrollment (name, key) {
    check(name)
    if (key !== undefined && !Buffer.from(key, 'base64').length) throw new HubError(400, 'key is base64')
    const groups = this.data.groupEnrollments
    groups[name] = { key: key || groups[name]?.key || newKey() }
    this.save()
    return { name, ...groups[name] }
  }

  /** @param {string} name @returns {{ key: string } | undefined} */
  groupEnrollment (name) {
    return Object.hasOwn(this.data.groupEnrollments, name) ? this.data.groupEnrollments[name] : undefined
  }

  /**
   * A copy of the twin of `id`: `{desired: {..., $version}, reported: {..., $version}}`.
   * @param {string} id
   * @returns {Twin}
   */
  twin (id) {
    return structuredClone(this.mustGet(id).twin)
  }

  /**
   * Merge `patch` into the desired or reported properties (null deletes a key, objects
   * merge recursively, `$` keys are ignored) and bump that part's $version.
   * @param {string} id
   * @param {'desired' | 'reported'} part
   * @param {unknown} patch
   * @returns {number} the new $version
   */
  patchTwin (id, part, patch) {
    const twin = this.mustGet(id).twin
    if (!isObject(patch)) throw new HubError(400, 'a twin patch is a JSON object')
    const next = structuredClone(twin[part])
    merge(next, patch)
    if (JSON.stringify(next).length > MAX_TWIN_PART) throw new HubError(400, `${part} properties over 32 KB`)
    next.$version = (twin[part].$version || 0) + 1
    twin[part] = next
    this.save()
    return next.$version
  }

  /**
   * The connection string a device (or module) uses with this emulator.
   * @param {string} id device id or `deviceId/moduleId`
   * @param {string} [moduleId]
   */
  connectionString (id, moduleId) {
    if (moduleId) id = `${id}/${moduleId}`
    const ident = this.mustGet(id)
    const [deviceId, mid] = id.split('/')
    const parts = [`HostName=${this.hubName}`, `DeviceId=${deviceId}`]
    if (mid) parts.push(`ModuleId=${mid}`)
    parts.push(ident.auth === 'x509' ? 'x509=true' : `SharedAccessKey=${ident.primaryKey}`)
    if (this.host !== this.hubName) parts.push(`GatewayHostName=${this.host}`)
    return parts.join(';')
  }

  /**
   * The SAS resource URIs a token for `id` may name: `{host}/devices/{id}[/modules/{mid}]`,
   * with the hub name or the host devices connect to.
   * @param {string} id device id or `deviceId/moduleId`
   */
  sasResources (id) {
    const [deviceId, moduleId] = id.split('/')
    const path = `/devices/${deviceId}` + (moduleId ? `/modules/${moduleId}` : '')
    return [...new Set([this.hubName, this.host])].map(h => h + path)
  }

  /** @param {string} id */
  mustGet (id) {
    const ident = this.get(id)
    if (!ident) throw new HubError(404, `no device ${id}`)
    return ident
  }

  /** Write the file (atomically). */
  save () {
    writeFileSync(this.file + '.tmp', JSON.stringify(this.data, null, 2) + '\n')
    renameSync(this.file + '.tmp', this.file)
  }
}

/** @returns {Identity} */
function identity () {
  return {
    auth: 'sas',
    primaryKey: newKey(),
    secondaryKey: newKey(),
    status: 'enabled',
    twin: { desired: { $version: 1 }, reported: { $version: 1 } }
  }
}

/** @param {string} id */
function check (id) {
  if (typeof id !== 'string' || !ID.test(id)) throw new HubError(400, `invalid id ${JSON.stringify(id)}`)
}

const OPTIONS = ['primaryKey', 'secondaryKey', 'auth', 'thumbprint', 'secondaryThumbprint', 'status']

/** The identity options present in `o`. @param {Record<string, unknown>} o */
function defined (o) {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && OPTIONS.includes(k)))
}

/** @param {unknown} v @returns {v is Json} */
function isObject (v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** @param {Json} target @param {Json} patch */
function merge (target, patch) {
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$') || key === '__proto__') continue
    if (value === null) delete target[key]
    else if (isObject(value)) {
      if (!isObject(target[key])) target[key] = {}
      merge(target[key], value)
    } else target[key] = value
  }
}
