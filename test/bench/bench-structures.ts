/**
 * The data structure rows of `npm run bench` (bench.ts runs them after its
 * own table; `node --expose-gc --import tsx test/bench/bench-structures.ts`
 * runs them alone): TideKV's sorted set, list, set (collection) and stream
 * against the same operations done naively on a raw Yjs type in a plain
 * Y.Doc — a Y.Map of member → score, a Y.Array of values, a Y.Map of
 * member → true, a Y.Array of { id, fields } — with N = 100,000 members.
 *
 * Writes are timed as the `set` row of bench.ts times them: TideKV in a
 * plain loop plus `await store.flush()` on a persist:false store (the tick's
 * writes become one Yjs transaction at the flush); the Yjs peer calls each
 * operation outside `doc.transact`, so one transaction per operation.
 * Stores use the default options (as in bench.ts), so tabs are on.
 * Medians of RUNS timed runs after one warm-up run (of WARMUP_OPS
 * operations for the write rows), a full GC and a SETTLE_MS pause before each.
 * Results: stdout and test/bench/results/bench-structures.json.
 */
import os from 'node:os'
import { pathToFileURL } from 'node:url'
import * as Y from 'yjs'
import { openStore, type Store } from '../../packages/client/src/index.js'
import { check, formatNs, formatTable, fullGC, gcExposed, measure, median, now, nsPerOp, type Sample, shuffledIndices } from './measure.js'
import { machine, notesAndGoals, runMeta, saveResults } from './report.js'

// ---- parameters -------------------------------------------------------------

const N = 100_000
const RUNS = 5
/** The ZRANGE window: ranks 50,000 to 50,099. */
const RANGE_START = 50_000
const RANGE_COUNT = 100
/** Calls per timed run: TideKV's indexed reads, and the sort-or-scan-everything naive reads. */
const FAST_OPS = 10_000
const NAIVE_OPS = 3
/** Naive XRANGE calls per timed run (a scan of 100k entries). */
const SCAN_OPS = 10
/** XADD onto a stream of ~N entries: appends per timed run. */
const TAIL = 1_000
/** Operations in the warm-up run of the write rows (its time is not used). */
const WARMUP_OPS = 10_000
/** Pause after each full GC before timing (see `settle`). */
const SETTLE_MS = 50
const RESULTS = new URL('./results/bench-structures.json', import.meta.url)

// ---- data -------------------------------------------------------------------

type Fields = { user: string; action: string; points: number }

const members = Array.from({ length: N }, (_, i) => `member:${i}`)
/** Scores with ties (about 10 members per score), so the member breaks them, as in a leaderboard. */
const score = (i: number): number => (i * 7919) % 10_007
const scores = members.map((_, i) => score(i))
const jobs = Array.from({ length: N }, (_, i) => `job:${i}`)
const ACTIONS = ['joined', 'scored', 'left'] as const
const fieldsOf = (i: number): Fields => ({ user: `u${i % 1000}`, action: ACTIONS[i % 3]!, points: i % 100 })
const streamFields = members.map((_, i) => fieldsOf(i))
/** Every lookup row reads members in this order (the same for both sides). */
const order = shuffledIndices(N)

let sink = 0
let storeCount = 0
/** A fresh persist:false store (a new name each time, so no two open stores share a BroadcastChannel). */
const freshStore = (what: string): Promise<Store> => openStore(`bench-${what}-${storeCount++}`, { persist: false })

/** When the structure rows started (reset by runStructureBench: bench.ts imports this module long before). */
let started = now()
function log(message: string): void {
  process.stderr.write(`[bench:structures ${((now() - started) / 1000).toFixed(1)}s] ${message}\n`)
}

// ---- rows ---------------------------------------------------------------------

interface Row {
  id: string
  label: string
  unit: 'ns/op' | 'bytes'
  tide: Sample
  /** Absent when the naive side is not timed (see the row's notes). */
  naive?: Sample
  /** true: ratio = naive / TideKV ("× faster"); false: ratio = TideKV / naive ("× naive"). */
  speedup: boolean
  ratio: number
  goal: string
  met?: boolean
  notes: string[]
}

const rows: Row[] = []

function push(row: Omit<Row, 'ratio' | 'met'>, minSpeedup?: number): void {
  const naive = row.naive?.median ?? NaN
  const ratio = row.speedup ? naive / row.tide.median : row.tide.median / naive
  rows.push(minSpeedup === undefined ? { ...row, ratio } : { ...row, ratio, met: ratio >= minSpeedup })
}

