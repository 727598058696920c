// The official Azure IoT device SDK for Node pointed at the emulator. The SDK always dials the
// service's ports (8883, 443) on the names in the connection string; here the dial is redirected to
// the emulator on 127.0.0.1 through the hooks the SDK itself offers (MqttBase takes an MQTT.js-like
// provider, the HTTP layers take an `http.agent`), and every destination the SDK chose is recorded
// so a test can check it (host, port, path) as well as what the hub received.
import { createRequire } from 'node:module'
import https from 'node:https'
import tls from 'node:tls'
import type { Client as SdkClient, ModuleClient as SdkModuleClient, Message as SdkMessage } from 'azure-iot-device'
import type { RegistrationResult } from 'azure-iot-provisioning-device'
import type { Hub } from '../hub/helpers'
import type { Telemetry } from '../../tools/hub/index.js'

import { within } from '../hub/helpers'
export { testHub, within } from '../hub/helpers'
export type { Hub } from '../hub/helpers'

// The SDK packages are CommonJS whose named exports Node's ESM loader does not all detect: required.
const require = createRequire(import.meta.url)
const { Client, ModuleClient, Message } = require('azure-iot-device') as typeof import('azure-iot-device')
const { Mqtt, MqttWs } = require('azure-iot-device-mqtt') as typeof import('azure-iot-device-mqtt')
const { Amqp, AmqpWs } = require('azure-iot-device-amqp') as typeof import('azure-iot-device-amqp')
// the package's index.d.ts declares `Http` as the module namespace while index.js exports the class
const { Http } = require('azure-iot-device-http') as typeof import('azure-iot-device-http/dist/http')
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device') as typeof import('azure-iot-provisioning-device')
const { Mqtt: ProvisioningMqtt, MqttWs: ProvisioningMqttWs } = require('azure-iot-provisioning-device-mqtt') as typeof import('azure-iot-provisioning-device-mqtt')
const { Http: ProvisioningHttp } = require('azure-iot-provisioning-device-http') as typeof import('azure-iot-provisioning-device-http')
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key') as typeof import('azure-iot-security-symmetric-key')
export { Message }
type Message = SdkMessage
type Client = import('azure-iot-device').Client
type ModuleClient = import('azure-iot-device').ModuleClient

export type TransportName = 'Mqtt' | 'MqttWs' | 'Http' | 'Amqp' | 'AmqpWs'
export const MQTT_TRANSPORTS: TransportName[] = ['Mqtt', 'MqttWs']
export const AMQP_TRANSPORTS: TransportName[] = ['Amqp', 'AmqpWs']

/** Where the SDK meant to go: `mqtts://host`, `amqps://host`, `wss://host:443/$iothub/websocket`, `https://host:443`. */
export interface Dial { url: string, username?: string, clientId?: string, password?: string, keepalive?: number, clean?: boolean }

/**
 * The MqttBase class an SDK package uses and the MQTT.js under it, as that package resolves them
 * (the provisioning packages nest their own copies).
 */
export function sdkMqtt (pkg: 'azure-iot-device-mqtt' | 'azure-iot-provisioning-device-mqtt') {
  const base = createRequire(require.resolve(pkg)).resolve('azure-iot-mqtt-base')
  return { MqttBase: createRequire(base)('azure-iot-mqtt-base').MqttBase, mqtt: createRequire(base)('mqtt') }
}

/**
 * An MQTT.js-shaped provider for MqttBase: records the URL and CONNECT options the SDK chose and
 * connects, with the SDK's own MQTT.js, to the emulator instead: `port` when given (DPS), else
 * the HTTPS port for wss: and the MQTT port for mqtts:. The TLS name stays the one the SDK meant
 * (`servername`), so the certificate is still verified; the emulator's CA is trusted when the SDK
 * gives none (its provisioning transports have no such option: an application would set
 * NODE_EXTRA_CA_CERTS).
 */
export function mqttProvider (hub: Hub, dialed: Dial[], mqtt: any, port?: number) {
  return {
    connect (url: string, options: any) {
      const u = new URL(url)
      dialed.push({ url, username: options.username, clientId: options.clientId, password: options.password, keepalive: options.keepalive, clean: options.clean })
      const to = port ?? (u.protocol === 'wss:' ? hub.ports.https : hub.ports.mqtts)
      return mqtt.connect(`${u.protocol}//127.0.0.1:${to}${u.pathname === '/' ? '' : u.pathname}`, { ...options, ca: options.ca ?? hub.ca, servername: u.hostname })
    }
  }
}

