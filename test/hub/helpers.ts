// Test helpers for the hub emulator: SAS tokens made here with Node crypto (independent of
// the library's own SAS code), hubs in temporary directories, MQTT.js devices.
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import type { IClientOptions, MqttClient, Packet } from 'mqtt'
import { startHub } from '../../tools/hub/index.js'

export type Hub = Awaited<ReturnType<typeof startHub>>

export const API = 'api-version=2021-04-12'

/** A SAS token, built by hand. */
export function sas (resource: string, key: string, expiry = Math.floor(Date.now() / 1000) + 3600, policy?: string): string {
  const sr = encodeURIComponent(resource)
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${expiry}`).digest('base64')
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expiry}` + (policy ? `&skn=${policy}` : '')
}

/** The SAS resource of a device or `device/module` on `hub`. */
export function resource (hub: Hub, id: string): string {
  const [deviceId, moduleId] = id.split('/')
  return `${hub.hubName}/devices/${deviceId}` + (moduleId ? `/modules/${moduleId}` : '')
}

/** Start a quiet hub in a fresh directory; `stop()` closes it and removes the directory. */
export async function testHub (options: Parameters<typeof startHub>[0] = {}): Promise<Hub & { stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tinyhub-hub-'))
  const hub = await startHub({ dir, log: false, ...options }).catch(err => {
    rmSync(dir, { recursive: true, force: true })
    throw err
  })
  return Object.assign(hub, {
    async stop () {
      await hub.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

/** TLS options that verify the emulator's certificate for `localhost`. */
export function tlsTo (hub: Hub, port = hub.ports.mqtts): IClientOptions {
  return { protocol: 'mqtts', host: '127.0.0.1', port, ca: hub.ca, servername: 'localhost', rejectUnauthorized: true }
}

/** MQTT.js options for a device (or `device/module`) with its registered key. */
export function deviceOptions (hub: Hub, id: string, extra: IClientOptions = {}): IClientOptions {
  const ident = hub.registry.get(id)!
  return {
    ...tlsTo(hub),
    clientId: id,
    username: `${hub.hubName}/${id}/?${API}`,
    password: sas(resource(hub, id), ident.primaryKey!),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 3000,
    ...extra
  }
}

const open: MqttClient[] = []

/** Connect with MQTT.js, no retries: resolves on CONNACK 0, rejects with the refusal. */
export function dial (options: IClientOptions): Promise<MqttClient> {
  const url = `${options.protocol}://${options.hostname ?? options.host}:${options.port}${options.path ?? ''}`
  return within(mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...options }, false), 5000, `connect ${url}`)
}

/** Connect a device; every client made here is ended by `endAll()`. */
export async function connect (hub: Hub, id: string, extra: IClientOptions = {}): Promise<MqttClient> {
  const client = await dial(deviceOptions(hub, id, extra))
  open.push(client)
  return client
}

/** The CONNACK return code of a refused connection (0 if it was accepted). */
export async function connackCode (options: IClientOptions): Promise<number> {
  try {
    const client = await dial(options)
    await client.endAsync()
    return 0
  } catch (err) {
    return (err as { code?: number }).code ?? -1
  }
}

export async function endAll (): Promise<void> {
  await Promise.all(open.splice(0).map(c => c.endAsync(true)))
}

/** Reject if `promise` takes longer than `ms`. */
export function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms) })
  ])
}

/** The next message on `client` whose topic starts with `prefix`. */
export function nextMessage (client: MqttClient, prefix: string, ms = 3000): Promise<{ topic: string, payload: Buffer, qos: number, dup: boolean }> {
  return within(new Promise(resolve => {
    const listener = (topic: string, payload: Buffer, packet: { qos: number, dup: boolean }) => {
      if (!topic.startsWith(prefix)) return
      client.off('message', listener)
      resolve({ topic, payload, qos: packet.qos, dup: packet.dup })
    }
    client.on('message', listener)
  }), ms, `message on ${prefix}`)
}

/** Subscribe and return the SUBACK's granted list as sent (MQTT.js turns a 0x80 into an error). */
export function grants (client: MqttClient, topics: string[], qos: 0 | 1 | 2 = 1): Promise<number[]> {
  const suback = within(new Promise<number[]>(resolve => {
    const listener = (packet: Packet) => {
      if (packet.cmd !== 'suback') return
      client.off('packetreceive', listener)
      resolve(packet.granted as number[])
    }
    client.on('packetreceive', listener)
  }), 3000, `subscribe ${topics}`)
  client.subscribe(topics, { qos }, () => {})
  return suback
}

/** Resolves when the client's connection closes. */
export function closed (client: MqttClient, ms = 3000): Promise<void> {
  return within(new Promise(resolve => client.once('close', () => resolve())), ms, 'connection close')
}

/** Wait for an event of an EventEmitter. */
export function once<T = unknown> (emitter: { once: (name: string, f: (v: T) => void) => unknown }, name: string, ms = 3000): Promise<T> {
  return within(new Promise<T>(resolve => emitter.once(name, resolve)), ms, `event ${name}`)
}