/** A timed row with no goal: "× naive" (TideKV time / naive time), or "× faster" when `speedup`. */
function infoRow(id: string, label: string, tide: Sample, naive: Sample | undefined, notes: string[], speedup = false): void {
  push(naive === undefined ? { id, label, unit: 'ns/op', tide, speedup, goal: '(info)', notes } : { id, label, unit: 'ns/op', tide, naive, speedup, goal: '(info)', notes })
}

/** A read row whose goal is TideKV at least `minSpeedup` × faster than the naive read. */
function speedupRow(id: string, label: string, tide: Sample, naive: Sample, minSpeedup: number, notes: string[]): void {
  push({ id, label, unit: 'ns/op', tide, naive, speedup: true, goal: `≥ ${minSpeedup}× faster`, notes }, minSpeedup)
}

const one = (value: number): Sample => ({ median: value, samples: [value] })

const MEMORY_NOTE = `heapUsed + arrayBuffers after two full GCs, after minus before filling a new store / Y.Doc with ${N} members (plain loop, member strings made in the loop so their bytes count), divided by ${N}; one run.`

/** A structure filled with N members on both sides, with the bytes per member each keeps. */
interface Filled {
  store: Store
  doc: Y.Doc
  /** Bytes per member, TideKV and naive. */
  tide: Sample
  naive: Sample
}

function memoryRow(id: string, structure: string, filled: Filled, note = MEMORY_NOTE): void {
  push({ id, label: `memory per member: ${structure}`, unit: 'bytes', tide: filled.tide, naive: filled.naive, speedup: false, goal: '(info)', notes: [note] })
}

// ---- measuring ----------------------------------------------------------------

/** Heap plus array buffers (entries are Uint8Arrays, whose bytes may live outside the heap). */
function memoryNow(): number {
  fullGC()
  fullGC()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/** Bytes per member that `fill` leaves reachable through what it returns, measured after full GCs. */
async function bytesPerMember(fill: () => Promise<unknown>): Promise<number> {
  const before = memoryNow()
  const kept = await fill()
  await new Promise((resolve) => setImmediate(resolve)) // lets the commit's events settle
  const after = memoryNow()
  sink += kept === undefined ? 0 : 1
  return (after - before) / N
}

/**
 * Fills a new store (`fillStore`, then a flush) and a new Y.Doc (`fillDoc`)
 * with N members each, measuring the bytes per member each keeps; both stay
 * filled for the read rows.
 */
async function fill(what: string, fillStore: (store: Store) => void, fillDoc: (doc: Y.Doc) => void): Promise<Filled> {
  let store: Store | undefined
  const tide = await bytesPerMember(async () => {
    store = await freshStore(what)
    fillStore(store)
    await store.flush()
    return store
  })
  let doc: Y.Doc | undefined
  const naive = await bytesPerMember(async () => {
    doc = new Y.Doc()
    fillDoc(doc)
    return doc
  })
  return { store: store!, doc: doc!, tide: one(tide), naive: one(naive) }
}

/**
 * Waits for V8 to finish the work a full GC leaves to background threads
 * (concurrent sweeping of a heap of a few hundred MB): timed right after the
 * GC, the first milliseconds of a run are 2-3× slower here, which skews the
 * short read runs. No event says when it is done, hence a fixed pause.
 */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SETTLE_MS))

/** A full GC, then `settle`: before a timed part that follows untimed set-up. */
async function quiesce(): Promise<void> {
  fullGC()
  await settle()
}

/** Operations in run `run` of a write row: fewer in the warm-up run (index < 0), which only warms the JIT, to keep the bench short. */
const opsOf = (run: number): number => (run < 0 ? WARMUP_OPS : N)

/**
 * A write row's TideKV side: each run opens a fresh store and times `writes`
 * (a plain loop of n operations on `handle(store)`) plus the flush that
 * commits them, one Yjs transaction; `after` checks (untimed).
 */
