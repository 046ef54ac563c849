/**
 * `npm run bench`: TideKV against a raw Map, a raw Yjs Y.Map, TinyBase
 * (mergeable store) and idb-keyval, in Node, on fake-indexeddb.
 *
 * Every number is the median of RUNS timed runs after one warm-up run, with
 * a full GC before each run (the script runs Node with --expose-gc). Results
 * go to stdout as a table and to test/bench/results/bench-node.json.
 * Then the data structure rows (bench-structures.ts) print their own table,
 * saved to test/bench/results/bench-structures.json.
 * Not part of `npm test`.
 */
import 'fake-indexeddb/auto'
import * as idbKeyval from 'idb-keyval'
import { createMergeableStore } from 'tinybase'
import * as Y from 'yjs'
import { databaseName, openStore } from '../../packages/client/src/index.js'
import { check, formatBytes, formatNs, formatTable, fullGC, gcExposed, measure, median, now, nsPerOp, type Sample, shuffledIndices } from './measure.js'
import { machine, notesAndGoals, runMeta, saveResults } from './report.js'

// ---- parameters -------------------------------------------------------------

const N = 100_000
const RUNS = 5
/** Passes over the N keys per timed run of the in-memory get row (so a run lasts long enough to time). */
const GET_PASSES = 10
/** TinyBase's mergeable store costs ~15-60 µs per write here: its write rows time this many ops per run. */
const TB_OPS = 10_000
/** idb-keyval on fake-indexeddb costs ~50-100 µs per awaited call: ops per run. */
const IDBKV_OPS = 2_000
/** Entries per `setMany` run of idb-keyval (batched set row). */
const IDBKV_BATCH = 10_000
/** Prefix scans per timed run: TideKV's index scan, and the filter-everything baselines. */
const SCAN_OPS = 10_000
const FILTER_OPS = 10
const HISTORY_KEYS = 1_000
const HISTORY_WRITES = 100_000
/** Writes between awaited flushes in the IndexedDB history row. */
const HISTORY_CHUNK = 1_000
const LIMIT = 100
const PREFIXES = ['user:5000', 'user:5'] as const
const COLD_KEY = 'user:77:prefs'

const idb: IDBFactory = globalThis.indexedDB
const RESULTS = new URL('./results/bench-node.json', import.meta.url)

// ---- data -------------------------------------------------------------------

type Prefs = { theme: string; fontSize: number; lang: string }

const THEMES = ['dark', 'light', 'solarized'] as const
const LANGS = ['en', 'fr', 'de', 'es', 'ja'] as const

function prefs(i: number): Prefs {
  return { theme: THEMES[i % 3]!, fontSize: 10 + (i % 9), lang: LANGS[i % 5]! }
}

const keys = Array.from({ length: N }, (_, i) => `user:${i}:prefs`)
const values = keys.map((_, i) => prefs(i))
const counterKeys = Array.from({ length: N }, (_, i) => `user:${i}:visits`)
/** The order in which every get row reads the keys: the same shuffle for all. */
const order = shuffledIndices(N)
const historyKey = (w: number): string => `user:${w % HISTORY_KEYS}:prefs`

/** Everything a measured loop reads ends up here, and is printed, so no loop is dead code. */
let sink = 0

// ---- result rows --------------------------------------------------------------

const IMPLS = ['TideKV', 'Map', 'Y.Map', 'TinyBase', 'idb-keyval'] as const
type Impl = (typeof IMPLS)[number]
type Unit = 'ns/op' | 'ms' | 'bytes'

interface Cell {
  /** Median, in the row's unit. */
  value: number
  /** Every timed run (absent for single measurements). */
  samples?: number[]
  /** Operations per timed run, when fewer than the row's usual count. */
  ops?: number
  /** Shown instead of the formatted value. */
  text?: string
}

interface Row {
  id: string
  label: string
  unit: Unit
  cells: Partial<Record<Impl, Cell>>
  ratio?: number
  ratioText?: string
  goal?: string
  met?: boolean
  notes: string[]
}

const rows: Row[] = []

function cell(sample: Sample, ops?: number): Cell {
  return ops === undefined ? { value: sample.median, samples: sample.samples } : { value: sample.median, samples: sample.samples, ops }
}

function formatValue(unit: Unit, value: number): string {
  if (unit === 'ns/op') return `${formatNs(value)}/op`
  if (unit === 'ms') return formatNs(value * 1e6)
  return formatBytes(value)
}

