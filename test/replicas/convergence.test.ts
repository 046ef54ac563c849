/**
 * Convergence property test: 3–5 replicas with skewed, injected clocks run
 * random sequences of writes (set, delete, incr, decr, expire, persist,
 * batch, setMany, deleteMany, clear) while their Yjs updates travel over
 * per-link queues in random order, duplicated, merged, or held back until the
 * end. Replica 0 persists (memory storage, or fake-indexeddb), compacts
 * mid-sequence and restarts: it reopens from its snapshot's keys and keeps
 * taking writes and updates while its document loads (a `LoadGate` holds the
 * load back, since memory storage would finish before `openStore` returns).
 * Clocks only move when the test says, and so do expiry timers (fake timers),
 * so a seed replays exactly.
 *
 * Once everything is delivered (until no replica emits clean-up updates any
 * more), every replica must read the same keyspace at a common clock time, and
 * again once every TTL ran out; so must a replica built from the document
 * alone and replica 0 rebuilt from its storage (before and after its document
 * loads). No replica may report an error event.
 *
 * Below the property test: deterministic tests of merge rules every replica
 * agrees on, but which differ from the documented ones, and of a replica
 * receiving updates while its document loads.
 *
 * Seeds: every failure names its seed; `TIDEKV_SEED=<n>` runs sequence seed n
 * first (on memory storage and on fake-indexeddb); `TIDEKV_TRACE=<n>` prints
 * the last n steps of a failing sequence (default 60).
 */
// idb (inside the IndexedDB adapter) needs the IDB classes as globals: /auto installs them.
import 'fake-indexeddb/auto'
import { indexedDB } from 'fake-indexeddb'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { type MemoryDisk, memoryStorage, openStore, type Store, type StoreOptions, TideKVError, type Value } from '@tidekv/client'
import { LoadGate } from '../helpers/load-gate.js'
import { baseSeed, Random, replayHint, sequenceSeed } from '@tidekv/core/testing'
import { type ClusterReplica, ReplicaCluster } from '../helpers/replica-cluster.js'
import { T0 } from '../helpers/skewed-clocks.js'
import { runTraced } from '../helpers/traced-run.js'
import { NET } from '../helpers/update-network.js'

const MEMORY_SEQUENCES = 1000
const INDEXEDDB_SEQUENCES = 50
/** Far past every TTL this test sets, even on the most skewed replica. */
const LATER = 100_000

const KEYS = ['a', 'b', 'c', 'd', 'p:1', 'p:2', 'p:3'] as const

type Backend = 'memory' | 'indexeddb'

function genValue(rng: Random): Value {
  const r = rng.float()
  if (r < 0.45) return rng.pick([0, 1, 2, 3, -4, 10])
  if (r < 0.52) return rng.pick([1.5, -0.5])
  if (r < 0.67) return rng.pick(['x', 'y', '', 'é😀'])
  if (r < 0.72) return rng.pick([null, true, false])
  if (r < 0.88) return rng.pick<() => Value>([() => ({ a: 1 }), () => ({ a: [1, 2], b: 'c' }), () => [1, 'two']])()
  return rng.pick<() => Value>([() => new Uint8Array([1, 2, 3]), () => ({ bytes: new Uint8Array([7]) })])()
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (v instanceof Uint8Array) return `bytes[${[...v].join(',')}]`
  if (Array.isArray(v)) return `[${v.map(show).join(',')}]`
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}:${show(x)}`)
      .join(',')}}`
  }
  return JSON.stringify(v)
}

/** Runs a write that may legitimately refuse (incr on a non-integer); anything else propagates. */
function tolerate(fn: () => unknown, ...codes: TideKVError['code'][]): string {
  try {
    return show(fn())
  } catch (e) {
    if (e instanceof TideKVError && codes.includes(e.code)) return e.code
    throw e
  }
}

/** What one replica reads, as one comparable value. Does not change the store. */
function readAll(store: Store): unknown {
  return {
    entries: store.entries(),
    keys: store.keys(),
    prefixed: store.entries({ prefix: 'p:' }),
    page: store.keys({ after: 'b', limit: 2 }),
    get: KEYS.map((k) => store.get(k)),
    has: KEYS.map((k) => store.has(k)),
    ttl: KEYS.map((k) => store.ttl(k)),
  }
}

