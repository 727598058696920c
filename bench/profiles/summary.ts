// Top self-time functions of a V8 .cpuprofile (node --cpu-prof), as a markdown table.
//   npx tsx bench/profiles/summary.ts FILE.cpuprofile [top=25]
import * as fs from "node:fs";

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
const file = process.argv.find((a) => a.endsWith(".cpuprofile"))!, top = process.argv.find((a) => /^\d+$/.test(a)) || "25";
const p = JSON.parse(fs.readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
let total = 0;
// time per sample: its delta to the next sample
for (let i = 0; i < p.samples.length; i++) {
  const n = byId.get(p.samples[i])!, dt = p.timeDeltas[i + 1] ?? 0, f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(node_modules\/|src\/|targets\/|bench\/)/, "$1").replace(/^node:/, "node:")}:${f.lineNumber + 1}` : "";
  const k = `${f.functionName || "(anonymous)"}${where ? " " + where : ""}`;
  self.set(k, (self.get(k) || 0) + dt);
  total += dt;
}
const idle = Array.from(self).filter(([k]) => k.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
console.log(`${(total / 1000).toFixed(0)} ms sampled, ${(idle / 1000).toFixed(0)} ms idle; share of the busy time:\n`);
console.log("| self % | self ms | function |\n|---:|---:|---|");
for (const [k, v] of Array.from(self).filter(([k]) => !k.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, +top)) {
  console.log(`| ${((100 * v) / (total - idle)).toFixed(1)} | ${(v / 1000).toFixed(1)} | \`${k.replace(/\|/g, "\\|")}\` |`);
}