function log(message: string): void {
  process.stderr.write(`[bench ${((now() - started) / 1000).toFixed(1)}s] ${message}\n`)
}

const started = now()

// ---- rows 1 and 5: get, prefix scan (on pre-filled structures) ----------------

async function readRows(): Promise<void> {
  log(`filling TideKV, Map, Y.Map, TinyBase and idb-keyval with ${N} keys`)
  const tide = await openStore('bench-read', { persist: false })
  tide.batch(() => {
    for (let i = 0; i < N; i++) tide.set(keys[i]!, values[i]!)
  })
  await tide.flush()
  const map = new Map<string, Prefs>()
  for (let i = 0; i < N; i++) map.set(keys[i]!, values[i]!)
  const ydoc = new Y.Doc()
  const ymap = ydoc.getMap<Prefs>('kv')
  ydoc.transact(() => {
    for (let i = 0; i < N; i++) ymap.set(keys[i]!, values[i]!)
  })
  let t = now()
  const tb = createMergeableStore()
  tb.transaction(() => {
    for (let i = 0; i < N; i++) tb.setRow('kv', keys[i]!, values[i]!)
  })
  log(`  TinyBase fill: ${(now() - t).toFixed(0)} ms`)
  t = now()
  const kvStore = idbKeyval.createStore('bench-idb-keyval', 'kv')
  await idbKeyval.setMany(
    keys.map((k, i) => [k, values[i]]),
    kvStore,
  )
  log(`  idb-keyval fill (setMany): ${(now() - t).toFixed(0)} ms`)

  for (const i of [0, 77, 4242, N - 1]) {
    const expected = JSON.stringify(values[i])
    check(JSON.stringify(tide.get(keys[i]!)) === expected, `TideKV get ${keys[i]}`)
    check(JSON.stringify(ymap.get(keys[i]!)) === expected, `Y.Map get ${keys[i]}`)
    check(JSON.stringify(tb.getRow('kv', keys[i]!)) === expected, `TinyBase getRow ${keys[i]}`)
    check(JSON.stringify(await idbKeyval.get(keys[i]!, kvStore)) === expected, `idb-keyval get ${keys[i]}`)
  }

  // Row 1: get.
  log('row 1: get')
  const memOps = N * GET_PASSES
  const getTide = await measure(
    () => {
      let acc = 0
      const t0 = now()
      for (let p = 0; p < GET_PASSES; p++) for (let j = 0; j < N; j++) acc += tide.get<Prefs>(keys[order[j]!]!)!.fontSize
      const ms = now() - t0
      sink += acc
      return ms
    },
    { runs: RUNS, scale: nsPerOp(memOps) },
  )
  const getMap = await measure(
    () => {
      let acc = 0
      const t0 = now()
      for (let p = 0; p < GET_PASSES; p++) for (let j = 0; j < N; j++) acc += map.get(keys[order[j]!]!)!.fontSize
      const ms = now() - t0
      sink += acc
      return ms
    },
    { runs: RUNS, scale: nsPerOp(memOps) },
  )
  const getYMap = await measure(
    () => {
      let acc = 0
      const t0 = now()
      for (let p = 0; p < GET_PASSES; p++) for (let j = 0; j < N; j++) acc += ymap.get(keys[order[j]!]!)!.fontSize
      const ms = now() - t0
      sink += acc
      return ms
    },
    { runs: RUNS, scale: nsPerOp(memOps) },
  )
  const getTB = await measure(
    () => {
      let acc = 0
      const t0 = now()
      for (let j = 0; j < N; j++) acc += tb.getRow('kv', keys[order[j]!]!).fontSize as number // reason: every row was written above with a numeric fontSize
      const ms = now() - t0
      sink += acc
      return ms
    },
    { runs: RUNS, scale: nsPerOp(N) },
  )
  const getKV = await measure(
    async () => {
      let acc = 0
      const t0 = now()
      for (let j = 0; j < IDBKV_OPS; j++) acc += (await idbKeyval.get<Prefs>(keys[order[j]!]!, kvStore))!.fontSize
      const ms = now() - t0
      sink += acc
      return ms
    },
    { runs: RUNS, scale: nsPerOp(IDBKV_OPS) },
  )
  const getRatio = getTide.median / getMap.median
  rows.push({
    id: 'get',
    label: '1. get (100k keys, pre-filled)',
    unit: 'ns/op',
    cells: { TideKV: cell(getTide), Map: cell(getMap), 'Y.Map': cell(getYMap), TinyBase: cell(getTB), 'idb-keyval': cell(getKV, IDBKV_OPS) },
    ratio: getRatio,
    ratioText: `${getRatio.toFixed(2)}× Map`,
    goal: '≤ 2× Map',
    met: getRatio <= 2,
    notes: [
      `TideKV, Map, Y.Map: ${GET_PASSES} passes over the ${N} keys per run (${memOps} gets), shuffled order; TinyBase getRow (builds a row object): 1 pass.`,
      `idb-keyval: ${IDBKV_OPS} awaited gets per run (one IndexedDB transaction each, fake-indexeddb), not ${N}.`,
    ],
  })

  // Row 5: keys({ prefix, limit }).
  log('row 5: keys({ prefix, limit: 100 })')
  for (const prefix of PREFIXES) {
    const filter = (all: Iterable<string>): string[] =>
      [...all]
        .filter((k) => k.startsWith(prefix))
        .sort()
        .slice(0, LIMIT)
    const expected = filter(map.keys())
    const matching = [...map.keys()].filter((k) => k.startsWith(prefix)).length
    check(JSON.stringify(tide.keys({ prefix, limit: LIMIT })) === JSON.stringify(expected), `TideKV keys prefix ${prefix}`)
    check(JSON.stringify(filter(ymap.keys())) === JSON.stringify(expected), `Y.Map keys prefix ${prefix}`)
    check(JSON.stringify(filter(tb.getRowIds('kv'))) === JSON.stringify(expected), `TinyBase keys prefix ${prefix}`)
    const scanTide = await measure(
      () => {
        let acc = 0
        const t0 = now()
        for (let j = 0; j < SCAN_OPS; j++) acc += tide.keys({ prefix, limit: LIMIT }).length
        const ms = now() - t0
        sink += acc
        return ms
      },
      { runs: RUNS, scale: nsPerOp(SCAN_OPS) },
    )
    const filterRun = (all: () => Iterable<string>) => (): number => {
      let acc = 0
      const t0 = now()
      for (let j = 0; j < FILTER_OPS; j++) acc += filter(all()).length
      const ms = now() - t0
      sink += acc
      return ms
    }
    const scanMap = await measure(
      filterRun(() => map.keys()),
      { runs: RUNS, scale: nsPerOp(FILTER_OPS) },
    )
    const scanYMap = await measure(
      filterRun(() => ymap.keys()),
      { runs: RUNS, scale: nsPerOp(FILTER_OPS) },
    )
    const scanTB = await measure(
      filterRun(() => tb.getRowIds('kv')),
      { runs: RUNS, scale: nsPerOp(FILTER_OPS) },
    )
    const speedup = scanMap.median / scanTide.median
    rows.push({
      id: `keys:${prefix}`,
      label: `5. keys({prefix:'${prefix}',limit:100})`,
      unit: 'ns/op',
      cells: { TideKV: cell(scanTide), Map: cell(scanMap), 'Y.Map': cell(scanYMap), TinyBase: cell(scanTB) },
      ratio: speedup,
      ratioText: `${speedup.toFixed(0)}× faster than Map`,
      goal: '≥ 100× faster',
      met: speedup >= 100,
      notes: [
        `prefix '${prefix}' matches ${matching} of ${N} keys, ${Math.min(matching, LIMIT)} returned. Peers filter all keys ([...keys].filter(startsWith).sort().slice(0,100)), ${FILTER_OPS} scans per run; TideKV ${SCAN_OPS} scans per run.`,
      ],
    })
  }

  await tide.close()
  ydoc.destroy()
  tb.delTables()
  map.clear()
}

