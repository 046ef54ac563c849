/**
 * `npm run bench:browser`: TideKV in real Chromium (Debian's, through
 * playwright-core), side by side in one run with idb-keyval, y-indexeddb
 * (`IndexeddbPersistence` on a `Y.Doc` holding a `Y.Map`), raw IndexedDB and
 * a raw BroadcastChannel.
 *
 * The page (browser/page.ts) is bundled with esbuild and served from memory
 * on 127.0.0.1, port 0 (static-server.ts); every timing is taken inside the
 * page with performance.now() (pages are cross-origin isolated: 5 µs steps)
 * with a full GC before each timed run (Chromium runs with --expose-gc).
 * One browser, one fresh user-data-dir, one context: all pages share one
 * IndexedDB, as tabs of one origin do.
 *
 * Rows:
 * 1. 10,000 writes made durable, each implementation into a new database:
 *    TideKV `set` ×10,000 then `await flush()` (strict durability); idb-keyval
 *    `set` awaited one by one; idb-keyval `setMany`; raw IndexedDB, one
 *    transaction of 10,000 puts awaited to `complete` (default durability,
 *    and strict).
 * 2. Cold open of 100,000 keys: prepared in one page (TideKV: written, then
 *    `close()`, which compacts; y-indexeddb: one transaction on a Y.Map;
 *    idb-keyval: `setMany`), which is closed; each run then opens a NEW page
 *    and times there: TideKV `openStore` + `get` (first answered read) and
 *    until `await store.loaded`; y-indexeddb `new IndexeddbPersistence` until
 *    `whenSynced` + one `get`; idb-keyval's first `get`.
 * 3. 10,000 reads in a shuffled order: TideKV `get` (an open store) against
 *    idb-keyval `getMany` (one call).
 * 4. Cross-tab latency: two pages of the context, each a TideKV store of one
 *    name (`persist: false`, tabs over BroadcastChannel). Page A writes
 *    `ping` = { i, t }, page B's watcher records (timeOrigin + now()) − t
 *    and answers with `pong`; A sends the next ping ~1 ms after the pong
 *    arrived. p50/p99 of the one-way A→B times; RTT/2 as a cross-check;
 *    the same exchange on a raw BroadcastChannel as the floor.
 *
 * Medians of RUNS runs after one warm-up run; within a run the
 * implementations take turns in a rotating order. Results: a table on
 * stdout, JSON in test/bench/results/bench-browser.json. Not part of
 * `npm test`; a few minutes.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { databaseName } from '../../packages/client/src/index.js'
import type { BenchPage, ColdOpen, DatabaseBytes } from './browser/api.js'
import { formatBytes, formatNs, formatTable, median, now, packageVersion } from './measure.js'
import { bundleForBrowser, pageFiles } from '../helpers/esbuild-sources.js'
import { serveStatic, type StaticServer } from './static-server.js'

// ---- parameters -------------------------------------------------------------

const RUNS = 5
const WRITES = 10_000
const COLD_N = 100_000
const COLD_KEY = 'user:77:prefs'
const READS = 10_000
const TAB_BLOCKS = 5
const TAB_PER_BLOCK = 100
const TAB_WARMUP_FIRST = 50
const TAB_WARMUP = 10

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // window.gc(), for a full collection before each timed run
  '--js-flags=--expose-gc',
]

const RESULTS = new URL('./results/bench-browser.json', import.meta.url)
const PAGE_ENTRY = fileURLToPath(new URL('./browser/page.ts', import.meta.url))

const started = now()

function log(message: string): void {
  console.error(`[bench:browser ${((now() - started) / 1000).toFixed(1)}s] ${message}`)
}

// ---- result rows --------------------------------------------------------------

const IMPLS = ['TideKV', 'idb-keyval', 'y-indexeddb', 'raw IndexedDB', 'BroadcastChannel'] as const
type Impl = (typeof IMPLS)[number]

interface Cell {
  /** Median (or percentile), ms. */
  value: number
  /** Every timed run, ms. */
  samples?: number[]
  /** Shown instead of the formatted value. */
  text?: string
}

