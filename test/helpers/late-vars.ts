// A shape Espruino runs differently (seen in Espruino 2v29): `var` is not hoisted, so in
//   function e() { return g((f = c, ...)); var f }
// (what terser makes when it inlines a function whose parameter it turns into a local) the assignment reaches the
// OUTER `f`, or creates a global. This finds, in built code, every name a function uses before the `var` statement
// that declares it in that function. Proposed as a rule for tools/bundle-rules.js.
import { parse } from "acorn";

type Node = { type: string; start: number; [k: string]: any };

function children(n: Node, fn: (c: Node) => void) {
  for (const k in n) {
    const v = n[k];
    if (!v || typeof v != "object") continue;
    if (Array.isArray(v)) for (const c of v) c && typeof c.type == "string" && fn(c);
    else if (typeof v.type == "string") fn(v);
  }
}

/** "name used at <offset> before its var at <offset>: <code>" for each case in `code` (ES2020 script). */
export function varsUsedBeforeDeclared(code: string): string[] {
  const out: string[] = [];
  const fns: Node[] = [];
  const all = (n: Node) => { if (/Function/.test(n.type) && n.body && n.body.type == "BlockStatement") fns.push(n); children(n, all); };
  all(parse(code, { ecmaVersion: 2020, sourceType: "script" }) as any);
  for (const f of fns) {
    const decls: [string, number][] = [];
    const scan = (n: Node) => {
      if (/Function/.test(n.type)) return;
      if (n.type == "VariableDeclaration" && n.kind == "var") for (const d of n.declarations) if (d.id.type == "Identifier") decls.push([d.id.name, n.start]);
      children(n, scan);
    };
    f.body.body.forEach(scan);
    for (const [name, at] of decls) {
      let early = -1;
      const use = (n: Node) => {
        if (/Function/.test(n.type)) return;
        if (n.type == "Identifier" && n.name == name && n.start < at && early < 0) early = n.start;
        children(n, use);
      };
      f.body.body.forEach(use);
      if (early >= 0) out.push(`${name} used at ${early} before its var at ${at}: ${code.slice(Math.max(0, early - 40), early + 40)}`);
    }
  }
  return out;
}
