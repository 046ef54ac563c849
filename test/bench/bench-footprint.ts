/**
 * `npm run bench:footprint` (also the last part of `npm run bench`): issue
 * 12's footprint rows. Heap per key of N small keys `user:<i>:prefs` →
 * `{ theme, lang, n }` in a raw `Map`, a Yjs `Y.Map` (one document, one
 * transaction per 1,000 keys) and TideKV (`persist: false`, so no storage
 * stand-in is counted; a flush per 1,000 keys, as the Y.Map's transactions),
 * at 100,000 and 1,000,000 keys; TinyBase's mergeable store at 100,000 only
 * (it takes minutes for a million here). Also the time to write them (and
 * flush), and to read every key back once (which decodes TideKV's values).
 *
 * Heap = `heapUsed` + `arrayBuffers` after two full collections, after
 * minus before, divided by N; each figure from a fresh child process (node
 * --expose-gc, 4 GiB heap limit), so one measurement's garbage and caches do
 * not land in the next. RSS growth beside it. Results: a table on stdout, JSON
 * in test/bench/results/bench-footprint.json. Environment:
 * BENCH_FOOTPRINT_SIZES (default '100000,1000000').
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createMergeableStore } from 'tinybase'
import * as Y from 'yjs'
import { openStore } from '../../packages/client/src/index.js'
import { formatTable } from './measure.js'
import { machine, saveResults } from './report.js'

const KINDS = ['map', 'ymap', 'tidekv', 'tinybase'] as const
type Kind = (typeof KINDS)[number]
const LABELS: Record<Kind, string> = { map: 'Map', ymap: 'Y.Map', tidekv: 'TideKV', tinybase: 'TinyBase (mergeable)' }
const SIZES = (process.env.BENCH_FOOTPRINT_SIZES ?? '100000,1000000').split(',').map(Number)
/** TinyBase costs ~15-60 µs per write here: a million would take minutes. */
const TINYBASE_MAX = 100_000
/** Keys per Yjs transaction / TideKV flush. */
const CHUNK = 1_000
const CHILD_TIMEOUT_MS = 600_000
const RESULTS = new URL('./results/bench-footprint.json', import.meta.url)

interface Measured {
  heapPerKey: number
  rssPerKey: number
  writeMs: number
  readMs: number
}

const collect = (globalThis as { gc?: () => void }).gc // reason: a global only with --expose-gc, which no lib types

function memory(): { heap: number; rss: number } {
  collect?.()
  collect?.()
  const m = process.memoryUsage()
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss }
}

const key = (i: number) => `user:${i}:prefs`
const THEMES = ['dark', 'light', 'solarized'] as const
const value = (i: number) => ({ theme: THEMES[i % 3]!, lang: 'en', n: i })

/** Fills one kind of store with n keys; returns it (kept alive) with the write and read times. */
async function fill(kind: Kind, n: number): Promise<{ keep: unknown; writeMs: number; readMs: number }> {
  let sum = 0
  const start = performance.now()
  if (kind === 'map') {
    const m = new Map<string, { n: number }>()
    for (let i = 0; i < n; i++) m.set(key(i), value(i))
    const written = performance.now()
    for (let i = 0; i < n; i++) sum += m.get(key(i))!.n
    return { keep: m, writeMs: written - start, readMs: check(performance.now() - written, sum, n) }
  }
  if (kind === 'ymap') {
    const doc = new Y.Doc()
    const m = doc.getMap<{ n: number }>('m')
    for (let i = 0; i < n; i += CHUNK)
      doc.transact(() => {
        for (let j = i; j < Math.min(n, i + CHUNK); j++) m.set(key(j), value(j))
      })
    const written = performance.now()
    for (let i = 0; i < n; i++) sum += m.get(key(i))!.n
    return { keep: doc, writeMs: written - start, readMs: check(performance.now() - written, sum, n) }
  }
  if (kind === 'tinybase') {
    const store = createMergeableStore('bench')
    for (let i = 0; i < n; i++) {
      const v = value(i)
      store.setRow('prefs', key(i), v)
    }
    const written = performance.now()
    for (let i = 0; i < n; i++) sum += Number(store.getCell('prefs', key(i), 'n'))
    return { keep: store, writeMs: written - start, readMs: check(performance.now() - written, sum, n) }
  }
  const store = await openStore('footprint', { persist: false })
  for (let i = 0; i < n; i++) {
    store.set(key(i), value(i))
    if (i % CHUNK === CHUNK - 1) await store.flush()
  }
  await store.flush()
  const written = performance.now()
  for (let i = 0; i < n; i++) sum += (store.get(key(i)) as { n: number }).n // reason: written just above as { theme, lang, n }
  return { keep: store, writeMs: written - start, readMs: check(performance.now() - written, sum, n) }
}

/** Stops a run that did not read back what it wrote. */
function check(ms: number, sum: number, n: number): number {
  if (sum !== (n * (n - 1)) / 2) throw new Error(`read back ${sum}, expected ${(n * (n - 1)) / 2}`)
  return ms
}

async function child(kind: Kind, n: number): Promise<void> {
  const before = memory()
  const { keep, writeMs, readMs } = await fill(kind, n)
  const after = memory()
  const measured: Measured = { heapPerKey: (after.heap - before.heap) / n, rssPerKey: (after.rss - before.rss) / n, writeMs, readMs }
  process.stdout.write(`${JSON.stringify(measured)}\n`)
  if (keep === undefined) process.exit(1) // keeps `keep` alive until the second measurement
}

function runChild(kind: Kind, n: number): Measured {
  const script = fileURLToPath(import.meta.url)
  const result = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=4096', '--import', 'tsx', script, 'child', kind, String(n)], {
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
  })
  if (result.status !== 0) throw new Error(`${kind} × ${n} failed (status ${result.status}, signal ${result.signal}):\n${result.stderr}`)
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Measured // reason: the child prints one Measured as its last line
}

async function main(): Promise<void> {
  const results: { kind: Kind; n: number; measured: Measured }[] = []
  for (const n of SIZES) {
    for (const kind of KINDS) {
      if (kind === 'tinybase' && n > TINYBASE_MAX) continue
      process.stderr.write(`[bench:footprint] ${LABELS[kind]} × ${n.toLocaleString('en')}\n`)
      results.push({ kind, n, measured: runChild(kind, n) })
    }
  }
  const yMap = (n: number) => results.find((r) => r.kind === 'ymap' && r.n === n)?.measured.heapPerKey
  const rows = results.map(({ kind, n, measured: m }) => [
    n.toLocaleString('en'),
    LABELS[kind],
    `${m.heapPerKey.toFixed(0)} B`,
    yMap(n) === undefined ? '' : `${(m.heapPerKey / yMap(n)!).toFixed(2)}×`,
    `${m.rssPerKey.toFixed(0)} B`,
    `${(m.writeMs / 1000).toFixed(2)} s`,
    `${m.readMs.toFixed(0)} ms`,
  ])
  console.log(`\nFootprint: N keys user:<i>:prefs → { theme, lang, n }; ${machine()}; heapUsed + arrayBuffers after two full GCs, a fresh process per row\n`)
  console.log(formatTable(['keys', 'store', 'heap per key', 'vs Y.Map', 'RSS per key', 'write (+flush)', 'read all'], rows))
  saveResults(RESULTS, { date: new Date().toISOString(), machine: machine(), results })
}

if (process.argv[2] === 'child')
  await child(process.argv[3] as Kind, Number(process.argv[4])) // reason: the parent passes a Kind
else await main()