interface Row {
  id: string
  label: string
  cells: Partial<Record<Impl, Cell>>
  ratio?: number
  ratioText?: string
  goal?: string
  met?: boolean
  notes: string[]
}

const rows: Row[] = []

/** Milliseconds, readably (formatNs would print 999.8 ms as '1000 ms'). */
const ms = (value: number): string => (value >= 999.5 ? `${(value / 1000).toFixed(2)} s` : formatNs(value * 1e6))
const rate = (ops: number, millis: number): string => {
  const perSecond = ops / (millis / 1000)
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(1)}M/s` : perSecond >= 1e4 ? `${(perSecond / 1e3).toFixed(0)}k/s` : `${(perSecond / 1e3).toFixed(1)}k/s`
}
const sampled = (samples: number[], text?: (m: number) => string): Cell => {
  const m = median(samples)
  return text === undefined ? { value: m, samples } : { value: m, samples, text: text(m) }
}
const writeCell = (samples: number[]): Cell => sampled(samples, (m) => `${ms(m)} (${rate(WRITES, m)})`)
const list = (samples: readonly number[]): string => samples.map((s) => (s >= 100 ? s.toFixed(0) : s.toFixed(s >= 10 ? 1 : 2))).join(', ')

/** Nearest-rank percentile. */
function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!
}

// ---- the browser ----------------------------------------------------------------

let origin = ''
const pageErrors: string[] = []

/** Calls the page's benchmark API. A string expression, not a function: tsx would add helpers the page lacks. */
async function call<K extends keyof BenchPage>(page: Page, name: K, ...args: Parameters<BenchPage[K]>): Promise<Awaited<ReturnType<BenchPage[K]>>> {
  const result: unknown = await page.evaluate(`globalThis.tidekvBench.${name}(...${JSON.stringify(args)})`)
  return result as Awaited<ReturnType<BenchPage[K]>> // reason: page.ts's tidekvBench implements BenchPage: the call resolved to this (structured-cloned)
}

async function openPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', (error) => pageErrors.push(error.message))
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') log(`page ${message.type()}: ${message.text()}`)
  })
  await page.goto(`${origin}/`)
  await page.waitForFunction('globalThis.tidekvBench !== undefined')
  return page
}

/** Runs `page`'s work in a page of its own, closed afterwards (a fresh page per cold open). */
async function inFreshPage<T>(context: BrowserContext, work: (page: Page) => Promise<T>): Promise<T> {
  const page = await openPage(context)
  try {
    return await work(page)
  } finally {
    await page.close()
  }
}

/** Rotates `items` by `r`, so each implementation takes each turn in a run. */
function rotate<T>(items: readonly T[], r: number): T[] {
  const k = ((r % items.length) + items.length) % items.length
  return [...items.slice(k), ...items.slice(0, k)]
}

// ---- 1 and 3: writes and reads ----------------------------------------------------

async function writeRows(context: BrowserContext): Promise<void> {
  const page = await openPage(context)
  const tide: number[] = []
  const tideLoop: number[] = []
  const tideCommit: number[] = []
  const tideStorage: number[] = []
  const kvSet: number[] = []
  const kvSetMany: number[] = []
  const rawDefault: number[] = []
  const rawStrict: number[] = []
  const impls = ['tide', 'kvSet', 'kvSetMany', 'rawDefault', 'rawStrict'] as const
  for (let r = -1; r < RUNS; r++) {
    log(`row 1: 10k durable writes, ${r < 0 ? 'warm-up' : `run ${r + 1}/${RUNS}`}`)
    for (const impl of rotate(impls, r)) {
      const db = `w-${impl}-${r + 1}`
      if (impl === 'tide') {
        const t = await call(page, 'writeTideKV', db, WRITES)
        if (r >= 0) {
          tide.push(t.total)
          tideLoop.push(t.setLoop)
          tideCommit.push(t.commit)
          tideStorage.push(t.storage)
        }
      } else {
        const t =
          impl === 'kvSet'
            ? await call(page, 'writeIdbKeyvalSet', db, WRITES)
            : impl === 'kvSetMany'
              ? await call(page, 'writeIdbKeyvalSetMany', db, WRITES)
              : await call(page, 'writeRawIndexedDB', db, WRITES, impl === 'rawStrict' ? 'strict' : 'default')
        if (r < 0) continue
        ;({ kvSet, kvSetMany, rawDefault, rawStrict })[impl].push(t)
      }
    }
  }
  const tideMedian = median(tide)
  const setRatio = median(kvSet) / tideMedian
  rows.push({
    id: 'write-set',
    label: '1. 10k writes made durable (vs set)',
    cells: { TideKV: writeCell(tide), 'idb-keyval': writeCell(kvSet), 'raw IndexedDB': writeCell(rawDefault) },
    ratio: setRatio,
    ratioText: `${setRatio.toFixed(0)}× idb-keyval set`,
    goal: '≥ 20× set',
    met: setRatio >= 20,
    notes: [
      `TideKV: set ×${WRITES} then await flush() (one IndexedDB transaction, durability 'strict'), on a store opened beforehand; runs ${list(tide)} ms. Of which (medians): the set loop ${ms(median(tideLoop))} (${list(tideLoop)} ms); the commit into one Yjs update ${ms(median(tideCommit))} (${list(tideCommit)} ms); storing it durably ${ms(median(tideStorage))} (${list(tideStorage)} ms).`,
      `idb-keyval: await set(k, v) ×${WRITES}, one transaction each (the browser's default durability); runs ${list(kvSet)} ms.`,
      `raw IndexedDB: ${WRITES} puts in one readwrite transaction, awaited to 'complete', default durability; runs ${list(rawDefault)} ms.`,
    ],
  })
  const manyRatio = median(kvSetMany) / tideMedian
  rows.push({
    id: 'write-setMany',
    label: '1. 10k writes made durable (vs setMany)',
    cells: { TideKV: writeCell(tide), 'idb-keyval': writeCell(kvSetMany), 'raw IndexedDB': writeCell(rawStrict) },
    ratio: manyRatio,
    ratioText: `${manyRatio.toFixed(2)}× idb-keyval setMany`,
    goal: '≥ 1× setMany',
    met: manyRatio >= 1,
    notes: [
      `idb-keyval: await setMany(${WRITES} entries), one transaction (default durability); runs ${list(kvSetMany)} ms.`,
      `raw IndexedDB: the same one transaction with { durability: 'strict' } (what TideKV's flush asks for); runs ${list(rawStrict)} ms.`,
    ],
  })

  log('row 3: 10k reads')
  await call(page, 'fillForReads', 'reads', 'kv-reads', READS)
  const tideRead: number[] = []
  const kvRead: number[] = []
  for (let r = -1; r < RUNS; r++) {
    for (const impl of rotate(['tide', 'kv'] as const, r)) {
      const t = impl === 'tide' ? await call(page, 'readTideKV', READS) : await call(page, 'readIdbKeyvalGetMany', READS)
      if (r >= 0) (impl === 'tide' ? tideRead : kvRead).push(t)
    }
  }
  await call(page, 'closeReads')
  await page.close()
  const readRatio = median(kvRead) / median(tideRead)
  rows.push({
    id: 'reads',
    label: '3. 10k reads',
    cells: { TideKV: sampled(tideRead), 'idb-keyval': sampled(kvRead) },
    ratio: readRatio,
    ratioText: `${readRatio.toFixed(0)}× faster than getMany`,
    goal: '(info)',
    notes: [
      `TideKV: get ×${READS} (synchronous, from memory) on an open store holding the ${READS} keys, in a shuffled order; runs ${list(tideRead)} ms.`,
      `idb-keyval: one await getMany(${READS} keys), same order (one readonly transaction); runs ${list(kvRead)} ms.`,
    ],
  })
}