class Cluster extends ReplicaCluster<ClusterReplica> {
  readonly disk: MemoryDisk = new Map()
  readonly name: string
  /** Holds back the document load of the persistent replica's current incarnation (memory backend). */
  gate: LoadGate | null = null

  constructor(
    seed: number,
    readonly backend: Backend,
  ) {
    super(seed, { holdBackBelow: 0.1, keepQueuedBelow: 0.2 })
    this.name = `convergence-${backend}-${seed}`
  }

  message(label: string): string {
    return `${replayHint(this.seed)}, backend ${this.backend}: ${label}`
  }

  /** Replica 0 persists (memory disk or fake-indexeddb); the others live in memory only. */
  async open(i: number): Promise<Store> {
    // tabs: false — replicas here are devices: only the test's network may carry their updates.
    const options: StoreOptions = { clock: this.clocks.clock(i), compaction: { maxLogRows: this.compactAfter }, tabs: false }
    if (i !== 0) options.persist = false
    else if (this.backend === 'indexeddb') options.indexedDB = indexedDB
    else if (this.gate !== null) options.storage = this.gate.wrap(memoryStorage(this.disk))
    else options.storage = memoryStorage(this.disk)
    const store = await openStore(i === 0 ? this.name : `${this.name}-${i}`, options)
    this.watchErrors(i, store)
    return store
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      const store = await this.open(i)
      this.replicas.push({ id: i, store, detach: this.net.capture(i, store) })
    }
    this.trace.push(`${this.size} replicas, skews ${this.clocks.skews.join(', ')}, r0 compacts after ${this.compactAfter} rows`)
  }

  /** Lets the persistent replica's document load (flush and close wait for it). */
  async release(): Promise<void> {
    if (this.gate === null) return
    if (this.gate.held) this.trace.push('r0 storage finishes loading the document')
    this.gate.release()
    this.gate = null
    await this.replicas[0]!.store.loaded
  }

  /** Delivers until no replica has anything left to say (clean-up of losers makes new updates). */
  override async quiesce(): Promise<void> {
    await this.release()
    if (!(await this.drain())) throw new Error(this.message('replicas still exchanging updates after 50 rounds'))
  }

  /** One write (or read) on replica `i`, synchronous so it can run inside `batch`. */
  write(i: number, depth: number): void {
    const { rng } = this
    const store = this.replicas[i]!.store
    const key = rng.pick(KEYS)
    const kind = rng.weighted({
      set: 20,
      delete: 7,
      incr: 14,
      decr: 6,
      expire: 6,
      persist: 5,
      setMany: 3,
      deleteMany: 3,
      clear: 0.5,
      read: 4,
      batch: depth === 0 ? 7 : 0,
    })
    const label = (s: string): void => {
      this.trace.push(`${'  '.repeat(depth)}r${i}: ${s}`)
    }
    switch (kind) {
      case 'set': {
        const value = genValue(rng)
        const r = rng.float()
        const options = r < 0.6 ? undefined : r < 0.85 ? { ttl: rng.int(1, 80) } : { expiresAt: this.clocks.clock(i)() + rng.int(-5, 80) }
        store.set(key, value, options)
        label(`set(${key}, ${show(value)}, ${show(options)})`)
        return
      }
      case 'delete':
        label(`delete(${key}) = ${store.delete(key)}`)
        return
      case 'incr':
      case 'decr': {
        const by = rng.pick([1, 1, 2, 5, -1, -3, 0, 100])
        label(`${kind}(${key}, ${by}) = ${tolerate(() => store[kind](key, by), 'NOT_AN_INTEGER', 'OUT_OF_RANGE')}`)
        return
      }
      case 'expire': {
        const ttl = rng.pick([-5, 0, 1, 5, 20, 60, 200])
        label(`expire(${key}, ${ttl}) = ${store.expire(key, ttl)}`)
        return
      }
      case 'persist':
        label(`persist(${key}) = ${store.persist(key)}`)
        return
      case 'setMany': {
        const pairs = rng.sample(KEYS, rng.int(1, 3)).map((k): [string, Value] => [k, genValue(rng)])
        const options = rng.chance(0.3) ? { ttl: rng.int(1, 80) } : undefined
        store.setMany(pairs, options)
        label(`setMany(${show(pairs)}, ${show(options)})`)
        return
      }
      case 'deleteMany': {
        const keys = rng.sample(KEYS, rng.int(1, 3))
        label(`deleteMany(${keys.join(',')}) = ${store.deleteMany(keys)}`)
        return
      }
      case 'clear':
        store.clear()
        label('clear()')
        return
      case 'read':
        // `size` sweeps expired keys out of the keyspace (and, at the next commit, the document).
        label(`size = ${store.size}, get(${key}) = ${show(store.get(key))}`)
        return
      case 'batch': {
        const n = rng.int(2, 5)
        const abort = rng.chance(0.15)
        label(`batch { ${n} writes${abort ? ', then throw' : ''}`)
        const stop = new Error('abort')
        try {
          store.batch(() => {
            for (let k = 0; k < n; k++) this.write(i, depth + 1)
            if (abort) throw stop
          })
        } catch (e) {
          if (e !== stop) throw e
        }
        label('}')
        return
      }
    }
  }

  async step(): Promise<void> {
    const { rng } = this
    const kind = rng.weighted({
      write: 55,
      deliver: 22,
      mergedDelivery: 2,
      syncPair: 3,
      advance: 8,
      jitter: 1,
      tick: 4,
      flush: 3,
      timers: 2,
      restart: 1.5,
      load: this.gate === null ? 0 : 4,
    })
    switch (kind) {
      case 'write':
        this.write(rng.int(0, this.size - 1), 0)
        return
      case 'deliver':
        this.net.deliverSome()
        return
      case 'mergedDelivery':
        this.net.deliverMerged()
        return
      case 'syncPair':
        this.net.syncPair()
        return
      case 'advance': {
        const dt = rng.pick([0, 1, 2, 5, 10, 20, 40])
        this.clocks.now += dt
        this.trace.push(`time += ${dt}`)
        return
      }
      case 'jitter':
        this.trace.push(this.clocks.jitter(rng))
        return
      case 'tick':
        this.trace.push('await a microtask')
        await Promise.resolve()
        return
      case 'flush': {
        const i = rng.int(0, this.size - 1)
        if (i === 0) await this.release()
        this.trace.push(`await r${i}.flush()`)
        await this.replicas[i]!.store.flush()
        return
      }
      case 'timers':
        this.trace.push('run pending timers (expiry sweeps)')
        vi.runOnlyPendingTimers()
        return
      case 'load':
        await this.release()
        return
      case 'restart': {
        // The persistent replica closes and reopens from storage; it may be written to before `loaded`.
        const waitLoaded = rng.chance(0.5)
        this.trace.push(`restart r0 from storage${waitLoaded ? ', await loaded' : ''}`)
        await this.restart(waitLoaded, true)
        // Without awaiting, writes and deliveries can still reach the snapshot's keys before the document loads.
        const n = rng.int(0, 3)
        for (let k = 0; k < n; k++) {
          if (rng.chance(0.5)) this.write(0, 0)
          else this.net.deliverOne(0)
        }
        return
      }
    }
  }

  /**
   * Closes the persistent replica and reopens it from storage. Updates it had
   * received but could not integrate yet (Yjs keeps them pending, in memory
   * only) do not survive; like a provider reconnecting, the peers then
   * exchange state vectors with it and queue what the other side lacks.
   */
  async restart(waitLoaded: boolean, reconnect: boolean): Promise<Store> {
    const r = this.replicas[0]!
    await this.release()
    await r.store.close()
    r.detach()
    if (!waitLoaded && this.backend === 'memory') this.gate = new LoadGate()
    r.store = await this.open(0)
    r.detach = this.net.capture(0, r.store)
    if (reconnect) this.net.reconnect(0, true)
    if (waitLoaded) await this.release()
    if (waitLoaded) await r.store.loaded
    return r.store
  }

  expectSameReads(label: string, stores: readonly Store[], names: readonly string[]): void {
    const want = readAll(stores[0]!)
    for (let k = 1; k < stores.length; k++) {
      expect(readAll(stores[k]!), this.message(`${label}: ${names[k]} reads differently from ${names[0]}`)).toEqual(want)
    }
    const sizes = stores.map((s) => s.size)
    expect(sizes, this.message(`${label}: sizes of ${names.join(', ')}`)).toEqual(sizes.map(() => sizes[0]))
  }

  async run(): Promise<void> {
    await this.start()
    const steps = this.rng.int(20, 60)
    for (let k = 0; k < steps; k++) await this.step()

    // Compare at one time for all.
    const { stores, names } = await this.converge()
    this.expectSameReads('converged', stores, names)
    await this.quiesce() // `size` may have swept

    // The documents themselves converged, and a replica built from one alone reads the same.
    const vectors = stores.map((s) => Y.encodeStateVector(s.doc))
    for (let k = 1; k < stores.length; k++) {
      expect(vectors[k], this.message(`state vector of replica ${k}`)).toEqual(vectors[0])
    }
    const fresh = await openStore(`${this.name}-fresh`, { persist: false, clock: this.clocks.clock(0), tabs: false })
    Y.applyUpdate(fresh.doc, Y.encodeStateAsUpdate(stores[stores.length - 1]!.doc), NET)
    this.expectSameReads('fresh replica from the document', [stores[1]!, fresh], ['replica 1', 'fresh replica'])

    // The persistent replica, rebuilt from storage: first from its snapshot's keys, then from the document.
    const rebuilt = await this.restart(false, false)
    this.expectSameReads('rebuilt before loaded', [stores[1]!, rebuilt], ['replica 1', 'rebuilt replica 0'])
    await this.release()
    await rebuilt.loaded
    this.expectSameReads('rebuilt after loaded', [stores[1]!, rebuilt], ['replica 1', 'rebuilt replica 0'])

    // Every TTL runs out the same way everywhere.
    this.clocks.now += LATER
    const all = [...this.replicas.map((r) => r.store), fresh]
    this.expectSameReads(`${LATER} ms later`, all, [...names, 'fresh replica'])
    for (const s of all) for (const k of KEYS) expect(s.ttl(k), this.message(`ttl(${k}) ${LATER} ms later`)).toBeLessThan(0)
    expect(this.errors, this.message('error events')).toEqual([])
    await fresh.close()
  }

  async close(): Promise<void> {
    for (const r of this.replicas) {
      await r.store.close().catch(() => undefined)
      r.detach()
    }
  }
}

