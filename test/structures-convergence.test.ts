/**
 * Convergence of the data structures: 3–5 replicas with skewed, injected
 * clocks run seeded random sequences of concurrent writes of every kind on a
 * small key space (hash set/setMany/delete/incr, list pushes/pops/set/remove/
 * trim, set add/remove, sorted set add/incr/remove, stream add/trim, mixed
 * with plain set/delete/incr/expire/persist/clear on the same keys, so keys
 * change type, are deleted while others write members, and expire), while
 * their Yjs updates travel over per-link queues: in random order, duplicated,
 * merged, held back until the end, and cut off by partitions that later heal.
 *
 * Once everything is delivered, every replica must dump the same keyspace
 * through the public API (test/helpers/structure-dump.ts) at a common clock
 * time, read consistently (ranks, sizes, reverse ranges), and read the same
 * again once every TTL ran out; so must a replica built from the document
 * alone. In the persisted sequences every replica lives in its own
 * fake-indexeddb, restarts mid-sequence (taking writes and updates before its
 * document has loaded), and at the end is closed and reopened: it must dump
 * the same from its saved keyspace (the document load held back) and again
 * once the document has loaded. A few sequences grow structures past one
 * chunk of their ordered index.
 *
 * Agreement alone misses a write that every replica loses the same way, so
 * along the way a replica must also read what it just did: a commit (flush)
 * never changes its reads, nor does its document load when no update reached
 * it meanwhile; an increment returns what a read then gives; a call refused
 * with WRONG_TYPE changes nothing.
 *
 * The rules themselves, one test each, are in structures-rules.test.ts.
 *
 * Seeds: every failure names its seed and step; `TIDEKV_SEED=<n>` runs
 * sequence seed n first (in memory and persisted), `TIDEKV_TRACE=<n>` prints
 * the last n steps of a failing sequence (default 60). Clocks and expiry
 * timers move only when the test says, so a seed replays exactly.
 */
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { indexedDBStorage, openStore, type Store, type StoreOptions, TransactionOrigin } from '@tidekv/client'
import { LoadGate } from './helpers/load-gate.js'
import { baseSeed, Random, sequenceSeed } from './helpers/random.js'
import { dump, invariants } from './helpers/structure-dump.js'
import { BULK, KEYS, randomWrite, type WriteOptions } from './helpers/structure-ops.js'

const MEMORY_SEQUENCES = 150
const PERSISTED_SEQUENCES = 20
const MEMORY_STEPS = 150
const PERSISTED_STEPS = 150
const LARGE_SEQUENCES = 6
const LARGE_STEPS = 80
/** Chance that a write of a large-structure sequence adds BULK members at once. */
const LARGE_BULK_CHANCE = 0.04
/** Origin of the transactions that deliver another replica's update. */
const NET = 'net'
const T0 = 1_700_000_000_000
/** Far past every TTL this test sets, even on the most skewed replica. */
const LATER = 1_000_000
const TTLS = [1, 5, 20, 60, 200, 100_000] as const
const SKEWS = [0, 0, 2, -3, 25, -40, 150, -300, 1000, 5000] as const

type Backend = 'memory' | 'indexeddb'

interface Replica {
  readonly id: number
  readonly idb: IDBFactory
  store: Store
  detach: () => void
  /** Holds back the document load of this incarnation (after a restart from a saved keyspace). */
  gate: LoadGate | null
  /** Whether updates were delivered to it while its load was held back (they may only show once it loads). */
  heard: boolean
}

class Cluster {
  readonly rng: Random
  readonly trace: string[] = []
  readonly errors: string[] = []
  readonly replicas: Replica[] = []
  /** The one true time; replica i reads now + skews[i] until the clocks are made common. */
  now = T0
  common = false
  readonly skews: number[]
  /** Updates in flight per link from → to; `late` ones are delivered only at the end. */
  readonly queues: Uint8Array[][][]
  readonly late: Uint8Array[][][]
  /** Partition side of each replica: updates flow only between replicas on the same side. */
  side: number[]
  readonly compactAfter: number
  step = -1
  phase = 'start'