// ---- 2: cold open -----------------------------------------------------------------

async function coldRows(context: BrowserContext): Promise<void> {
  log(`row 2: preparing ${COLD_N} keys in TideKV, y-indexeddb and idb-keyval`)
  const prepared = await inFreshPage(context, async (page) => {
    const t0 = now()
    const updates = await call(page, 'prepareTideKV', 'cold', COLD_N)
    const meta = await call(page, 'databaseBytes', databaseName('cold'), 'meta')
    const t1 = now()
    const y = await call(page, 'prepareYIndexeddb', 'y-cold', COLD_N)
    const t2 = now()
    await call(page, 'prepareIdbKeyval', 'kv-cold', COLD_N)
    const kv = await call(page, 'idbKeyvalBytes', 'kv-cold')
    return { updates, meta, y, kv, tideMs: t1 - t0, yMs: t2 - t1 }
  })
  const tide: ColdOpen[] = []
  const y: number[] = []
  const kv: number[] = []
  for (let r = -1; r < RUNS; r++) {
    log(`row 2: cold opens, ${r < 0 ? 'warm-up' : `run ${r + 1}/${RUNS}`}`)
    for (const impl of rotate(['tide', 'y', 'kv'] as const, r)) {
      await inFreshPage(context, async (page) => {
        if (impl === 'tide') {
          const t = await call(page, 'coldTideKV', 'cold', COLD_KEY, COLD_N)
          if (r >= 0) tide.push(t)
        } else if (impl === 'y') {
          const t = await call(page, 'coldYIndexeddb', 'y-cold', COLD_KEY, COLD_N)
          if (r >= 0) y.push(t)
        } else {
          const t = await call(page, 'coldIdbKeyval', 'kv-cold', COLD_KEY)
          if (r >= 0) kv.push(t)
        }
      })
    }
  }
  const after = await inFreshPage(context, async (page) => {
    const out: { updates: DatabaseBytes; meta: DatabaseBytes } = {
      updates: await call(page, 'databaseBytes', databaseName('cold'), 'updates'),
      meta: await call(page, 'databaseBytes', databaseName('cold'), 'meta'),
    }
    for (const db of [databaseName('cold'), 'y-cold', 'kv-cold']) await call(page, 'deleteDatabase', db)
    return out
  })
  const unchanged = after.updates.rows === prepared.updates.rows && after.updates.bytes === prepared.updates.bytes && after.meta.bytes === prepared.meta.bytes
  const first = tide.map((t) => t.firstGet)
  const loaded = tide.map((t) => t.loaded)
  const ratio = median(first) / median(y)
  rows.push({
    id: 'cold-first-get',
    label: '2. cold open 100k: first get',
    cells: { TideKV: sampled(first), 'idb-keyval': sampled(kv), 'y-indexeddb': sampled(y) },
    ratio,
    ratioText: `${ratio.toFixed(2)}× y-indexeddb`,
    goal: '≤ 0.25× y-indexeddb',
    met: ratio <= 0.25,
    notes: [
      `Each run in a new page of the context (the data was written in another page, since closed). TideKV: await openStore('cold') + get('${COLD_KEY}'); runs ${list(first)} ms.`,
      `TideKV's database: ${prepared.updates.rows} update row(s) = ${formatBytes(prepared.updates.bytes)} (the snapshot written by close) + ${formatBytes(prepared.meta.bytes)} of byte values in meta; written and closed in ${ms(prepared.tideMs)}.`,
      `y-indexeddb: new IndexeddbPersistence('y-cold', new Y.Doc()) until whenSynced, + map.get('${COLD_KEY}'); ${prepared.y.rows} row(s) = ${formatBytes(prepared.y.bytes)} (one Y.Map, all ${COLD_N} keys set in one transaction; written in ${ms(prepared.yMs)}); runs ${list(y)} ms.`,
      `idb-keyval: createStore + the first awaited get (opens a connection, reads one row; nothing is loaded); runs ${list(kv)} ms.`,
      unchanged
        ? "Reopening left TideKV's database unchanged between runs."
        : `WARNING: TideKV's database changed across the reopen runs: ${JSON.stringify(prepared)} → ${JSON.stringify(after)}`,
    ],
  })
  const tideBytes = prepared.updates.bytes + prepared.meta.bytes
  const bytesRatio = tideBytes / prepared.y.bytes
  rows.push({
    id: 'indexeddb-bytes',
    label: '2. IndexedDB bytes, 100k keys',
    cells: {
      TideKV: { value: tideBytes, text: formatBytes(tideBytes) },
      'y-indexeddb': { value: prepared.y.bytes, text: formatBytes(prepared.y.bytes) },
      'idb-keyval': { value: prepared.kv.bytes, text: `${formatBytes(prepared.kv.bytes)}*` },
    },
    ratio: bytesRatio,
    ratioText: `${bytesRatio.toFixed(2)}× y-indexeddb`,
    goal: '≤ 1.2× y-indexeddb',
    met: bytesRatio <= 1.2,
    notes: [
      `Bytes of the values stored, after each was written and closed (compacted): TideKV ${prepared.updates.rows} row(s) of updates + ${formatBytes(prepared.meta.bytes)} of byte values in meta; y-indexeddb ${prepared.y.rows} row(s).`,
      `idb-keyval*: UTF-8 bytes of each key and its value's JSON, a lower bound (it stores structured clones).`,
    ],
  })
  const lRatio = median(loaded) / median(y)
  rows.push({
    id: 'cold-loaded',
    label: '2. cold open 100k: fully loaded',
    cells: { TideKV: sampled(loaded), 'y-indexeddb': sampled(y) },
    ratio: lRatio,
    ratioText: `${lRatio.toFixed(2)}× y-indexeddb`,
    goal: '(info)',
    notes: [`TideKV: from the start of openStore until await store.loaded (the document integrated); runs ${list(loaded)} ms.`],
  })
}