function tideWrites<H>(what: string, handle: (s: Store) => H, writes: (h: H, n: number) => void, after: (h: H, n: number) => void): Promise<Sample> {
  return measure(
    async (run: number) => {
      const n = opsOf(run)
      const s = await freshStore(what)
      const h = handle(s)
      await quiesce()
      const t0 = now()
      writes(h, n)
      await s.flush() // commits the tick's writes: one Yjs transaction
      const ms = now() - t0
      after(h, n)
      await s.close()
      return ms
    },
    { runs: RUNS, scale: nsPerOp(N) },
  )
}

/** A write row's naive side: each run times `writes`, a plain loop of n operations (one transaction each) on a type of a fresh Y.Doc. */
function yjsWrites<T>(type: (doc: Y.Doc) => T, writes: (t: T, n: number) => void, after: (t: T) => void): Promise<Sample> {
  return measure(
    async (run: number) => {
      const n = opsOf(run)
      const doc = new Y.Doc()
      const t = type(doc)
      await quiesce()
      const t0 = now()
      writes(t, n)
      const ms = now() - t0
      after(t)
      doc.destroy()
      return ms
    },
    { runs: RUNS, scale: nsPerOp(N) },
  )
}

/**
 * A row side on a filled structure: each run (after `settle`) times `part`,
 * `ops` operations, which returns what it read for the sink (0 when it feeds
 * the sink itself); `verify` checks that (untimed).
 */
function timeRuns(ops: number, part: (run: number) => number | Promise<number>, verify?: (read: number) => void): Promise<Sample> {
  return measure(
    async (run: number) => {
      await settle()
      const t0 = now()
      const out = part(run)
      const read = typeof out === 'number' ? out : await out
      const ms = now() - t0
      verify?.(read)
      sink += read
      return ms
    },
    { runs: RUNS, scale: nsPerOp(ops) },
  )
}

/** Runs `run` once to warm up, then RUNS times; each run returns several phases' milliseconds. */
async function measurePhases(phases: number, run: (index: number) => Promise<number[]>, scale: number): Promise<Sample[]> {
  const samples: number[][] = Array.from({ length: phases }, () => [])
  for (let r = -1; r < RUNS; r++) {
    await quiesce()
    const ms = await run(r)
    if (r >= 0) ms.forEach((m, p) => samples[p]!.push(m * scale))
  }
  return samples.map((s) => ({ median: median(s), samples: s }))
}

// ---- sorted set: ZADD, ZRANGE, ZRANK ---------------------------------------------