// ---- row 2: set in a plain loop ------------------------------------------------

async function setRows(): Promise<void> {
  log('row 2: set (plain loop)')
  const setTide = await measure(
    async () => {
      const s = await openStore('bench-set', { persist: false })
      fullGC()
      const t0 = now()
      for (let i = 0; i < N; i++) s.set(keys[i]!, values[i]!)
      await s.flush() // commits the tick's writes: one Yjs transaction
      const ms = now() - t0
      sink += s.size
      await s.close()
      return ms
    },
    { runs: RUNS, scale: nsPerOp(N) },
  )
  const setYMap = await measure(
    () => {
      const doc = new Y.Doc()
      const m = doc.getMap<Prefs>('kv')
      fullGC()
      const t0 = now()
      for (let i = 0; i < N; i++) m.set(keys[i]!, values[i]!) // each set is its own transaction
      const ms = now() - t0
      sink += m.size
      doc.destroy()
      return ms
    },
    { runs: RUNS, scale: nsPerOp(N) },
  )
  const setMap = await measure(
    () => {
      const m = new Map<string, Prefs>()
      const t0 = now()
      for (let i = 0; i < N; i++) m.set(keys[i]!, values[i]!)
      const ms = now() - t0
      sink += m.size
      return ms
    },
    { runs: RUNS, scale: nsPerOp(N) },
  )
  const setTB = await measure(
    () => {
      const tb = createMergeableStore()
      fullGC()
      const t0 = now()
      for (let i = 0; i < TB_OPS; i++) tb.setRow('kv', keys[i]!, values[i]!)
      const ms = now() - t0
      sink += tb.getRowCount('kv')
      return ms
    },
    { runs: RUNS, scale: nsPerOp(TB_OPS) },
  )
  const setKV = await measure(
    async (run) => {
      const st = idbKeyval.createStore(`bench-idb-keyval-set-${run}`, 'kv')
      await idbKeyval.get('warm', st) // opens the database outside the timing
      const t0 = now()
      for (let i = 0; i < IDBKV_OPS; i++) await idbKeyval.set(keys[i]!, values[i]!, st)
      const ms = now() - t0
      sink += (await idbKeyval.keys(st)).length
      return ms
    },
    { runs: RUNS, scale: nsPerOp(IDBKV_OPS) },
  )
  const ratio = setTide.median / setYMap.median
  rows.push({
    id: 'set',
    label: '2. set, plain loop (100k new keys)',
    unit: 'ns/op',
    cells: { TideKV: cell(setTide), Map: cell(setMap), 'Y.Map': cell(setYMap), TinyBase: cell(setTB, TB_OPS), 'idb-keyval': cell(setKV, IDBKV_OPS) },
    ratio,
    ratioText: `${ratio.toFixed(2)}× Y.Map`,
    goal: '≤ 1.3× Y.Map',
    met: ratio <= 1.3,
    notes: [
      'TideKV: persist:false store, time of the loop plus `await store.flush()`, which commits the writes queued in the tick (one Yjs transaction).',
      'Y.Map: each set outside doc.transact, so one transaction per write.',
      `TinyBase: mergeable store, setRow('kv', key, {theme,fontSize,lang}) (3 cells), ${TB_OPS} ops per run; idb-keyval: ${IDBKV_OPS} awaited sets per run.`,
    ],
  })

  log('row 3: set in a batch / transaction')
  const batchTide = await measure(
    async () => {
      const s = await openStore('bench-batch', { persist: false })
      fullGC()
      const t0 = now()
      s.batch(() => {
        for (let i = 0; i < N; i++) s.set(keys[i]!, values[i]!)
      })
      await s.flush()
      const ms = now() - t0
      sink += s.size
      await s.close()
      return ms
    },
    { runs: RUNS, scale: nsPerOp(N) },
  )
  const batchYMap = await measure(
    () => {
      const doc = new Y.Doc()
      const m = doc.getMap<Prefs>('kv')
      fullGC()
      const t0 = now()
      doc.transact(() => {
        for (let i = 0; i < N; i++) m.set(keys[i]!, values[i]!)
      })
      const ms = now() - t0
      sink += m.size
      doc.destroy()
      return ms
    },
    { runs: RUNS, scale: nsPerOp(N) },
  )
  const batchTB = await measure(
    () => {
      const tb = createMergeableStore()
      fullGC()
      const t0 = now()
      tb.transaction(() => {
        for (let i = 0; i < TB_OPS; i++) tb.setRow('kv', keys[i]!, values[i]!)
      })
      const ms = now() - t0
      sink += tb.getRowCount('kv')
      return ms
    },
    { runs: RUNS, scale: nsPerOp(TB_OPS) },
  )
  const entries: [string, Prefs][] = keys.slice(0, IDBKV_BATCH).map((k, i) => [k, values[i]!])
  const batchKV = await measure(
    async (run) => {
      const st = idbKeyval.createStore(`bench-idb-keyval-batch-${run}`, 'kv')
      await idbKeyval.get('warm', st)
      const t0 = now()
      await idbKeyval.setMany(entries, st)
      const ms = now() - t0
      sink += (await idbKeyval.keys(st)).length
      return ms
    },
    { runs: RUNS, scale: nsPerOp(IDBKV_BATCH) },
  )
  const bRatio = batchTide.median / batchYMap.median
  rows.push({
    id: 'set-batch',
    label: '3. set in one batch (100k new keys)',
    unit: 'ns/op',
    cells: { TideKV: cell(batchTide), 'Y.Map': cell(batchYMap), TinyBase: cell(batchTB, TB_OPS), 'idb-keyval': cell(batchKV, IDBKV_BATCH) },
    ratio: bRatio,
    ratioText: `${bRatio.toFixed(2)}× Y.Map`,
    goal: '(info)',
    notes: [
      'TideKV store.batch(loop) vs doc.transact(loop of ymap.set) vs TinyBase transaction(loop of setRow).',
      `TinyBase: ${TB_OPS} ops per run; idb-keyval: setMany of ${IDBKV_BATCH} entries (one IndexedDB transaction) per run.`,
    ],
  })
}