/**
 * An https.Agent that records the host and port each request meant and connects to the emulator's
 * HTTPS port instead, keeping the TLS name the request chose.
 */
export class HubAgent extends https.Agent {
  private readonly port: number
  private readonly dialed: Dial[]
  constructor (port: number, dialed: Dial[]) {
    super({ keepAlive: false })
    this.port = port
    this.dialed = dialed
  }

  createConnection (options: any): any {
    this.dialed.push({ url: `https://${options.host}:${options.port}` })
    return tls.connect({ ...options, host: '127.0.0.1', port: this.port, servername: options.servername || options.host })
  }
}

/**
 * The SDK's AMQP layer (azure-iot-amqp-base, which its Amqp transport takes as a second argument), recording the
 * URI the SDK chose and, for amqps:, connecting to the emulator's AMQPS port through the layer's own
 * `policyOverride` (the connection parameters it hands to rhea), keeping the TLS name so the certificate is verified.
 * AmqpWs takes no such argument: its WebSocket goes through the `amqp.webSocketAgent` option (a HubAgent).
 */
export function amqpBase (hub: Hub, dialed: Dial[]): any {
  const { Amqp: AmqpBase } = createRequire(require.resolve('azure-iot-device-amqp'))('azure-iot-amqp-base')
  const base = new AmqpBase(false)
  const connect = base.connect.bind(base)
  base.connect = (config: any, done: unknown) => {
    const u = new URL(config.uri)
    dialed.push({ url: config.uri })
    return connect({ ...config, policyOverride: { host: '127.0.0.1', port: hub.ports.amqps, servername: u.hostname } }, done)
  }
  return base
}

export interface SdkDevice<C> { client: C, dialed: Dial[] }

/**
 * A device (or module, when the connection string has a ModuleId) client of the official SDK over
 * `transport`, made with `fromConnectionString` as an application would, trusting the emulator's CA.
 */
export function sdkClient (hub: Hub, connectionString: string, transport: TransportName, options: Record<string, unknown> = {}): Promise<SdkDevice<Client>> {
  return make(Client, hub, connectionString, transport, options) as Promise<SdkDevice<Client>>
}

export function sdkModuleClient (hub: Hub, connectionString: string, transport: TransportName, options: Record<string, unknown> = {}): Promise<SdkDevice<ModuleClient>> {
  return make(ModuleClient, hub, connectionString, transport, options) as Promise<SdkDevice<ModuleClient>>
}

const open: { close: () => Promise<unknown> }[] = []

/**
 * Register with the emulator's DPS as the SDK's ProvisioningDeviceClient does, over its MQTT or
 * HTTPS provisioning transport, with a symmetric key (an individual enrollment's, or one derived from
 * a group's) or an X.509 certificate (`{ cert, key }` PEM; the security client is the SDK's
 * X509SecurityClient interface, what its azure-iot-security-x509 package implements). The provisioning
 * host is the emulator's `host` (its certificate's name); MQTT is redirected to the DPS port, HTTPS to
 * the HTTPS port.
 */
export async function sdkProvision (hub: Hub, registrationId: string, key: string | { cert: string, key: string }, transport: 'Mqtt' | 'MqttWs' | 'Http'): Promise<{ result: RegistrationResult, dialed: Dial[] }> {
  const dialed: Dial[] = []
  let agent: HubAgent | undefined
  let t: unknown
  if (transport !== 'Http') {
    // MQTT/TLS and MQTT over WebSockets (wss://{host}:443/$iothub/websocket) both to the emulator's DPS port
    const { MqttBase, mqtt } = sdkMqtt('azure-iot-provisioning-device-mqtt')
    t = new (transport === 'Mqtt' ? ProvisioningMqtt : ProvisioningMqttWs)(new MqttBase(mqttProvider(hub, dialed, mqtt, hub.ports.dps)))
  } else {
    const base = createRequire(require.resolve('azure-iot-provisioning-device-http')).resolve('azure-iot-http-base')
    const httpBase = new (createRequire(base)('azure-iot-http-base').Http)()
    agent = new HubAgent(hub.ports.https!, dialed)
    httpBase.setOptions({ ca: hub.ca, http: { agent } })
    t = new ProvisioningHttp(httpBase)
  }
  const security = typeof key === 'string'
    ? new SymmetricKeySecurityClient(registrationId, key)
    : { getCertificate: (done: (err: Error | null, cert: unknown) => void) => done(null, key), getRegistrationId: () => registrationId }
  const client = ProvisioningDeviceClient.create(hub.host, hub.dpsIdScope, t as any, security as any) // nested azure-iot-common copies make distinct types
  try {
    return { result: (await client.register()) as RegistrationResult, dialed }
  } finally {
    agent?.destroy()
  }
}

