/**
 * Every data structure type survives a reload: from the keyspace saved by a
 * clean close (read before the document has loaded, then after), from the
 * document alone (after a crash), with writes made while the document loads,
 * and with expiries that pass while the store is closed.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { memoryStorage, openStore, type StorageAdapter, type StorageFactory, type Store, type Value } from './index.js'
import { codeOf, contentsOf, HELD_TYPES, manualClock, memoryStores } from './testing/test-support.js'

const memoryStore = memoryStores('structures-reload')

/**
 * Storage whose `loadUpdates` waits for `release()` after a fast open (one
 * from the keys of a snapshot): memory storage would otherwise load the
 * document before `openStore` even returns, and the reads answered from the
 * snapshot's keys alone would never be tested.
 */
function holdLoad(inner: StorageFactory) {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  const state = { fastOpen: false, release: () => release() }
  const factory: StorageFactory = async (name) => {
    const s = await inner(name)
    // reason: an object whose prototype is the adapter has all its methods: an adapter, with loadSnapshot and loadUpdates overridden
    return Object.assign(Object.create(s) as StorageAdapter, {
      loadSnapshot: async () => {
        const saved = await s.loadSnapshot()
        state.fastOpen = saved !== undefined
        if (!state.fastOpen) release()
        return saved
      },
      loadUpdates: async () => {
        await held
        return s.loadUpdates()
      },
    })
  }
  return { factory, state }
}

/** One key of every type, each with some history (overwrites, removals, counters). */
function fillEveryType(store: Store): void {
  store.set('string', { a: [1, 'x'] })
  store.incr('counter', 41)
  store.incr('counter')
  const h = store.hash('hash')
  h.setMany({ name: 'Ada', bytes: new Uint8Array([1, 2]), gone: 1 })
  h.incr('visits', 3)
  h.delete('gone')
  const l = store.list('list')
  l.pushRight('b', 'c', 'x')
  l.pushLeft('a')
  l.set(2, { c: true })
  l.popRight()
  store.collection('set').add('m1', 'm2', 'm3')
  store.collection('set').remove('m2')
  const z = store.sortedSet('zset')
  z.add('ada', 10)
  z.incr('ada', 2.5)
  z.incr('bob', -1)
  const s = store.stream('stream')
  s.add({ n: 1 })
  s.add({ n: 2, extra: null })
  s.add({ n: 3 })
  s.trim({ maxLen: 2 })
}

const dump = (store: Store) => Object.fromEntries(HELD_TYPES.map((t) => [t, contentsOf(store, t)]))

