// A device process for the power-cut tests (test/helpers/killrun.ts): an MQTT client with a file store that
// publishes the QoS 1 messages `from`..`to`-1 as fast as its outbox takes them, and stays connected until killed.
//
//   node --import tsx test/helpers/store-device.ts '{"port":1883,"path":"/tmp/x/log","from":0,"to":1000,...}'
//
// It prints one line per event on stdout, written synchronously (fs.writeSync) so a line is out before the next
// step: "q <n>" once publish(n) returned (the message is stored), "c" at each CONNACK, "e <code>" for errors,
// "d" when every message up to `to` is queued.
import { writeSync } from "node:fs";
import { createClient, fileStore, E_OUTBOX_FULL } from "../../targets/node/index";

const o = JSON.parse(process.argv[2]);
// (stdout is a non-blocking pipe: a full one answers EAGAIN, and the line is written again until it goes)
const say = (s: string) => {
  const b = Buffer.from(s + "\n");
  for (let o = 0; o < b.length; ) {
    try {
      o += writeSync(1, b, o);
    } catch (e: any) {
      if (e.code !== "EAGAIN") throw e;
    }
  }
};

let next = o.from as number;
const client = createClient({
  host: "127.0.0.1",
  port: o.port,
  clientId: o.clientId,
  clean: false,
  keepalive: 10,
  bufferSize: o.bufferSize || 2048,
  reconnect: { min: 50, max: 300 },
  // noStore: the control run, which must lose messages at a kill
  store: o.noStore ? null : fileStore(o.path, { sync: o.sync !== false }),
  onConnect: () => say("c"),
  onError: (code) => say("e " + code),
  onWritable: () => setImmediate(pump),
});

function pump() {
  while (next < o.to) {
    const r = client.publish(o.topic, String(next), 1);
    if (r == E_OUTBOX_FULL) return; // onWritable calls again
    if (r < 0) {
      say("e " + r);
      return void setTimeout(pump, 50);
    }
    say("q " + next++);
    // let the event loop run now and then: acknowledgements come in while the device publishes
    if (next % 8 == 0) return void setImmediate(pump);
  }
  say("d");
}

client.connect();
pump();