// ---- 4: cross-tab latency -----------------------------------------------------------

async function tabRows(context: BrowserContext): Promise<{ visibility: string[] }> {
  log(`row 4: cross-tab latency, ${TAB_BLOCKS} × ${TAB_PER_BLOCK} writes`)
  const b = await openPage(context)
  const a = await openPage(context)
  const visibility = [(await call(a, 'info')).visibility, (await call(b, 'info')).visibility]
  await call(b, 'tabServe', 'xtab')
  await call(a, 'tabJoin', 'xtab')
  await call(b, 'rawServe', 'xtab-raw')
  await call(a, 'rawJoin', 'xtab-raw')
  const series = (): { oneWay: number[]; back: number[]; rtt: number[] } => ({ oneWay: [], back: [], rtt: [] })
  const tide = series()
  const raw = series()
  for (let k = 0; k < TAB_BLOCKS; k++) {
    const warmup = k === 0 ? TAB_WARMUP_FIRST : TAB_WARMUP
    for (const impl of rotate(['tide', 'raw'] as const, k)) {
      const out = impl === 'tide' ? tide : raw
      const p = impl === 'tide' ? await call(a, 'tabPing', warmup, TAB_PER_BLOCK) : await call(a, 'rawPing', warmup, TAB_PER_BLOCK)
      const served = await call(b, 'servedOneWay', impl === 'tide' ? 'tidekv' : 'raw')
      if (served.length !== warmup + TAB_PER_BLOCK) throw new Error(`page B saw ${served.length} pings, expected ${warmup + TAB_PER_BLOCK}`)
      out.oneWay.push(...served.slice(warmup))
      out.back.push(...p.back)
      out.rtt.push(...p.rtt)
    }
  }
  await call(a, 'tabClose')
  await call(b, 'tabClose')
  await a.close()
  await b.close()
  const n = tide.oneWay.length
  const half = (xs: number[]): number[] => xs.map((x) => x / 2)
  for (const [p, id, label] of [
    [0.5, 'tab-p50', '4. cross-tab write → watch, p50'],
    [0.99, 'tab-p99', '4. cross-tab write → watch, p99'],
  ] as const) {
    const t = percentile(tide.oneWay, p)
    const r = percentile(raw.oneWay, p)
    const row: Row = {
      id,
      label,
      cells:
        p === 0.5
          ? { TideKV: { value: t, text: ms(t), samples: tide.oneWay }, BroadcastChannel: { value: r, text: ms(r), samples: raw.oneWay } }
          : { TideKV: { value: t, text: ms(t) }, BroadcastChannel: { value: r, text: ms(r) } },
      ratio: t,
      ratioText: `RTT/2 ${ms(percentile(half(tide.rtt), p))}`,
      goal: p === 0.5 ? '< 5 ms' : '(info)',
      notes: [],
    }
    if (p === 0.5) {
      row.met = t < 5
      row.notes.push(
        `Two pages of one context, each openStore('xtab', { persist: false }) (tabs: BroadcastChannel). Page A: set('ping', { i, t: performance.timeOrigin + performance.now() }); page B's watch('ping') (origin 'tab') records its own timeOrigin + now() − t, and sets 'pong'; A sends the next ping ~1 ms after the pong's watcher fired. ${n} pings in ${TAB_BLOCKS} blocks of ${TAB_PER_BLOCK} (after ${TAB_WARMUP_FIRST}, then ${TAB_WARMUP} warm-up pings per block), alternating with the raw channel.`,
        `Shown: the one-way A→B time (write in A until the watcher fired in B). Cross-checks: the pong's one-way B→A p50 ${ms(percentile(tide.back, 0.5))}, p99 ${ms(percentile(tide.back, 0.99))}; the round trip halved (RTT/2) in the ratio column.`,
        `BroadcastChannel: the same ping-pong with postMessage({ i, t }) on a raw channel: the floor any cross-tab store pays; RTT/2 p50 ${ms(percentile(half(raw.rtt), 0.5))}, p99 ${ms(percentile(half(raw.rtt), 0.99))}.`,
      )
    } else {
      row.notes.push(`Max one-way: TideKV ${ms(Math.max(...tide.oneWay))}, BroadcastChannel ${ms(Math.max(...raw.oneWay))}.`)
    }
    rows.push(row)
  }
  return { visibility }
}