async function runSequence(seed: number, backend: Backend): Promise<void> {
  const cluster = new Cluster(seed, backend)
  await runTraced(cluster, () => `convergence sequence failed: ${replayHint(seed)}, backend ${backend}`)
}

describe('replica convergence', () => {
  const base = baseSeed()

  beforeAll(() => {
    // Expiry sweeps run when the test says (`timers` steps), so a seed replays exactly.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    console.log(`replicas/convergence.test.ts: first seed ${base} (replay with TIDEKV_SEED=${base})`)
  })
  afterAll(() => {
    vi.useRealTimers()
  })

  it(`replicas converge after random concurrent writes and out-of-order, duplicated delivery (${MEMORY_SEQUENCES} sequences, memory storage)`, async () => {
    for (let i = 0; i < MEMORY_SEQUENCES; i++) await runSequence(sequenceSeed(base, i), 'memory')
  })

  it(`a replica rebuilt from IndexedDB reads what the others read (${INDEXEDDB_SEQUENCES} sequences, fake-indexeddb)`, async () => {
    for (let i = 0; i < INDEXEDDB_SEQUENCES; i++) await runSequence(sequenceSeed(base, i), 'indexeddb')
  })
})

// ---- merge rules every replica agrees on, but not the documented ones --------------
// The property test above cannot see these: all replicas converge, on a value the
// documentation says they should not have.

