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
 * the same from its snapshot's keys (the document load held back) and again
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
import { indexedDBStorage, openStore, type Store, type StoreOptions } from '@tidekv/client'
import { LoadGate } from '../helpers/load-gate.js'
import { baseSeed, replayHint, sequenceSeed } from '@tidekv/core/testing'
import { type ClusterReplica, ReplicaCluster } from '../helpers/replica-cluster.js'
import { dump, invariants } from '../helpers/structure-dump.js'
import { BULK, KEYS, randomWrite, type WriteOptions } from '../helpers/structure-ops.js'
import { runTraced } from '../helpers/traced-run.js'
import { NET } from '../helpers/update-network.js'

const MEMORY_SEQUENCES = 150
const PERSISTED_SEQUENCES = 20
const MEMORY_STEPS = 150
const PERSISTED_STEPS = 150
const LARGE_SEQUENCES = 6
const LARGE_STEPS = 80
/** Chance that a write of a large-structure sequence adds BULK members at once. */
const LARGE_BULK_CHANCE = 0.04
/** Far past every TTL this test sets, even on the most skewed replica. */
const LATER = 1_000_000
const TTLS = [1, 5, 20, 60, 200, 100_000] as const

type Backend = 'memory' | 'indexeddb'

interface Replica extends ClusterReplica {
  readonly idb: IDBFactory
  /** Holds back the document load of this incarnation (after a restart from a snapshot's keys). */
  gate: LoadGate | null
  /** Whether updates were delivered to it while its load was held back (they may only show once it loads). */
  heard: boolean
}

class Cluster extends ReplicaCluster<Replica> {
  step = -1
  phase = 'start'

  constructor(
    seed: number,
    readonly backend: Backend,
    /** Large structures: some writes add BULK members at once. */
    readonly large: boolean,
  ) {
    super(seed, { holdBackBelow: 0.08, keepQueuedBelow: 0.18 })
  }

  get writeOptions(): WriteOptions {
    return this.large ? { ttls: TTLS, bulk: LARGE_BULK_CHANCE } : { ttls: TTLS }
  }

  where(): string {
    const at = this.step >= 0 && this.phase === 'steps' ? `step ${this.step}` : this.phase
    return `${replayHint(this.seed)}, ${this.backend}${this.large ? ', large structures' : ''}, ${at}`
  }

  name(i: number): string {
    return `structures-${this.backend}-${this.seed}-${i}`
  }

  /** Opens replica i: in memory, or on its own fake-indexeddb (its load held back by `gate`). */
  async open(i: number, idb: IDBFactory, gate: LoadGate | null): Promise<Store> {
    // tabs: false — replicas are devices here: only the test's network carries their updates.
    const options: StoreOptions = { clock: this.clocks.clock(i), compaction: { maxLogRows: this.compactAfter }, tabs: false }
    if (this.backend === 'memory') options.persist = false
    else options.storage = gate === null ? indexedDBStorage(idb) : gate.wrap(indexedDBStorage(idb))
    const store = await openStore(this.name(i), options)
    this.watchErrors(i, store)
    return store
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      const idb = new IDBFactory()
      const store = await this.open(i, idb, null)
      this.replicas.push({ id: i, idb, store, detach: this.net.capture(i, store), gate: null, heard: false })
    }
    this.trace.push(`${this.size} replicas, skews ${this.clocks.skews.join(', ')}, compaction after ${this.compactAfter} rows`)
  }

  override apply(to: number, update: Uint8Array): void {
    const r = this.replicas[to]!
    if (r.gate !== null) r.heard = true
    super.apply(to, update)
  }

  /**
   * Lets replica r's held-back document load finish. Unless updates reached
   * it meanwhile, the load changes nothing it reads: its snapshot's keys and
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
  override async quiesce(): Promise<void> {
    this.net.heal()
    await this.release()
    if (!(await this.drain())) throw new Error('replicas still exchanging updates after 50 rounds')
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
      case 'deliver':
        this.net.deliverSome()
        return
      case 'merged':
        this.net.deliverMerged()
        return
      case 'syncPair':
        this.net.syncPair()
        return
      case 'advance': {
        // Expiry timers (faked) move with the clocks: sweeps run when due.
        const dt = rng.pick([0, 1, 2, 5, 10, 20, 40, 100])
        this.clocks.now += dt
        this.trace.push(`time += ${dt}`)
        vi.advanceTimersByTime(dt)
        return
      }
      case 'jitter':
        this.trace.push(this.clocks.jitter(rng))
        return
      case 'partition': {
        this.net.partition()
        this.trace.push(`partition: ${this.net.side.map((s, i) => `r${i}:${s}`).join(' ')}`)
        return
      }
      case 'heal':
        this.net.heal()
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
          else this.net.deliverOne()
        }
        return
      }
    }
  }

  /**
   * Closes replica i and reopens it from its IndexedDB. Updates it received
   * but could not integrate yet (Yjs keeps them pending, in memory only) are
   * lost; like a provider reconnecting, its peers then send it what its state
   * vector lacks, and it sends them what theirs lack: a load that finishes
   * inside `openStore` may already have committed (losers cleaned up, expired
   * keys swept) before the network hears its updates.
   */
  async restart(i: number, held: boolean): Promise<Store> {
    const r = this.replicas[i]!
    await this.load(r)
    await r.store.close()
    r.detach()
    r.gate = held ? new LoadGate() : null
    r.store = await this.open(i, r.idb, r.gate)
    r.detach = this.net.capture(i, r.store)
    // Not held back: loaded before anything else happens (else the load would race the next steps).
    if (!held) await r.store.loaded
    this.net.reconnect(i, true)
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
    // Compared at one time for all: reads then agree on what has expired.
    const { stores, names } = await this.converge()
    this.expectSameDumps(stores, names)
    this.trace.push(`converged on: ${dump(stores[0]!, { exactTtl: true }).join(' | ')}`)
    const vectors = stores.map((s) => Y.encodeStateVector(s.doc))
    for (let k = 1; k < stores.length; k++) expect(vectors[k], `state vector of replica ${k}`).toEqual(vectors[0])

    this.phase = 'a replica built from the document alone'
    const fresh = await openStore(`${this.name(0)}-fresh`, { persist: false, clock: this.clocks.clock(0), tabs: false })
    fresh.on('error', (e) => this.errors.push(`fresh replica: ${e.code} ${e.message}`))
    Y.applyUpdate(fresh.doc, Y.encodeStateAsUpdate(stores[stores.length - 1]!.doc), NET)
    this.expectSameDumps([stores[0]!, fresh], ['replica 0', 'fresh replica'])

    if (this.backend === 'indexeddb') {
      // Close and reopen every replica: first read from the snapshot's keys (the document load held back), then loaded.
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
    this.clocks.now += LATER
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
  await runTraced(cluster, () => `structures convergence failed: ${cluster.where()}`)
}

describe('data structure convergence', () => {
  const base = baseSeed()

  beforeAll(() => {
    // Expiry sweeps run when the test moves the clocks, so a seed replays exactly.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    console.log(`replicas/structures-convergence.test.ts: first seed ${base} (replay with TIDEKV_SEED=${base})`)
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

  it(`replicas restarted from IndexedDB read the same from their snapshot's keys and from their document (${PERSISTED_SEQUENCES} sequences, fake-indexeddb)`, async () => {
    for (let i = 0; i < PERSISTED_SEQUENCES; i++) await runSequence(sequenceSeed(base, i), 'indexeddb')
  })
})