  constructor(
    readonly seed: number,
    readonly backend: Backend,
    /** Large structures: some writes add BULK members at once. */
    readonly large: boolean,
  ) {
    this.rng = new Random(seed)
    const n = this.rng.int(3, 5)
    this.skews = Array.from({ length: n }, () => this.rng.pick(SKEWS) + this.rng.int(0, 3))
    this.queues = Array.from({ length: n }, () => Array.from({ length: n }, () => []))
    this.late = Array.from({ length: n }, () => Array.from({ length: n }, () => []))
    this.side = Array.from({ length: n }, () => 0)
    // Small logs compact in the middle of a sequence, not only on close.
    this.compactAfter = this.rng.pick([2, 5, 20, 500])
  }

  get size(): number {
    return this.skews.length
  }

  get writeOptions(): WriteOptions {
    return this.large ? { ttls: TTLS, bulk: LARGE_BULK_CHANCE } : { ttls: TTLS }
  }

  where(): string {
    const at = this.step >= 0 && this.phase === 'steps' ? `step ${this.step}` : this.phase
    return `seed=${this.seed} (replay: TIDEKV_SEED=${this.seed}), ${this.backend}${this.large ? ', large structures' : ''}, ${at}`
  }

  clock(i: number): () => number {
    return () => (this.common ? this.now : this.now + this.skews[i]!)
  }

  name(i: number): string {
    return `structures-${this.backend}-${this.seed}-${i}`
  }

  /** Opens replica i: in memory, or on its own fake-indexeddb (its load held back by `gate`). */
  async open(i: number, idb: IDBFactory, gate: LoadGate | null): Promise<Store> {
    // tabs: false — replicas are devices here: only the test's network carries their updates.
    const options: StoreOptions = { clock: this.clock(i), compaction: { maxLogRows: this.compactAfter }, tabs: false }
    if (this.backend === 'memory') options.persist = false
    else options.storage = gate === null ? indexedDBStorage(idb) : gate.wrap(indexedDBStorage(idb))
    const store = await openStore(this.name(i), options)
    store.on('error', (e) => this.errors.push(`replica ${i}: ${e.code} ${e.message}`))
    return store
  }

