/**
 * `npm run size`: what TideKV costs an app in the browser, next to Yjs alone,
 * idb-keyval and TinyBase, all measured the same way in one run.
 *
 * Each app entry in test/bench/size/ is bundled on its own by esbuild
 * (browser, ESM, es2022, minified, code splitting so dynamic imports become
 * chunks of their own, @tidekv/* from their sources as the tests do), then
 * every chunk is compressed with gzip (level 9) and brotli (quality 11,
 * text mode) from node:zlib. "Loads at start" is the entry chunk and every
 * chunk it imports statically; "loaded later" is what only a dynamic
 * `import()` reaches (for TideKV: sync/sync-link.ts, y-websocket, y-protocols).
 * Sizes are sums over chunks, each compressed alone, as they would be sent.
 *
 * Checks, which fail the run: the app that never syncs must not load
 * y-websocket, y-protocols or sync/sync-link.ts at start; the app that syncs must find
 * them in a chunk of their own. The composition of TideKV's bundle (bytes
 * each package leaves in the minified output, from esbuild's metafile) names
 * what dominates. Results: a table on stdout, JSON in
 * test/bench/results/size.json. Not part of `npm test`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { sourceAliases } from '../../packages/source-aliases.js'
import { sourcesPluginExcept } from '../helpers/esbuild-sources.js'
import { build, type Metafile } from 'esbuild'
import { rolldownVersion, type Rolldown, build as viteBuild, version as viteVersion } from 'vite'
import { formatTable, packageVersion } from './measure.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const RESULTS = new URL('./results/size.json', import.meta.url)

interface App {
  id: string
  label: string
  file: string
  /** Mark these packages external (not bundled): to weigh TideKV without its peers. */
  external?: string[]
}

const APPS: App[] = [
  { id: 'tidekv-local', label: 'TideKV, no sync', file: 'tidekv-local.ts' },
  { id: 'tidekv-sync', label: 'TideKV, with sync', file: 'tidekv-sync.ts' },
  // Issue 9's measure: TideKV's own code loaded at start (engine and client), every dependency external. Goal ≤ 16 KiB gzip.
  {
    id: 'tidekv-own',
    label: "TideKV's own code (no sync; yjs, lib0, idb, y-* external)",
    file: 'tidekv-local.ts',
    external: ['yjs', 'lib0', 'lib0/*', 'idb', 'y-websocket', 'y-protocols', 'y-protocols/*'],
  },
  // Issue 15's bindings and inspector: each alone, its framework and the client external. Goals: 2 KiB gzip each binding, 12 KiB the inspector.
  { id: 'tidekv-react', label: '@tidekv/react (react, @tidekv/client external)', file: 'tidekv-react.ts', external: ['react', '@tidekv/client'] },
  { id: 'tidekv-vue', label: '@tidekv/vue (vue, @tidekv/client external)', file: 'tidekv-vue.ts', external: ['vue', '@tidekv/client'] },
  { id: 'tidekv-inspector', label: '@tidekv/inspector (@tidekv/client external)', file: 'tidekv-inspector.ts', external: ['@tidekv/client'] },
  { id: 'yjs', label: 'Yjs alone (whole namespace)', file: 'yjs.ts' },
  { id: 'yjs-map', label: 'Yjs: Doc + Map + updates', file: 'yjs-map.ts' },
  { id: 'idb-keyval', label: 'idb-keyval', file: 'idb-keyval.ts' },
  { id: 'tinybase-store', label: 'TinyBase store', file: 'tinybase-store.ts' },
  { id: 'tinybase-mergeable-ws', label: 'TinyBase mergeable store + ws synchronizer', file: 'tinybase-mergeable-ws.ts' },
  { id: 'tinybase-mergeable-idb-ws', label: 'TinyBase mergeable + IndexedDB persister + ws', file: 'tinybase-mergeable-idb-ws.ts' },
]

