// IoT Edge routing: the emulator as the Edge hub of an Edge device. A deployment gives the Edge hub its routes
// ($edgeHub desired properties, `routes: { name: "FROM ... INTO ..." }`); the emulator takes the same strings:
//
//   FROM /messages/*                                   INTO $upstream
//   FROM /messages/modules/filter/*                    INTO BrokeredEndpoint("/modules/sink/inputs/in1")
//   FROM /messages/modules/filter/outputs/alerts       INTO BrokeredEndpoint("/modules/sink/inputs/alerts")
//
// A module's telemetry (devices/{d}/modules/{m}/messages/events/{bag}, the output name in `$.on`) goes where the
// routes of its device send it: to the hub's own telemetry ($upstream), and/or as an input message to another
// module of the same device (devices/{d}/modules/{m2}/inputs/{input}/{bag}, QoS 1, kept until PUBACK, as the Edge
// hub stores and forwards). A message no route matches is dropped, as the Edge hub drops it. A device without
// routes is not an Edge device: its modules' telemetry goes upstream and they cannot subscribe to inputs.
// Route conditions (WHERE) are not supported: setting one is refused.
import { HubError } from './registry.js'

const ROUTE = /^FROM\s+\/messages\/(\*|modules\/([^/\s]+)\/(\*|outputs\/(\*|[^/\s]+)))\s+INTO\s+(\$upstream|BrokeredEndpoint\(\s*"\/modules\/([^/"\s]+)\/inputs\/([^/"\s]+)"\s*\))\s*$/i

/**
 * @typedef {{ name: string, module: string | null, output: string | null, upstream: boolean, toModule?: string, input?: string }} Route
 *   module/output null: any (output null also matches a message without an output name)
 */

/**
 * One route string, parsed.
 * @param {string} name @param {string} text
 * @returns {Route}
 */
export function parseRoute (name, text) {
  const m = ROUTE.exec(String(text).trim())
  if (!m) {
    throw new HubError(400, /\bWHERE\b/i.test(text)
      ? `route ${name}: conditions (WHERE) are not supported by the emulator`
      : `route ${name}: ${JSON.stringify(text)} is not FROM /messages/* | /messages/modules/{m}/* | /messages/modules/{m}/outputs/{o|*} INTO $upstream | BrokeredEndpoint("/modules/{m}/inputs/{i}")`)
  }
  const [, , module, rest, output, into, toModule, input] = m
  return {
    name,
    module: module ?? null,
    output: rest === '*' || output === '*' || output === undefined ? null : output,
    // "/messages/modules/m/outputs/*" matches only messages that have an output name
    ...(output === '*' ? { anyOutput: true } : {}),
    upstream: into.toLowerCase() === '$upstream',
    toModule,
    input
  }
}

/**
 * Whether `r` takes a message of `moduleId` with output name `output` (undefined: none).
 * @param {Route & { anyOutput?: boolean }} r @param {string} moduleId @param {string | undefined | null} output
 */
export function routeMatches (r, moduleId, output) {
  if (r.module !== null && r.module !== moduleId) return false
  if (r.output !== null) return r.output === output
  return !r.anyOutput || !!output
}
