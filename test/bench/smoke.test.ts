// Keeps the benchmark working: `bench/run.ts --smoke` (tiny counts, one round, a few idle clients,
// output in a temp dir, a real mosquitto on 127.0.0.1) must finish and produce every section.
// Not a timed test: no figure is checked beyond "measured something".
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

test("bench --smoke produces every section", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "tinyhub-bench-smoke-"));
  try {
    const p = spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts", "--smoke", "--out", out], {
      cwd: ROOT, encoding: "utf8", timeout: 120000,
    });
    assert.is(p.status, 0, `bench --smoke failed (status ${p.status}, signal ${p.signal}):\n${p.stderr}\n${p.stdout}`);

    // the printed table
    for (const h of ["Codec", "End to end through mosquitto", "Burst through mosquitto", "Heap", "idle connected clients", "Size", "Goals"]) {
      assert.ok(p.stdout.includes(h), `console output lacks "${h}"`);
    }

    // results.json
    const r = JSON.parse(fs.readFileSync(path.join(out, "results.json"), "utf8"));
    assert.is(r.mode, "smoke");
    assert.equal(r.errors, []);
    assert.ok(r.machine.cpu && r.machine.cores > 0 && r.machine.node && /mosquitto/.test(r.machine.mosquitto));
    assert.ok(r.peers.mqtt && r.peers["mqtt-packet"]);
    const names = r.codec.cases.map((c: any) => `${c.name} ${c.op}`);
    for (const n of ["PUBLISH 16 B encode", "PUBLISH 16 B decode", "PUBLISH 256 B encode", "PUBLISH 256 B decode",
      "PUBLISH 4 KB encode", "PUBLISH 4 KB decode", "SUBSCRIBE encode", "SUBACK decode"]) assert.ok(names.includes(n), `codec case ${n}`);
    for (const c of r.codec.cases) assert.ok(c.ours > 0 && c.theirs > 0 && c.ratio > 0, `codec ${c.name} ${c.op} measured`);
    for (const q of ["qos0", "qos1"]) {
      for (const lib of ["ours", "mqttjs"]) {
        const l = r.e2e[q][lib];
        assert.ok(l.rate.median > 0 && l.cpuUsPerMsg.median > 0 && l.peakHeap.median > 0, `e2e ${q} ${lib} measured`);
      }
      assert.ok(r.e2e[q].ratio > 0);
    }
    // the burst: both libraries, and mosquitto's C clients when installed (CI installs mosquitto-clients)
    for (const q of ["qos0", "qos1"]) {
      const b = r.burst[q];
      for (const lib of ["ours", "mqttjs", "c"]) {
        const l = b[lib];
        if (lib == "c" && !l) {
          assert.match(b.cNote, /not found/, "no C-client figures and no reason");
          continue;
        }
        assert.ok(l.rate.median > 0 && l.cpuUsPerMsg.median > 0 && l.brokerUsPerMsg.median > 0, `burst ${q} ${lib} measured`);
      }
      assert.ok(b.ratio > 0 && b.cpuRatio > 0);
    }
    for (const lib of ["ours", "mqttjs"]) {
      const h = r.memory.heap[lib], i = r.memory.idle[lib];
      assert.ok(h.loaded > 0 && h.heapWarm > 0 && h.heapEnd > 0 && h.peakHeap > 0, `heap ${lib} measured`);
      assert.is(h.samples.length, 11, `heap ${lib}: a reading after warm-up and after each tenth`);
      assert.ok(i.clients > 0 && i.connected == i.clients && i.rssAfter > 0, `idle ${lib} measured`);
    }
    assert.ok(r.memory.heap.empty.heap > 0);
    assert.ok(r.size.report.length > 0);
    const mqttjs = r.size.esbuild.find((s: any) => s.name.startsWith("MQTT.js"));
    const ours = r.size.esbuild.find((s: any) => s.name.startsWith("tinyhub createClient"));
    assert.ok(mqttjs && mqttjs.min > 0 && mqttjs.gzip > 0, "MQTT.js bundled");
    assert.ok(ours && ours.min > 0 && ours.gzip > 0, "ours bundled");
    assert.ok(r.size.esbuild.some((s: any) => s.name.startsWith("Azure")), "Azure row (measured or 'not installed')");
    assert.ok(r.goals.length >= 4);

    // RESULTS.md and the charts
    const md = fs.readFileSync(path.join(out, "RESULTS.md"), "utf8");
    for (const h of ["## Goals", "## Codec", "## End to end through mosquitto", "## Burst through mosquitto", "## Memory", "## Load", "## Size", "## Analysis", "## How to rerun"]) {
      assert.ok(md.includes(h), `RESULTS.md lacks ${h}`);
    }
    assert.ok(md.includes(r.machine.cpu) && md.includes(r.machine.mosquitto), "RESULTS.md names the machine");
    // the load run: both servers measured, every client connected
    assert.ok(r.load && !r.load.error, `load ran: ${r.load && r.load.error}`);
    assert.match(md, /\| mosquitto [^|]*\| 20 \| 20 \|/);
    assert.match(md, /\| hub emulator [^|]*\| 20 \| 20 \|/);
    for (const f of ["codec.svg", "throughput.svg", "heap.svg", "memory.svg", "size.svg"]) {
      const svg = fs.readFileSync(path.join(out, "charts", f), "utf8");
      assert.ok(svg.startsWith("<svg") && svg.trim().endsWith("</svg>") && svg.includes("<rect"), `${f} is an SVG with bars`);
      assert.not.ok(/NaN|undefined/.test(svg), `${f} has no NaN/undefined`);
      assert.ok(md.includes(`charts/${f}`), `RESULTS.md shows ${f}`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test.run();