// ---- @tidekv/react: one key changes under 1,000 useValue components ---------------------

const HOOK_COMPONENTS = 1000
const HOOK_CHANGES = 200
const HOOK_WARMUP = 20

async function hookRows(context: BrowserContext): Promise<void> {
  const page = await openPage(context)
  const mountMs = await call(page, 'reactMount', 'hooks', HOOK_COMPONENTS)
  const times: number[] = []
  const renders: number[] = []
  for (let c = 0; c < HOOK_WARMUP + HOOK_CHANGES; c++) {
    const r = await call(page, 'reactChange', (c * 7919) % HOOK_COMPONENTS) // spread over the components
    if (c < HOOK_WARMUP) continue
    times.push(r.ms)
    renders.push(r.renders)
  }
  await call(page, 'reactUnmount')
  await page.close()
  const p50 = percentile(times, 0.5)
  const p99 = percentile(times, 0.99)
  const one = renders.every((n) => n === 1)
  rows.push({
    id: 'react-hooks',
    label: `5. @tidekv/react: ${HOOK_COMPONENTS.toLocaleString('en')} useValue components, one key set → committed`,
    cells: { TideKV: { value: p50, text: `${ms(p50)} (p99 ${ms(p99)})`, samples: times } },
    ratio: p50,
    ratioText: `renders per change: ${Math.min(...renders)}–${Math.max(...renders)}`,
    goal: '< 2 ms, 1 render',
    met: p50 < 2 && one,
    notes: [
      `React ${packageVersion('react')} (production build), one createRoot, ${HOOK_COMPONENTS} components each calling useValue(store, 'k<i>') on a store of ${HOOK_COMPONENTS} keys (persist: false); first render of all ${ms(mountMs)}. Then ${HOOK_CHANGES} changes (after ${HOOK_WARMUP} warm-up), each store.set of one key, timed from the set call to the layout effect of the component whose value changed (the store's commit, its watcher, one microtask of @tidekv/react, React's render and commit); renders counted by every component's body, through the next task.`,
    ],
  })
}

