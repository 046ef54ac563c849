import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { describe, expect, it } from 'vitest'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { databaseName, LOG_NAME, type MemoryDisk, memoryStorage, openStore, type StorageAdapter, type StorageFactory, type Store } from '../index.js'

/** Every value of a store, for comparing two of them. */
const dump = (store: Store) => store.entries()

/** Rows in the IndexedDB 'updates' store of `name`. */
async function storedRows(idb: IDBFactory, name: string): Promise<number> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = idb.open(databaseName(name))
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error!)
  })
  const count = await new Promise<number>((resolve, reject) => {
    const req = db.transaction('updates').objectStore('updates').count()
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error!)
  })
  db.close()
  return count
}

/** Wraps a storage factory so a test can make its writes fail, or hold compactions. */
function faultyStorage(inner: StorageFactory) {
  const control: { failAppends: boolean; appends: number; compactGate: Promise<void> | null } = { failAppends: false, appends: 0, compactGate: null }
  const factory: StorageFactory = async (name) => {
    const s = await inner(name)
    const wrapped: StorageAdapter = {
      loadSnapshot: () => s.loadSnapshot(),
      loadUpdates: () => s.loadUpdates(),
      append: async (updates, strict) => {
        if (control.failAppends) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
        control.appends++
        return s.append(updates, strict)
      },
      compact: async (build) => {
        if (control.compactGate) await control.compactGate
        return s.compact(build)
      },
      claimClientId: () => s.claimClientId(),
      releaseClientId: (id) => s.releaseClientId(id),
      close: () => s.close(),
    }
    return wrapped
  }
  return { factory, control }
}

for (const [label, backend] of [
  ['IndexedDB (fake-indexeddb)', () => ({ indexedDB: new IDBFactory() })],
  ['memory storage', () => ({ storage: memoryStorage() })],
] as const) {
  describe(`reload from ${label}`, () => {
    it('write, flush, close, reopen: everything is there', async () => {
      const options = backend()
      const store = await openStore('prefs', options)
      store.set('theme', 'dark')
      store.set('bytes', new Uint8Array([1, 2, 3]))
      store.set('session', { user: 1 }, { ttl: 60_000 })
      store.incr('visits', 3)
      store.set('deleted', 1)
      await store.flush()
      store.delete('deleted')
      const before = dump(store)
      const ttl = store.ttl('session')
      await store.close()
      const reopened = await openStore('prefs', options)
      expect(dump(reopened)).toEqual(before)
      expect(reopened.ttl('session')).toBeGreaterThan(ttl - 1000)
      expect(reopened.incr('visits')).toBe(4)
      await reopened.loaded
      expect(dump(reopened)).toEqual(dump(store.doc.isDestroyed ? reopened : store))
    })

    it('a flushed write survives a crash (the store is never closed)', async () => {
      const options = backend()
      const store = await openStore('crash', options)
      store.set('k', 'kept')
      await store.flush()
      // No close: a second instance reads what is stored, as a restarted tab would.
      const after = await openStore('crash', options)
      await after.loaded
      expect(after.get('k')).toBe('kept')
    })

    it('reopens from the keys of its snapshot at once, and the document follows in the background', async () => {
      const options = backend()
      const store = await openStore('fast', options)
      store.batch(() => {
        for (let i = 0; i < 1000; i++) store.set(`user:${i}:prefs`, { i })
      })
      await store.close()
      const reopened = await openStore('fast', options)
      expect(reopened.get('user:7:prefs')).toEqual({ i: 7 })
      expect(reopened.keys({ prefix: 'user:99', limit: 3 })).toEqual(['user:990:prefs', 'user:991:prefs', 'user:992:prefs'])
      // Writes made before the document has loaded are kept and committed after.
      reopened.set('user:7:prefs', 'changed')
      reopened.delete('user:8:prefs')
      await reopened.loaded
      expect(reopened.doc.getArray('tidekv').length).toBe(999)
      await reopened.close()
      const third = await openStore('fast', options)
      await third.loaded
      expect(third.get('user:7:prefs')).toBe('changed')
      expect(third.has('user:8:prefs')).toBe(false)
      expect(third.size).toBe(999)
    })

    it('every kind of write made before the document loads lands once it has', async () => {
      const options = backend()
      const store = await openStore('early', options)
      store.batch(() => {
        for (let i = 0; i < 50; i++) store.set(`k${i}`, i)
        store.incr('n', 5)
        store.set('ttl', 'x', { ttl: 60_000 })
      })
      await store.close()
      const reopened = await openStore('early', options)
      expect(reopened.incr('n', 2)).toBe(7)
      expect(reopened.expire('k1', 60_000)).toBe(true)
      expect(reopened.persist('ttl')).toBe(true)
      expect(reopened.entries({ prefix: 'k4' }).length).toBe(11)
      reopened.clear()
      reopened.set('after-clear', true)
      await reopened.loaded
      await reopened.flush()
      expect(reopened.keys()).toEqual(['after-clear'])
      expect(reopened.doc.getArray('tidekv').length).toBe(1)
      await reopened.close()
      const third = await openStore('early', options)
      expect(third.keys()).toEqual(['after-clear'])
    })

    it('two stores of one name (two tabs) both stay correct and reopen with both sets of writes', async () => {
      const options = backend()
      const a = await openStore('shared', options)
      const b = await openStore('shared', options)
      a.set('from-a', 1)
      b.set('from-b', 2)
      a.set('both', 'a')
      await Promise.all([a.flush(), b.flush()])
      await a.close() // compacts, merging b's rows
      b.set('late-b', 3)
      await b.close() // compacts again, merging a's snapshot
      const c = await openStore('shared', options)
      await c.loaded
      expect(c.get('from-a')).toBe(1)
      expect(c.get('from-b')).toBe(2)
      expect(c.get('late-b')).toBe(3)
      expect(c.get('both')).toBe('a')
    })

    it('a replica rebuilt from storage equals the one that wrote it, document included', async () => {
      const options = backend()
      const store = await openStore('rebuilt', options)
      for (let round = 0; round < 20; round++) {
        store.set(`k${round % 7}`, round)
        store.incr('n', round)
        if (round % 3 === 0) store.delete(`k${(round + 2) % 7}`)
        await store.flush()
      }
      const rebuilt = await openStore('rebuilt', options)
      await rebuilt.loaded
      expect(dump(rebuilt)).toEqual(dump(store))
      expect(Y.encodeStateVector(rebuilt.doc)).toEqual(Y.encodeStateVector(store.doc))
    })
  })
}

