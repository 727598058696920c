// The emulator's hooks into aedes internals (tools/hub/aedes-hooks.js), checked against the installed aedes: each
// target exists, and each hook does its job on a real broker and a real connection. aedes is pinned exactly.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, connect, Socket, AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { Aedes } from "aedes";
import mqttPacket from "mqtt-packet";
// @ts-ignore JavaScript without declarations
import { HOOKS, checkHooks, onAcknowledged, grantAtMostQos1, send } from "../../tools/hub/aedes-hooks.js";

test("aedes is pinned to one exact version, the one installed", () => {
  const want = JSON.parse(readFileSync("package.json", "utf8")).dependencies.aedes;
  assert.match(want, /^\d+\.\d+\.\d+$/, `package.json aedes "${want}" is a range`);
  assert.is(JSON.parse(readFileSync("node_modules/aedes/package.json", "utf8")).version, want);
});

test("the check names every hook whose target is missing", () => {
  assert.equal(checkHooks({}, {}), [HOOKS.outgoingClearMessageId, HOOKS.parser, HOOKS.conn]);
});

test("each hook works on a real aedes broker and connection", async () => {
  let client: any = null;
  const acked: number[] = [];
  const broker: any = await Aedes.createBroker({
    preConnect(c: any, _p: any, done: any) {
      client = c;
      grantAtMostQos1(c);
      done(null, true);
    },
  });
  onAcknowledged(broker, (_c: any, id: number) => acked.push(id));
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const sock: Socket = connect((server.address() as AddressInfo).port, "127.0.0.1");
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const got: any[] = [];
  parser.on("packet", (p: any) => got.push(p));
  sock.on("data", (d) => parser.parse(d));
  const until = async (f: () => boolean, what: string) => {
    for (const end = Date.now() + 5000; !f(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() > end) throw new Error("timed out: " + what);
  };
  try {
    sock.write(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "hooks", clean: true, keepalive: 30 } as any));
    await until(() => got.some((p) => p.cmd == "connack"), "CONNACK");
    assert.equal(checkHooks(broker, client), [], "every target present");
    sock.write(mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "a/b", qos: 2 }] } as any));
    await until(() => got.some((p) => p.cmd == "suback"), "SUBACK");
    assert.equal(got.find((p) => p.cmd == "suback").granted, [1], "QoS 2 granted as 1");
    assert.ok(send(client, { topic: "x", payload: "raw", qos: 1, messageId: 7 }), `send: connected ${client.connected}, closed ${client.closed}`);
    await until(() => got.some((p) => p.cmd == "publish"), "the raw PUBLISH");
    assert.is(got.find((p) => p.cmd == "publish").payload.toString(), "raw");
    sock.write(mqttPacket.generate({ cmd: "puback", messageId: 7 } as any));
    await until(() => acked.length > 0, "the acknowledgement hook");
    assert.equal(acked, [7]);
  } finally {
    sock.destroy();
    await new Promise((r) => broker.close(r));
    await new Promise((r) => server.close(r));
  }
});

test.run();
