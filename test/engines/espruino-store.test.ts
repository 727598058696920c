// The Espruino store in the real interpreter (Espruino 2v29, the Linux build: its Storage lives in ./espruino.flash
// with flash rules: bits only cleared by writes, pages erased whole). The shipped bundle dist/espruino/mqtt-store.js
// (createClient + storageStore) is written to Storage and required; an app publishes
// numbered QoS 1 messages to mosquitto with its queue in Storage. A "reset" is kill -9 of the interpreter and a new
// start in the same directory (same flash): the app starts again after the last message whose publish returned, and
// a subscriber here counts what the broker delivers: none lost, first deliveries in order, duplicates counted.
// Also measured: flash bytes programmed per message (Storage writes counted by a wrapper), slot files created.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { espruinoBinary } from "../../tools/engines/espruino-build.js";
import { writeStorage } from "../../tools/engines/espruino.js";
import { startMosquitto, Mosquitto } from "../helpers/mosquitto";
import { varsUsedBeforeDeclared } from "../helpers/late-vars";
import { createClient, errorName, E_STORE_BAD, E_CLOSED, E_TRANSPORT, E_KEEPALIVE } from "../../targets/node/index";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const COUNT = 150, KILLS = 4;

/** The shipped dist/espruino/mqtt-store.js (npm run build), as a user writes it to Storage. */
async function bundle(): Promise<string> {
  return readFileSync("dist/espruino/mqtt-store.js", "utf8");
}

/** The app: messages from..to-1, one line per event ("q n" once publish(n) returned; "w bytes creates" flash writes). */
const APP = (port: number, from: number, to: number, topic: string) => `
var S = require("Storage"), wrote = 0, creates = 0;
var counted = { read: function (n, o, l) { return S.read(n, o, l); }, erase: function (n) { S.erase(n); },
  write: function (n, d, o, z) { wrote += d.length; if (!o) creates++; return S.write(n, d, o, z); } };
var th = require("tinyhub"), next = ${from}, to = ${to}, acks = 0, t0 = Date.now();
function acked(e) { if (!e && ++acks == to - ${from}) print("all " + wrote + " " + creates + " " + (Date.now() - t0)); }
var c = th.createClient({ host: "127.0.0.1", port: ${port}, clientId: "esp-store", clean: false, keepalive: 10,
  reconnect: { min: 50, max: 300 }, bufferSize: 1024, store: th.storageStore("ob", { size: 2048, storage: counted }),
  onConnect: function () { print("c"); }, onError: function (e) { print("e " + e); },
  onWritable: function () { setTimeout(pump, 0); } });
if (typeof c == "number") print("e " + c);
function pump() {
  while (next < to) {
    var r = c.publish(${JSON.stringify(topic)}, "" + next, 1, false, acked);
    if (r == -20) return;
    if (r < 0) { print("e " + r); return setTimeout(pump, 100); }
    print("q " + next);
    next++;
    if (next % 4 == 0) return setTimeout(pump, 5);
  }
  print("d");
}
setInterval(function () { print("w " + wrote + " " + creates); }, 100);
c.connect();
pump();
`;

let broker: Mosquitto | null = null;
test.before(async () => {
  broker = await startMosquitto({ tls: false });
});
test.after(async () => {
  if (broker) await broker.stop();
});

test("the bundle has no name used before its var statement (Espruino does not hoist var); the check finds one", async () => {
  assert.equal(varsUsedBeforeDeclared(await bundle()), []);
  assert.is(varsUsedBeforeDeclared("function e(){return g((f=c,f+1));var f}").length, 1);
  assert.is(varsUsedBeforeDeclared("function e(){var f=1;return f}").length, 0);
});