/** Flushes and exchanges state-vector diffs until clean-up updates have gone round too. */
async function exchange(stores: readonly Store[]): Promise<void> {
  for (let round = 0; round < 4; round++) {
    for (const s of stores) await s.flush()
    for (const a of stores) {
      for (const b of stores) if (a !== b) Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc)), NET)
    }
  }
}

describe('concurrent counter writes, two replicas', () => {
  let now = T0
  const clock = (): number => now
  const replicas = async (): Promise<[Store, Store]> => [
    await openStore('counter-a', { persist: false, clock, tabs: false }),
    await openStore('counter-b', { persist: false, clock, tabs: false }),
  ]

  // incr's TSDoc: "Increments made concurrently on other replicas all count once merged."
  it('an increment made concurrently with expire on another replica still counts', async () => {
    const [a, b] = await replicas()
    a.set('hits', 5)
    await exchange([a, b])
    now += 1
    a.expire('hits', 60_000)
    b.incr('hits')
    await exchange([a, b])
    expect([a.get('hits'), b.get('hits')]).toEqual([6, 6])
  })

  it('an increment made concurrently with persist on another replica still counts', async () => {
    const [a, b] = await replicas()
    a.set('hits', 5, { ttl: 60_000 })
    await exchange([a, b])
    now += 1
    a.persist('hits')
    b.incr('hits')
    await exchange([a, b])
    expect([a.get('hits'), b.get('hits')]).toEqual([6, 6])
  })

  // DESIGN.md / PROTOCOL.md: a delete is add-wins; a replica's contribution is one running
  // total, so the incrementing replica's whole total on that base survives a concurrent delete.
  it("a delete concurrent with an increment leaves the incrementing replica's running total", async () => {
    const [a, b] = await replicas()
    b.incr('hits', 10)
    await exchange([a, b])
    expect(a.get('hits')).toBe(10)
    now += 1
    a.delete('hits')
    b.incr('hits')
    await exchange([a, b])
    expect([a.get('hits'), b.get('hits')]).toEqual([11, 11])
    // A delete that saw the latest contribution removes the key for good.
    a.delete('hits')
    await exchange([a, b])
    expect([a.has('hits'), b.has('hits')]).toEqual([false, false])
  })
})

