// `tinyhub device --connection-string "..."`: the demo device against any IoT Hub, a real one included.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runDevice } from "./demo.js";

export const summary = "run the demo device against a hub: --connection-string \"HostName=...\" [--ca file] [--port n] [--seconds n]";

export async function run(args) {
  const { values } = parseArgs({
    args,
    options: {
      "connection-string": { type: "string" },
      ca: { type: "string" },
      port: { type: "string" },
      seconds: { type: "string", default: "60" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || !values["connection-string"]) {
    console.log(`usage: tinyhub device --connection-string "HostName=...;DeviceId=...;SharedAccessKey=..." [--ca ca.pem] [--port 8883] [--seconds 60]
Connects, sends telemetry, reads the twin, patches reported properties, then answers C2D messages,
desired updates and direct methods (reboot) for --seconds.`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const seen = await runDevice({
    connectionString: values["connection-string"],
    ca: values.ca ? readFileSync(values.ca, "utf8") : undefined,
    port: values.port ? +values.port : undefined,
    seconds: +values.seconds,
  });
  console.log(`done: ${JSON.stringify(seen)}`);
}
