import { test } from "uvu";
import * as assert from "uvu/assert";
import { pnpCommand, pnpAck, pnpReported, pnpPayload } from "../../src/iothub/pnp";
import { dpsRegisterBody } from "../../src/iothub/dps";

test("component commands: 'component*command'; a plain name is the default component's", () => {
  assert.equal(pnpCommand("thermostat1*getMaxMinReport"), ["thermostat1", "getMaxMinReport"]);
  assert.equal(pnpCommand("reboot"), ["", "reboot"]);
  assert.equal(pnpCommand("a*b*c"), ["a", "b*c"]);
});

test("writable-property acknowledgement {value, ac, av, ad}; ad only when given", () => {
  assert.equal(pnpAck(21.5, 200, 3, "applied"), { value: 21.5, ac: 200, av: 3, ad: "applied" });
  assert.equal(pnpAck("x", 203, 0), { value: "x", ac: 203, av: 0 });
});

test("reported patches: the default component's as they are, a component's marked __t: c", () => {
  const props = { targetTemperature: pnpAck(21.5, 200, 2) };
  assert.is(pnpReported("", props), props);
  assert.equal(pnpReported("thermostat1", props), { thermostat1: { __t: "c", targetTemperature: { value: 21.5, ac: 200, av: 2 } } });
});

test("DPS registration payload with the model id beside the custom payload's fields", () => {
  assert.equal(JSON.parse(dpsRegisterBody("dev", pnpPayload({ site: "A" }, "dtmi:com:example:Thermostat;1"))), {
    registrationId: "dev", payload: { site: "A", modelId: "dtmi:com:example:Thermostat;1" },
  });
  assert.equal(pnpPayload(undefined, "dtmi:x;1"), { modelId: "dtmi:x;1" });
});

test.run();