// ---- row 4: incr -----------------------------------------------------------------

async function incrRows(): Promise<void> {
  for (const existing of [false, true]) {
    log(`row 4: incr (${existing ? 'existing' : 'new'} keys)`)
    const incrTide = await measure(
      async () => {
        const s = await openStore('bench-incr', { persist: false })
        if (existing) {
          for (let i = 0; i < N; i++) s.incr(counterKeys[i]!)
          await s.flush()
        }
        fullGC()
        let acc = 0
        const t0 = now()
        for (let i = 0; i < N; i++) acc += s.incr(counterKeys[i]!)
        await s.flush()
        const ms = now() - t0
        check(acc === (existing ? 2 : 1) * N, 'TideKV incr sum')
        sink += acc
        await s.close()
        return ms
      },
      { runs: RUNS, scale: nsPerOp(N) },
    )
    const incrYMap = await measure(
      () => {
        const doc = new Y.Doc()
        const m = doc.getMap<number>('kv')
        if (existing) {
          doc.transact(() => {
            for (let i = 0; i < N; i++) m.set(counterKeys[i]!, 1)
          })
        }
        fullGC()
        let acc = 0
        const t0 = now()
        for (let i = 0; i < N; i++) acc += m.set(counterKeys[i]!, (m.get(counterKeys[i]!) ?? 0) + 1)
        const ms = now() - t0
        sink += acc
        doc.destroy()
        return ms
      },
      { runs: RUNS, scale: nsPerOp(N) },
    )
    const incrMap = await measure(
      () => {
        const m = new Map<string, number>()
        if (existing) for (let i = 0; i < N; i++) m.set(counterKeys[i]!, 1)
        let acc = 0
        const t0 = now()
        for (let i = 0; i < N; i++) {
          const v = (m.get(counterKeys[i]!) ?? 0) + 1
          m.set(counterKeys[i]!, v)
          acc += v
        }
        const ms = now() - t0
        sink += acc
        return ms
      },
      { runs: RUNS, scale: nsPerOp(N) },
    )
    const incrTB = await measure(
      () => {
        const tb = createMergeableStore()
        if (existing) {
          tb.transaction(() => {
            for (let i = 0; i < TB_OPS; i++) tb.setCell('c', counterKeys[i]!, 'n', 1)
          })
        }
        fullGC()
        let acc = 0
        const t0 = now()
        for (let i = 0; i < TB_OPS; i++) {
          const v = ((tb.getCell('c', counterKeys[i]!, 'n') as number | undefined) ?? 0) + 1 // reason: this loop writes cell n, only numbers
          tb.setCell('c', counterKeys[i]!, 'n', v)
          acc += v
        }
        const ms = now() - t0
        sink += acc
        return ms
      },
      { runs: RUNS, scale: nsPerOp(TB_OPS) },
    )
    const ratio = incrTide.median / incrYMap.median
    rows.push({
      id: existing ? 'incr-existing' : 'incr-new',
      label: `4. incr, ${existing ? 'existing' : 'new'} keys (100k)`,
      unit: 'ns/op',
      cells: { TideKV: cell(incrTide), Map: cell(incrMap), 'Y.Map': cell(incrYMap), TinyBase: cell(incrTB, TB_OPS) },
      ratio,
      ratioText: `${ratio.toFixed(2)}× Y.Map`,
      goal: '(info)',
      notes: existing
        ? ['Second pass over the same 100k counters (set up untimed). TideKV plain loop + flush; Y.Map get+set per key, one transaction each.']
        : [`TideKV store.incr over 100k distinct keys, plain loop + flush; Y.Map/Map get+set of a number; TinyBase getCell+setCell, ${TB_OPS} ops per run.`],
    })
  }
}