async function make (Kind: any, hub: Hub, connectionString: string, transport: TransportName, options: Record<string, unknown>): Promise<SdkDevice<Client | ModuleClient>> {
  const dialed: Dial[] = []
  const { MqttBase, mqtt } = sdkMqtt('azure-iot-device-mqtt')
  // `new transportCtor(authenticationProvider)` inside fromConnectionString: a function that returns the transport
  const ctor = function (auth: unknown) {
    if (transport === 'Http') return new Http(auth as any)
    if (transport === 'Amqp') return new Amqp(auth as any, amqpBase(hub, dialed))
    if (transport === 'AmqpWs') return new AmqpWs(auth as any)
    const base = new MqttBase(mqttProvider(hub, dialed, mqtt))
    return transport === 'Mqtt' ? new Mqtt(auth as any, base) : new MqttWs(auth as any, base)
  }
  const client = (Kind as any).fromConnectionString(connectionString, ctor)
  client.on('error', () => {}) // errors are asserted through the calls' own results
  const agent = new HubAgent(hub.ports.https!, dialed)
  open.push({ close: () => client.close().catch(() => {}).finally(() => agent.destroy()) })
  // the SDK applies options asynchronously (a retried operation): a request made before it is done dials the real host
  await within(client.setOptions({ ca: hub.ca, http: { agent, receivePolicy: { interval: 1 } }, amqp: { webSocketAgent: agent }, ...options }), 10000, 'setOptions')
  return { client, dialed }
}

/** Close every SDK client made here (stops their polling and token renewal timers). */
export async function closeAll (): Promise<void> {
  await Promise.all(open.splice(0).map(c => c.close()))
}

/** The properties of an SDK Message as a plain object. */
export function propertiesOf (m: Message): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < m.properties.count(); i++) {
    const p = m.properties.getItem(i)
    out[p.key] = p.value
  }
  return out
}

/** The next telemetry the hub stores that `match` accepts. */
export function nextTelemetry (hub: Hub, match: (x: Telemetry) => boolean, ms = 10000): Promise<Telemetry> {
  let listener: (x: Telemetry) => void
  return within(new Promise<Telemetry>(resolve => {
    listener = x => { if (match(x)) resolve(x) }
    hub.on('telemetry', listener)
  }), ms, 'telemetry').finally(() => hub.off('telemetry', listener))
}

/** Resolve when `check()` is true, polling every 20 ms. */
export async function until (check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/**
 * An open device client and module client (`{device}/mod`) per transport, the device `sdk-{transport}` registered with
 * its module: what the scenario files share.
 */
export async function openClients (hub: Hub, transports: TransportName[]) {
  const devices = new Map<TransportName, { id: string, client: SdkClient, dialed: Dial[] }>()
  const modules = new Map<TransportName, { id: string, client: SdkModuleClient }>()
  for (const t of transports) {
    const id = `sdk-${t.toLowerCase()}`
    hub.registry.addDevice(id)
    hub.registry.addModule(id, 'mod')
    const d = await sdkClient(hub, hub.registry.connectionString(id), t)
    await within(d.client.open(), 10000, `${t} open`)
    devices.set(t, { id, ...d })
    const m = await sdkModuleClient(hub, hub.registry.connectionString(id, 'mod'), t)
    await within(m.client.open(), 10000, `${t} module open`)
    modules.set(t, { id: `${id}/mod`, client: m.client })
  }
  return { devices, modules }
}

/** The admin API, as a service application would call it. */
export async function admin (hub: Hub, method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> {
  const r = await fetch(`http://127.0.0.1:${hub.ports.admin}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10000) })
  const text = await r.text()
  return { status: r.status, json: text ? JSON.parse(text) : null }
}

/** Invoke a method, again while the hub answers 404 (the SDK's method subscription or links still on their way), for 10 s at most. */
export async function invokeWhenReady (hub: Hub, id: string, name: string, payload: unknown) {
  const end = Date.now() + 10000
  for (;;) {
    const result = await hub.invokeMethod(id, name, payload, 5000)
    if (result.status !== 404 || Date.now() > end) return result
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/** Send one message and resolve with what the hub stored for `id`. */
export async function roundTrip (hub: Hub, client: { sendEvent: (m: SdkMessage) => Promise<unknown> }, id: string, text: string): Promise<Telemetry> {
  const stored = nextTelemetry(hub, x => x.deviceId === id && x.body.toString() === text)
  await within(client.sendEvent(new Message(text)), 10000, `send ${text}`)
  return stored
}
