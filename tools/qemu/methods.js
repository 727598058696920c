// Reshapes the QEMU bench bundle for Duktape's heap: its functions become object-literal methods.
//
// Duktape gives every closure made from a `function` an automatic .prototype object (with a
// .constructor pointing back): about 64 bytes of JS heap per closure, and a reference cycle that
// only mark-and-sweep reclaims, so even a short-lived callback is garbage until the next full
// collection. ES2015 method definitions (`{ m() {} }`, which Duktape 2.7 parses) are not
// constructors and get none. The transform, on the minified bundle:
//
//   { k: function (a) {...} }         ->  { k(a) {...} }
//   function (a) {...}  (expression)   ->  ({ a(a) {...} }).a
//   function f(a) {...} (declaration)  ->  var f = ({ a(a) {...} }).a;   moved to the top of its
//                                          function body, which is where a declaration is created
//
// Only for functions that do not use `this` or `arguments` (a method called on its own object
// would see that object), anonymous function expressions, and declarations directly in a
// function body. The bundle must not use its own functions as constructors: any `new X` or
// `X.prototype` with X not a built-in leaves the bundle as it is (and says why).
import * as acorn from 'acorn'

/** Constructors the bundle may `new` (built-ins, never bundle functions). */
const BUILTINS = new Set(['Array', 'ArrayBuffer', 'DataView', 'Date', 'Error', 'Float32Array', 'Float64Array', 'Int16Array',
  'Int32Array', 'Int8Array', 'Object', 'RangeError', 'RegExp', 'String', 'TypeError', 'Uint16Array', 'Uint32Array', 'Uint8Array',
  'Uint8ClampedArray'])

const isFunction = n => n.type === 'FunctionExpression' || n.type === 'FunctionDeclaration'

/** Method names Duktape 2.7 does not parse unquoted (`{ get() {} }`, `{ delete() {} }`): they are quoted. */
const QUOTE = new Set(('get set await break case catch class const continue debugger default delete do else enum export extends false ' +
  'finally for function if implements import in instanceof interface let new null package private protected public return static ' +
  'super switch this throw true try typeof var void while with yield').split(' '))

/**
 * @param {string} src an ES5 script (the minified bundle)
 * @returns {{ code: string, converted: { properties: number, expressions: number, declarations: number }, skipped: number, refused?: string }}
 */
export function toMethods (src) {
  const ast = acorn.parse(src, { ecmaVersion: 2015, sourceType: 'script' })
  const parent = new Map()
  const functions = []
  const usesSelf = new Set() // functions whose own `this` or `arguments` is used
  let refused = null

  ;(function walk (node, up, fn) {
    parent.set(node, up)
    if (isFunction(node)) {
      functions.push(node)
      fn = node
    } else if (node.type === 'ThisExpression' || (node.type === 'Identifier' && node.name === 'arguments')) {
      if (fn) usesSelf.add(fn)
    } else if (node.type === 'NewExpression') {
      if (node.callee.type !== 'Identifier' || !BUILTINS.has(node.callee.name)) refused ||= `new ${src.slice(node.callee.start, node.callee.end)}`
    } else if (node.type === 'MemberExpression' && !node.computed && node.property.name === 'prototype') {
      if (node.object.type !== 'Identifier' || !BUILTINS.has(node.object.name)) refused ||= `${src.slice(node.object.start, node.object.end)}.prototype`
    }
    for (const key of Object.keys(node)) {
      const v = node[key]
      if (Array.isArray(v)) { for (const c of v) if (c && typeof c.type === 'string') walk(c, node, fn) } else if (v && typeof v.type === 'string' && key !== 'parent') walk(v, node, fn)
    }
  })(ast, null, null)

  if (refused) return { code: src, converted: { properties: 0, expressions: 0, declarations: 0 }, skipped: functions.length, refused }

  /** How a function is rewritten: 'property', 'expression', 'declaration' or null (kept). */
  const kind = new Map()
  for (const f of functions) {
    const up = parent.get(f)
    let k = null
    if (!usesSelf.has(f) && !f.generator && !f.async) {
      if (f.type === 'FunctionExpression' && !f.id) {
        if (up.type === 'Property' && up.value === f) k = up.kind === 'init' && !up.method && !up.computed && !up.shorthand ? 'property' : null
        else k = 'expression'
      } else if (f.type === 'FunctionDeclaration' && up.type === 'BlockStatement' && isFunction(parent.get(up))) k = 'declaration'
    }
    kind.set(f, k)
  }

  // units: every function, or for a 'property' function the whole property; nested by range
  const units = functions.map(f => (kind.get(f) === 'property' ? { node: parent.get(f), fn: f } : { node: f, fn: f }))
  units.sort((a, b) => a.node.start - b.node.start || b.node.end - a.node.end)
  const root = { node: { start: 0, end: src.length }, children: [] }
  const stack = [root]
  for (const u of units) {
    u.children = []
    while (stack[stack.length - 1].node.end <= u.node.start) stack.pop()
    stack[stack.length - 1].children.push(u)
    stack.push(u)
  }
  const byFunction = new Map(units.map(u => [u.fn, u]))

  const count = { properties: 0, expressions: 0, declarations: 0 }

  /** src[lo, hi) with the units in `children` (sorted, inside the range) rendered. */
  function range (lo, hi, children) {
    let out = ''
    let at = lo
    for (const u of children) {
      if (u.node.start < lo || u.node.end > hi) continue
      out += src.slice(at, u.node.start) + unit(u)
      at = u.node.end
    }
    return out + src.slice(at, hi)
  }

  /** `(a, b)`: the parameter list of a function, from after its name to its body. */
  function params (f) {
    return src.slice(f.id ? f.id.end : f.start + 'function'.length, f.body.start)
  }

  /** The body `{...}` of f, its convertible declarations moved to the top as method variables. */
  function body (f, u) {
    const b = f.body
    const inner = u.children
    let lead = b.start + 1
    for (const s of b.body) {
      if (s.type === 'ExpressionStatement' && s.directive != null) lead = s.end
      else break
    }
    let hoisted = ''
    for (const c of inner) {
      if (c.node.type === 'FunctionDeclaration' && kind.get(c.fn) === 'declaration' && parent.get(c.fn) === b) {
        hoisted += `var ${c.fn.id.name}=({a${params(c.fn)}${body(c.fn, c)}}).a;`
        count.declarations++
      }
    }
    return range(b.start, lead, inner) + hoisted + range(lead, b.end, inner)
  }

  function unit (u) {
    const f = u.fn
    switch (kind.get(f)) {
      case 'property':
        count.properties++
        return (u.node.key.type === 'Identifier' && QUOTE.has(u.node.key.name) ? JSON.stringify(u.node.key.name) : src.slice(u.node.start, u.node.key.end)) +
          params(f) + body(f, u)
      case 'expression':
        count.expressions++
        return `({a${params(f)}${body(f, u)}}).a`
      case 'declaration':
        return '' // hoisted by its parent's body()
      default:
        return src.slice(f.start, f.body.start) + body(f, u)
    }
  }

  const code = range(0, src.length, root.children)
  acorn.parse(code, { ecmaVersion: 2015, sourceType: 'script' }) // still one script
  const converted = count.properties + count.expressions + count.declarations
  return { code, converted: count, skipped: functions.length - converted }
}
