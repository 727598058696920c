// The Espruino IDE and its command-line tool (npm `espruino`, the code of the Web IDE) lex the code they send
// before sending it: to count brackets, to split it into statements and to find require() calls. Their lexer
// is not a JavaScript parser (a "/" after "||" is a division to it), and when it miscounts it refuses to send
// ("You have more open brackets than close brackets"). A user who pastes a bundle into the IDE, or sends an app
// with the bundle in it, runs into that, so every shipped Espruino bundle goes through the tool's own code
// writer here, the bundle alone and inside an app, and must come out whole.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { bundlePath } from "../../tools/engines/paths.js";

const require = createRequire(import.meta.url);
const g = globalThis as any;

/** The tool's Espruino object, initialised once with its own plugins (quietly). */
async function tool(): Promise<any> {
  if (g.Espruino?.Core?.CodeWriter) return g.Espruino;
  const log = console.log;
  console.log = () => {};
  try {
    await new Promise<void>((resolve) => require("espruino/index.js").init(resolve));
  } finally {
    console.log = log;
  }
  return g.Espruino;
}

const dir = bundlePath("dist/espruino/mqtt.js").replace(/mqtt\.js$/, "");
const bundles = readdirSync(dir).filter((f) => f.endsWith(".js"));

test("the Espruino IDE's code writer sends every shipped bundle whole (brackets counted, no statement cut)", async () => {
  const E = await tool();
  assert.ok(bundles.length >= 8, bundles.join(", "));
  const errors: string[] = [];
  const error = E.Core.Notifications.error;
  E.Core.Notifications.error = (m: string) => errors.push(m);
  try {
    for (const f of bundles) {
      const code = readFileSync(dir + f, "latin1");
      const app = `Modules.addCached("tinyhub", function () {\n${code}\n});\nvar th = require("tinyhub");\n`;
      errors.length = 0;
      const out = E.Core.CodeWriter.reformatCode(app);
      assert.equal(errors, [], `${f}: the tool refused it`);
      assert.ok(typeof out == "string", `${f}: no code to send`);
      // whole: the tool only drops comments and whitespace between statements, so every token of the bundle is there
      const squeeze = (s: string) => s.replace(/[\s\x10]|\x1b\[\d+d/g, "");
      assert.ok(squeeze(out).includes(squeeze(code)), `${f}: the code the tool sends differs from the bundle`);
    }
  } finally {
    E.Core.Notifications.error = error;
  }
});

test("control: the tool refuses the shape the build now rejects (a regex after ||)", async () => {
  const E = await tool();
  const errors: string[] = [];
  const error = E.Core.Notifications.error;
  E.Core.Notifications.error = (m: string) => errors.push(m);
  try {
    // the topic filter check as it was (src/mqtt/codec.ts sizeFilter), after terser
    E.Core.CodeWriter.reformatCode("function f(t) { return !t || /[^\\/][+#]|[+#][^\\/]|#\\//.test(t) ? -6 : 0; }\n");
  } finally {
    E.Core.Notifications.error = error;
  }
  assert.match(errors.join("\n"), /more open brackets than close brackets/);
});

test.run();
