// Rendering of bench results: the console table, RESULTS.md and hand-written SVG bar charts
// (no dependency). Pure functions of the results object that bench/run.ts writes as results.json.
import type { CodecResult } from "./codec";

export interface Stat { median: number; rounds: number[] }

export interface LibE2E { rate: Stat; cpuUsPerMsg: Stat; peakHeap: Stat; brokerUsPerMsg: Stat }

export interface E2ESection {
  qos: number; window: number; n: number; warm: number; payload: number; rounds: number; ours: LibE2E; mqttjs: LibE2E;
  /** median(ours) / median(MQTT.js) */
  ratio: number;
  /** the median of the per-round ratios (each round runs both back to back: less sensitive to slow drifts in machine load) */
  pairedRatio: number;
}

export interface BurstLib { rate: Stat; cpuUsPerMsg: Stat; brokerUsPerMsg: Stat; lost: number[] }

export interface BurstSection {
  qos: number; n: number; warm: number; payload: number; rounds: number; buffer: number; cInflight: number;
  ours: BurstLib; mqttjs: BurstLib; c: BurstLib | null; cNote: string;
  /** msg/s medians: ours / MQTT.js, ours / C clients, MQTT.js / C clients; CPU per message medians: ours / MQTT.js */
  ratio: number; ofC: number; mqttjsOfC: number; cpuRatio: number;
}

export interface HeapLib {
  /** heapUsed of a process with only the library imported. */
  loaded: number;
  heapWarm: number; heapMid: number; heapEnd: number;
  /** end - warm, and end - mid (the second half: a leak keeps growing there, a one-off step does not). */
  growth: number; growth2: number;
  /** The GC'd readings after warm-up and after each tenth; their least-squares slope (bytes per 1,000 messages); max - min. */
  samples: number[]; slopePer1k: number; spread: number;
  peakHeap: number; rssEnd: number; rate: number;
}
export interface IdleLib { clients: number; connected: number; rssBefore: number; rssAfter: number; heapBefore: number; heapAfter: number; rssPerClient: number; heapPerClient: number; connectMs: number }

export interface SizeRow { name: string; what: string; min?: number; gzip?: number; note?: string; budget?: { min: number; gzip: number } | null }

export interface Goal { name: string; goal: string; value: string; met: boolean }

export interface Results {
  mode: "full" | "smoke";
  date: string;
  durationS: number;
  machine: { cpu: string; cores: number; ramGiB: number; node: string; mosquitto: string; os: string; loadBefore: number[]; loadAfter: number[] };
  peers: { [name: string]: string | null };
  codec: CodecResult;
  e2e: { qos0: E2ESection; qos1: E2ESection; note: string };
  /** Burst: publisher and subscriber processes, against mosquitto's C clients (absent in results before it existed). */
  burst?: { qos0: BurstSection; qos1: BurstSection; note: string };
  memory: {
    heap: { n: number; warm: number; qos: number; window: number; payload: number; empty: { heap: number; rss: number }; ours: HeapLib; mqttjs: HeapLib };
    idle: { clients: number; ours: IdleLib; mqttjs: IdleLib };
  };
  size: { report: SizeRow[]; reportNote: string; esbuild: SizeRow[] };
  /** 1,000 device clients in one process (test/load/load.ts), against mosquitto and the hub emulator. */
  load?: { table: string; clients: number; seconds: number; error?: string };
  goals: Goal[];
  errors: string[];
}

// ---- formatting ------------------------------------------------------------------------------

export const fmtInt = (n: number) => Math.round(n).toLocaleString("en-US");
export const kb = (n: number) => (n / 1024).toFixed(1) + " KiB";
export const mb = (n: number) => (n / 1048576).toFixed(1) + " MiB";
const x = (r: number) => r.toFixed(2) + "x";

