import { test } from "uvu";
import * as assert from "uvu/assert";
import * as hub from "../../src/iothub/errors";
import { HUB_ERROR_NAMES } from "../../src/iothub/errornames";

test("every hub code has its own name, and every name a code", () => {
  const entries = Object.entries(hub);
  for (const [name, code] of entries) assert.is(HUB_ERROR_NAMES[code as number], name);
  assert.is(Object.keys(HUB_ERROR_NAMES).length, entries.length);
});

test.run();