describe('storage writes', () => {
  it('writes once per tick, not once per write', async () => {
    const { factory, control } = faultyStorage(memoryStorage())
    const store = await openStore('ticks', { storage: factory })
    for (let i = 0; i < 1000; i++) store.set(`k${i}`, i)
    await store.flush()
    expect(control.appends).toBe(1)
  })

  it('writes once when flushed inside an app transaction on store.doc (commit and durable write together)', async () => {
    const { factory, control } = faultyStorage(memoryStorage())
    const store = await openStore('in-transaction', { storage: factory, tabs: false })
    await store.flush()
    const before = control.appends
    let flushed: Promise<void> | undefined
    store.doc.transact(() => {
      store.set('a', 1)
      flushed = store.flush()
    })
    await flushed
    expect(control.appends - before).toBe(1)
    await store.close()
  })

  it('compacts the log so it stays bounded', async () => {
    const idb = new IDBFactory()
    const store = await openStore('bounded', { indexedDB: idb, compaction: { maxLogRows: 10 } })
    for (let i = 0; i < 100; i++) {
      store.set(`k${i % 5}`, i)
      await store.flush()
    }
    expect(await storedRows(idb, 'bounded')).toBeLessThanOrEqual(11)
    await store.close()
    expect(await storedRows(idb, 'bounded')).toBe(1)
    const reopened = await openStore('bounded', { indexedDB: idb })
    expect(reopened.entries()).toEqual([
      ['k0', 95],
      ['k1', 96],
      ['k2', 97],
      ['k3', 98],
      ['k4', 99],
    ])
  })

  it('an update written during a compaction survives it', async () => {
    const disk = memoryStorage()
    const { factory, control } = faultyStorage(disk)
    const store = await openStore('during', { storage: factory, compaction: { maxLogRows: 1 } })
    let release!: () => void
    control.compactGate = new Promise((r) => (release = r))
    store.set('before', 1)
    const first = store.flush() // its append triggers a compaction, held at the gate
    await first
    store.set('during', 2) // queued while the compaction waits
    const second = store.flush()
    release()
    control.compactGate = null
    await second
    const reopened = await openStore('during', { storage: disk })
    await reopened.loaded
    expect(reopened.get('before')).toBe(1)
    expect(reopened.get('during')).toBe(2)
  })

  it('a failed write rejects flush with STORAGE_FAILED, emits an error, loses nothing, and is retried', async () => {
    const disk = memoryStorage()
    const { factory, control } = faultyStorage(disk)
    const store = await openStore('quota', { storage: factory })
    const errors: unknown[] = []
    store.on('error', (e) => errors.push([e.code, e.cause instanceof Error ? e.cause.name : e.cause]))
    control.failAppends = true
    store.set('k', 'value')
    await expect(store.flush()).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
    expect(errors).toEqual([['STORAGE_FAILED', 'QuotaExceededError']])
    expect(store.get('k')).toBe('value')
    control.failAppends = false
    await store.flush()
    const reopened = await openStore('quota', { storage: disk })
    await reopened.loaded
    expect(reopened.get('k')).toBe('value')
  })

  it('a database closed under the store (a newer version opened elsewhere) gives STORAGE_FAILED', async () => {
    const idb = new IDBFactory()
    const store = await openStore('versioned', { indexedDB: idb })
    store.set('k', 1)
    await store.flush()
    await new Promise<void>((resolve, reject) => {
      const req = idb.open(databaseName('versioned'), 3)
      req.onsuccess = () => {
        req.result.close()
        resolve()
      }
      req.onerror = () => reject(req.error!)
    })
    store.set('k', 2)
    await expect(store.flush()).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
    expect(store.get('k')).toBe(2)
  })

  it('a corrupt stored update fails openStore with STORAGE_FAILED', async () => {
    const disk = memoryStorage()
    const raw = await disk('corrupt')
    await raw.append([new Uint8Array([0, 255, 255, 255, 255, 255, 1])], false)
    await expect(openStore('corrupt', { storage: disk })).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
  })

  it('an entry every replica ignores (a readable head, an invalid value) never shows after a fast open either', async () => {
    const storage = memoryStorage()
    const store = await openStore('ignored', { storage, tabs: false })
    store.set('good', 1)
    // Format 1, a value entry for "bad", a stamp, then a value tag no TideKV value has.
    const bad = encoding.createEncoder()
    encoding.writeUint8(bad, 0x10)
    encoding.writeVarString(bad, 'bad')
    encoding.writeVarUint(bad, Date.now())
    encoding.writeVarUint(bad, 0)
    encoding.writeUint8(bad, 0)
    store.doc.getArray<Uint8Array>(LOG_NAME).push([encoding.toUint8Array(bad)])
    expect(store.keys()).toEqual(['good'])
    await store.close()
    const reopened = await openStore('ignored', { storage, tabs: false })
    expect(reopened.get('bad')).toBeUndefined()
    await reopened.loaded
    expect([reopened.keys(), reopened.size]).toEqual([['good'], 1])
    await reopened.close()
  })

  it('a damaged snapshot fails the open with STORAGE_FAILED, changing nothing stored', async () => {
    const disk: MemoryDisk = new Map()
    const storage = memoryStorage(disk)
    const store = await openStore('damaged', { storage })
    store.set('k', 'v')
    await store.close()
    const db = disk.get('damaged')!
    const damaged = new Uint8Array([0, 9, 200, 3])
    db.rows.set(db.snapshot!, damaged)
    await expect(openStore('damaged', { storage })).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
    expect(db.rows.get(db.snapshot!)).toEqual(damaged)
  })
})

