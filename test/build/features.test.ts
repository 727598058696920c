import { test } from "uvu";
import * as assert from "uvu/assert";
import { rollup } from "rollup";
import typescript from "@rollup/plugin-typescript";
import { featuresOf } from "../../tools/build-plugins.js";
import { FakeTransport, ManualClock } from "../helpers/fake";
import { u8 } from "../helpers/bytes";
import { refGenerate } from "../helpers/mqtt";

// Features chosen at build time (src/features.ts, linked per entry by tools/build-plugins.js): the client built
// without QoS 2 and payload sources, as the lean MQTT entry is (the IoT Hub entries: without QoS 2), refuses QoS 2
// both ways and a source, and still does QoS 0 and 1.

let createClient: any, code = "", fullCode = "";
const PUBACK = (id: number) => u8(0x40, 2, id >> 8, id & 255);
const PUBREC = (id: number) => u8(0x50, 2, id >> 8, id & 255);
const publish = (topic: string, payload: string, qos: number, messageId: number) =>
  refGenerate({ cmd: "publish", topic, payload: Buffer.from(payload), qos, messageId, dup: false, retain: false } as any);

/** src/mqtt/client.ts built with these features, as CommonJS source. */
async function build(features: Record<string, boolean>): Promise<string> {
  const b = await rollup({
    input: "src/mqtt/client.ts",
    onwarn() {},
    plugins: [featuresOf(features), typescript({ tsconfig: "tsconfig.json", compilerOptions: { module: "ESNext", target: "ES2020", noEmit: false, declaration: false }, include: ["src/**/*.ts"] })],
  });
  const { output } = await b.generate({ format: "cjs", exports: "named" });
  await b.close();
  return output[0].code;
}

test.before(async () => {
  // the lean MQTT entry's features (rollup.config.js LEAN): no QoS 2, no payload sources
  code = await build({ QOS2: false, SOURCES: false });
  fullCode = await build({});
  const m: any = { exports: {} };
  new Function("module", "exports", code)(m, m.exports);
  createClient = m.exports.createClient;
});

function up() {
  const t = new FakeTransport(), clock = new ManualClock(), log: number[] = [], got: string[] = [];
  t.clock = clock;
  const c = createClient({ host: "h", clientId: "c", transport: t, clock, reconnect: false, onClose: (e: number) => log.push(e), onMessage: (topic: string) => got.push(topic) });
  c.connect();
  t.send([0x20, 2, 0, 0]);
  t.take();
  return { c, t, log, got };
}

test("without QoS 2: publish(qos 2) is E_QOS (-9); QoS 0 and 1 as ever", () => {
  const { c, t } = up();
  assert.is(c.publish("a", "x", 2), -9);
  assert.is(c.publish("a", "x", 0), 0);
  const id = c.publish("a", "x", 1);
  assert.ok(id > 0);
  assert.equal(t.cmds(), ["publish", "publish"]);
  t.send(PUBACK(id));
});

test("without QoS 2: an incoming QoS 2 PUBLISH, or a PUBREC, is a protocol error that closes the link", () => {
  let s = up();
  s.t.send(publish("a", "x", 1, 5));
  assert.equal([s.got, s.t.cmds()], [["a"], ["puback"]]);
  s.t.send(publish("b", "y", 2, 6));
  assert.equal([s.got, s.log], [["a"], [-26]], "E_PROTOCOL");
  s = up();
  s.t.send(PUBREC(1));
  assert.equal(s.log, [-8], "E_PACKET_TYPE");
});

test("without sources: a PayloadSource is refused (E_ARGUMENT) and the streaming code is not in the build", () => {
  const { c, t } = up();
  assert.is(c.publish("a", { size: 3, read: () => 3 }, 1), -31);
  assert.equal(t.cmds(), []);
  for (const name of ["function pour", "function unstream", "function streamOf"]) {
    assert.ok(fullCode.includes(name), `the full build has ${name}`);
    assert.not.ok(code.includes(name), `the lean build has no ${name}`);
  }
});

test.run();