// ---- row 6: cold open ---------------------------------------------------------------

/** Bytes in a TideKV IndexedDB database: every row of 'updates' plus the snapshot's index. */
async function tideDatabaseBytes(name: string): Promise<{ updates: number; rows: number; index: number }> {
  const request = idb.open(databaseName(name))
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error!)
  })
  try {
    const tx = db.transaction(['updates', 'meta'], 'readonly')
    const all = tx.objectStore('updates').getAll()
    const meta = tx.objectStore('meta').get('snapshot')
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error!)
    })
    // reason: TideKV's IndexedDB layout (indexeddb-storage.ts): 'updates' rows are update bytes, 'meta' snapshot is { key, index }
    const rows = all.result as Uint8Array[]
    const saved = meta.result as { index?: Uint8Array } | undefined // reason: as rows above
    return { updates: rows.reduce((n, u) => n + u.byteLength, 0), rows: rows.length, index: saved?.index?.byteLength ?? 0 }
  } finally {
    db.close()
  }
}

async function deleteDatabase(name: string): Promise<void> {
  const request = idb.deleteDatabase(name)
  await new Promise<void>((resolve, reject) => {
    request.onsuccess = () => resolve()
    request.onerror = () => reject(request.error!)
  })
}

async function coldRows(): Promise<void> {
  log('row 6: cold open')
  const name = 'bench-cold'
  const seed = await openStore(name, { indexedDB: idb })
  for (let i = 0; i < N; i++) seed.set(keys[i]!, values[i]!)
  await seed.close() // stores, then compacts into one snapshot + its index
  const before = await tideDatabaseBytes(name)

  const first: number[] = []
  const loaded: number[] = []
  for (let r = -1; r < RUNS; r++) {
    fullGC()
    const t0 = now()
    const s = await openStore(name, { indexedDB: idb })
    const v = s.get<Prefs>(COLD_KEY)
    const t1 = now()
    await s.loaded
    const t2 = now()
    check(v?.fontSize === values[77]!.fontSize, 'cold get value')
    check(s.size === N, 'cold open size')
    sink += v!.fontSize
    await s.close()
    if (r >= 0) {
      first.push(t1 - t0)
      loaded.push(t2 - t0)
    }
  }
  const after = await tideDatabaseBytes(name)
  const unchanged = after.rows === before.rows && after.updates === before.updates && after.index === before.index

  // Yjs: the same 100k values in a Y.Map, loaded from a snapshot.
  const source = new Y.Doc()
  const sourceMap = source.getMap<Prefs>('kv')
  source.transact(() => {
    for (let i = 0; i < N; i++) sourceMap.set(keys[i]!, values[i]!)
  })
  const snapshot = Y.encodeStateAsUpdate(source)
  source.destroy()
  const yLoad = await measure(
    () => {
      const t0 = now()
      const doc = new Y.Doc()
      Y.applyUpdate(doc, snapshot)
      const v = doc.getMap<Prefs>('kv').get(COLD_KEY)
      const ms = now() - t0
      sink += v!.fontSize
      doc.destroy()
      return ms
    },
    { runs: RUNS },
  )

  // idb-keyval: first get from a fresh handle on the 100k-key database of row 1.
  const kvFirst = await measure(
    async () => {
      const t0 = now()
      const st = idbKeyval.createStore('bench-idb-keyval', 'kv')
      const v = await idbKeyval.get<Prefs>(COLD_KEY, st)
      const ms = now() - t0
      sink += v!.fontSize
      return ms
    },
    { runs: RUNS },
  )

  const firstSample: Sample = { median: median(first), samples: first }
  const loadedSample: Sample = { median: median(loaded), samples: loaded }
  const ratio = firstSample.median / yLoad.median
  rows.push({
    id: 'cold-first-get',
    label: '6. cold open 100k: first get',
    unit: 'ms',
    cells: { TideKV: cell(firstSample), 'Y.Map': cell(yLoad), 'idb-keyval': cell(kvFirst) },
    ratio,
    ratioText: `${ratio.toFixed(2)}× Yjs load`,
    goal: '≤ 0.25× Yjs load',
    met: ratio <= 0.25,
    notes: [
      `TideKV: await openStore('${name}', { indexedDB }) + get('${COLD_KEY}'), from IndexedDB (fake-indexeddb) holding a compacted snapshot of ${formatBytes(before.updates)} in ${before.rows} row(s) + its index, ${formatBytes(before.index)}.`,
      `Y.Map: Y.applyUpdate(new Y.Doc(), snapshot) + one get, from a ${formatBytes(snapshot.length)} snapshot already in memory (no IndexedDB read).`,
      'idb-keyval: createStore() + first awaited get on the 100k-key database (opens a connection).',
      unchanged
        ? 'Reopening without writes left the database unchanged between runs.'
        : `WARNING: the database changed across read-only reopen runs: ${JSON.stringify(before)} → ${JSON.stringify(after)}`,
    ],
  })
  const lRatio = loadedSample.median / yLoad.median
  rows.push({
    id: 'cold-loaded',
    label: '6. cold open 100k: fully loaded',
    unit: 'ms',
    cells: { TideKV: cell(loadedSample), 'Y.Map': cell(yLoad) },
    ratio: lRatio,
    ratioText: `${lRatio.toFixed(2)}× Yjs load`,
    goal: '(info)',
    notes: ['TideKV: from the start of openStore until `await store.loaded` (document integrated).'],
  })
  await deleteDatabase(databaseName(name))
}

