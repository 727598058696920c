// Builds the QEMU bench firmware: the ES5 bundle of targets/qemu/app.ts (rollup's JS API),
// Duktape with the low-memory configuration, and the firmware linked with the bundle in flash.
//
// Every step's output lives in .cache/qemu/<step>-<hash of its inputs>/, so a rebuild happens
// only when an input changed (sources, flags, pool size, this file).
//
//   node tools/qemu/build.js [--pool 196608] [--script file.js]   builds, prints the paths and sizes
import { createHash } from 'node:crypto'
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { toMethods } from './methods.js'
import { builtinNames, bundleNames, extstrTable } from './extstr.js'
import { featuresOf, platformOf } from '../build-plugins.js'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const CACHE = join(ROOT, '.cache/qemu')
export const DEFAULT_POOL = 192 * 1024
const FIRMWARE = join(ROOT, 'targets/qemu/firmware')
const DUKTAPE = process.env.DUKTAPE_DIR || '/usr/share/duktape'
const GCC = 'arm-none-eabi-gcc'
const ARCH = ['-mcpu=cortex-m3', '-mthumb', '-mfloat-abi=soft']
const CFLAGS = [...ARCH, '-Os', '-std=gnu11', '-ffunction-sections', '-fdata-sections', '-fno-common', '-Wall', '-Wextra']
const CFLAGS_FIRMWARE = [...CFLAGS, '-Wshadow', '-Wstrict-prototypes', '-Wmissing-prototypes']
const FIRMWARE_C = ['startup.c', 'board.c', 'pool.c', 'extstr.c', 'crypto.c', 'main.c']

/** The cross compiler and QEMU, if missing (the bench cannot run at all without them). */
export function missingTools () {
  const missing = []
  for (const cmd of [GCC, 'qemu-system-arm']) {
    if (spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status !== 0) missing.push(cmd)
  }
  return missing
}

function hash (...parts) {
  const h = createHash('sha256')
  for (const p of parts) h.update(typeof p === 'string' ? p : JSON.stringify(p)).update('\0')
  return h.digest('hex').slice(0, 16)
}

function files (dir, test) {
  const out = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...files(p, test))
    else if (test(p)) out.push(p)
  }
  return out.sort()
}

function hashFiles (paths) {
  return hash(...paths.flatMap(p => [relative(ROOT, p), readFileSync(p)]).map(x => typeof x === 'string' ? x : x.toString('base64')))
}

/**
 * Runs `make(dir)` into a fresh directory that becomes `.cache/qemu/<name>` when it returns, or
 * returns the existing one. Concurrent builds of the same thing: the first rename wins.
 */