/** Inputs that only a syncing app may load. */
const SYNC_ONLY = [/node_modules\/y-websocket\//, /node_modules\/y-protocols\//, /packages\/client\/src\/sync\/sync-link\.ts$/]

interface Sizes {
  min: number
  gzip: number
  brotli: number
}

interface Chunk extends Sizes {
  path: string
  /** Minified bytes each input (module) left in this chunk. */
  inputs: Record<string, number>
}

interface Result {
  id: string
  label: string
  /** What loads at start: the entry chunk and its static imports. */
  initial: Sizes
  /** What only dynamic imports reach. */
  lazy: Sizes
  chunks: { initial: Chunk[]; lazy: Chunk[] }
}

const zero = (): Sizes => ({ min: 0, gzip: 0, brotli: 0 })
const add = (a: Sizes, b: Sizes): Sizes => ({ min: a.min + b.min, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli })

function compress(bytes: Uint8Array): Sizes {
  return {
    min: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
  }
}

async function measureApp(app: App): Promise<Result> {
  const entry = fileURLToPath(new URL(`./size/${app.file}`, import.meta.url))
  const outdir = `${ROOT}.size-out/${app.id}`
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    legalComments: 'none',
    plugins: [sourcesPluginExcept(app.external ?? [])],
    external: app.external ?? [],
    outdir,
    absWorkingDir: ROOT,
    write: false,
    metafile: true,
    logLevel: 'warning',
  })
  const files = new Map(result.outputFiles.map((f) => [relative(ROOT, f.path), f.contents]))
  const outputs: Metafile['outputs'] = result.metafile.outputs
  const entryChunk = Object.keys(outputs).find((p) => outputs[p]!.entryPoint !== undefined && p.endsWith('.js'))
  if (entryChunk === undefined) throw new Error(`${app.id}: no entry chunk in the metafile`)
  // What loads at start: the entry chunk and everything it imports statically, transitively.
  const initial = new Set<string>()
  const visit = (path: string): void => {
    if (initial.has(path)) return
    initial.add(path)
    for (const imp of outputs[path]!.imports) if (imp.kind === 'import-statement' && imp.external !== true) visit(imp.path)
  }
  visit(entryChunk)
  const chunk = (path: string): Chunk => {
    const bytes = files.get(path)
    if (bytes === undefined) throw new Error(`${app.id}: ${path} is in the metafile but was not written`)
    const inputs = Object.fromEntries(Object.entries(outputs[path]!.inputs).map(([input, { bytesInOutput }]) => [input, bytesInOutput]))
    return { path, ...compress(bytes), inputs }
  }
  const js = Object.keys(outputs).filter((p) => p.endsWith('.js'))
  const initialChunks = js.filter((p) => initial.has(p)).map(chunk)
  const lazyChunks = js.filter((p) => !initial.has(p)).map(chunk)
  return {
    id: app.id,
    label: app.label,
    initial: initialChunks.reduce<Sizes>(add, zero()),
    lazy: lazyChunks.reduce<Sizes>(add, zero()),
    chunks: { initial: initialChunks, lazy: lazyChunks },
  }
}

/**
 * The same app built by Vite 8 (rolldown, its own minifier), the bundler of
 * the demo: a cross-check of the esbuild figures and of the code split.
 */
async function measureWithVite(app: App): Promise<{ initial: Sizes; lazy: Sizes; syncAtStart: string[]; syncLater: string[] }> {
  const built = await viteBuild({
    configFile: false,
    root: ROOT,
    logLevel: 'silent',
    resolve: { alias: sourceAliases(ROOT) },
    build: {
      write: false,
      minify: true,
      target: 'es2022',
      modulePreload: false,
      rolldownOptions: { input: fileURLToPath(new URL(`./size/${app.file}`, import.meta.url)), preserveEntrySignatures: 'strict' },
    },
  })
  // reason: vite.build returns the bundles, one or an array (a watcher only in watch mode, which is off)
  const outputs = (Array.isArray(built) ? built : [built]) as Rolldown.RolldownOutput[]
  const chunks = outputs.flatMap((o) => o.output).filter((c): c is Rolldown.OutputChunk => c.type === 'chunk')
  const byName = new Map(chunks.map((c) => [c.fileName, c]))
  const initial = new Set<string>()
  const visit = (name: string): void => {
    if (initial.has(name) || !byName.has(name)) return
    initial.add(name)
    for (const imp of byName.get(name)!.imports) visit(imp)
  }
  for (const c of chunks) if (c.isEntry) visit(c.fileName)
  const sizes = (list: Rolldown.OutputChunk[]): Sizes => list.reduce<Sizes>((sum, c) => add(sum, compress(new TextEncoder().encode(c.code))), zero())
  const sync = (list: Rolldown.OutputChunk[]): string[] => list.flatMap((c) => Object.keys(c.modules).filter((m) => SYNC_ONLY.some((re) => re.test(m))))
  const atStart = chunks.filter((c) => initial.has(c.fileName))
  const later = chunks.filter((c) => !initial.has(c.fileName))
  return { initial: sizes(atStart), lazy: sizes(later), syncAtStart: sync(atStart), syncLater: sync(later) }
}

