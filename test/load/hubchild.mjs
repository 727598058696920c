// The hub emulator in its own process for the load run (so the run's memory figures are the clients'
// alone): started on 127.0.0.1 with N devices, then driven over IPC.
//   parent -> {cmd: "start", dir, devices, prefix}      child -> {ready: {ports, ca, hubName, keys}}
//   parent -> {cmd: "stats"}                             child -> {stats: {telemetry, connected, errors, rss}}
//   parent -> {cmd: "stop"}                              child exits
import { startHub } from '../../tools/hub/index.js'

let hub = null
let telemetry = 0
let errors = 0
const errorSamples = []

function error (what) {
  errors++
  if (errorSamples.length < 10) errorSamples.push(what)
}

process.on('message', async (m) => {
  try {
    if (m.cmd === 'start') {
      hub = await startHub({ dir: m.dir, log: false, plainPort: 0, telemetryLimit: 10 })
      // one registry write for all devices, not one per device
      const save = hub.registry.save
      hub.registry.save = () => {}
      const keys = []
      for (let i = 0; i < m.devices; i++) keys.push(hub.registry.addDevice(m.prefix + i).primaryKey)
      hub.registry.save = save
      hub.registry.save()
      hub.on('telemetry', () => telemetry++)
      // anything the broker reports as going wrong with a client or a connection
      hub.mqtt.broker.on('clientError', (c, e) => error(`clientError ${c && c.id}: ${e && e.message}`))
      hub.mqtt.broker.on('connectionError', (c, e) => error(`connectionError ${c && c.id}: ${e && e.message}`))
      process.send({ ready: { ports: hub.ports, ca: hub.ca, hubName: hub.hubName, keys } })
    } else if (m.cmd === 'stats') {
      let connected = 0
      for (const id of Object.keys(hub.mqtt.broker.clients)) if (hub.mqtt.broker.clients[id].connected) connected++
      process.send({ stats: { telemetry, connected, errors, errorSamples, rss: process.memoryUsage().rss } })
    } else if (m.cmd === 'stop') {
      if (hub) await hub.close()
      process.exit(0)
    }
  } catch (e) {
    process.send({ failed: String(e && e.stack || e) })
  }
})
process.on('disconnect', () => process.exit(0))
