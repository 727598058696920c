// productInfo, as the official SDKs' option: appended to the client type the hub sees, in the MQTT user name
// (DeviceClientType=) and as the HTTPS User-Agent; without it the library's own name and version alone.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createDevice, Device } from "../../src/sessions/device";
import { createHttpDevice, HttpDevice } from "../../src/sessions/https";
import { VERSION } from "../../src/version";
import { FakeTransport, ManualClock } from "../helpers/fake";

const o = { host: "myhub.azure-devices.net", deviceId: "d1", sharedAccessKey: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", tls: null, time: () => 1750000000 };

function userName(productInfo?: string): string {
  const t = new FakeTransport(), clock = new ManualClock();
  const d = createDevice({ ...o, productInfo, transport: t, clock }) as Device;
  d.connect();
  const [c] = t.take() as any[];
  return c.username;
}

test("MQTT: DeviceClientType is tinyhub/<version>, then productInfo after a space (URL-encoded in the user name)", () => {
  assert.is(userName(), `myhub.azure-devices.net/d1/?api-version=2021-04-12&DeviceClientType=tinyhub%2F${VERSION}`);
  assert.is(userName("acme-sensor/2.1 (esp32)"), `myhub.azure-devices.net/d1/?api-version=2021-04-12&DeviceClientType=tinyhub%2F${VERSION}%20acme-sensor%2F2.1%20%28esp32%29`);
});

test("HTTPS: User-Agent: tinyhub/<version> [productInfo] on every request", () => {
  for (const [info, agent] of [[undefined, `tinyhub/${VERSION}`], ["acme-sensor/2.1", `tinyhub/${VERSION} acme-sensor/2.1`]]) {
    const t = new FakeTransport(), clock = new ManualClock();
    const d = createHttpDevice({ ...o, productInfo: info, transport: t, clock }) as HttpDevice;
    assert.ok(d.sendEvent("x", null) >= 0);
    const head = Buffer.from(t.written).toString("latin1");
    assert.ok(head.startsWith("POST /devices/d1/messages/events?api-version="), head);
    assert.match(head, `\r\nUser-Agent: ${agent}\r\n`);
  }
});

test.run();