// ---- <tidekv-inspector> on 100,000 keys -------------------------------------------------

const INSPECTOR_KEYS = [1_000, 100_000]
const INSPECTOR_CHANGES = 50

async function inspectorRows(context: BrowserContext): Promise<void> {
  const results: { n: number; draw: number; turn: number; change: number }[] = []
  for (const n of INSPECTOR_KEYS) {
    const page = await openPage(context)
    const draw = await call(page, 'inspectorMount', `inspect-${n}`, n)
    const turns: number[] = []
    const changes: number[] = []
    for (let c = 0; c < INSPECTOR_CHANGES + 5; c++) {
      const turn = await call(page, 'inspectorTurn')
      const change = await call(page, 'inspectorChange', c % 50)
      if (c < 5) continue // warm-up
      turns.push(turn)
      changes.push(change)
    }
    await call(page, 'inspectorUnmount')
    await page.close()
    results.push({ n, draw, turn: percentile(turns, 0.5), change: percentile(changes, 0.5) })
  }
  const [small, big] = [results[0]!, results[results.length - 1]!]
  const text = (r: (typeof results)[number]) => `draw ${ms(r.draw)}, page turn ${ms(r.turn)}, change shown ${ms(r.change)}`
  rows.push({
    id: 'inspector',
    label: `6. <tidekv-inspector>, ${big.n.toLocaleString('en')} keys (vs ${small.n.toLocaleString('en')})`,
    cells: { TideKV: { value: big.change, text: text(big) } },
    ratio: big.turn / small.turn,
    ratioText: `page turn ${(big.turn / small.turn).toFixed(2)}× the ${small.n.toLocaleString('en')}-key store's`,
    goal: '(info)',
    notes: [
      `The inspector (page size 50) on a store of n keys ({ i, label } values, persist: false): its first draw (the store setter draws synchronously), a page turn (Next then Previous, each drawn on click; the mean of the two), and a change to a key on the page until its row shows it (store.set → commit → watcher → a timer → redraw; a MutationObserver on the cell), medians of ${INSPECTOR_CHANGES} after 5 warm-up. ${small.n.toLocaleString('en')} keys: ${text(small)}. It reads one page from store.keys({ prefix, after, limit }), so the times should not grow with n.`,
    ],
  })
}