test(`a reset (kill -9, start again over the same flash) at ${KILLS} random points of ${COUNT} QoS 1 messages: none lost, order kept`, async () => {
  const bin = await espruinoBinary({ variant: "linux" });
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-esp-store-"));
  const topic = "espstore/" + Date.now();
  const seen = new Map<number, number>(), first: number[] = [];
  let subUp = false, child: ChildProcess | null = null;
  const sub = createClient({
    host: "127.0.0.1", port: broker!.ports.mqtt, clientId: "esp-store-sub-" + process.pid, clean: false, reconnect: { min: 50, max: 300 },
    onConnect: () => (subUp = true),
    onMessage: (_t, p) => {
      const n = +Buffer.from(p).toString(), k = seen.get(n) || 0;
      seen.set(n, k + 1);
      if (!k) first.push(n);
    },
  });
  sub.connect();
  try {
    writeStorage(bin, dir, { tinyhub: Buffer.from(await bundle(), "latin1") });
    for (const end = Date.now() + 5000; !subUp; await sleep(5)) if (Date.now() > end) throw new Error("subscriber: no CONNACK");
    await new Promise<void>((res, rej) => sub.subscribe(topic, 1, (e) => (e ? rej(new Error(errorName(e))) : res())));

    let next = 0, wrote = 0, creates = 0, done = false, output = "";
    // a torn last entry (E_STORE_BAD at the start after a kill mid-write) is expected; link errors are the kills'
    const errors: (number | string)[] = [], expected = [E_STORE_BAD, E_CLOSED, E_TRANSPORT, E_KEEPALIVE];
    const points = Array.from({ length: KILLS }, () => 1 + Math.floor(Math.random() * (COUNT - 1))).sort((a, b) => a - b);
    const start = () => {
      writeFileSync(join(dir, "app.js"), APP(broker!.ports.mqtt, next, COUNT, topic));
      done = false;
      const c = spawn(bin, ["app.js"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
      let partial = "";
      const on = (d: Buffer) => {
        const text = d.toString("latin1");
        output = (output + text).slice(-4000);
        const lines = (partial + text).split("\n");
        partial = lines.pop()!;
        for (const raw of lines) {
          const l = raw.replace(/\x1b\[[0-9;]*[A-Za-z]|\r/g, "").replace(/^>+/, "").trim();
          let m;
          if ((m = /^q (\d+)$/.exec(l))) next = Math.max(next, +m[1] + 1);
          else if ((m = /^w (\d+) (\d+)$/.exec(l))) lastW = [+m[2 - 1], +m[2]];
          else if (l == "d") done = true;
          else if (/^e -?\d+$/.test(l)) errors.push(+l.slice(2));
          else if (/Uncaught|ASSERT|OUT OF MEMORY/.test(l)) errors.push(l);
        }
      };
      let lastW: [number, number] = [0, 0];
      c.stdout!.on("data", on);
      c.stderr!.on("data", on);
      const exited = new Promise<void>((r) => c.once("exit", () => r()));
      return { c, exited, flash: () => lastW };
    };

    const restored: number[] = [];
    for (const point of points) {
      const d = start();
      child = d.c;
      for (const end = Date.now() + 30000; next <= point && !done; await sleep(2)) if (Date.now() > end) throw new Error(`no progress to ${point}: ${output.slice(-1500)}`);
      await sleep(Math.random() * 20);
      d.c.kill("SIGKILL");
      await d.exited;
      wrote += d.flash()[0];
      creates += d.flash()[1];
      restored.push(next);
    }
    const d = start();
    child = d.c;
    for (const end = Date.now() + 40000; first.length < COUNT && Date.now() < end; ) await sleep(20);
    await sleep(300);
    wrote += d.flash()[0];
    creates += d.flash()[1];
    d.c.kill("SIGKILL");
    await d.exited;
    child = null;

    const lost: number[] = [];
    for (let i = 0; i < COUNT; i++) if (!seen.has(i)) lost.push(i);
    let received = 0, outOfOrder = 0;
    for (const v of seen.values()) received += v;
    for (let i = 1; i < first.length; i++) if (first[i] < first[i - 1]) outOfOrder++;
    console.log(`  Espruino (linux build, Storage): ${COUNT} QoS 1 messages, ${KILLS} kill -9 + restart at messages ${restored.join(",")}: ` +
      `lost ${lost.length}, duplicates ${received - seen.size}, out of order ${outOfOrder}; flash programmed ${wrote} bytes ` +
      `(${(wrote / COUNT).toFixed(1)} per message; each run's count up to its last report, every 100 ms), ${creates} slot files of 2048 bytes created` +
      (errors.length ? `; reported ${errors.map((e) => (typeof e == "number" ? (e == E_STORE_BAD ? "E_STORE_BAD" : errorName(e)) : e)).join(",")}` : ""));
    assert.equal(lost, [], "none lost");
    assert.is(outOfOrder, 0);
    assert.equal(errors.filter((e) => typeof e != "number" || expected.indexOf(e) < 0), [], "no other errors");
  } finally {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    sub.end();
    if (!process.env.TINYHUB_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  }
});

test("flash cost: bytes programmed per message in a run without resets, every message acknowledged", async () => {
  const bin = await espruinoBinary({ variant: "linux" });
  const dir = mkdtempSync(join(tmpdir(), "tinyhub-esp-store-"));
  const N = 200;
  try {
    writeStorage(bin, dir, { tinyhub: Buffer.from(await bundle(), "latin1") });
    writeFileSync(join(dir, "app.js"), APP(broker!.ports.mqtt, 0, N, "espcost/" + Date.now()));
    const c = spawn(bin, ["app.js"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const line = await new Promise<string>((res, rej) => {
      const t = setTimeout(() => rej(new Error("no end: " + out.slice(-1500))), 60000);
      c.stdout!.on("data", (d: Buffer) => {
        out += d.toString("latin1");
        const m = /all (\d+) (\d+) (\d+)/.exec(out);
        if (m) (clearTimeout(t), res(m[0]));
      });
    });
    c.kill("SIGKILL");
    const [, w, k, ms] = line.split(" ").map(Number);
    const frame = 2 + 2 + ("espcost/" + Date.now()).length + 2 + 3;
    console.log(`  Espruino flash: ${N} messages (~${frame}-byte frames): ${(w / N).toFixed(1)} bytes programmed per message ` +
      `(ADD ${frame + 5} + DEL 7 = ${frame + 12}, plus compactions: ${k} slot files of 2048 bytes created, ${(k * 2048 / N).toFixed(1)} bytes of flash per message ` +
      `to erase later); ${(ms / N).toFixed(2)} ms per message end to end in the Linux build`);
    assert.ok(w / N >= frame + 12 && w / N < frame + 12 + 20, "ADD + DEL per message, a little more for compactions");
  } finally {
    if (!process.env.TINYHUB_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