function table(head: string[], rows: (string | number)[][], right: boolean[]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ");
  return [line(cells[0]), w.map((n) => "-".repeat(n)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

function mdTable(head: string[], rows: (string | number)[][], right: boolean[]): string {
  return [
    "| " + head.join(" | ") + " |",
    "|" + right.map((r) => (r ? "---:" : "---")).join("|") + "|",
    ...rows.map((r) => "| " + r.join(" | ") + " |"),
  ].join("\n");
}

// ---- the sections as rows (shared by the console and Markdown) --------------------------------

function codecRows(r: Results) {
  return {
    head: ["packet", "op", "frame bytes", "ours ops/s", "mqtt-packet ops/s", "ratio"],
    right: [false, false, true, true, true, true],
    rows: r.codec.cases.map((c) => [c.name, c.op, c.bytes, fmtInt(c.ours), fmtInt(c.theirs), x(c.ratio)]),
  };
}

function e2eRows(r: Results) {
  const rows: (string | number)[][] = [];
  for (const s of [r.e2e.qos0, r.e2e.qos1]) {
    for (const [name, l] of [["tinyhub", s.ours], ["MQTT.js", s.mqttjs]] as const) {
      rows.push([`QoS ${s.qos} (window ${s.window})`, name, fmtInt(l.rate.median), l.rate.rounds.map((v) => fmtInt(v)).join(" / "),
        l.cpuUsPerMsg.median.toFixed(2), l.brokerUsPerMsg.median.toFixed(2), mb(l.peakHeap.median)]);
    }
    rows.push([`QoS ${s.qos}`, "ratio", x(s.ratio), `per-round ratios: median ${x(s.pairedRatio)}`,
      x(s.ours.cpuUsPerMsg.median / s.mqttjs.cpuUsPerMsg.median), x(s.ours.brokerUsPerMsg.median / s.mqttjs.brokerUsPerMsg.median), ""]);
  }
  return {
    head: ["run", "library", "msg/s (median)", "rounds", "client CPU µs/msg", "broker CPU µs/msg", "peak heap"],
    right: [false, false, true, false, true, true, true],
    rows,
  };
}

function burstRows(r: Results) {
  const rows: (string | number)[][] = [];
  for (const s of r.burst ? [r.burst.qos0, r.burst.qos1] : []) {
    const libs: [string, BurstLib | null][] = [["tinyhub", s.ours], ["MQTT.js", s.mqttjs], ["mosquitto_pub / _sub (C)", s.c]];
    for (const [name, l] of libs) {
      if (!l) {
        rows.push([`QoS ${s.qos}`, name, "-", s.cNote || "not measured", "-", "-", "-", "-"]);
        continue;
      }
      rows.push([`QoS ${s.qos}`, name, fmtInt(l.rate.median), l.rate.rounds.map((v) => fmtInt(v)).join(" / "),
        s.c ? x(l.rate.median / s.c.rate.median) : "-", l.cpuUsPerMsg.median.toFixed(2), l.brokerUsPerMsg.median.toFixed(2),
        Math.max(...l.lost) ? `${fmtInt(Math.min(...l.lost))}-${fmtInt(Math.max(...l.lost))}` : "0"]);
    }
    rows.push([`QoS ${s.qos}`, "tinyhub / MQTT.js", x(s.ratio), "", "", x(s.cpuRatio), "", ""]);
  }
  return {
    head: ["run", "client", "msg/s (median)", "rounds", "of C clients", "client CPU µs/msg", "broker CPU µs/msg", "lost (min-max)"],
    right: [false, false, true, false, true, true, true, true],
    rows,
  };
}

function memRows(r: Results) {
  const h = r.memory.heap, i = r.memory.idle;
  const sign = (n: number) => (n >= 0 ? "+" : "") + kb(n);
  const rows: (string | number)[][] = [];
  for (const [name, l] of [["tinyhub", h.ours], ["MQTT.js", h.mqttjs]] as const) {
    rows.push([name, mb(h.empty.heap), mb(l.loaded), mb(l.heapWarm), mb(l.heapEnd), sign(l.growth),
      (l.slopePer1k >= 0 ? "+" : "") + fmtInt(l.slopePer1k) + " B", kb(l.spread), mb(l.peakHeap)]);
  }
  return {
    head: ["library", "empty process", "library loaded", "after warm-up", `after ${fmtInt(h.n)}`, "growth", "slope per 1,000 msgs", "spread of 11 readings", "peak (sampled)"],
    right: [false, true, true, true, true, true, true, true, true],
    rows,
  };
}

function idleRows(r: Results) {
  const i = r.memory.idle;
  return {
    head: ["library", "clients connected", "RSS before", "RSS with them", "RSS per client", "heap per client", "connect time"],
    right: [false, true, true, true, true, true, true],
    rows: ([["tinyhub", i.ours], ["MQTT.js", i.mqttjs]] as const).map(([name, d]) => [name, `${d.connected}/${d.clients}`, mb(d.rssBefore), mb(d.rssAfter),
      kb(d.rssPerClient), kb(d.heapPerClient), fmtInt(d.connectMs) + " ms"]),
  };
}

function sizeRows(r: Results) {
  const rows = [...r.size.report, ...r.size.esbuild].map((s) => [
    s.name, s.note ? `${s.what}: ${s.note}` : s.what,
    s.min == null ? "-" : fmtInt(s.min),
    s.gzip == null ? "-" : fmtInt(s.gzip),
    s.budget ? `${fmtInt(s.budget.min)} / ${fmtInt(s.budget.gzip)}` : "-",
  ]);
  return { head: ["bundle", "how", "minified B", "gzip -9 B", "budget (min / gzip)"], right: [false, false, true, true, true], rows };
}

function goalRows(r: Results) {
  return { head: ["goal", "target", "measured", "met"], right: [false, true, true, false], rows: r.goals.map((g) => [g.name, g.goal, g.value, g.met ? "yes" : "**no**"]) };
}

export function consoleReport(r: Results): string {
  const t = (s: { head: string[]; rows: (string | number)[][]; right: boolean[] }) => table(s.head, s.rows, s.right);
  const g = goalRows(r);
  g.rows = g.rows.map((row) => row.map((c) => String(c).replace(/\*\*/g, "")));
  return [
    `tinyhub bench (${r.mode}) - ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}, ${r.machine.mosquitto}`,
    "", "Codec (ops/s, median of " + r.codec.rounds + " rounds)", t(codecRows(r)),
    "", "End to end through mosquitto, " + r.e2e.qos0.payload + " B payloads", t(e2eRows(r)),
    ...(r.burst ? ["", "Burst through mosquitto (publisher and subscriber processes)", t(burstRows(r))] : []),
    "", `Heap (bytes in use after forced GC), QoS ${r.memory.heap.qos} pub/sub over ${fmtInt(r.memory.heap.n)} messages`, t(memRows(r)),
    "", `${fmtInt(r.memory.idle.clients)} idle connected clients in one process`, t(idleRows(r)),
    "", "Size", t(sizeRows(r)), r.size.reportNote ? "(" + r.size.reportNote + ")" : "",
    "", "Goals", t(g),
    ...(r.errors.length ? ["", "Errors:", ...r.errors] : []),
  ].join("\n");
}

// ---- SVG bar charts --------------------------------------------------------------------------

export interface Bar { name: string; value: number; text: string }
export interface Group { label: string; bars: Bar[] }

const COLORS: { [name: string]: string } = { tinyhub: "#2f7d32", "MQTT.js": "#8a8a8a", "mqtt-packet": "#8a8a8a", minified: "#90a4ae", gzip: "#37474f", ratio: "#2f7d32" };

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * Horizontal grouped bars. `perGroup`: each group is scaled to its own largest bar (for groups in
 * different units); otherwise one scale for all. `line`: a dashed marker (e.g. a goal) at that value.
 */
export function barChart(title: string, groups: Group[], opts: { perGroup?: boolean; line?: { value: number; label: string }; note?: string } = {}): string {
  const W = 760, left = 230, right = 150, barH = 16, gap = 3, groupGap = 14, top = 58;
  const plot = W - left - right;
  const names = [...new Set(groups.flatMap((g) => g.bars.map((b) => b.name)))];
  const all = Math.max(...groups.flatMap((g) => g.bars.map((b) => b.value)), opts.line ? opts.line.value : 0, 1e-9);
  let y = top;
  const out: string[] = [];
  for (const g of groups) {
    const max = opts.perGroup ? Math.max(...g.bars.map((b) => b.value), 1e-9) : all;
    const h = g.bars.length * (barH + gap) - gap;
    out.push(`<text x="${left - 8}" y="${y + h / 2 + 4}" text-anchor="end" class="g">${esc(g.label)}</text>`);
    for (const b of g.bars) {
      const w = Math.max(1, (b.value / max) * plot);
      out.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[b.name] || "#5c6bc0"}"><title>${esc(b.name + ": " + b.text)}</title></rect>`);
      out.push(`<text x="${(left + w + 5).toFixed(1)}" y="${y + barH - 4}" class="v">${esc(b.text)}</text>`);
      y += barH + gap;
    }
    y += groupGap;
  }
  if (opts.line && !opts.perGroup) {
    const lx = left + (opts.line.value / all) * plot;
    out.push(`<line x1="${lx.toFixed(1)}" y1="${top - 6}" x2="${lx.toFixed(1)}" y2="${y - groupGap + 2}" stroke="#c62828" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${lx.toFixed(1)}" y="${top - 9}" text-anchor="middle" class="v" fill="#c62828">${esc(opts.line.label)}</text>`);
  }
  const legend = names.map((n, i) => `<rect x="${left + i * 130}" y="26" width="12" height="12" fill="${COLORS[n] || "#5c6bc0"}"/><text x="${left + i * 130 + 17}" y="36" class="v">${esc(n)}</text>`);
  const H = y + (opts.note ? 18 : 4);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<style>.t{font-size:15px;font-weight:bold}.g{font-size:12px}.v{font-size:11px}.n{font-size:10px;fill:#555}</style>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="18" class="t">${esc(title)}</text>`,
    ...legend,
    ...out,
    opts.note ? `<text x="10" y="${H - 6}" class="n">${esc(opts.note)}</text>` : "",
    `</svg>`,
    "",
  ].join("\n");
}

/** Lines of readings over a shared x axis (e.g. heap after each tenth of the messages). */
export function lineChart(title: string, xLabel: string, series: { name: string; values: number[] }[], fmt: (n: number) => string, note: string): string {
  const W = 760, H = 300, l = 90, rgt = 130, t = 46, b = 50;
  const all = series.flatMap((s) => s.values).filter((v) => isFinite(v));
  const lo = Math.min(...all), hi = Math.max(...all), pad = (hi - lo) * 0.1 || hi * 0.05 || 1;
  const y0 = 0, y1 = hi + pad; // from zero: a flat line should look flat, not be magnified
  const n = Math.max(...series.map((s) => s.values.length), 2);
  const X = (i: number) => l + (i / (n - 1)) * (W - l - rgt), Y = (v: number) => t + (1 - (v - y0) / (y1 - y0)) * (H - t - b);
  const out: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = y0 + ((y1 - y0) * k) / 4;
    out.push(`<line x1="${l}" x2="${W - rgt}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${l - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end" class="v">${esc(fmt(v))}</text>`);
  }
  for (let i = 0; i < n; i++) out.push(`<text x="${X(i).toFixed(1)}" y="${H - b + 16}" text-anchor="middle" class="v">${i * 10}%</text>`);
  out.push(`<text x="${(l + W - rgt) / 2}" y="${H - b + 32}" text-anchor="middle" class="g">${esc(xLabel)}</text>`);
  series.forEach((s, si) => {
    const c = COLORS[s.name] || "#5c6bc0";
    const pts = s.values.map((v, i) => `${X(i).toFixed(1)},${Y(v).toFixed(1)}`).join(" ");
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts}"/>`);
    for (let i = 0; i < s.values.length; i++) out.push(`<circle cx="${X(i).toFixed(1)}" cy="${Y(s.values[i]).toFixed(1)}" r="2.5" fill="${c}"/>`);
    const last = s.values[s.values.length - 1];
    out.push(`<text x="${W - rgt + 8}" y="${(Y(last) + 4 + si * 2).toFixed(1)}" class="v">${esc(s.name + " " + fmt(last))}</text>`);
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    `<style>.t{font-size:15px;font-weight:bold}.g{font-size:12px}.v{font-size:11px}.n{font-size:10px;fill:#555}</style>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="18" class="t">${esc(title)}</text>`,
    ...out,
    `<text x="10" y="${H - 6}" class="n">${esc(note)}</text>`,
    `</svg>`,
    "",
  ].join("\n");
}

export function charts(r: Results): { [file: string]: string } {
  const c: { [file: string]: string } = {};
  c["codec.svg"] = barChart("Codec: tinyhub ops/s ÷ mqtt-packet ops/s (higher is better)",
    r.codec.cases.map((k) => ({ label: `${k.name} ${k.op}`, bars: [{ name: "ratio", value: k.ratio, text: x(k.ratio) }] })),
    { line: { value: 3, label: "goal 3x" }, note: `median of ${r.codec.rounds} rounds, same process; 1.00x = as fast as mqtt-packet` });
  c["throughput.svg"] = barChart("End to end through mosquitto: messages per second (higher is better)",
    [r.e2e.qos0, r.e2e.qos1].map((s) => ({
      label: `QoS ${s.qos}, window ${s.window} (${x(s.ratio)})`,
      bars: [
        { name: "tinyhub", value: s.ours.rate.median, text: fmtInt(s.ours.rate.median) + " msg/s" },
        { name: "MQTT.js", value: s.mqttjs.rate.median, text: fmtInt(s.mqttjs.rate.median) + " msg/s" },
      ],
    })),
    { note: `${r.e2e.qos0.payload} B payloads, one publisher + one subscriber client per process, median of ${r.e2e.qos0.rounds} rounds` });
  const h = r.memory.heap, i = r.memory.idle;
  const pair = (label: string, a: number, b: number, f: (n: number) => string): Group => ({
    label, bars: [{ name: "tinyhub", value: a, text: f(a) }, { name: "MQTT.js", value: b, text: f(b) }],
  });
  c["memory.svg"] = barChart("Memory (lower is better; each group on its own scale)", [
    pair(`heap after ${fmtInt(h.n)} msgs*`, h.ours.heapEnd - h.empty.heap, h.mqttjs.heapEnd - h.empty.heap, mb),
    pair("peak heap during that run", h.ours.peakHeap, h.mqttjs.peakHeap, mb),
    pair(`RSS per idle client (${fmtInt(i.clients)})`, i.ours.rssPerClient, i.mqttjs.rssPerClient, kb),
    pair("heap per idle client", i.ours.heapPerClient, i.mqttjs.heapPerClient, kb),
  ], { perGroup: true, note: "* above an empty process (same loader, no library). Child processes with --expose-gc; heapUsed after forced GCs" });
  // the chart keeps the comparable rows: the MQTT bundles, the IoT Hub bundles, the whole Node entry, the peers
  const keep = /espruino\/(mqtt|hub)|node\/index|esbuild/;
  c["heap.svg"] = lineChart(`Heap in use after forced GC, ${fmtInt(h.n)} QoS ${h.qos} messages after warm-up (MiB)`, "share of the messages sent",
    [{ name: "tinyhub", values: h.ours.samples }, { name: "MQTT.js", values: h.mqttjs.samples }], (v) => (v / 1048576).toFixed(2),
    "whole process (Node + loader + library + 2 clients); flat = no growth");
  const rows = [...r.size.report, ...r.size.esbuild].filter((s) => s.min != null && keep.test(s.name + " " + s.what));
  c["size.svg"] = barChart("Bundle size in bytes (lower is better)", rows.map((s) => ({
    label: s.name,
    bars: [
      { name: "minified", value: s.min!, text: fmtInt(s.min!) },
      { name: "gzip", value: s.gzip!, text: fmtInt(s.gzip!) },
    ],
  })), { note: "tinyhub dist/ figures from tools/size.js (terser for node); esbuild rows: esbuild --bundle --minify --platform=node, gzip -9" });
  return c;
}

// ---- RESULTS.md -------------------------------------------------------------------------------

/** bench/espruino.json (bench/espruino.ts): the Espruino section, or a line saying how to get it. */
export interface EspruinoBench {
  date: string; espruino: string; n: number; m: number; rounds: number; payload: number;
  rows: { name: string; about: string; min: number; gzip: number; storage: number; addCached: number; peak: number; pubRate: number; pubLost: number; recvRate: number; recvLost: number }[];
}

function espruinoSection(e?: EspruinoBench): string {
  if (!e) return "Not measured in this run: `npx tsx bench/espruino.ts` (then `npx tsx bench/run.ts --render`).";
  const best = (k: "pubRate" | "recvRate") => Math.max(...e.rows.filter((r) => !/tinyhub/.test(r.name)).map((r) => r[k]));
  const ours = e.rows.find((r) => /tinyhub/.test(r.name))!;
  return `The MQTT modules Espruino users pick today (\`MQTT\`, \`tinyMQTT\`, from the Espruino documentation repository, minified)
beside ours, each written to Storage and \`require\`d, in the real interpreter (${e.espruino}) against the same mosquitto
(run ${e.date.slice(0, 10)}, \`bench/espruino.ts\`). JsVars after \`require\` from Storage and after \`Modules.addCached\`
of a source string held in RAM; peak = the highest \`process.memory().usage\` sampled during the session, over the
interpreter's empty state. Publish: ${fmtInt(e.n)} QoS 0 messages of ${e.payload} bytes, 10 per idle-loop tick (ours pausing on
E_OUTBOX_FULL until onWritable), rate at a Node subscriber; receive: ${fmtInt(e.m)} QoS 0 messages from a Node
publisher, counted in the library's callback, timed inside Espruino. Medians of ${e.rounds} rounds; "lost" is the worst round.
This is the Linux build of the interpreter (no compiler optimisation in its makefile): compare rows, not absolute rates.
Where the time goes (perf on the same build, the bundle required from Storage): Espruino interprets source text, and
each call runs its lexer over the whole text of the function called, branches not taken included; code in Storage is
read through the flash 16 bytes at a time (in this build a file open, read and close each: a third of the CPU time).
A message costs about the characters of the functions it passes through, then the names looked up in long scopes.

${mdTable(
    ["library", "what it does", "min / gzip B", "JsVars Storage", "JsVars addCached", "peak JsVars", "publish msg/s", "lost", "receive msg/s", "lost"],
    e.rows.map((r) => [r.name, r.about, `${fmtInt(r.min)} / ${fmtInt(r.gzip)}`, r.storage, r.addCached, r.peak, fmtInt(r.pubRate), r.pubLost, fmtInt(r.recvRate), r.recvLost]),
    [false, false, true, true, true, true, true, true, true, true],
  )}

Goal (issue 10): 1.5x the faster of the two both ways: publish ${(ours.pubRate / best("pubRate")).toFixed(2)}x, receive ${(ours.recvRate / best("recvRate")).toFixed(2)}x (**${ours.pubRate >= 1.5 * best("pubRate") && ours.recvRate >= 1.5 * best("recvRate") ? "met" : "not met"}**).`;
}

export function markdown(r: Results, notes: string, rerun: string, espruino?: EspruinoBench): string {
  const t = (s: { head: string[]; rows: (string | number)[][]; right: boolean[] }) => mdTable(s.head, s.rows, s.right);
  const peers = Object.entries(r.peers).map(([k, v]) => `\`${k}\` ${v || "not installed"}`).join(", ");
  const q0 = r.e2e.qos0, q1 = r.e2e.qos1, h = r.memory.heap, i = r.memory.idle;
  return `# tinyhub benchmarks

<!-- generated by bench/run.ts from results.json; the analysis section comes from bench/notes.md -->

${r.mode == "smoke" ? "**Smoke run: tiny counts, one round. These figures mean nothing.**\n\n" : ""}Run ${r.date.slice(0, 10)}, ${r.durationS} s.

- Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.ramGiB} GiB RAM, ${r.machine.os}
- Node ${r.machine.node}; broker ${r.machine.mosquitto} (one instance, 127.0.0.1, default limits)
- Load average (1, 5, 15 min) before the run: ${r.machine.loadBefore.join(", ")}; after: ${r.machine.loadAfter.join(", ")}
  (before: anything well above 0 is other work sharing the machine; during the run the bench itself keeps about 2 busy)
- Peers: ${peers}

## Goals

${t(goalRows(r))}

## Codec

Same process, same run: encode = \`sizePublish\` + \`encodePublish\` into one preallocated buffer
(what \`client.publish\` does) against \`mqttPacket.generate()\`; decode = our resumable reader +
\`decodePublish\` / \`decodeAck\` (the payload handed over as a view, as the client does) against
\`parser.parse()\` with a \`packet\` listener, both fed the same frame. PUBLISH is QoS 1 with a
${"`devices/sensor-0007/messages/events`"} topic (35 B); SUBSCRIBE has one filter, SUBACK one granted QoS.
Batches of about ${r.codec.batchMs} ms after warm-up, ${r.codec.rounds} rounds interleaved, median.

${t(codecRows(r))}

![codec ratios](charts/codec.svg)

## End to end through mosquitto

${r.e2e.note}

${t(e2eRows(r))}

![throughput](charts/throughput.svg)

## Burst through mosquitto, against its C clients

${r.burst ? `${r.burst.note}

${t(burstRows(r))}` : "not run"}

## Memory

- Heap: one publisher and one subscriber (QoS ${h.qos}, window ${h.window}, ${h.payload} B), ${fmtInt(h.warm)} messages of
  warm-up, then ${fmtInt(h.n)} messages; \`heapUsed\` after six forced GCs (\`--expose-gc\`) after the warm-up and after
  every tenth of the messages (11 readings). "slope" is the least-squares slope of those readings: a leak shows as a
  steady slope, while GC/runtime noise shows as spread around a flat line. The
  process runs under tsx, as all the bench children do: "empty process" is that baseline with no library imported,
  "library loaded" the same with only the library imported (no client yet).

${t(memRows(r))}

- Idle clients: one process connects ${fmtInt(i.clients)} clients (default options: tinyhub's 2048-byte buffer,
  keep-alive 60 s, no traffic), 50 at a time, waits one second, forces GC; per client = (after - before) / ${fmtInt(i.clients)}.

${t(idleRows(r))}

![heap readings](charts/heap.svg)

![memory](charts/memory.svg)

## Load

${r.load ? `${fmtInt(r.load.clients)} device clients in one Node process (\`test/load/load.ts\`, \`npm run load\`), each sending one QoS 1
telemetry message a second for ${r.load.seconds} s, against mosquitto (plain TCP) and against the hub emulator (MQTT over TLS,
SAS checked, in its own process); connect time is connect() to CONNACK with 100 handshakes in flight; memory per
client = process RSS and heap growth / clients.

${r.load.error ? "**load run failed:** " + r.load.error : r.load.table}` : "not run"}

## Size

${r.size.reportNote}

${t(sizeRows(r))}

![size](charts/size.svg)

## On Espruino

${espruinoSection(espruino)}

## Analysis

${notes.trim()}

## How to rerun

${rerun}
`;
}

/**
 * `md` with the section "## {title}" set to `body`: the existing one replaced (up to the next "## "), else inserted
 * before "## Analysis" (or at the end). For sections other scripts write (bench/wire.ts's bench/wire.md).
 */
export function insertSection(md: string, title: string, body: string): string {
  const section = `## ${title}\n\n${body.trim()}\n\n`;
  const at = md.indexOf(`## ${title}\n`);
  if (at >= 0) {
    const next = md.indexOf("\n## ", at + 3);
    return md.slice(0, at) + section + (next >= 0 ? md.slice(next + 1) : "");
  }
  const analysis = md.indexOf("## Analysis\n");
  return analysis >= 0 ? md.slice(0, analysis) + section + md.slice(analysis) : md.trimEnd() + "\n\n" + section;
}
