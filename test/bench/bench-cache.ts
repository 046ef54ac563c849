/**
 * `npm run bench:cache`: cache mode's two goals (issue 14), in one run.
 *
 * 1. `set` with eviction active against a plain `set`: N distinct keys written
 *    in a plain loop then flushed, into a cache store whose budget holds a
 *    tenth of them (allkeys-lru: every write past the budget evicts) and into
 *    a store without a budget. Medians of RUNS. Goal ≤ 1.3×.
 * 2. Hit ratio of allkeys-lru on a seeded Zipf trace (REQUESTS requests over
 *    KEYS keys, exponent 1.0; a miss loads and sets the key) against an exact
 *    LRU of the same capacity in keys (every key and value has one size).
 *    Goal ≥ 0.97×. TideKV's LRU is exact too, so this checks the budget's
 *    bookkeeping; allkeys-lfu (sampled) on the same trace is shown beside it.
 *
 * Both stores are `persist: false`, tabs off. Results: stdout.
 */
import os from 'node:os'
import { openStore } from '../../packages/client/src/index.js'
import { Random } from '../../packages/core/src/testing/random.js'
import { check, formatTable, fullGC, median, now } from './measure.js'

const N = 100_000
const RUNS = 5
const REQUESTS = 200_000
const KEYS = 20_000
const CAPACITY_SHARE = 0.1
const SEED = 20261207

const value = (i: number) => `value-${String(i).padStart(6, '0')}`
const key = (i: number) => `k:${String(i).padStart(6, '0')}`

async function entryBytes(): Promise<number> {
  let t = 1_700_000_000_000
  const probe = await openStore('probe', { persist: false, tabs: false, clock: () => t++, cache: { maxBytes: 1e9 } })
  probe.set(key(0), value(0))
  const bytes = probe.stats().bytes
  await probe.close()
  return bytes
}

async function timeSets(cache: boolean, budget: number): Promise<number> {
  const store = await openStore(`set-${cache}`, { persist: false, tabs: false, ...(cache ? { cache: { maxBytes: budget, policy: 'allkeys-lru' as const } } : {}) })
  fullGC()
  const t0 = now()
  for (let i = 0; i < N; i++) store.set(key(i), value(i))
  await store.flush()
  const ms = now() - t0
  if (cache) check(store.stats().bytes <= budget && store.stats().evictions > 0, 'the cache stayed within its budget, evicting')
  await store.close()
  return ms
}

/** Zipf ranks 0..n-1 with exponent s, by inverting the CDF (a table of n cumulative weights). */
function zipf(n: number, s: number, rng: Random): () => number {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s
  return () => {
    const u = rng.float() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

async function hitRatios(bytesPerKey: number, policy: 'allkeys-lru' | 'allkeys-lfu'): Promise<{ tidekv: number; exact: number }> {
  const capacity = Math.floor(KEYS * CAPACITY_SHARE)
  const next = zipf(KEYS, 1.0, new Random(SEED))
  // Shuffle ranks to keys, so popularity is not key order.
  const order = Array.from({ length: KEYS }, (_, i) => i)
  const shuffle = new Random(SEED + 1)
  for (let i = order.length - 1; i > 0; i--) {
    const j = shuffle.int(0, i + 1)
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const trace = Array.from({ length: REQUESTS }, () => order[next()]!)
  let t = 1_700_000_000_000
  const store = await openStore('zipf', { persist: false, tabs: false, clock: () => t++, cache: { maxBytes: capacity * bytesPerKey, policy } })
  for (const i of trace) {
    if (store.get(key(i)) === undefined) store.set(key(i), value(i))
    if ((i & 1023) === 0) await store.flush()
  }
  await store.flush()
  const { hits, misses } = store.stats()
  await store.close()
  const lru = new Map<number, true>()
  let exactHits = 0
  for (const i of trace) {
    if (lru.delete(i)) exactHits++
    else if (lru.size >= capacity) lru.delete(lru.keys().next().value!)
    lru.set(i, true)
  }
  return { tidekv: hits / (hits + misses), exact: exactHits / trace.length }
}

async function main(): Promise<void> {
  const bytesPerKey = await entryBytes()
  const budget = Math.floor((N * bytesPerKey) / 10)
  await timeSets(true, budget)
  await timeSets(false, budget)
  const cacheMs: number[] = []
  const plainMs: number[] = []
  for (let r = 0; r < RUNS; r++) {
    // Alternate which goes first, so a burst of load elsewhere hits both alike.
    if (r % 2 === 0) {
      cacheMs.push(await timeSets(true, budget))
      plainMs.push(await timeSets(false, budget))
    } else {
      plainMs.push(await timeSets(false, budget))
      cacheMs.push(await timeSets(true, budget))
    }
  }
  const c = median(cacheMs)
  const p = median(plainMs)
  const ratios = await hitRatios(bytesPerKey, 'allkeys-lru')
  const lfu = await hitRatios(bytesPerKey, 'allkeys-lfu')
  const table = formatTable(
    ['row', 'cache store', 'peer', 'ratio', 'goal', 'met'],
    [
      [
        `set, ${N.toLocaleString('en')} keys, allkeys-lru evicting (budget ${N / 10} keys) vs a plain store`,
        `${((c * 1e6) / N).toFixed(0)} ns/op`,
        `${((p * 1e6) / N).toFixed(0)} ns/op`,
        `${(c / p).toFixed(2)}×`,
        '≤ 1.30×',
        c / p <= 1.3 ? 'yes' : 'NO',
      ],
      [
        `hit ratio, Zipf 1.0, ${REQUESTS.toLocaleString('en')} requests over ${KEYS.toLocaleString('en')} keys, ${CAPACITY_SHARE * 100}% fit; vs exact LRU`,
        `${(ratios.tidekv * 100).toFixed(2)}%`,
        `${(ratios.exact * 100).toFixed(2)}%`,
        `${(ratios.tidekv / ratios.exact).toFixed(3)}×`,
        '≥ 0.97×',
        ratios.tidekv / ratios.exact >= 0.97 ? 'yes' : 'NO',
      ],
      [
        'the same trace with allkeys-lfu (sampled: 16 draws per eviction); vs exact LRU',
        `${(lfu.tidekv * 100).toFixed(2)}%`,
        `${(lfu.exact * 100).toFixed(2)}%`,
        `${(lfu.tidekv / lfu.exact).toFixed(3)}×`,
        '(no goal)',
        '',
      ],
    ],
  )
  console.log(
    `\ncache mode — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; ${bytesPerKey} B per key; set: medians of ${RUNS} (${cacheMs.map((x) => x.toFixed(0)).join(', ')} ms vs ${plainMs.map((x) => x.toFixed(0)).join(', ')} ms)\n\n${table}\n`,
  )
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
