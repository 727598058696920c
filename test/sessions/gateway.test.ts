// createGateway (many devices on one AMQP connection) against rhea playing the hub on 127.0.0.1 (test/helpers/amqp-hub),
// with Node's transport held back to fill the connection's one buffer.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createGateway, errorName } from "../../targets/node/index";
import type { AmqpDevice } from "../../targets/node/index";
import { miniHub, rhea, HOST, KEY } from "../helpers/amqp-hub";
import { until, gate, fill } from "../helpers/amqp-device";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("put-token answers on the shared $cbs receiver while the outbox is full: their flows and settlements owed, sent before the devices' onWritable; answers keep coming", async () => {
  const hub = await miniHub(), l = await hub.listen();
  // flows (0x13) and dispositions (0x15) written, and dev1's onWritable
  const wire: string[] = [];
  const g = gate((b, off, len) => len > 10 && b[off + 8] == 0 && b[off + 9] == 0x53 && (b[off + 10] == 0x13 || b[off + 10] == 0x15) && wire.push(b[off + 10] == 0x13 ? "flow" : "disposition"));
  const gw = createGateway({ host: "127.0.0.1", hostname: HOST, port: l.port, tls: null, transport: g.transport });
  const connects: string[] = [], errors: number[] = [];
  let c2d = 0;
  const add = (id: string, more: any = {}) =>
    gw.addDevice({
      connectionString: `HostName=${HOST};DeviceId=${id};SharedAccessKey=${KEY}`, reconnect: false,
      onConnect: () => connects.push(id), onError: (e: number) => errors.push(e), ...more,
    }) as AmqpDevice;
  const a = add("dev1", { onMessage: () => void c2d++, onWritable: () => wire.push("onWritable") });
  a.connect();
  await until(() => connects.length == 1, "dev1 connected");
  // the hub answers every put-token on the connection's first $cbs receiver, as IoT Hub does: dev1's
  const first = hub.senders.$cbs;
  Object.defineProperty(hub.senders, "$cbs", { get: () => first, set: () => {} });
  // the settlements the hub sees, in order: of $cbs answers, of C2D messages
  const settled: string[] = [];
  hub.c.on("accepted", (x: any) => settled.push(x.sender === first ? "$cbs" : "c2d"));
  assert.is(first.credit, 4);

  wire.length = 0;
  g.blocked = true;
  assert.ok(fill(a) > 5, "telemetry queued");
  // four C2D messages (dev1's credit): their settlements and flows take the outbox's spare bytes, the rest owed by dev1
  for (let i = 0; i < 4; i++) hub.senders["/devices/dev1/messages/devicebound"].send({ body: rhea.message.data_section(Buffer.from("c2d " + i)) });
  await until(() => c2d == 4, "four C2D messages");
  // four put-token answers no device waits for (late ones: the device that asked has gone), the receiver's credit:
  // the gateway settles them and gives the credit again, with no room for either
  for (let i = 0; i < 4; i++) first.send({ correlation_id: "late-" + i, application_properties: { "status-code": 200, "status-description": "OK" } });
  await until(() => first.credit == 0, "the answers sent", 3000);
  await sleep(200);
  assert.equal(settled, [], "nothing written while blocked");

  g.drain();
  // what was owed went out at once, before dev1's onWritable: the gateway's four flows and four dispositions, dev1's four
  // and four (some written before the outbox was full)
  const w = wire.slice();
  assert.equal(w.filter((x) => x == "flow").length, 8, w.join());
  assert.equal(w.filter((x) => x == "disposition").length, 8, w.join());
  assert.is(w[w.length - 1], "onWritable", w.join());
  await until(() => settled.length == 8, "eight settlements", 3000).catch((e) => {
    throw new Error(e.message + ": " + settled.join());
  });
  // the $cbs answers in their order among dev1's C2D: the gateway's owed ones before dev1's
  assert.match(settled.join(), /^(c2d,)*\$cbs,\$cbs,\$cbs,\$cbs(,c2d)+$/);
  await until(() => first.credit == 4, "the $cbs receiver's credit given again", 3000).catch((e) => {
    throw new Error(e.message + ": " + first.credit);
  });
  // a second device's put-token is answered on dev1's receiver: it connects
  add("dev2").connect();
  await until(() => connects.length == 2, "dev2 connected (its put-token answered)", 3000);
  assert.equal(connects, ["dev1", "dev2"]);
  assert.equal(errors.map(errorName), []);
  await new Promise<void>((r) => gw.end(() => r()));
  l.close();
});

test.run();