describe('replica identity across sessions', () => {
  it('a cleanly closed session hands its client id to the next, so counters keep one entry per tab, not per page load', async () => {
    const idb = new IDBFactory()
    const ids = new Set<number>()
    for (let session = 0; session < 10; session++) {
      const store = await openStore('visits', { indexedDB: idb })
      await store.loaded
      ids.add(store.doc.clientID)
      store.incr('visits')
      await store.close()
    }
    expect(ids.size).toBe(1)
    const store = await openStore('visits', { indexedDB: idb })
    await store.loaded
    expect(store.get('visits')).toBe(10)
    expect(store.doc.getArray('tidekv').length).toBe(1)
  })

  it('two stores open at once never share a client id, and a crashed one gives none back', async () => {
    const idb = new IDBFactory()
    const first = await openStore('tabs', { indexedDB: idb })
    await first.close()
    const [a, b] = await Promise.all([openStore('tabs', { indexedDB: idb }), openStore('tabs', { indexedDB: idb })])
    expect(a.doc.clientID).not.toBe(b.doc.clientID)
    a.incr('n')
    b.incr('n')
    await Promise.all([a.flush(), b.flush()])
    // a "crashes" (never closes); b closes cleanly.
    await b.close()
    const c = await openStore('tabs', { indexedDB: idb })
    await c.loaded
    expect(c.doc.clientID).toBe(b.doc.clientID)
    expect(c.doc.clientID).not.toBe(a.doc.clientID)
    expect(c.get('n')).toBe(2)
  })
})

