// What the real engines refuse, checked on every built bundle so the build cannot produce it: rollup.config.js
// runs these rules on each output and fails the build; test/build/bundle-rules.test.ts shows each rule catching
// its shape. Each rule is one difference seen in the real runtime (../shared/engines/README.md):
//
//   espruino  hoist     a function declaration after another statement of its scope, or inside a block: Espruino
//                       does not hoist declarations, so code before it finds it undefined (or an outer one)
//             regex-/   an unescaped "/" inside a regex character class: Espruino's lexer ends the literal there
//             regex     anchors (^ $) anywhere but the pattern's ends, ?, {n,m}, quantified groups, (?...):
//                       Espruino's regex engine answers these wrongly (/x?/.test("a") is false there)
//             regex)    a regex literal right after ")" (the statement of an if, for or while): Espruino's lexer
//                       reads the "/" as a division there
//             ide/      a regex literal after a token the Espruino IDE and command-line tool read a division after
//                       (their lexer, core/utils.js getLexer: after a name, number, string or a character other than
//                       ! % & * + - / < = > ? [ { } ( , ; :, e.g. "||"): they then miscount the brackets and refuse
//                       to send code that holds the bundle ("more open brackets than close brackets")
//             length    an assignment to .length: "Assignment to a constant" for arrays
//             ascii     a character above U+007F in the file: uploaded as UTF-8 bytes, it becomes two or three
//                       characters of a binary string on the boards without Unicode (and a string literal
//                       holding it changes meaning)
//   moddable  preload   a typed array, ArrayBuffer or DataView made at module level: the xsl preload freezes it
//                       into flash and the first write throws "read-only buffer"
import { parse, tokenizer } from "acorn";

/** After these characters and keywords the Espruino IDE's lexer reads "/" as the start of a regex. */
const IDE_REGEX_CHARS = "!%&*+-/<=>?[{}(,;:";
const IDE_REGEX_WORDS = /^(abstract|break|case|catch|class|const|continue|debugger|default|delete|do|else|enum|eval|export|extends|field|final|finally|for|function|goto|if|implements|import|in|instanceof|native|new|package|private|protected|public|return|static|switch|synchronized|throw|throws|transient|try|typeof|var|volatile|while|with)$/;

/** Whether the Espruino IDE's lexer takes a "/" after token `t` for a division. @param {any} t */
function ideDivides(t) {
  const l = t.type.label;
  if (l == "name" || l == "num" || l == "string" || l == "regexp" || l == "template" || t.type.keyword) return !IDE_REGEX_WORDS.test(String(t.value));
  const text = String(t.value ?? l);
  return IDE_REGEX_CHARS.indexOf(text[text.length - 1]) < 0;
}

const BUFFERS = /^(ArrayBuffer|DataView|(Ui|I)nt(8|16|32)Array|Uint8ClampedArray|Float(32|64)Array|Big(Ui|I)nt64Array)$/;

/** Calls `fn(node, parent, inFunction)` for every node of an acorn tree. */
function walk(node, fn, parent = null, inFunction = false) {
  fn(node, parent, inFunction);
  const inner = inFunction || /Function/.test(node.type);
  for (const k in node) {
    const v = node[k];
    if (!v || typeof v != "object") continue;
    if (Array.isArray(v)) for (const c of v) c && typeof c.type == "string" && walk(c, fn, node, inner);
    else if (typeof v.type == "string") walk(v, fn, node, inner);
  }
}

/** Problems of a regex pattern in Espruino's engine (empty when none). */
export function espruinoRegexProblems(pattern) {
  const out = [];
  let depth = 0, inClass = false, prev = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c == "\\") {
      i++;
      prev = "x";
      continue;
    }
    if (inClass) {
      if (c == "/") out.push("unescaped / in a character class (write \\/)");
      if (c == "]") inClass = false;
      prev = "]";
      continue;
    }
    if (c == "[") inClass = true;
    else if (c == "(") depth++;
    else if (c == ")") depth--;
    else if (c == "{") out.push("a {n,m} quantifier");
    else if (c == "?") out.push(prev == "(" ? "a (?...) group" : "a ? quantifier (never matches the atom's absence there)");
    else if ((c == "*" || c == "+") && prev == ")") out.push("a quantified group");
    else if ((c == "^" && (depth || i > 0)) || (c == "$" && (depth || i < pattern.length - 1))) out.push(`anchor ${c} inside a group or an alternative`);
    prev = c;
  }
  return out;
}

/**
 * The rule violations of a built bundle for `target` ("espruino" | "moddable" | other: none), as messages
 * with the code around each.
 * @param {string} code @param {string} target @returns {string[]}
 */
export function bundleViolations(code, target) {
  const out = [];
  const at = (n, why) => out.push(`${why} near ${JSON.stringify(code.slice(Math.max(0, n.start - 40), n.end + 40).slice(0, 160))}`);
  if (target == "espruino") for (const m of code.matchAll(/[^\x00-\x7f]/g)) at({ start: m.index, end: m.index + 1 }, `ascii: character U+${m[0].charCodeAt(0).toString(16).padStart(4, "0")} in the file (write an escape)`);
  if (target == "espruino") {
    let prev = null;
    for (const t of tokenizer(code, { ecmaVersion: 5 })) {
      if (t.type.label == "regexp" && prev && prev.type.label == ")") at(t, `regex): a regex literal right after ")" is read as a division by Espruino`);
      else if (t.type.label == "regexp" && prev && ideDivides(prev)) at(t, `ide/: a regex literal after "${prev.value ?? prev.type.label}" is read as a division by the Espruino IDE and command-line tool`);
      prev = t;
    }
  }
  const ast = parse(code, { ecmaVersion: target == "espruino" ? 5 : 2022, sourceType: target == "moddable" ? "module" : "script" });
  walk(ast, (n, parent, inFunction) => {
    if (target == "espruino") {
      if (n.type == "Program" || (n.type == "BlockStatement" && parent && /Function/.test(parent.type))) {
        let other = false;
        for (const s of n.body) {
          if (s.type == "FunctionDeclaration") {
            if (other) at(s, `hoist: function ${s.id.name} declared after a statement of its scope (Espruino does not hoist)`);
          } else if (!(s.type == "ExpressionStatement" && s.directive)) other = true;
        }
      } else if (n.type == "BlockStatement" || n.type == "SwitchCase") {
        for (const s of n.body || n.consequent) if (s.type == "FunctionDeclaration") at(s, `hoist: function ${s.id.name} declared inside a block`);
      }
      if (n.type == "Literal" && n.regex) for (const p of espruinoRegexProblems(n.regex.pattern)) at(n, `regex /${n.regex.pattern}/: ${p}`);
      if ((n.type == "AssignmentExpression" && n.left.type == "MemberExpression" && !n.left.computed && n.left.property.name == "length") ||
        (n.type == "UpdateExpression" && n.argument.type == "MemberExpression" && !n.argument.computed && n.argument.property.name == "length"))
        at(n, "length: assignment to .length (Espruino: Assignment to a constant)");
    }
    if (target == "moddable" && n.type == "NewExpression" && n.callee.type == "Identifier" && BUFFERS.test(n.callee.name)) {
      if (!inFunction) at(n, `preload: new ${n.callee.name} at module level (read-only once xsl preloads the module)`);
    }
  });
  return out;
}
