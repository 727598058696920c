// `tinyhub hub`: run the IoT Hub emulator standalone and print how to reach it.
import { parseArgs } from 'node:util'
import { startHub } from './index.js'

export const summary = 'run the local IoT Hub emulator (MQTT/TLS, AMQPS, WebSockets, HTTPS, DPS, admin API)'

const USAGE = `usage: tinyhub hub [options]

  --dir DIR          registry and certificates (default .hub)
  --port N           MQTT over TLS (default 8883)
  --https-port N     MQTT and AMQP over WebSockets and the HTTPS device API (default 8443)
  --amqps-port N     AMQP 1.0 over TLS (default 5671)
  --dps-port N       DPS over MQTT/TLS (default 8884)
  --plain-port N     plain MQTT without TLS (default off)
  --admin-port N     admin HTTP API (default 8080)
  --host NAME        the name devices connect to (default localhost)
  --hub-name NAME    the IoT Hub host name (default tinyhub-emu.azure-devices.net)
  --storage          file upload: Azurite's blob service (the azurite package) as the hub's storage account
  --quiet            do not log traffic
Ports of 0 are picked by the system.`

/** @param {string[]} args */
export async function run (args) {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string', default: '.hub' },
      port: { type: 'string', default: '8883' },
      'https-port': { type: 'string', default: '8443' },
      'amqps-port': { type: 'string', default: '5671' },
      'dps-port': { type: 'string', default: '8884' },
      'plain-port': { type: 'string' },
      'admin-port': { type: 'string', default: '8080' },
      host: { type: 'string', default: 'localhost' },
      'hub-name': { type: 'string' },
      storage: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help) return console.log(USAGE)
  const port = (/** @type {string | undefined} */ v) => {
    if (v === undefined) return null
    const n = Number(v)
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`bad port ${v}`)
    return n
  }
  const hub = await startHub({
    dir: values.dir,
    host: values.host,
    hubName: values['hub-name'],
    mqttsPort: port(values.port),
    httpsPort: port(values['https-port']),
    amqpsPort: port(values['amqps-port']),
    dpsPort: port(values['dps-port']),
    plainPort: port(values['plain-port']),
    adminPort: port(values['admin-port']),
    storage: values.storage,
    log: values.quiet ? false : undefined
  })
  const { ports, host } = hub
  const lines = [
    `tinyhub IoT Hub emulator, hub ${hub.hubName}`,
    `  MQTT/TLS     ${host}:${ports.mqtts}`,
    ports.plain !== undefined && `  MQTT (plain) ${host}:${ports.plain}`,
    `  AMQP/TLS     amqps://${host}:${ports.amqps}`,
    `  WebSockets   wss://${host}:${ports.https}/$iothub/websocket (mqtt, AMQPWSB10)`,
    `  HTTPS API    https://${host}:${ports.https}/devices/{id}/messages/events?api-version=2020-03-13`,
    `  DPS          ${host}:${ports.dps}  ID scope ${hub.dpsIdScope}`,
    `  file upload  ${hub.storage ? `https://${hub.storage.hostName}/${hub.storage.container} (Azurite)` : 'off (--storage to start Azurite)'}`,
    `  admin API    http://127.0.0.1:${ports.admin}/devices`,
    `  CA           ${hub.caPath}`,
    '',
    'devices:',
    ...hub.registry.ids().map(id => `  ${id}\n    ${hub.registry.connectionString(id)}`)
  ]
  const stop = () => {
    hub.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  console.log(lines.filter(l => l !== false).join('\n'))
}