describe('updates applied before the document loads', () => {
  it('are stored once it has loaded, even when they could only integrate then', async () => {
    const disk = memoryStorage()
    const first = await openStore('early-remote', { storage: disk, tabs: false })
    first.set('old', 'x')
    first.set('k', 1)
    await first.close()
    // A peer that has the same document deletes `old` and sets `k`.
    const peer = await openStore('early-remote-peer', { persist: false, tabs: false })
    const seed = await openStore('early-remote', { storage: disk, tabs: false })
    await seed.loaded
    Y.applyUpdate(peer.doc, Y.encodeStateAsUpdate(seed.doc))
    const storedState = Y.encodeStateVector(seed.doc)
    await seed.close()
    peer.delete('old')
    peer.set('k', 2)
    await peer.flush()
    // Only what the peer added: it depends on stored items, so Yjs holds it as pending until they load.
    const change = Y.encodeStateAsUpdate(peer.doc, storedState)
    // Held storage: the update arrives while the stored document is still loading.
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    const gated: StorageFactory = async (name) => {
      const s = await disk(name)
      // reason: an object whose prototype is the adapter has all its methods: an adapter, with loadUpdates overridden
      return Object.assign(Object.create(s) as StorageAdapter, {
        loadUpdates: async () => {
          await held
          return s.loadUpdates()
        },
      })
    }
    const store = await openStore('early-remote', { storage: gated, tabs: false })
    Y.applyUpdate(store.doc, change)
    release()
    await store.loaded
    expect([store.get('k'), store.has('old')]).toEqual([2, false])
    await store.flush()
    // A crash now: what is stored must already hold the peer's change.
    const after = await openStore('early-remote', { storage: disk, tabs: false })
    await after.loaded
    expect([after.get('k'), after.has('old')]).toEqual([2, false])
  })

  it('a document that fails to load after a fast open is reported by loaded (and the error event), never as an unhandled rejection', async () => {
    const disk = memoryStorage()
    const first = await openStore('failing-load', { storage: disk, tabs: false })
    first.set('k', 1)
    await first.close() // compacts: the next open answers from the snapshot's keys
    const failing: StorageFactory = async (name) => {
      const s = await disk(name)
      // reason: an object whose prototype is the adapter has all its methods: an adapter, with loadUpdates overridden
      return Object.assign(Object.create(s) as StorageAdapter, {
        loadUpdates: async () => {
          throw new DOMException('The disk went away', 'UnknownError')
        },
      })
    }
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const store = await openStore('failing-load', { storage: failing, tabs: true })
      expect(store.get('k')).toBe(1) // the snapshot's keys answer
      await expect(store.loaded).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(unhandled).toEqual([])
      await store.close().catch(() => undefined)
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