// ---- row 7: history size ----------------------------------------------------------------

async function historyRows(): Promise<void> {
  log('row 7: history size (in memory)')
  const finalValue = (k: number): Prefs => prefs(HISTORY_WRITES - HISTORY_KEYS + k)
  const tideHist: number[] = []
  const tideLive: number[] = []
  const tideMs: number[] = []
  const yHist: number[] = []
  const yLive: number[] = []
  for (let r = 0; r < RUNS; r++) {
    fullGC()
    const s = await openStore('bench-history', { persist: false })
    const t0 = now()
    for (let w = 0; w < HISTORY_WRITES; w++) s.batch(() => s.set(historyKey(w), prefs(w)))
    await s.flush()
    tideMs.push(now() - t0)
    tideHist.push(Y.encodeStateAsUpdate(s.doc).length)
    const fresh = await openStore('bench-history-fresh', { persist: false })
    for (let k = 0; k < HISTORY_KEYS; k++) fresh.set(historyKey(k), finalValue(k))
    await fresh.flush()
    tideLive.push(Y.encodeStateAsUpdate(fresh.doc).length)
    for (let k = 0; k < HISTORY_KEYS; k++) check(JSON.stringify(s.get(historyKey(k))) === JSON.stringify(fresh.get(historyKey(k))), 'history final values')
    sink += s.size + fresh.size
    await s.close()
    await fresh.close()

    const doc = new Y.Doc()
    const m = doc.getMap<Prefs>('kv')
    for (let w = 0; w < HISTORY_WRITES; w++) m.set(historyKey(w), prefs(w))
    yHist.push(Y.encodeStateAsUpdate(doc).length)
    const liveDoc = new Y.Doc()
    const liveMap = liveDoc.getMap<Prefs>('kv')
    for (let k = 0; k < HISTORY_KEYS; k++) liveMap.set(historyKey(k), finalValue(k))
    yLive.push(Y.encodeStateAsUpdate(liveDoc).length)
    sink += m.size + liveMap.size
    doc.destroy()
    liveDoc.destroy()
  }
  const th = median(tideHist)
  const tl = median(tideLive)
  const yh = median(yHist)
  const yl = median(yLive)
  const ratio = th / tl
  rows.push({
    id: 'history-doc',
    label: '7. history: 100k overwrites of 1k keys',
    unit: 'bytes',
    cells: {
      TideKV: { value: th, samples: tideHist, text: `${formatBytes(th)} (${ratio.toFixed(2)}× live)` },
      'Y.Map': { value: yh, samples: yHist, text: `${formatBytes(yh)} (${(yh / yl).toFixed(1)}× live)` },
    },
    ratio,
    ratioText: `${ratio.toFixed(2)}× live`,
    goal: '≤ 2× live',
    met: ratio <= 2,
    notes: [
      `Y.encodeStateAsUpdate(doc).length after ${HISTORY_WRITES} overwrites, each its own transaction (TideKV: store.batch per write on a persist:false store; Y.Map: ymap.set outside transact), vs a fresh doc holding only the final ${HISTORY_KEYS} values: TideKV ${formatBytes(tl)}, Y.Map ${formatBytes(yl)}.`,
      `Time for TideKV's ${HISTORY_WRITES} single-write batches: ${median(tideMs).toFixed(0)} ms (median).`,
    ],
  })

  log('row 7: history size (IndexedDB)')
  const histName = 'bench-history-idb'
  const s = await openStore(histName, { indexedDB: idb })
  const t0 = now()
  for (let c = 0; c < HISTORY_WRITES; c += HISTORY_CHUNK) {
    for (let w = c; w < c + HISTORY_CHUNK; w++) s.batch(() => s.set(historyKey(w), prefs(w)))
    await s.flush()
  }
  await s.close() // compacts
  const idbMs = now() - t0
  const hist = await tideDatabaseBytes(histName)
  const freshName = 'bench-history-idb-fresh'
  const fresh = await openStore(freshName, { indexedDB: idb })
  for (let k = 0; k < HISTORY_KEYS; k++) fresh.set(historyKey(k), finalValue(k))
  await fresh.close()
  const live = await tideDatabaseBytes(freshName)
  const histTotal = hist.updates + hist.index
  const liveTotal = live.updates + live.index
  const idbRatio = histTotal / liveTotal
  rows.push({
    id: 'history-idb',
    label: '7. history: IndexedDB bytes after close',
    unit: 'bytes',
    cells: { TideKV: { value: histTotal, text: `${formatBytes(histTotal)} (${idbRatio.toFixed(2)}× live)` } },
    ratio: idbRatio,
    ratioText: `${idbRatio.toFixed(2)}× live`,
    goal: '≤ 2× live',
    met: idbRatio <= 2,
    notes: [
      `Same ${HISTORY_WRITES} single-write batches on a persisted store (await flush every ${HISTORY_CHUNK} writes), then close (compacts); 1 run (${idbMs.toFixed(0)} ms).`,
      `Stored: ${hist.rows} update row(s) = ${formatBytes(hist.updates)} + index ${formatBytes(hist.index)}; fresh store with the final ${HISTORY_KEYS} values: ${live.rows} row(s) = ${formatBytes(live.updates)} + index ${formatBytes(live.index)} = ${formatBytes(liveTotal)}.`,
    ],
  })
  await deleteDatabase(databaseName(histName))
  await deleteDatabase(databaseName(freshName))
}