describe('reloading structures', () => {
  it('every type survives a clean close, read from the keys of its snapshot before the document loads, then after', async () => {
    const disk = memoryStorage()
    const first = await openStore('reload', { storage: disk, tabs: false })
    fillEveryType(first)
    const expected = dump(first)
    await first.close()

    const { factory, state } = holdLoad(disk)
    const store = await openStore('reload', { storage: factory, tabs: false })
    let loaded = false
    void store.loaded.then(() => (loaded = true))
    expect(state.fastOpen).toBe(true)
    expect(dump(store)).toEqual(expected)
    expect(store.keys()).toEqual([...HELD_TYPES].sort())
    expect(store.size).toBe(HELD_TYPES.length)
    expect(store.getMany(HELD_TYPES)).toEqual([{ a: [1, 'x'] }, 42, undefined, undefined, undefined, undefined, undefined])
    expect(codeOf(() => store.get('hash'))).toBe('WRONG_TYPE')
    expect(codeOf(() => store.list('hash').length)).toBe('WRONG_TYPE')
    expect(store.sortedSet('zset').rank('ada')).toBe(1)
    expect(store.stream('stream').revRange('+', '-', { count: 1 })[0]!.fields).toEqual({ n: 3 })
    expect(loaded).toBe(false)

    state.release()
    await store.loaded
    expect(dump(store)).toEqual(expected)
    expect(Y.encodeStateVector(store.doc)).toEqual(Y.encodeStateVector(first.doc))
    const fresh = await memoryStore()
    Y.applyUpdate(fresh.doc, Y.encodeStateAsUpdate(store.doc))
    expect(dump(fresh)).toEqual(expected)
  })

  it('every type survives a reopen with no snapshot to open from (flushed, never closed: a crash)', async () => {
    const disk = memoryStorage()
    const crashed = await openStore('crash', { storage: disk, tabs: false })
    fillEveryType(crashed)
    await crashed.flush()
    const { factory, state } = holdLoad(disk)
    const store = await openStore('crash', { storage: factory, tabs: false })
    expect(state.fastOpen).toBe(false)
    expect(dump(store)).toEqual(dump(crashed))
  })

  it('writes to every type made before the document loads are kept, stored, and read back after another reopen', async () => {
    const disk = memoryStorage()
    const first = await openStore('early', { storage: disk, tabs: false })
    fillEveryType(first)
    await first.close()

    const { factory, state } = holdLoad(disk)
    const store = await openStore('early', { storage: factory, tabs: false })
    expect(state.fastOpen).toBe(true)
    store.hash('hash').set('name', 'Ada L.')
    store.hash('hash').incr('visits')
    store.list('list').popLeft()
    store.list('list').pushRight('z')
    store.collection('set').remove('m1')
    store.collection('set').add('m4')
    store.sortedSet('zset').incr('ada', 1)
    store.sortedSet('zset').remove('bob')
    store.stream('stream').trim({ maxLen: 1 })
    store.stream('stream').add({ n: 4 })
    store.delete('string')
    store.set('counter', 'now a string')
    const expected = dump(store)
    expect(expected.hash).toEqual({ type: 'hash', fields: { bytes: new Uint8Array([1, 2]), name: 'Ada L.', visits: 4 } })
    expect(expected.list).toEqual({ type: 'list', values: ['b', { c: true }, 'z'] })
    expect(expected.zset).toEqual({ type: 'zset', members: [['ada', 13.5]] })

    state.release()
    await store.loaded
    expect(dump(store)).toEqual(expected)
    await store.close()
    const reopened = await openStore('early', { storage: disk, tabs: false })
    expect(dump(reopened)).toEqual(expected)
    await reopened.loaded
    expect(dump(reopened)).toEqual(expected)
    expect(reopened.doc.getArray('tidekv').length).toBe(store.doc.getArray('tidekv').length)
  })

  it('the saved keyspace keeps expiries: a structure that expired while closed is gone before the document loads', async () => {
    const clock = manualClock()
    const disk = memoryStorage()
    const first = await openStore('expiring', { storage: disk, tabs: false, clock: clock.fn })
    fillEveryType(first)
    for (const type of HELD_TYPES) first.expire(type, type === 'hash' || type === 'counter' ? 1000 : 5000)
    first.persist('stream')
    await first.close()

    clock.now += 2000
    const { factory, state } = holdLoad(disk)
    const store = await openStore('expiring', { storage: factory, tabs: false, clock: clock.fn })
    expect(state.fastOpen).toBe(true)
    expect(store.keys()).toEqual(['list', 'set', 'stream', 'string', 'zset'])
    expect(store.size).toBe(5)
    expect(store.type('hash')).toBe('none')
    expect(store.hash('hash').getAll()).toEqual({})
    expect(store.ttl('list')).toBe(3000)
    expect(store.ttl('stream')).toBe(-1)
    state.release()
    await store.loaded
    expect(store.keys()).toEqual(['list', 'set', 'stream', 'string', 'zset'])
    expect(store.ttl('zset')).toBe(3000)
    clock.now += 3000
    expect(store.keys()).toEqual(['stream'])
    await store.flush()
    const fresh = await memoryStore({ clock: clock.fn })
    Y.applyUpdate(fresh.doc, Y.encodeStateAsUpdate(store.doc))
    expect(fresh.keys()).toEqual(['stream'])
    expect(store.doc.getArray('tidekv').length).toBe(3) // the stream's two entries and its meta entry (from persist)
  })

  it('a value of every kind in every structure reads back the same after a reload', async () => {
    const disk = memoryStorage()
    const values: Value[] = [null, true, 0, -1.5, 2 ** 40, 'ünï 😀', [], [1, 'a'], {}, { a: { b: [1, { c: new Uint8Array([1]) }] } }, new Uint8Array([0, 255])]
    const first = await openStore('kinds', { storage: disk, tabs: false })
    values.forEach((v, i) => first.hash('h').set(`f${i}`, v))
    first.list('l').pushRight(...values)
    values.forEach((v, i) => first.stream('s').add({ [`f${i}`]: v }))
    await first.close()
    const store = await openStore('kinds', { storage: disk, tabs: false })
    expect(store.hash('h').values()).toEqual([0, 1, 10, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => values[i]))
    expect(store.list('l').range(0, -1)).toEqual(values)
    expect(
      store
        .stream('s')
        .range()
        .map((e) => Object.values(e.fields)[0]),
    ).toEqual(values)
  })
})
