// The hub's side of an allocation-accounting session (tools/engines/measure.js measureHubSession, and the Node
// device of test/helpers/alloc-node.ts): as a device's telemetry arrives at the emulator, a C2D message every
// `c2dEvery` messages; over MQTT also a desired-properties update every `desiredEvery` and a direct method every
// `methodEvery` (one at a time; every fifth an unknown method, answered 501). Nothing more is sent once `stopAt`
// messages arrived, so that every event is delivered before the device ends.

/**
 * @param {any} hub the emulator (tools/hub startHub)
 * @param {string} id device id
 * @param {{ http?: boolean, stopAt?: number, c2dEvery?: number, desiredEvery?: number, methodEvery?: number }} [o]
 */
export function driveHub(hub, id, o = {}) {
  const C2D = o.c2dEvery || 40, DESIRED = o.desiredEvery || 60, METHOD = o.methodEvery || 50;
  const side = { seen: 0, c2dSent: 0, desiredSent: 0, methodsCalled: 0, methodsOk: 0, methods501: 0, methodErrors: /** @type {string[]} */ ([]) };
  /** @type {Promise<void>[]} */
  const pending = [];
  let busy = false;
  /** @param {any} m */
  const onTelemetry = (m) => {
    if (m.deviceId != id) return;
    const seen = ++side.seen;
    if (o.stopAt && seen > o.stopAt) return;
    if (seen % C2D == 0 && hub.c2dQueue(id).length < 20) {
      // bodies of 6 to 205 bytes, properties with an escape
      hub.sendC2D(id, `c2d ${seen} ` + "x".repeat(seen % 200), { k: "v w", n: String(seen), "$.mid": "m-" + seen });
      side.c2dSent++;
    }
    if (o.http) return;
    if (seen % DESIRED == 0) {
      hub.updateDesired(id, { n: seen, interval: seen % 7 });
      side.desiredSent++;
    }
    if (seen % METHOD == 0 && !busy) {
      busy = true;
      side.methodsCalled++;
      const unknown = side.methodsCalled % 5 == 0;
      pending.push(
        hub.invokeMethod(id, unknown ? "nosuch" : "ping", { n: seen }, 10000).then(
          (/** @type {any} */ r) => {
            if (unknown && r.status == 501) side.methods501++;
            else if (!unknown && r.status == 200 && r.payload && r.payload.n == seen) side.methodsOk++;
            else side.methodErrors.push(JSON.stringify(r));
          },
          (/** @type {any} */ e) => { side.methodErrors.push(String(e && e.message || e)); },
        ).finally(() => { busy = false; }),
      );
    }
  };
  hub.on("telemetry", onTelemetry);
  return {
    side,
    /** Stops listening; resolves once every method call has its answer. */
    async stop() {
      hub.off("telemetry", onTelemetry);
      await Promise.all(pending);
      return side;
    },
  };
}