/** Naive ZRANGE/ZRANK: every entry of the Y.Map, sorted by (score, member) on each call. */
function sortedEntries(map: Y.Map<number>): [string, number][] {
  return [...map.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

async function sortedSetRows(): Promise<void> {
  log('ZADD')
  const addTide = await tideWrites(
    'zadd',
    (s) => s.sortedSet('board'),
    (z, n) => {
      for (let i = 0; i < n; i++) z.add(members[i]!, scores[i]!)
    },
    (z) => (sink += z.size),
  )
  const addYjs = await yjsWrites(
    (doc) => doc.getMap<number>('board'),
    (map, n) => {
      for (let i = 0; i < n; i++) map.set(members[i]!, scores[i]!) // one transaction each
    },
    (map) => (sink += map.size),
  )
  infoRow('zadd', `ZADD ×100k: sortedSet.add`, addTide, addYjs, [
    'TideKV: plain loop of sortedSet.add(member, score) + await store.flush(); Y.Map: ymap.set(member, score), one transaction each.',
  ])

  log('sorted set memory, and the filled sorted sets for ZRANGE and ZRANK')
  const filled = await fill(
    'zset-read',
    (store) => {
      const z = store.sortedSet('board')
      for (let i = 0; i < N; i++) z.add(`member:${i}`, score(i)) // fresh strings: their bytes count
    },
    (doc) => {
      const map = doc.getMap<number>('board')
      for (let i = 0; i < N; i++) map.set(`member:${i}`, score(i))
    },
  )
  const z = filled.store.sortedSet('board')
  const map = filled.doc.getMap<number>('board')
  const expected = sortedEntries(map)
  const window = expected.slice(RANGE_START, RANGE_START + RANGE_COUNT).map((e) => e[0])
  check(JSON.stringify(z.range(RANGE_START, RANGE_START + RANGE_COUNT - 1)) === JSON.stringify(window), 'ZRANGE: TideKV = sorted Y.Map entries')
  for (const j of [0, 1, 4242, N - 1]) {
    const m = members[order[j]!]!
    check(z.rank(m) === expected.findIndex((e) => e[0] === m), `ZRANK ${m}`)
  }

  log('ZRANGE 100 at rank 50,000')
  const rangeTide = await timeRuns(FAST_OPS, () => {
    let acc = 0
    for (let k = 0; k < FAST_OPS; k++) acc += z.range(RANGE_START, RANGE_START + RANGE_COUNT - 1).length
    return acc
  })
  const rangeYjs = await timeRuns(NAIVE_OPS, () => {
    let acc = 0
    for (let k = 0; k < NAIVE_OPS; k++) acc += sortedEntries(map).slice(RANGE_START, RANGE_START + RANGE_COUNT).length
    return acc
  })
  speedupRow('zrange', 'ZRANGE 100 at rank 50,000', rangeTide, rangeYjs, 100, [
    `TideKV: sortedSet.range(${RANGE_START}, ${RANGE_START + RANGE_COUNT - 1}), ${FAST_OPS} calls per run; Y.Map: [...entries()].sort by (score, member).slice(${RANGE_START}, ${RANGE_START + RANGE_COUNT}), sorting on every call, ${NAIVE_OPS} calls per run.`,
  ])

  log('ZRANK')
  const rankTide = await timeRuns(FAST_OPS, () => {
    let acc = 0
    for (let k = 0; k < FAST_OPS; k++) acc += z.rank(members[order[k]!]!)!
    return acc
  })
  const rankYjs = await timeRuns(NAIVE_OPS, (run) => {
    let acc = 0
    for (let k = 0; k < NAIVE_OPS; k++) {
      const m = members[order[(run + 1) * NAIVE_OPS + k]!]!
      acc += sortedEntries(map).findIndex((e) => e[0] === m)
    }
    return acc
  })
  speedupRow('zrank', 'ZRANK', rankTide, rankYjs, 100, [
    `TideKV: sortedSet.rank(member), ${FAST_OPS} members per run in shuffled order; Y.Map: sort as for ZRANGE, then findIndex(member), ${NAIVE_OPS} calls per run.`,
  ])
  memoryRow('zset-memory', 'sorted set', filled)
  await filled.store.close()
  filled.doc.destroy()
}

// ---- list: LPUSH then RPOP --------------------------------------------------------

async function listRows(): Promise<void> {
  log('LPUSH ×100k, then RPOP ×100k')
  const [pushTide, popTide] = await measurePhases(
    2,
    async (run: number) => {
      const n = opsOf(run)
      const s = await freshStore('list')
      const list = s.list('jobs')
      await quiesce()
      let t0 = now()
      for (let i = 0; i < n; i++) list.pushLeft(jobs[i]!)
      await s.flush()
      const pushMs = now() - t0
      check(list.length === n, 'TideKV list length')
      await quiesce()
      t0 = now()
      const first = list.popRight()
      for (let i = 2; i < n; i++) sink += list.popRight<string>()!.length
      const last = list.popRight()
      await s.flush()
      const popMs = now() - t0
      check(first === jobs[0] && last === jobs[n - 1] && list.length === 0, 'TideKV RPOP order')
      await s.close()
      return [pushMs, popMs]
    },
    nsPerOp(N),
  )
  const [pushYjs, popYjs] = await measurePhases(
    2,
    async (run: number) => {
      const n = opsOf(run)
      const doc = new Y.Doc()
      const arr = doc.getArray<string>('jobs')
      await quiesce()
      let t0 = now()
      for (let i = 0; i < n; i++) arr.insert(0, [jobs[i]!])
      const pushMs = now() - t0
      check(arr.length === n, 'Y.Array length')
      await quiesce()
      const pop = (): string => {
        const at = arr.length - 1
        const v = arr.get(at)
        arr.delete(at, 1)
        return v
      }
      t0 = now()
      const first = pop()
      for (let i = 2; i < n; i++) sink += pop().length
      const last = pop()
      const popMs = now() - t0
      check(first === jobs[0] && last === jobs[n - 1] && arr.length === 0, 'Y.Array RPOP order')
      doc.destroy()
      return [pushMs, popMs]
    },
    nsPerOp(N),
  )
  const phases = 'In phases, on one list per run: N pushes, then N pops that drain it (FIFO).'
  infoRow('lpush', 'LPUSH ×100k: list.pushLeft', pushTide!, pushYjs, [
    `${phases} TideKV: plain loop of list.pushLeft(value) + await store.flush(); Y.Array: yarray.insert(0, [value]), one transaction each. Values 'job:<i>'.`,
  ])
  infoRow('rpop', 'RPOP ×100k: list.popRight', popTide!, popYjs, [
    'TideKV: plain loop of list.popRight() + await store.flush(); Y.Array: get(length - 1) then delete(length - 1, 1), one transaction each.',
  ])
  log('list memory')
  const filled = await fill(
    'list-memory',
    (store) => {
      const list = store.list('jobs')
      for (let i = 0; i < N; i++) list.pushLeft(`job:${i}`)
    },
    (doc) => {
      const arr = doc.getArray<string>('jobs')
      for (let i = 0; i < N; i++) arr.insert(0, [`job:${i}`])
    },
  )
  memoryRow('list-memory', 'list', filled)
  await filled.store.close()
  filled.doc.destroy()
}

// ---- set: SADD, SISMEMBER -----------------------------------------------------------

async function setRows(): Promise<void> {
  log('SADD')
  const addTide = await tideWrites(
    'sadd',
    (s) => s.collection('online'),
    (set, n) => {
      for (let i = 0; i < n; i++) set.add(members[i]!)
    },
    (set) => (sink += set.size),
  )
  const addYjs = await yjsWrites(
    (doc) => doc.getMap<boolean>('online'),
    (map, n) => {
      for (let i = 0; i < n; i++) map.set(members[i]!, true)
    },
    (map) => (sink += map.size),
  )
  infoRow('sadd', 'SADD ×100k: collection.add', addTide, addYjs, [
    'TideKV: plain loop of collection.add(member) + await store.flush(); Y.Map: ymap.set(member, true), one transaction each.',
  ])

  log('set memory, and the filled sets for SISMEMBER')
  const filled = await fill(
    'set-read',
    (store) => {
      const set = store.collection('online')
      for (let i = 0; i < N; i++) set.add(`member:${i}`)
    },
    (doc) => {
      const map = doc.getMap<boolean>('online')
      for (let i = 0; i < N; i++) map.set(`member:${i}`, true)
    },
  )
  const set = filled.store.collection('online')
  const map = filled.doc.getMap<boolean>('online')
  check(set.has('member:77') && map.has('member:77') && !set.has('nobody') && !map.has('nobody'), 'SISMEMBER')

  log('SISMEMBER')
  const hasAll = (has: (m: string) => boolean) => (): number => {
    let acc = 0
    for (let j = 0; j < N; j++) if (has(members[order[j]!]!)) acc++
    return acc
  }
  const findsEvery = (found: number): void => check(found === N, 'SISMEMBER finds every member')
  const hasTide = await timeRuns(
    N,
    hasAll((m) => set.has(m)),
    findsEvery,
  )
  const hasYjs = await timeRuns(
    N,
    hasAll((m) => map.has(m)),
    findsEvery,
  )
  infoRow('sismember', 'SISMEMBER: collection.has', hasTide, hasYjs, [`TideKV collection.has vs Y.Map has, each of the ${N} members once per run, shuffled order.`])
  memoryRow('set-memory', 'set', filled)
  await filled.store.close()
  filled.doc.destroy()
}

// ---- stream: XADD, XRANGE -----------------------------------------------------------

type NaiveEntry = { id: string; fields: Fields }

/** What a naive app would do: Redis-style `<ms>-<seq>` ids from Date.now() and a counter. */
function naiveIds(): () => string {
  let lastMs = 0
  let seq = 0
  return () => {
    const ms = Date.now()
    if (ms > lastMs) {
      lastMs = ms
      seq = 0
    } else {
      seq++
    }
    return `${lastMs}-${seq}`
  }
}

function compareIds(a: string, b: string): number {
  const da = a.indexOf('-')
  const db = b.indexOf('-')
  return Number(a.slice(0, da)) - Number(b.slice(0, db)) || Number(a.slice(da + 1)) - Number(b.slice(db + 1))
}

/** Naive XRANGE: scans every entry of the Y.Array and keeps those with start ≤ id ≤ end. */
function naiveRange(arr: Y.Array<NaiveEntry>, start: string, end: string): NaiveEntry[] {
  return arr.toArray().filter((e) => compareIds(e.id, start) >= 0 && compareIds(e.id, end) <= 0)
}

async function streamRows(): Promise<void> {
  log('XADD ×100k (TideKV only)')
  const fillTide = await tideWrites(
    'xadd',
    (s) => s.stream('activity'),
    (stream, n) => {
      for (let i = 0; i < n; i++) sink += stream.add(streamFields[i]!).length
    },
    (stream, n) => check(stream.length === n, 'TideKV stream length'),
  )
  infoRow('xadd-fill', 'XADD ×100k: stream.add', fillTide, undefined, [
    'TideKV: plain loop of stream.add({user, action, points}) + await store.flush(). The naive fill is not timed: pushing one entry per transaction onto a Y.Array is quadratic in Yjs (each push is merged into the previous ContentAny item with Array#concat, copying every entry so far), so 100k single pushes take minutes; the next row times the last 1,000 of them.',
  ])

  log(`XADD at ~${N} entries (${TAIL} appends per run)`)
  // One stream per side, filled once to PREFILL entries; each run (warm-up included) appends TAIL more,
  // so the timed runs append entries PREFILL + TAIL + 1 to PREFILL + (RUNS + 1) × TAIL, around N.
  const PREFILL = N - ((RUNS + 1) * TAIL) / 2
  const tailStore = await freshStore('xadd-tail')
  const tailStream = tailStore.stream('activity')
  for (let i = 0; i < PREFILL; i++) tailStream.add(fieldsOf(i))
  await tailStore.flush()
  const tailDoc = new Y.Doc()
  const tailArr = tailDoc.getArray<NaiveEntry>('activity')
  const nextTailId = naiveIds()
  // The state PREFILL single pushes would leave (their items merged into one), without their quadratic cost.
  tailArr.push(Array.from({ length: PREFILL }, (_, i) => ({ id: nextTailId(), fields: fieldsOf(i) })))
  const tailTide = await timeRuns(TAIL, async () => {
    for (let i = 0; i < TAIL; i++) sink += tailStream.add(streamFields[i]!).length
    await tailStore.flush()
    return 0
  })
  const tailYjs = await timeRuns(TAIL, () => {
    for (let i = 0; i < TAIL; i++) tailArr.push([{ id: nextTailId(), fields: streamFields[i]! }])
    return 0
  })
  check(tailStream.length === PREFILL + (RUNS + 1) * TAIL && tailArr.length === tailStream.length, 'XADD at ~N: lengths')
  await tailStore.close()
  tailDoc.destroy()
  infoRow('xadd-tail', `XADD at ~100k entries`, tailTide, tailYjs, [
    `One stream per side holding ${PREFILL} entries (set up untimed: TideKV a plain loop + flush; Y.Array one push of ${PREFILL} entries, which leaves the same single merged item as ${PREFILL} separate pushes); each run appends ${TAIL} more (timed: entries ${PREFILL + TAIL + 1}–${PREFILL + (RUNS + 1) * TAIL}).`,
    'TideKV: plain loop of stream.add + await store.flush(); Y.Array: yarray.push([{ id, fields }]) with a `<Date.now()>-<seq>` id, one transaction each.',
  ])

  log('stream memory, and the filled streams for XRANGE')
  const tideIds: string[] = []
  const filled = await fill(
    'stream-read',
    (store) => {
      const stream = store.stream('activity')
      for (let i = 0; i < N; i++) {
        const id = stream.add(fieldsOf(i))
        if (i >= RANGE_START && i < RANGE_START + RANGE_COUNT) tideIds.push(id)
      }
    },
    (doc) => {
      const arr = doc.getArray<NaiveEntry>('activity')
      const nextId = naiveIds()
      // One push of N entries: the same single merged item as N separate pushes, without their quadratic cost (see XADD).
      arr.push(Array.from({ length: N }, (_, i) => ({ id: nextId(), fields: fieldsOf(i) })))
    },
  )
  const stream = filled.store.stream('activity')
  const arr = filled.doc.getArray<NaiveEntry>('activity')
  const [tStart, tEnd] = [tideIds[0]!, tideIds[RANGE_COUNT - 1]!]
  const yStart = arr.get(RANGE_START).id
  const yEnd = arr.get(RANGE_START + RANGE_COUNT - 1).id
  const got = stream.range(tStart, tEnd)
  const want = naiveRange(arr, yStart, yEnd)
  check(got.length === RANGE_COUNT && want.length === RANGE_COUNT, 'XRANGE returns 100 entries')
  check(JSON.stringify(got.map((e) => e.fields)) === JSON.stringify(want.map((e) => e.fields)), 'XRANGE: same fields on both sides')

  log('XRANGE 100 from the middle')
  const rangeTide = await timeRuns(FAST_OPS, () => {
    let acc = 0
    for (let k = 0; k < FAST_OPS; k++) acc += stream.range(tStart, tEnd).length
    return acc
  })
  const rangeYjs = await timeRuns(SCAN_OPS, () => {
    let acc = 0
    for (let k = 0; k < SCAN_OPS; k++) acc += naiveRange(arr, yStart, yEnd).length
    return acc
  })
  infoRow(
    'xrange',
    'XRANGE 100 from the middle',
    rangeTide,
    rangeYjs,
    [
      `Entries ${RANGE_START}..${RANGE_START + RANGE_COUNT - 1} by id. TideKV: stream.range(firstId, lastId), ${FAST_OPS} calls per run (builds each entry's fields object); Y.Array: toArray().filter(start ≤ id ≤ end) comparing parsed ids (a full scan: entries pushed by several replicas are not in id order), ${SCAN_OPS} calls per run; the Y.Array was filled by one push of N entries (see XADD).`,
    ],
    true,
  )
  memoryRow('stream-memory', 'stream', filled, `${MEMORY_NOTE} Y.Array: one push of ${N} entries, the state ${N} single pushes leave (see XADD).`)
  await filled.store.close()
  filled.doc.destroy()
}

// ---- main ---------------------------------------------------------------------------

function formatCell(row: Row, s: Sample | undefined): string {
  if (s === undefined) return '—'
  return row.unit === 'bytes' ? `${Math.round(s.median)} B` : `${formatNs(s.median)}/op`
}

function formatRatio(row: Row): string {
  if (Number.isNaN(row.ratio)) return '—'
  if (row.speedup) return `${row.ratio >= 10 ? row.ratio.toFixed(0) : row.ratio.toFixed(2)}× faster`
  return `${row.ratio.toFixed(2)}× naive`
}

/** Runs every structure row and prints their table; returns it. */
export async function runStructureBench(): Promise<string> {
  started = now()
  if (!gcExposed) log('warning: global.gc is not exposed (run with node --expose-gc): no full GC between runs, and the memory rows are unreliable')
  await sortedSetRows()
  await listRows()
  await setRows()
  await streamRows()

  const header = ['structure row (N = 100k)', 'TideKV', 'naive Yjs', 'ratio', 'goal', 'met']
  const table = formatTable(
    header,
    rows.map((row) => [row.label, formatCell(row, row.tide), formatCell(row, row.naive), formatRatio(row), row.goal, row.met === undefined ? '' : row.met ? 'yes' : 'NO']),
  )
  const totalMs = now() - started
  const lines = [
    '',
    `TideKV data structures vs the same operations on a raw Yjs type — ${machine()}, N = ${N}, median of ${RUNS} runs after 1 warm-up${gcExposed ? `, full GC + ${SETTLE_MS} ms pause before each run` : ''}`,
    '',
    table,
    '',
    'Writes: TideKV in a plain loop + `await store.flush()` (persist:false, default options; the writes of the tick are committed as one Yjs transaction at the flush), as the `set` row of the main table;',
    `the naive Yjs side makes each call outside doc.transact (one transaction per operation). Write rows warm up with ${WARMUP_OPS} operations, then time ${N} per run.`,
    '"× naive" = TideKV time / naive time (lower is better); "× faster" = naive / TideKV (higher is better).',
    '',
    ...notesAndGoals(rows, formatRatio),
    '',
    `sink ${sink} · structures ${(totalMs / 1000).toFixed(1)} s · results in ${RESULTS.pathname}`,
  ]
  console.log(lines.join('\n'))

  const meta = {
    ...runMeta({ n: N, runs: RUNS, packages: ['yjs', 'lib0'], durationMs: totalMs, units: { 'ns/op': 'nanoseconds per operation', bytes: 'bytes per member' } }),
    loadavg: os.loadavg(),
    ratio: 'speedup rows: naive / TideKV; other rows: TideKV / naive',
  }
  saveResults(RESULTS, { meta, rows, table, sink })
  return table
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await runStructureBench()