  /** Queues every update the replica makes itself (not those delivered to it or loaded from storage). */
  attach(i: number, store: Store): () => void {
    const onUpdate = (update: Uint8Array, origin: unknown): void => {
      if (origin === NET || (origin instanceof TransactionOrigin && origin.kind === 'storage')) return
      for (let j = 0; j < this.size; j++) if (j !== i) this.queues[i]![j]!.push(update)
    }
    store.doc.on('update', onUpdate)
    return () => store.doc.off('update', onUpdate)
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      const idb = new IDBFactory()
      const store = await this.open(i, idb, null)
      this.replicas.push({ id: i, idb, store, detach: this.attach(i, store), gate: null, heard: false })
    }
    this.trace.push(`${this.size} replicas, skews ${this.skews.join(', ')}, compaction after ${this.compactAfter} rows`)
  }

  apply(to: number, update: Uint8Array): void {
    const r = this.replicas[to]!
    if (r.gate !== null) r.heard = true
    Y.applyUpdate(r.store.doc, update, NET)
  }

  linked(from: number, to: number): boolean {
    return this.side[from] === this.side[to]
  }

  /** Delivers one queued update on a random open link: sometimes twice, sometimes kept as a duplicate, sometimes held back. */
  deliverOne(): void {
    const links: [number, number][] = []
    for (let i = 0; i < this.size; i++) {
      for (let j = 0; j < this.size; j++) if (this.queues[i]![j]!.length > 0 && this.linked(i, j)) links.push([i, j])
    }
    if (links.length === 0) return
    const [from, to] = this.rng.pick(links)
    const queue = this.queues[from]![to]!
    const at = this.rng.int(0, queue.length - 1)
    const update = queue[at]!
    const r = this.rng.float()
    if (r < 0.08) {
      queue.splice(at, 1)
      this.late[from]![to]!.push(update)
      this.trace.push(`hold back ${from}→${to} #${at} until the end`)
    } else if (r < 0.18) {
      this.apply(to, update)
      this.trace.push(`deliver ${from}→${to} #${at}, keep a duplicate queued`)
    } else {
      queue.splice(at, 1)
      this.apply(to, update)
      const twice = this.rng.chance(0.05)
      if (twice) this.apply(to, update)
      this.trace.push(`deliver ${from}→${to} #${at}${twice ? ' twice' : ''}`)
    }
  }

  pending(): boolean {
    for (let i = 0; i < this.size; i++) {
      for (let j = 0; j < this.size; j++) if (this.queues[i]![j]!.length > 0 || this.late[i]![j]!.length > 0) return true
    }
    return false
  }

  /** Delivers everything queued and held back, in random order, some of it twice. */
  deliverAll(): void {
    const all: [number, Uint8Array][] = []
    for (let i = 0; i < this.size; i++) {
      for (let j = 0; j < this.size; j++) {
        for (const u of this.queues[i]![j]!.splice(0)) all.push([j, u])
        for (const u of this.late[i]![j]!.splice(0)) all.push([j, u])
      }
    }
    for (const [to, u] of this.rng.shuffle(all)) {
      this.apply(to, u)
      if (this.rng.chance(0.05)) this.apply(to, u)
    }
  }

  /**
   * Lets replica r's held-back document load finish. Unless updates reached
   * it meanwhile, the load changes nothing it reads: its saved keyspace and
   * the writes it took since are the truth (a write lost at the load, or a
   * removed member coming back, shows here, while every replica would agree on it).
   */
  async load(r: Replica): Promise<void> {
    if (r.gate === null) return
    const before = r.heard ? null : dump(r.store, { exactTtl: true })
    this.trace.push(`r${r.id} storage finishes loading the document`)
    r.gate.release()
    r.gate = null
    r.heard = false
    await r.store.loaded
    if (before !== null) expect(dump(r.store, { exactTtl: true }), `replica ${r.id} reads differently once its document has loaded`).toEqual(before)
  }

  /** Lets every held-back document load finish. */
  async release(): Promise<void> {
    for (const r of this.replicas) await this.load(r)
  }

  /** Heals partitions and delivers until no replica has anything left to say (clean-up of losers makes new updates). */
  async quiesce(): Promise<void> {
    this.side = this.side.map(() => 0)
    await this.release()
    for (let round = 0; round < 50; round++) {
      for (const r of this.replicas) await r.store.flush()
      if (!this.pending()) return
      this.deliverAll()
    }
    throw new Error('replicas still exchanging updates after 50 rounds')
  }

  write(i: number): void {
    const store = this.replicas[i]!.store
    if (this.rng.chance(0.08)) {
      const n = this.rng.int(2, 4)
      this.trace.push(`r${i}: batch {`)
      store.batch(() => {
        for (let k = 0; k < n; k++) this.trace.push(`  r${i}: ${randomWrite(this.rng, store, this.writeOptions)}`)
      })
      this.trace.push('}')
      return
    }
    this.trace.push(`r${i}: ${randomWrite(this.rng, store, this.writeOptions)}`)
  }

  async doStep(): Promise<void> {
    const { rng } = this
    const kind = rng.weighted({
      write: 50,
      deliver: 24,
      merged: 2,
      syncPair: 3,
      advance: 8,
      jitter: 1,
      partition: 1.5,
      heal: 2,
      flush: 2,
      check: 2,
      restart: this.backend === 'indexeddb' ? 2 : 0,
      load: this.backend === 'indexeddb' ? 4 : 0,
    })
    switch (kind) {
      case 'write':
        this.write(rng.int(0, this.size - 1))
        return
      case 'deliver': {
        const n = rng.int(1, 4)
        for (let k = 0; k < n; k++) this.deliverOne()
        return
      }
      case 'merged': {
        const from = rng.int(0, this.size - 1)
        const to = (from + rng.int(1, this.size - 1)) % this.size
        const queue = this.queues[from]![to]!
        if (queue.length === 0 || !this.linked(from, to)) return
        this.apply(to, Y.mergeUpdates(queue.splice(0)))
        this.trace.push(`deliver ${from}→${to} all queued, merged into one update`)
        return
      }
      case 'syncPair': {
        // A provider's sync step: what `to` lacks according to its state vector.
        const from = rng.int(0, this.size - 1)
        const to = (from + rng.int(1, this.size - 1)) % this.size
        if (!this.linked(from, to)) return
        const a = this.replicas[from]!.store.doc
        const b = this.replicas[to]!.store.doc
        this.apply(to, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
        this.trace.push(`sync ${from}→${to} by state vector`)
        return
      }
      case 'advance': {
        // Expiry timers (faked) move with the clocks: sweeps run when due.
        const dt = rng.pick([0, 1, 2, 5, 10, 20, 40, 100])
        this.now += dt
        this.trace.push(`time += ${dt}`)
        vi.advanceTimersByTime(dt)
        return
      }
      case 'jitter': {
        // A wall clock stepping (also backwards), as NTP does.
        const i = rng.int(0, this.size - 1)
        const d = rng.int(-100, 100)
        this.skews[i]! += d
        this.trace.push(`r${i} clock steps ${d}`)
        return
      }
      case 'partition': {
        this.side = this.side.map(() => (rng.chance(0.5) ? 1 : 0))
        this.trace.push(`partition: ${this.side.map((s, i) => `r${i}:${s}`).join(' ')}`)
        return
      }
      case 'heal':
        this.side = this.side.map(() => 0)
        this.trace.push('partition heals')
        return
      case 'flush': {
        // Committing (and cleaning up losers, sweeping) never changes what the replica reads.
        const r = this.replicas[rng.int(0, this.size - 1)]!
        if (r.gate !== null) return
        this.trace.push(`await r${r.id}.flush()`)
        const before = dump(r.store, { exactTtl: true })
        await r.store.flush()
        expect(dump(r.store, { exactTtl: true }), `replica ${r.id} reads differently after its commit`).toEqual(before)
        return
      }
      case 'check': {
        // One replica, mid-sequence, reads consistently (its own clock).
        const i = rng.int(0, this.size - 1)
        const store = this.replicas[i]!.store
        expect(invariants(store), `r${i} reads inconsistently: ${dump(store).join(' | ')}`).toEqual([])
        this.trace.push(`r${i} checked: ${dump(store).join(' | ')}`)
        return
      }
      case 'load': {
        const r = this.replicas.find((x) => x.gate !== null)
        if (r !== undefined) await this.load(r)
        return
      }
      case 'restart': {
        const i = rng.int(0, this.size - 1)
        const held = rng.chance(0.6)
        this.trace.push(`restart r${i} from its IndexedDB${held ? ', document load held back' : ''}`)
        await this.restart(i, held)
        // Before its document loads, a replica takes writes and updates.
        const n = rng.int(0, 3)
        for (let k = 0; k < n; k++) {
          if (rng.chance(0.5)) this.write(i)
          else this.deliverOne()
        }
        return
      }
    }
  }

  /**
   * Closes replica i and reopens it from its IndexedDB. Updates it received
   * but could not integrate yet (Yjs keeps them pending, in memory only) are
   * lost; like a provider reconnecting, its peers then send it what its state
   * vector lacks.
   */
  async restart(i: number, held: boolean): Promise<Store> {
    const r = this.replicas[i]!
    await this.load(r)
    await r.store.close()
    r.detach()
    r.gate = held ? new LoadGate() : null
    r.store = await this.open(i, r.idb, r.gate)
    r.detach = this.attach(i, r.store)
    // Not held back: loaded before anything else happens (else the load would race the next steps).
    if (!held) await r.store.loaded
    for (let j = 0; j < this.size; j++) {
      if (j === i) continue
      const peer = this.replicas[j]!.store.doc
      this.queues[j]![i]!.push(Y.encodeStateAsUpdate(peer, Y.encodeStateVector(r.store.doc)))
    }
    return r.store
  }

  /** Every store dumps like the first, and reads consistently. */
  expectSameDumps(stores: readonly Store[], names: readonly string[]): void {
    const want = dump(stores[0]!, { exactTtl: true })
    for (let k = 0; k < stores.length; k++) {
      if (k > 0) expect(dump(stores[k]!, { exactTtl: true }), `${names[k]} dumps differently from ${names[0]}`).toEqual(want)
      expect(invariants(stores[k]!), `${names[k]} reads inconsistently`).toEqual([])
    }
  }

  async run(): Promise<void> {
    await this.start()
    const steps = this.large ? LARGE_STEPS : this.backend === 'memory' ? MEMORY_STEPS : PERSISTED_STEPS
    this.phase = 'steps'
    for (this.step = 0; this.step < steps; this.step++) {
      this.trace.push(`-- step ${this.step}`)
      await this.doStep()
    }

    this.phase = 'after delivering everything'
    this.trace.push('-- deliver everything')
    await this.quiesce()
    // Compared at one time for all: reads then agree on what has expired.
    this.common = true
    await this.quiesce()
    const stores = this.replicas.map((r) => r.store)
    const names = this.replicas.map((r) => `replica ${r.id}`)
    this.expectSameDumps(stores, names)
    this.trace.push(`converged on: ${dump(stores[0]!, { exactTtl: true }).join(' | ')}`)
    const vectors = stores.map((s) => Y.encodeStateVector(s.doc))
    for (let k = 1; k < stores.length; k++) expect(vectors[k], `state vector of replica ${k}`).toEqual(vectors[0])

    this.phase = 'a replica built from the document alone'
    const fresh = await openStore(`${this.name(0)}-fresh`, { persist: false, clock: this.clock(0), tabs: false })
    fresh.on('error', (e) => this.errors.push(`fresh replica: ${e.code} ${e.message}`))
    Y.applyUpdate(fresh.doc, Y.encodeStateAsUpdate(stores[stores.length - 1]!.doc), NET)
    this.expectSameDumps([stores[0]!, fresh], ['replica 0', 'fresh replica'])

    if (this.backend === 'indexeddb') {
      // Close and reopen every replica: first read from the saved keyspace (the document load held back), then loaded.
      this.phase = 'reopened from IndexedDB, before the document loaded'
      const want = dump(fresh, { exactTtl: true })
      for (let i = 0; i < this.size; i++) await this.restart(i, true)
      const reopened = this.replicas.map((r) => r.store)
      for (const r of this.replicas) {
        expect(dump(r.store, { exactTtl: true }), `replica ${r.id} reopened`).toEqual(want)
        expect(invariants(r.store), `replica ${r.id} reopened reads inconsistently`).toEqual([])
      }
      this.phase = 'reopened from IndexedDB, document loaded'
      await this.quiesce()
      this.expectSameDumps([fresh, ...reopened], ['fresh replica', ...names])
    }

    this.phase = `${LATER} ms later, every TTL run out`
    this.now += LATER
    const all = [...this.replicas.map((r) => r.store), fresh]
    this.expectSameDumps(all, [...names, 'fresh replica'])
    for (const s of all) for (const k of KEYS) expect(s.ttl(k), `ttl(${k})`).toBeLessThan(0)
    // Their next commits sweep the expired keys out of the documents; the replicas exchange that and still agree.
    this.phase = `${LATER} ms later, expired keys swept and exchanged`
    await this.quiesce()
    this.expectSameDumps(all, [...names, 'fresh replica'])
    this.phase = 'end'
    expect(this.errors, `error events`).toEqual([])
    await fresh.close()
  }

  async close(): Promise<void> {
    for (const r of this.replicas) {
      r.gate?.release()
      await r.store.close().catch(() => undefined)
      r.detach()
    }
  }
}

