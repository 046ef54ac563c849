/**
 * Cache mode (Redis maxmemory + maxmemory-policy): a store within a byte
 * budget, evicting by its policy after every write; `getOrSet` with one
 * loader call per key; `stats()`. Node, fake-indexeddb.
 */
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { type Change, type CompactOptions, type MemoryDisk, memoryStorage, openStore, type StorageAdapter, type Store, type StoreOptions } from '@tidekv/client'
import { baseSeed, Random, replayHint, sequenceSeed } from '@tidekv/core/testing'

const POLICIES = ['noeviction', 'allkeys-lru', 'allkeys-lfu', 'volatile-lru', 'volatile-lfu', 'volatile-ttl', 'allkeys-random', 'volatile-random'] as const

/** A cache store in memory with a clock that moves 1 ms per call, so every entry of one key length and value length has one size. */
async function cacheStore(cache: NonNullable<StoreOptions['cache']>, options: Partial<StoreOptions> = {}): Promise<Store> {
  let now = 1_700_000_000_000
  return openStore(`cache-${Math.random()}`, { persist: false, tabs: false, clock: () => now++, cache, ...options })
}

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('cache mode', () => {
  it('refuses sync, and options it cannot use', async () => {
    await expect(openStore('c', { persist: false, cache: { maxBytes: 1000 }, sync: { url: 'ws://127.0.0.1:1' } })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(openStore('c', { persist: false, cache: { maxBytes: -1 } })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    const plain = await openStore('plain', { persist: false, tabs: false })
    expect(() => plain.stats()).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
  })

  it('allkeys-lru keeps the most recently used keys within maxBytes, and an eviction is a delete watchers see', async () => {
    const probe = await cacheStore({ maxBytes: 1_000_000 })
    probe.set('k0', 'v000')
    const size = probe.stats().bytes
    const store = await cacheStore({ maxBytes: size * 3, policy: 'allkeys-lru' })
    const deleted: Change[] = []
    store.watch({ prefix: 'k' }, (c) => c.value === undefined && deleted.push(c))
    store.set('k1', 'v001')
    store.set('k2', 'v002')
    store.set('k3', 'v003')
    await tick() // committed: watchers report what a transaction changed, and k2 must exist before it goes
    expect(store.get('k1')).toBe('v001') // k1 is now the most recently used
    store.set('k4', 'v004')
    await tick()
    expect(store.keys()).toEqual(['k1', 'k3', 'k4'])
    expect(store.stats()).toMatchObject({ bytes: size * 3, keys: 3, evictions: 1, hits: 1 })
    expect(deleted.map((c) => [c.key, c.origin])).toEqual([['k2', 'local']])
  })

  it('noeviction refuses a write over the budget with OUT_OF_MEMORY and changes nothing', async () => {
    const store = await cacheStore({ maxBytes: 60, policy: 'noeviction' })
    store.set('a', 'x'.repeat(10))
    const before = store.stats().bytes
    expect(() => store.set('b', 'y'.repeat(40))).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }))
    expect(() => store.hash('h').set('f', 'z'.repeat(40))).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }))
    await tick()
    expect([store.keys(), store.stats().bytes]).toEqual([['a'], before])
    store.set('a', 'smaller') // replacing within the budget is fine
    expect(store.get('a')).toBe('smaller')
  })

  it('getOrSet calls the loader once for concurrent callers, counts hits and misses, and stores nothing when it throws', async () => {
    const store = await cacheStore({ maxBytes: 100_000 })
    let calls = 0
    const loader = async () => {
      calls++
      await tick()
      return { name: 'Ada' }
    }
    const results = await Promise.all([store.getOrSet('user:1', loader, { ttl: 60_000 }), store.getOrSet('user:1', loader), store.getOrSet('user:1', loader)])
    expect(calls).toBe(1)
    expect(results).toEqual([{ name: 'Ada' }, { name: 'Ada' }, { name: 'Ada' }])
    expect(await store.getOrSet('user:1', loader)).toEqual({ name: 'Ada' })
    expect(calls).toBe(1)
    expect(store.ttl('user:1')).toBeGreaterThan(0)
    expect(store.stats()).toMatchObject({ hits: 1, misses: 3 })
    const failing = async () => {
      throw new Error('backend down')
    }
    await expect(Promise.all([store.getOrSet('user:2', failing), store.getOrSet('user:2', failing)])).rejects.toThrow('backend down')
    expect(store.has('user:2')).toBe(false)
    // The next call tries again.
    expect(await store.getOrSet('user:2', () => 'back')).toBe('back')
  })

  it('counts data structure members, and evicts a structure whole', async () => {
    const store = await cacheStore({ maxBytes: 2_000, policy: 'allkeys-lru' })
    for (let i = 0; i < 10; i++) store.list('recent').pushRight(`item ${i}`)
    const listBytes = store.stats().bytes
    expect(listBytes).toBeGreaterThan(10 * 10)
    for (let i = 0; store.stats().bytes + 200 < 2_000 && i < 100; i++) store.set(`k${i}`, 'x'.repeat(150))
    // Past the budget whatever the entries' sizes (a client id takes 1 to 5 bytes of each).
    store.set('last', 'x'.repeat(250))
    expect(store.stats().evictions).toBeGreaterThan(0)
    await tick()
    expect(store.stats().bytes).toBeLessThanOrEqual(2_000)
    expect(store.type('recent')).toBe('none') // the least recently used: evicted whole
  })

  it("a read through a data structure's handle is a use: the structure read last is not the next to go", async () => {
    const store = await cacheStore({ maxBytes: 1_500, policy: 'allkeys-lru' })
    store.hash('profile').set('name', 'Ada')
    store.list('recent').pushRight('item')
    for (let i = 0; store.stats().bytes + 120 < 1_500 && i < 100; i++) store.set(`k${i}`, 'x'.repeat(100))
    expect(store.hash('profile').get('name')).toBe('Ada') // now the most recently used
    store.set('last', 'x'.repeat(250))
    expect(store.stats().evictions).toBeGreaterThan(0)
    await tick()
    expect(store.type('recent')).toBe('none') // the least recently used went
    expect(store.type('profile')).toBe('hash')
    expect(store.stats().hits).toBe(0) // hits and misses count get and getOrSet only
  })

  it('another tab sees an eviction as a delete, and does not evict on its own for it', async () => {
    const name = `tabs-${Math.random()}`
    const a = await openStore(name, { indexedDB: new IDBFactory(), tabs: true, cache: { maxBytes: 300, policy: 'allkeys-lru' } })
    const b = await openStore(name, { indexedDB: new IDBFactory(), tabs: true, cache: { maxBytes: 300, policy: 'allkeys-lru' } })
    for (let i = 0; i < 20; i++) a.set(`k${i}`, `value ${i} `.padEnd(30, '.'))
    await a.flush()
    await tick()
    await expect.poll(() => b.keys()).toEqual(a.keys())
    expect(a.stats().bytes).toBeLessThanOrEqual(300)
    expect(b.stats().evictions).toBe(0)
    expect(a.stats().evictions).toBeGreaterThan(0)
    await a.close()
    await b.close()
  })

  it('a tab does not evict for another tab’s write, even to the key it wrote last; its own next write brings it back under', async () => {
    const name = `grow-${Math.random()}`
    const a = await openStore(name, { indexedDB: new IDBFactory(), tabs: true, cache: { maxBytes: 400, policy: 'allkeys-lru' } })
    // A tab with a larger budget (an older build, say): its writes can take a past its own.
    const b = await openStore(name, { indexedDB: new IDBFactory(), tabs: true, cache: { maxBytes: 100_000, policy: 'allkeys-lru' } })
    for (let i = 0; a.stats().bytes < 300 && i < 20; i++) a.set(`f${i}`, 'x'.repeat(20))
    a.set('k', 'small') // a's last write: within the budget
    await a.flush()
    await expect.poll(() => b.get('k')).toBe('small')
    b.set('k', 'y'.repeat(150))
    await b.flush()
    await expect.poll(() => a.get('k')).toBe('y'.repeat(150))
    await tick()
    expect(a.stats().evictions).toBe(0)
    expect(a.stats().bytes).toBeGreaterThan(400)
    a.set('next', 1)
    expect(a.stats().bytes).toBeLessThanOrEqual(400)
    await a.close()
    await b.close()
  })

  it('counts the stored keys again after a reload', async () => {
    const idb = new IDBFactory()
    const name = `reload-${Math.random()}`
    const first = await openStore(name, { indexedDB: idb, tabs: false, cache: { maxBytes: 10_000 } })
    for (let i = 0; i < 30; i++) first.set(`k${i}`, `value ${i}`)
    first.hash('h').set('f', 1)
    await first.flush()
    const bytes = first.stats().bytes
    await first.close()
    const again = await openStore(name, { indexedDB: idb, tabs: false, cache: { maxBytes: 10_000 } })
    expect(again.stats()).toMatchObject({ bytes, keys: 31 })
    await again.close()
  })

  it('keeps how keys were used across a reload: the hot keys are not the first to go', async () => {
    const idb = new IDBFactory()
    const name = `usage-${Math.random()}`
    const open = () => openStore(name, { indexedDB: idb, tabs: false, cache: { maxBytes: 12 * 40, policy: 'allkeys-lru' } })
    const first = await open()
    // Hot keys sort first: a reload that forgot their use would take them for the least recently used.
    for (let i = 0; i < 12; i++) first.set(`k${String(i).padStart(2, '0')}`, 'x'.repeat(20))
    await first.flush()
    for (let round = 0; round < 3; round++) for (let i = 0; i < 6; i++) first.get(`k0${i}`)
    const fits = first.stats().keys
    await first.close()
    const again = await open()
    expect(again.stats().keys).toBe(fits)
    for (let i = 0; i < 6; i++) again.set(`new${i}`, 'y'.repeat(20))
    await tick()
    const kept = again.keys().filter((k) => /^k0[0-5]$/.test(k))
    expect(kept).toEqual(['k00', 'k01', 'k02', 'k03', 'k04', 'k05'])
    await again.close()
  })

  it('at the quota, the key written last is never the one evicted to make room for it', async () => {
    const full = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    let refuse = 0
    const storage = (name: string) => {
      // reason: memoryStorage's factory returns its adapter synchronously (the type allows a promise)
      const inner = memoryStorage()(name) as StorageAdapter
      // reason: Object.create keeps every method of the memory adapter; append is replaced below
      return Object.assign(Object.create(inner) as StorageAdapter, {
        append: async (updates: readonly Uint8Array[], strict: boolean) => {
          if (refuse > 0 && refuse--) throw full()
          await inner.append(updates, strict)
        },
      })
    }
    // volatile-ttl evicts the key that expires soonest: the one written last, unless it is spared.
    const cache = await openStore('spare', { storage, tabs: false, cache: { maxBytes: 1_000_000, policy: 'volatile-ttl' } })
    cache.set('later', 1, { ttl: 600_000 })
    cache.set('soon', 2, { ttl: 500_000 })
    await cache.flush()
    refuse = 1
    cache.set('precious', 3, { ttl: 100_000 })
    await cache.flush()
    expect(cache.stats().evictions).toBe(1)
    expect(cache.get('precious')).toBe(3)
    expect(cache.has('soon')).toBe(false)
    await cache.close()
  })

  it('a rewrite torn at the quota (stored rows deleted, the snapshot refused) is written whole by the next try, never as updates without their base', async () => {
    const disk: MemoryDisk = new Map()
    const full = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    const faults = { appends: 0, tears: 0 }
    const storage = (name: string) => {
      // reason: memoryStorage's factory returns its adapter synchronously (the type allows a promise)
      const inner = memoryStorage(disk)(name) as StorageAdapter
      // reason: Object.create keeps every method of the memory adapter; append and compact are replaced below
      return Object.assign(Object.create(inner) as StorageAdapter, {
        append: async (updates: readonly Uint8Array[], strict: boolean) => {
          if (faults.appends > 0 && faults.appends--) throw full()
          await inner.append(updates, strict)
        },
        compact: async (build: Parameters<StorageAdapter['compact']>[0], options?: CompactOptions) => {
          if (options?.freeFirst === true && faults.tears > 0 && faults.tears--) {
            // The first transaction deleted every row; the second (the snapshot) was refused.
            const db = disk.get(name)!
            db.rows.clear()
            db.snapshot = undefined
            throw full()
          }
          await inner.compact(build, options)
        },
      })
    }
    const cache = await openStore('torn', { storage, tabs: false, cache: { maxBytes: 1_000_000 } })
    for (let i = 0; i < 20; i++) cache.set(`k${i}`, i)
    await cache.flush()
    faults.appends = 1
    faults.tears = 1
    cache.set('late', 'x')
    await cache.flush()
    expect(faults).toEqual({ appends: 0, tears: 0 })
    expect(cache.stats().evictions).toBeGreaterThan(0)
    const kept = cache.entries()
    // As after a crash (no close, whose compaction would write the whole state anyway): what is stored now.
    const again = await openStore('torn', { storage: memoryStorage(disk), tabs: false, cache: { maxBytes: 1_000_000 } })
    await again.loaded
    expect(again.entries()).toEqual(kept)
    expect(again.has('late')).toBe(true)
    await again.close()

    // Every try torn: the write fails, storage holds nothing; a flush with nothing new to write still rewrites it all.
    faults.appends = 1
    faults.tears = 100
    cache.set('later', 'y')
    await expect(cache.flush()).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
    faults.tears = 0
    await cache.flush()
    const kept2 = cache.entries()
    const third = await openStore('torn', { storage: memoryStorage(disk), tabs: false, cache: { maxBytes: 1_000_000 } })
    await third.loaded
    expect(third.entries()).toEqual(kept2)
    await third.close()
    await cache.close()
  })

  it('when storage is full (QuotaExceededError), a cache store evicts by its policy and compacts, where a plain store reports STORAGE_FAILED and keeps its writes', async () => {
    /** Storage with a quota: the bytes of its rows may not pass `limit`. */
    const quotaStorage = (limit: number) => {
      let used = 0
      return (name: string) => {
        // reason: memoryStorage's factory returns its adapter synchronously (the type allows a promise)
        const inner = memoryStorage()(name) as StorageAdapter
        const full = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError')
        // reason: Object.create keeps every method of the memory adapter; append and compact are replaced below
        return Object.assign(Object.create(inner) as StorageAdapter, {
          append: async (updates: readonly Uint8Array[], strict: boolean) => {
            const adding = updates.reduce((n, u) => n + u.length, 0)
            if (used + adding > limit) throw full()
            await inner.append(updates, strict)
            used += adding
          },
          // As Chromium counts it: a transaction's writes against the quota before its deletes; `freeFirst` deletes in a transaction of its own.
          compact: async (build: Parameters<StorageAdapter['compact']>[0], options?: CompactOptions) => {
            let size = 0
            await inner.compact((unseen) => {
              const result = build(unseen)
              size = result.snapshot.length + result.index.length
              if (options?.freeFirst === true) used = 0
              if (used + size > limit) throw full()
              return result
            }, options)
            used = size
          },
        })
      }
    }
    const cache = await openStore('quota-cache', { storage: quotaStorage(3_000), tabs: false, cache: { maxBytes: 1_000_000 } })
    const errors: string[] = []
    cache.on('error', (e) => errors.push(e.code))
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 20; i++) cache.set(`r${round}:k${i}`, 'x'.repeat(40))
      await cache.flush()
    }
    expect(errors).toEqual([])
    expect(cache.stats().evictions).toBeGreaterThan(0)
    expect(cache.keys()).toContain('r9:k19') // the newest writes are kept

    const plain = await openStore('quota-plain', { storage: quotaStorage(3_000), tabs: false })
    const plainErrors: string[] = []
    plain.on('error', (e) => plainErrors.push(e.code))
    for (let i = 0; i < 200; i++) plain.set(`k${i}`, 'x'.repeat(40))
    await expect(plain.flush()).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
    expect(plainErrors).toContain('STORAGE_FAILED')
    expect(plain.get('k199')).toBe('x'.repeat(40)) // still in memory
    await cache.close()
    await plain.close().catch(() => undefined)
  })

  it('counts a data structure as its members change, here and from another replica, as a recount of every entry does (seeded)', async () => {
    const base = baseSeed()
    for (let run = 0; run < 3; run++) {
      const seed = sequenceSeed(base, run)
      const rng = new Random(seed)
      const hint = replayHint(seed)
      const [a, b] = [await cacheStore({ maxBytes: 10_000_000 }), await cacheStore({ maxBytes: 10_000_000 })]
      const recount = (store: Store) => {
        let n = 0
        // reason: the budget's running count is checked against the replica's own recount of every entry
        ;(store as unknown as { replica: { forEachKeyBytes(fn: (k: string, bytes: number) => void): void } }).replica.forEachKeyBytes((_k, bytes) => (n += bytes))
        return n
      }
      for (let step = 0; step < 200; step++) {
        const store = rng.chance(0.5) ? a : b
        const key = `s:${rng.int(0, 4)}`
        const member = `m${rng.int(0, 12)}`
        const op = rng.int(0, 8)
        try {
          if (op === 0) store.hash(`h${key}`).set(member, 'v'.repeat(rng.int(0, 40)))
          else if (op === 1) store.hash(`h${key}`).delete(member)
          else if (op === 2) store.list(`l${key}`).pushRight('x'.repeat(rng.int(0, 30)))
          else if (op === 3) store.list(`l${key}`).popLeft()
          else if (op === 4) store.sortedSet(`z${key}`).add(member, rng.int(0, 100))
          else if (op === 5) store.hash(`h${key}`).incr(member, 1)
          else if (op === 6) store.expire(`h${key}`, 600_000)
          else store.delete(`l${key}`)
        } catch (error) {
          expect(['WRONG_TYPE', 'NOT_AN_INTEGER'], hint).toContain((error as { code?: string }).code) // reason: any error here is read for its code
        }
        if (rng.chance(0.2)) {
          await tick()
          Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc)))
          Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc, Y.encodeStateVector(a.doc)))
        }
        await tick()
        for (const s of [a, b]) expect(s.stats().bytes, `${hint}, step ${step}`).toBe(recount(s))
      }
      await a.close()
      await b.close()
    }
  })

  describe.each(POLICIES)('%s, against a model (seeded)', (policy) => {
    it('never holds more than maxBytes after a write, evicts only what its policy allows, and refuses only what it cannot make room for', async () => {
      const base = baseSeed()
      for (let run = 0; run < 5; run++) {
        const seed = sequenceSeed(base, run)
        const rng = new Random(seed)
        const hint = `${policy}, ${replayHint(seed)}`
        const store = await cacheStore({ maxBytes: 1_500, policy })
        const ttlKeys = new Set<string>()
        // The model's order of use, least recent first (a Map keeps insertion order): LRU is exact, so it names the victims.
        const used = new Map<string, true>()
        const use = (k: string) => {
          used.delete(k)
          used.set(k, true)
        }
        // When each key got its TTL (all TTLs are equal and the clock only moves on): the order they expire in.
        const ttlSetAt = new Map<string, number>()
        for (let step = 0; step < 300; step++) {
          const key = `key:${rng.int(0, 40)}`
          const op = rng.int(0, 10)
          const keysBefore = new Set(store.keys())
          try {
            if (op < 5) {
              const ttl = rng.chance(0.5) ? 600_000 : undefined
              store.set(key, 'v'.repeat(rng.int(1, 60)), ttl === undefined ? undefined : { ttl })
              if (ttl === undefined) ttlKeys.delete(key)
              else ttlKeys.add(key)
              if (ttl === undefined) ttlSetAt.delete(key)
              else ttlSetAt.set(key, step)
              use(key)
            } else if (op < 8) {
              if (store.get(key) !== undefined) use(key)
            } else if (op < 9) {
              const counter = `n:${rng.int(0, 5)}`
              store.incr(counter)
              use(counter)
            } else {
              store.delete(key)
              used.delete(key)
            }
          } catch (error) {
            const code = (error as { code?: string }).code // reason: whatever threw, the test reads its code
            expect(code, hint).toBe('OUT_OF_MEMORY')
            expect(policy === 'noeviction' || policy.startsWith('volatile-'), `${hint}: only noeviction and volatile-* refuse writes of this size`).toBe(true)
            expect(new Set(store.keys()), `${hint}: a refused write changes nothing`).toEqual(keysBefore)
          }
          await tick()
          const stats = store.stats()
          expect(stats.bytes, `${hint}, step ${step}`).toBeLessThanOrEqual(1_500)
          const evicted = [...keysBefore].filter((k) => !store.keys().includes(k) && k !== key)
          if (policy.startsWith('volatile-')) for (const k of evicted) expect(ttlKeys.has(k), `${hint}: ${k} had no TTL`).toBe(true)
          if (policy.endsWith('-lru')) {
            const candidates = [...used.keys()].filter((k) => keysBefore.has(k) && (policy === 'allkeys-lru' || ttlKeys.has(k)))
            expect(new Set(evicted), `${hint}, step ${step}: the least recently used went`).toEqual(new Set(candidates.slice(0, evicted.length)))
          }
          if (policy === 'volatile-ttl') {
            // Sampled (16 draws), so exact only while there are no more candidates than draws (the written key among them, spared).
            const candidates = [...ttlSetAt].filter(([k]) => keysBefore.has(k) && k !== key).sort((x, y) => x[1] - y[1])
            if (candidates.length + 1 <= 16) {
              const soonest = candidates.slice(0, evicted.length).map(([k]) => k)
              expect(new Set(evicted), `${hint}, step ${step}: the soonest to expire went`).toEqual(new Set(soonest))
            }
          }
          for (const k of evicted) used.delete(k)
          if (policy === 'noeviction') expect(stats.evictions, hint).toBe(0)
        }
        await store.close()
      }
    })
  })
})