// ---- main ------------------------------------------------------------------------------

const ORDER = ['get', 'set', 'set-batch', 'incr-new', 'incr-existing', `keys:${PREFIXES[0]}`, `keys:${PREFIXES[1]}`, 'cold-first-get', 'cold-loaded', 'history-doc', 'history-idb']

async function main(): Promise<void> {
  if (!gcExposed) log('warning: global.gc is not exposed (run with node --expose-gc); runs are not separated by a full GC')
  await readRows()
  await setRows()
  await incrRows()
  await coldRows()
  await historyRows()
  rows.sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id))

  const header = ['row', ...IMPLS, 'ratio', 'goal', 'met']
  const body = rows.map((row) => [
    row.label,
    ...IMPLS.map((impl) => {
      const c = row.cells[impl]
      if (c === undefined) return '—'
      const text = c.text ?? formatValue(row.unit, c.value)
      return c.ops !== undefined ? `${text}*` : text
    }),
    row.ratioText ?? '',
    row.goal ?? '',
    row.met === undefined ? '' : row.met ? 'yes' : 'NO',
  ])
  const table = formatTable(header, body)
  const totalMs = now() - started
  const lines = [
    '',
    `TideKV benchmark — ${machine()}, N = ${N}, median of ${RUNS} runs after 1 warm-up${gcExposed ? ', full GC between runs' : ''}`,
    '',
    table,
    '',
    '* fewer operations per run than the row states (see notes); still reported per operation.',
    '',
    ...notesAndGoals(rows, (r) => r.ratioText),
    '',
    `sink ${sink} · total ${(totalMs / 1000).toFixed(1)} s · results in ${RESULTS.pathname}`,
  ]
  console.log(lines.join('\n'))

  const meta = runMeta({
    n: N,
    runs: RUNS,
    packages: ['yjs', 'tinybase', 'idb-keyval', 'fake-indexeddb', 'lib0'],
    durationMs: totalMs,
    units: { 'ns/op': 'nanoseconds per operation', ms: 'milliseconds per run', bytes: 'bytes' },
  })
  saveResults(RESULTS, { meta, rows, table, sink })

  log('data structures (bench-structures.ts)')
  // Imported only now: its 100k-member inputs stay out of the heap while the rows above are timed.
  const { runStructureBench } = await import('./bench-structures.js')
  await runStructureBench()
}

await main()