async function runSequence(seed: number, backend: Backend, large = false): Promise<void> {
  const cluster = new Cluster(seed, backend, large)
  try {
    await cluster.run()
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const tail = cluster.trace.slice(-(Number(process.env.TIDEKV_TRACE) || 60)).join('\n  ')
    throw new Error(`structures convergence failed: ${cluster.where()}\n${message}\ntrace (last steps):\n  ${tail}`, { cause: error })
  } finally {
    await cluster.close()
  }
}

describe('data structure convergence', () => {
  const base = baseSeed()

  beforeAll(() => {
    // Expiry sweeps run when the test moves the clocks, so a seed replays exactly.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    console.log(`structures-convergence.test.ts: first seed ${base} (replay with TIDEKV_SEED=${base})`)
  })
  afterAll(() => {
    vi.useRealTimers()
  })

  it(`replicas writing every type concurrently, with out-of-order, duplicated and partitioned delivery, read the same (${MEMORY_SEQUENCES} sequences in memory)`, async () => {
    for (let i = 0; i < MEMORY_SEQUENCES; i++) await runSequence(sequenceSeed(base, i), 'memory')
  })

  it(`structures past ${BULK} members (more than one chunk of their ordered index) converge too (${LARGE_SEQUENCES} sequences in memory)`, async () => {
    for (let i = 0; i < LARGE_SEQUENCES; i++) await runSequence(sequenceSeed(base, i), 'memory', true)
  })

  it(`replicas restarted from IndexedDB read the same from their saved keyspace and from their document (${PERSISTED_SEQUENCES} sequences, fake-indexeddb)`, async () => {
    for (let i = 0; i < PERSISTED_SEQUENCES; i++) await runSequence(sequenceSeed(base, i), 'indexeddb')
  })
})