/** Which package (or TideKV source) an esbuild input path belongs to. */
function owner(input: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
  if (m !== null) return m[1]!
  if (input.includes('packages/client/src/')) return '@tidekv/client'
  if (input.includes('packages/core/src/')) return '@tidekv/core'
  return 'the app'
}

function composition(chunks: readonly Chunk[]): { owner: string; bytes: number }[] {
  const byOwner = new Map<string, number>()
  for (const c of chunks) for (const [input, bytes] of Object.entries(c.inputs)) byOwner.set(owner(input), (byOwner.get(owner(input)) ?? 0) + bytes)
  return [...byOwner].map(([o, bytes]) => ({ owner: o, bytes })).sort((a, b) => b.bytes - a.bytes)
}

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`
const syncInputs = (chunks: readonly Chunk[]): string[] => chunks.flatMap((c) => Object.keys(c.inputs).filter((i) => SYNC_ONLY.some((re) => re.test(i))))

async function main(): Promise<void> {
  const results: Result[] = []
  for (const app of APPS) results.push(await measureApp(app))
  const byId = (id: string): Result => results.find((r) => r.id === id)!

  // The tree-shaking checks.
  const local = byId('tidekv-local')
  const leaked = syncInputs(local.chunks.initial)
  if (leaked.length > 0) {
    throw new Error(`TREE-SHAKING FAILED: the app that never syncs loads sync code at start:\n  ${leaked.join('\n  ')}`)
  }
  // The bindings add nothing to an app that does not import them.
  const bindings = [...local.chunks.initial, ...local.chunks.lazy].flatMap((c) => Object.keys(c.inputs).filter((i) => /packages\/(react|vue|inspector)\//.test(i)))
  if (bindings.length > 0) throw new Error(`TREE-SHAKING FAILED: an app of @tidekv/client alone ships binding code:\n  ${bindings.join('\n  ')}`)
  const synced = byId('tidekv-sync')
  const split = syncInputs(synced.chunks.lazy)
  if (!split.some((i) => i.includes('node_modules/y-websocket/')) || syncInputs(synced.chunks.initial).length > 0) {
    throw new Error('CODE SPLITTING FAILED: y-websocket is not in a chunk of its own, loaded by dynamic import, in the app that syncs')
  }

  // The same two apps through Vite (rolldown): the split must hold there too.
  const viteLocal = await measureWithVite(APPS.find((a) => a.id === 'tidekv-local')!)
  const viteSync = await measureWithVite(APPS.find((a) => a.id === 'tidekv-sync')!)
  if (viteLocal.syncAtStart.length > 0 || viteSync.syncAtStart.length > 0 || !viteSync.syncLater.some((m) => m.includes('node_modules/y-websocket/'))) {
    throw new Error(
      `TREE-SHAKING FAILED under Vite: sync code at start: ${[...viteLocal.syncAtStart, ...viteSync.syncAtStart].join(', ') || 'none'}; in the lazy chunk: ${viteSync.syncLater.join(', ') || 'none'}`,
    )
  }

  const row = (label: string, s: Sizes, note = ''): string[] => [label, kib(s.min), kib(s.gzip), kib(s.brotli), note]
  const body: string[][] = []
  for (const r of results) {
    if (r.id === 'tidekv-react' || r.id === 'tidekv-vue' || r.id === 'tidekv-inspector') {
      const goal = r.id === 'tidekv-inspector' ? 12 : 2
      body.push(row(r.label, add(r.initial, r.lazy), `goal ≤ ${goal} KiB gzip: ${r.initial.gzip <= goal * 1024 ? 'met' : 'NOT met'}`))
    } else if (r.id === 'tidekv-own') {
      body.push(row(r.label, r.initial, 'what TideKV adds to an app that has Yjs'))
    } else if (r.id === 'tidekv-local') {
      body.push(row(`${r.label}: loads at start`, r.initial, `lazy chunks (${kib(r.lazy.brotli)} br) built, never loaded`))
    } else if (r.id === 'tidekv-sync') {
      // The lazy chunks: those with sync code load on connect; the rest (cache mode) only for a cache store.
      const syncLazy = r.chunks.lazy.filter((c) => syncInputs([c]).length > 0)
      const otherLazy = r.chunks.lazy.filter((c) => syncInputs([c]).length === 0)
      const syncSize = syncLazy.reduce<Sizes>(add, zero())
      body.push(row(`${r.label}: loads at start`, r.initial))
      body.push(row(`${r.label}: + sync chunk (import())`, syncSize, 'sync-link.ts, y-websocket, y-protocols'))
      body.push(row(`${r.label}: total`, add(r.initial, syncSize)))
      body.push(row(`${r.label}: cache chunk (import(), cache stores only)`, otherLazy.reduce<Sizes>(add, zero()), 'cache-mode.ts, cache-budget.ts'))
      body.push(row(`${r.label}, Vite ${viteVersion}: loads at start`, viteSync.initial, `rolldown ${rolldownVersion}: cross-check`))
      body.push(row(`${r.label}, Vite ${viteVersion}: + lazy chunks`, viteSync.lazy, 'sync and cache'))
    } else {
      body.push(row(r.label, add(r.initial, r.lazy), r.lazy.min > 0 ? `incl. ${kib(r.lazy.min)} loaded later` : ''))
    }
  }
  const table = formatTable(['bundle', 'min', 'gzip', 'brotli', 'note'], body)

  // What the bundles are made of.
  const parts = [
    { label: 'TideKV, no sync (loads at start)', chunks: local.chunks.initial },
    { label: 'TideKV sync chunk', chunks: synced.chunks.lazy.filter((c) => syncInputs([c]).length > 0) },
  ]
  const compositions = parts.map((p) => {
    const comp = composition(p.chunks)
    const total = comp.reduce((s, c) => s + c.bytes, 0)
    return { label: p.label, total, parts: comp.map((c) => ({ ...c, share: c.bytes / total })) }
  })
  const compTable = formatTable(
    ['bundle', 'package', 'min bytes', 'share'],
    compositions.flatMap((c) => c.parts.filter((p) => p.bytes > 0).map((p) => [c.label, p.owner, kib(p.bytes), `${(p.share * 100).toFixed(1)}%`])),
  )
  const yjsShare = compositions[0]!.parts.find((p) => p.owner === 'yjs')!
  const clientModules = Object.entries(
    local.chunks.initial.reduce<Record<string, number>>((acc, c) => {
      for (const [input, bytes] of Object.entries(c.inputs)) if (owner(input) === '@tidekv/client') acc[input.replace(/^.*\/src\//, '')] = bytes
      return acc
    }, {}),
  ).sort((a, b) => b[1] - a[1])
  const own = byId('tidekv-own').initial
  const lines = [
    '',
    `Bundle sizes — esbuild ${packageVersion('esbuild')}, browser ESM es2022, minified; gzip -9, brotli -q 11; sums over chunks, each compressed alone`,
    '',
    table,
    '',
    'What TideKV ships (minified bytes each package leaves in the output, from the metafile):',
    '',
    compTable,
    '',
    `Checks: the no-sync app loads no y-websocket, y-protocols or sync-link.ts at start (metafile of its initial chunks); the syncing app has them only in the chunk its import('./sync/sync-link.js') loads (${split.length} inputs). The same holds when Vite builds them (rolldown's chunk module lists).`,
    `Largest @tidekv/client modules (min): ${clientModules
      .slice(0, 6)
      .map(([m, b]) => `${m} ${kib(b)}`)
      .join(', ')}.`,
    `Dominant: yjs is ${(yjsShare.share * 100).toFixed(0)}% of the no-sync bundle (${kib(yjsShare.bytes)} of ${kib(compositions[0]!.total)} minified). With every dependency left out (external), TideKV's own code is ${kib(own.min)} min, ${kib(own.gzip)} gzip, ${kib(own.brotli)} brotli.`,
  ]
  console.log(lines.join('\n'))

  mkdirSync(new URL('./', RESULTS), { recursive: true })
  const json = {
    meta: {
      date: new Date().toISOString(),
      bundler: `esbuild ${packageVersion('esbuild')}`,
      options: { format: 'esm', platform: 'browser', target: 'es2022', minify: true, splitting: true },
      compression: { gzip: 'level 9', brotli: 'quality 11, text mode' },
      crossCheck: `vite ${viteVersion} (rolldown ${rolldownVersion}), minify: true, target es2022`,
      versions: Object.fromEntries(['yjs', 'lib0', 'idb', 'y-websocket', 'y-protocols', 'idb-keyval', 'tinybase'].map((p) => [p, packageVersion(p)])),
      units: 'bytes',
    },
    vite: { 'tidekv-local': viteLocal, 'tidekv-sync': viteSync },
    results: results.map((r) => ({
      ...r,
      chunks: {
        initial: r.chunks.initial.map(({ inputs: _inputs, ...c }) => c),
        lazy: r.chunks.lazy.map(({ inputs: _inputs, ...c }) => c),
      },
    })),
    compositions,
    clientModules: Object.fromEntries(clientModules),
    table,
    compositionTable: compTable,
  }
  writeFileSync(RESULTS, `${JSON.stringify(json, null, 2)}\n`)
}

await main()