async function cached (name, make) {
  const dir = join(CACHE, name)
  if (existsSync(join(dir, '.done'))) return { dir, cached: true }
  mkdirSync(CACHE, { recursive: true })
  const tmp = mkdtempSync(join(CACHE, `.tmp-${name}-`))
  try {
    await make(tmp)
    writeFileSync(join(tmp, '.done'), new Date().toISOString() + '\n')
    try {
      renameSync(tmp, dir)
    } catch (err) {
      if (!existsSync(join(dir, '.done'))) throw err
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  prune(name)
  return { dir, cached: false }
}

/**
 * Keeps the cache from growing without end: of the builds of the same kind as `name` (same
 * prefix, other hash), the 3 newest stay, and so does anything built in the last 10 minutes (a
 * concurrent run may be about to boot it).
 */
function prune (name) {
  const kind = name.replace(/-[0-9a-f]{16}$/, '-')
  const now = Date.now()
  const others = readdirSync(CACHE)
    .filter(d => d.startsWith(kind) && d !== name && /^[0-9a-f]{16}$/.test(d.slice(kind.length)))
    .map(d => {
      try {
        return { d, t: statSync(join(CACHE, d, '.done')).mtimeMs }
      } catch {
        return { d, t: 0 }
      }
    })
    .sort((a, b) => b.t - a.t)
  for (const { d, t } of others.slice(2)) {
    if (now - t > 10 * 60 * 1000) rmSync(join(CACHE, d), { recursive: true, force: true })
  }
  // the leftovers of builds that were killed
  for (const d of readdirSync(CACHE)) {
    if (!d.startsWith('.tmp-')) continue
    try {
      if (now - statSync(join(CACHE, d)).mtimeMs > 60 * 60 * 1000) rmSync(join(CACHE, d), { recursive: true, force: true })
    } catch {}
  }
}

function run (cmd, args, cwd, log) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' })
  const out = `${r.stdout || ''}${r.stderr || ''}`.trim()
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}\n${out || r.error?.message || ''}`)
  if (out) (log || console.warn)(out) // warnings
}

/** The ES5 bundle of targets/qemu/<entry>.ts (app.ts: the bench scenario), minified like the Espruino build. */
async function buildBundle (log, entry = 'app') {
  const inputs = [
    ...files(join(ROOT, 'src'), p => p.endsWith('.ts')),
    ...files(join(ROOT, 'targets/qemu'), p => p.endsWith('.ts') || p.endsWith('tsconfig.json')),
    join(ROOT, 'tsconfig.json'),
    fileURLToPath(import.meta.url),
    fileURLToPath(new URL('./methods.js', import.meta.url)),
    fileURLToPath(new URL('../build-plugins.js', import.meta.url))
  ]
  const key = 'bundle-' + (entry === 'app' ? '' : entry + '-') + hash(hashFiles(inputs), entry)
  const r = await cached(key, async dir => {
    log?.(`qemu: bundling targets/qemu/${entry}.ts`)
    const { rollup } = await import('rollup')
    const typescript = (await import('@rollup/plugin-typescript')).default
    const terser = (await import('@rollup/plugin-terser')).default
    const problems = []
    const bundle = await rollup({
      input: join(ROOT, `targets/qemu/${entry}.ts`),
      treeshake: { moduleSideEffects: (id) => id === join(ROOT, `targets/qemu/${entry}.ts`), propertyReadSideEffects: false },
      onwarn (w) {
        // type errors in our own files fail the build; the rest is the type check's business
        if (w.plugin === 'typescript' && !/targets[\\/]qemu/.test(w.id || w.loc?.file || '')) return
        problems.push(w.message)
      },
      plugins: [
        // the IoT Hub feature set, as the hub entries of rollup.config.js: no QoS 2; and no payload sources (the bench sends none)
        featuresOf({ QOS2: false, SOURCES: false, EDGE: false, UPLOAD: false, FAST: false }), // the device bundles' choice (rollup.config.js LEAN)
        // targets/qemu/platform.ts: HMAC-SHA256 and base64 by the firmware (crypto.c), code in flash, not the JS heap
        platformOf('qemu'),
        typescript({
          tsconfig: join(ROOT, 'targets/qemu/tsconfig.json'),
          compilerOptions: { target: 'ES5', noEmit: false, outDir: undefined },
          include: [join(ROOT, 'src/**/*.ts'), join(ROOT, 'targets/qemu/**/*.ts')],
          outputToFilesystem: false
        })
      ]
    })
    const { output } = await bundle.generate({
      format: 'iife',
      generatedCode: 'es5',
      // sloppy mode: Duktape gives every strict closure two extra accessor properties
      // ("caller", "arguments"); the library does not rely on strict semantics (the Espruino
      // bundle is not strict either)
      strict: false,
      plugins: [terser({
        ecma: 5,
        toplevel: true,
        compress: { passes: 2, ecma: 5, toplevel: true },
        mangle: { toplevel: true, properties: { regex: /^_[^_]/ } },
        format: { ecma: 5, comments: false }
      })]
    })
    await bundle.close()
    if (problems.length) throw new Error('bundle: ' + problems.join('\n'))
    // functions as object-literal methods: no automatic .prototype object per closure in Duktape
    const shaped = toMethods(output[0].code)
    if (shaped.refused) (log || console.warn)(`qemu: bundle kept as it is (${shaped.refused} needs constructors, see tools/qemu/methods.js)`)
    writeFileSync(join(dir, 'bundle.js'), shaped.code)
  })
  return join(r.dir, 'bundle.js')
}

/** duktape.c with duk_overrides.h applied at the config's __OVERRIDE_DEFINES__ marker. */
async function buildDuktape (log) {
  if (!existsSync(join(DUKTAPE, 'duktape.c'))) throw new Error(`${DUKTAPE}/duktape.c not found: install the Debian package duktape-dev (or set DUKTAPE_DIR)`)
  const overrides = join(FIRMWARE, 'duk_overrides.h')
  const sources = ['duktape.c', 'duktape.h', 'duk_config.h'].map(f => join(DUKTAPE, f)).concat(join(FIRMWARE, 'extstr.h'))
  const key = 'duktape-' + hash(hashFiles([...sources, overrides]), CFLAGS)
  const r = await cached(key, async dir => {
    log?.('qemu: compiling duktape.c (once per configuration)')
    copyFileSync(join(DUKTAPE, 'duktape.c'), join(dir, 'duktape.c'))
    copyFileSync(join(DUKTAPE, 'duktape.h'), join(dir, 'duktape.h'))
    copyFileSync(overrides, join(dir, 'duk_overrides.h'))
    copyFileSync(join(FIRMWARE, 'extstr.h'), join(dir, 'extstr.h'))
    const config = readFileSync(join(DUKTAPE, 'duk_config.h'), 'utf8')
    const marker = '/* __OVERRIDE_DEFINES__ */'
    if (!config.includes(marker)) throw new Error(`${DUKTAPE}/duk_config.h has no ${marker} marker`)
    writeFileSync(join(dir, 'duk_config.h'), config.replace(marker, '#include "duk_overrides.h"'))
    run(GCC, [...CFLAGS, '-I.', '-c', 'duktape.c', '-o', 'duktape.o'], dir)
  })
  return r.dir
}

/**
 * Builds (or finds) the firmware for a pool size. Returns the ELF path, the bundle, the image
 * sizes ({flash, text, data, bss} in bytes) and whether everything came from the cache.
 * `script` embeds another (ES5) JS file instead of the app bundle, for experiments; `entry` bundles another
 * application of targets/qemu (default "app", the bench scenario; "store-app" for the power-cut test).
 * @param {{ poolSize?: number, script?: string, entry?: string, log?: (line: string) => void }} [options]
 */
export async function buildFirmware ({ poolSize = DEFAULT_POOL, script, entry, log } = {}) {
  const missing = missingTools()
  if (missing.length) throw new Error('qemu bench: missing ' + missing.join(', '))
  const bundle = script ? resolve(script) : await buildBundle(log, entry)
  const duk = await buildDuktape(log)
  const sources = [...FIRMWARE_C, 'board.h', 'crypto.h', 'pool.h', 'extstr.h', 'duk_overrides.h', 'mps2-an385.ld', 'bundle.S'].map(f => join(FIRMWARE, f))
  const tools = ['extstr.js'].map(f => fileURLToPath(new URL(f, import.meta.url)))
  const key = `firmware-${poolSize}-` + hash(hashFiles([...sources, ...tools, bundle, join(duk, 'duktape.o')]), CFLAGS_FIRMWARE)
  const r = await cached(key, async dir => {
    log?.(`qemu: building the firmware (pool ${poolSize} bytes)`)
    copyFileSync(bundle, join(dir, 'bundle.js'))
    // the strings of the bundle and of the built-ins, kept in flash (extstr.c)
    const src = readFileSync(bundle, 'utf8')
    writeFileSync(join(dir, 'extstr_table.h'), extstrTable([...bundleNames(src), ...builtinNames()]))
    const objs = []
    for (const c of FIRMWARE_C) {
      const o = c.replace(/\.c$/, '.o')
      run(GCC, [...CFLAGS_FIRMWARE, `-DPOOL_SIZE=${poolSize}u`, `-I${dir}`, `-I${duk}`, `-I${FIRMWARE}`, '-c', join(FIRMWARE, c), '-o', o], dir)
      objs.push(o)
    }
    run(GCC, [...ARCH, `-Wa,-I${dir}`, '-c', join(FIRMWARE, 'bundle.S'), '-o', 'bundle.o'], dir)
    run(GCC, [...ARCH, '-nostartfiles', '--specs=nano.specs', '-T', join(FIRMWARE, 'mps2-an385.ld'),
      '-Wl,--gc-sections', '-Wl,-Map=firmware.map', '-Wl,--no-warn-rwx-segments',
      ...objs, 'bundle.o', join(duk, 'duktape.o'), '-lm', '-lc', '-lgcc', '-o', 'firmware.elf'], dir)
    const sizes = execFileSync('arm-none-eabi-size', ['-A', '-d', 'firmware.elf'], { cwd: dir, encoding: 'utf8' })
    const section = name => +((sizes.match(new RegExp(`^\\${name}\\s+(\\d+)`, 'm')) || [])[1] || 0)
    const image = {
      text: section('.text') + section('.ARM.exidx'),
      data: section('.data'),
      bss: section('.bss'),
      stack: section('.stack'),
      bundle: statSync(bundle).size
    }
    image.flash = image.text + image.data
    writeFileSync(join(dir, 'image.json'), JSON.stringify(image, null, 2) + '\n')
  })
  return {
    elf: join(r.dir, 'firmware.elf'),
    dir: r.dir,
    poolSize,
    image: JSON.parse(readFileSync(join(r.dir, 'image.json'), 'utf8')),
    cached: r.cached
  }
}

/**
 * The allocator stress test (test/qemu/pool_stress.c) linked with the firmware's start-up,
 * board and pool code, for a small pool. Returns the ELF path.
 */
export async function buildPoolStress ({ poolSize = 32 * 1024, log } = {}) {
  const missing = missingTools()
  if (missing.length) throw new Error('qemu bench: missing ' + missing.join(', '))
  const test = join(ROOT, 'test/qemu/pool_stress.c')
  const sources = ['startup.c', 'board.c', 'pool.c', 'board.h', 'pool.h', 'mps2-an385.ld'].map(f => join(FIRMWARE, f))
  const key = `pool-stress-${poolSize}-` + hash(hashFiles([...sources, test]), CFLAGS_FIRMWARE)
  const r = await cached(key, async dir => {
    log?.('qemu: building the pool allocator stress test')
    const objs = []
    for (const c of [test, ...['startup.c', 'board.c', 'pool.c'].map(f => join(FIRMWARE, f))]) {
      const o = c.replace(/^.*[\\/]/, '').replace(/\.c$/, '.o')
      run(GCC, [...CFLAGS_FIRMWARE, `-DPOOL_SIZE=${poolSize}u`, `-I${FIRMWARE}`, '-c', c, '-o', o], dir, log)
      objs.push(o)
    }
    run(GCC, [...ARCH, '-nostartfiles', '--specs=nano.specs', '-T', join(FIRMWARE, 'mps2-an385.ld'),
      '-Wl,--gc-sections', '-Wl,--no-warn-rwx-segments', ...objs, '-lc', '-lgcc', '-o', 'pool-stress.elf'], dir, log)
  })
  return join(r.dir, 'pool-stress.elf')
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = name => {
    const i = process.argv.indexOf(name)
    return i > 0 ? process.argv[i + 1] : undefined
  }
  const poolSize = +(arg('--pool') || DEFAULT_POOL)
  const t = Date.now()
  buildFirmware({ poolSize, script: arg('--script'), log: console.log }).then(fw => {
    console.log(`${relative(process.cwd(), fw.elf)}${fw.cached ? ' (cached)' : ''} in ${Date.now() - t} ms`)
    console.log(`flash ${fw.image.flash} bytes (bundle ${fw.image.bundle}), RAM: data ${fw.image.data} + bss ${fw.image.bss} (pool ${poolSize}) + stack ${fw.image.stack}`)
  }, err => {
    console.error(err.message)
    process.exit(1)
  })
}