// ---- main -------------------------------------------------------------------------

const ALL_SECTIONS = 'cold,writes,tabs,react,inspector'
let sections = new Set(ALL_SECTIONS.split(','))

async function main(): Promise<void> {
  log('bundling the page')
  const script = await bundleForBrowser(PAGE_ENTRY)
  const server: StaticServer = await serveStatic(pageFiles('TideKV bench', script))
  origin = server.origin
  const profile = mkdtempSync(join(os.tmpdir(), 'tidekv-bench-browser-'))
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
  let info: ReturnType<BenchPage['info']>
  let product: string
  let visibility: string[]
  try {
    const first = await openPage(context)
    info = await call(first, 'info')
    const cdp = await context.newCDPSession(first)
    product = (await cdp.send('Browser.getVersion')).product
    await first.close()
    log(`${product}; crossOriginIsolated ${info.crossOriginIsolated}, timer step ${ms(info.timerResolutionMs)}, gc ${info.gc}`)

    // BENCH_BROWSER_SECTIONS=cold,writes,tabs,react,inspector (the default: all) runs some of them.
    sections = new Set((process.env.BENCH_BROWSER_SECTIONS ?? ALL_SECTIONS).split(','))
    if (sections.has('cold')) await coldRows(context)
    if (sections.has('writes')) await writeRows(context)
    visibility = sections.has('tabs') ? (await tabRows(context)).visibility : []
    if (sections.has('react')) await hookRows(context)
    if (sections.has('inspector')) await inspectorRows(context)
  } finally {
    await context.close()
    await server.close()
    rmSync(profile, { recursive: true, force: true })
  }
  if (pageErrors.length > 0) throw new Error(`errors in the page:\n${pageErrors.join('\n')}`)

  const ORDER = ['write-set', 'write-setMany', 'cold-first-get', 'cold-loaded', 'reads', 'tab-p50', 'tab-p99', 'react-hooks', 'inspector']
  rows.sort((x, y) => ORDER.indexOf(x.id) - ORDER.indexOf(y.id))
  const header = ['row', ...IMPLS, 'ratio', 'goal', 'met']
  const body = rows.map((row) => [
    row.label,
    ...IMPLS.map((impl) => {
      const c = row.cells[impl]
      return c === undefined ? '—' : (c.text ?? ms(c.value))
    }),
    row.ratioText ?? '',
    row.goal ?? '',
    row.met === undefined ? '' : row.met ? 'yes' : 'NO',
  ])
  const table = formatTable(header, body)
  const totalMs = now() - started
  const cpus = os.cpus()
  const lines = [
    '',
    `TideKV browser benchmark — ${product} (headless, playwright-core), ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, median of ${RUNS} runs after 1 warm-up, full GC before each run${info.crossOriginIsolated ? ', cross-origin isolated' : ''}`,
    '',
    table,
    '',
    'Notes:',
    ...rows.flatMap((row) => row.notes.map((n) => `  [${row.label}] ${n}`)),
    '',
    'Goals:',
    ...rows
      .filter((r) => r.met !== undefined)
      .map((r) => `  ${r.met ? 'met    ' : 'NOT met'}  ${r.label}: ${r.id.startsWith('tab') || r.id === 'react-hooks' ? ms(r.ratio!) : r.ratioText} (goal ${r.goal})`),
    '',
    `total ${(totalMs / 1000).toFixed(1)} s · ${ALL_SECTIONS.split(',').every((x) => sections.has(x)) ? `results in ${fileURLToPath(RESULTS)}` : 'some sections only: results not recorded'}`,
  ]
  console.log(lines.join('\n'))

  // Only a run of every section replaces the recorded results.
  if (sections.size !== ALL_SECTIONS.split(',').length || ALL_SECTIONS.split(',').some((x) => !sections.has(x))) return
  mkdirSync(new URL('./', RESULTS), { recursive: true })
  const json = {
    meta: {
      date: new Date().toISOString(),
      browser: product,
      userAgent: info.userAgent,
      chromiumArgs: CHROMIUM_ARGS,
      crossOriginIsolated: info.crossOriginIsolated,
      timerResolutionMs: info.timerResolutionMs,
      gcBetweenRuns: info.gc,
      pageVisibility: visibility,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model,
      runs: RUNS,
      warmup: 1,
      writes: WRITES,
      coldKeys: COLD_N,
      reads: READS,
      tabWrites: TAB_BLOCKS * TAB_PER_BLOCK,
      versions: Object.fromEntries(['yjs', 'idb-keyval', 'y-indexeddb', 'idb', 'lib0', 'playwright-core', 'esbuild', 'react'].map((p) => [p, packageVersion(p)])),
      durationMs: Math.round(totalMs),
      units: { ms: 'milliseconds (per run of the row, or per write for the cross-tab rows)' },
    },
    rows,
    table,
  }
  writeFileSync(RESULTS, `${JSON.stringify(json, null, 2)}\n`)
}

await main()