describe('a replica whose document is still loading', () => {
  it('stores updates it receives meanwhile, and the writes that follow, without reporting a storage failure', async () => {
    const disk: MemoryDisk = new Map()
    const first = await openStore('loading', { storage: memoryStorage(disk), tabs: false })
    first.set('k', 1)
    await first.close() // compacts: the next open is a fast one, from the snapshot's keys
    const gate = new LoadGate()
    const store = await openStore('loading', { storage: gate.wrap(memoryStorage(disk)), compaction: { maxLogRows: 1 }, tabs: false })
    const errors: string[] = []
    store.on('error', (e) => errors.push(`${e.code}: ${e.message}`))
    expect(store.get('k')).toBe(1) // answered from the snapshot's keys
    const peer = await openStore('loading-peer', { persist: false, tabs: false })
    peer.set('remote', 'hello')
    await peer.flush()
    // A provider delivers the peer's state before the stored document has loaded.
    Y.applyUpdate(store.doc, Y.encodeStateAsUpdate(peer.doc), NET)
    store.set('local', 2)
    // One macrotask lets the promise-driven persistence loop (memory storage) run to rest: no timing involved.
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
    await settle()
    gate.release()
    await store.loaded
    store.set('after', 3)
    await settle()
    // Each tick's writes go to storage: a store opened on the disk now (as after a crash) finds them all.
    const afterCrash = await openStore('loading', { storage: memoryStorage(disk), tabs: false })
    await afterCrash.loaded
    expect({ errors, onDisk: afterCrash.entries() }).toEqual({
      errors: [],
      onDisk: [
        ['after', 3],
        ['k', 1],
        ['local', 2],
        ['remote', 'hello'],
      ],
    })
    await afterCrash.close()
    await store.close()
    await peer.close()
  })
})
