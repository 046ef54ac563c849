/**
 * What every data structure shares with the rest of the store: store.type,
 * WRONG_TYPE between every pair of types, the key-level calls (delete, TTL,
 * keys, watch), READ_ONLY and CLOSED. Each structure's own methods are tested
 * in hash/list/collection/sorted-set/stream.test.ts; reloading every type in
 * structures-reload.test.ts.
 */
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { Collection } from '../../core/src/structures/collection.js'
import { Hash } from '../../core/src/structures/hash.js'
import { type Change, memoryStorage, openStore, type Store } from './index.js'
import { List } from '../../core/src/structures/list.js'
import { SortedSet } from '../../core/src/structures/sorted-set.js'
import { Stream } from '../../core/src/structures/stream.js'
import { codeOf, illTyped, contentsOf, HELD_TYPES, type HeldType, manualClock, memoryStores } from './testing/test-support.js'

const memoryStore = memoryStores('structures')

type StructureType = 'hash' | 'list' | 'set' | 'zset' | 'stream'
type Call = (store: Store, key: string) => unknown

const STRUCTURES: StructureType[] = ['hash', 'list', 'set', 'zset', 'stream']

/** Makes `key` hold a small value of each type. */
const FILL: Record<HeldType, Call> = {
  string: (s, k) => s.set(k, 'text'),
  counter: (s, k) => s.incr(k, 5),
  hash: (s, k) => s.hash(k).setMany({ f: 'one', n: 2 }),
  list: (s, k) => s.list(k).pushRight('a', { b: 2 }, 'a'),
  set: (s, k) => s.collection(k).add('m1', 'm2'),
  zset: (s, k) => (s.sortedSet(k).add('m1', 1.5), s.sortedSet(k).incr('m2', -3)),
  stream: (s, k) => (s.stream(k).add({ f: 1 }), s.stream(k).add({ g: [2] })),
}

/** Every write method of every handle, with valid arguments. */
const WRITES: Record<StructureType, Record<string, Call>> = {
  hash: {
    set: (s, k) => s.hash(k).set('f', 2),
    setMany: (s, k) => s.hash(k).setMany({ f: 2, g: 3 }),
    delete: (s, k) => s.hash(k).delete('f'),
    incr: (s, k) => s.hash(k).incr('n'),
  },
  list: {
    pushLeft: (s, k) => s.list(k).pushLeft('x'),
    pushRight: (s, k) => s.list(k).pushRight('x'),
    popLeft: (s, k) => s.list(k).popLeft(),
    popRight: (s, k) => s.list(k).popRight(),
    set: (s, k) => s.list(k).set(0, 'x'),
    remove: (s, k) => s.list(k).remove('a'),
    trim: (s, k) => s.list(k).trim(0, 0),
  },
  set: {
    add: (s, k) => s.collection(k).add('x'),
    remove: (s, k) => s.collection(k).remove('m1'),
  },
  zset: {
    add: (s, k) => s.sortedSet(k).add('x', 1),
    incr: (s, k) => s.sortedSet(k).incr('m1', 1),
    remove: (s, k) => s.sortedSet(k).remove('m1'),
  },
  stream: {
    add: (s, k) => s.stream(k).add({ x: 1 }),
    trim: (s, k) => s.stream(k).trim({ maxLen: 0 }),
  },
}

/** Every read method (and getter) of every handle. */
const READS: Record<StructureType, Record<string, Call>> = {
  hash: {
    get: (s, k) => s.hash(k).get('f'),
    getAll: (s, k) => s.hash(k).getAll(),
    has: (s, k) => s.hash(k).has('f'),
    keys: (s, k) => s.hash(k).keys(),
    values: (s, k) => s.hash(k).values(),
    size: (s, k) => s.hash(k).size,
  },
  list: {
    range: (s, k) => s.list(k).range(0, -1),
    at: (s, k) => s.list(k).at(0),
    length: (s, k) => s.list(k).length,
  },
  set: {
    has: (s, k) => s.collection(k).has('m1'),
    members: (s, k) => s.collection(k).members(),
    size: (s, k) => s.collection(k).size,
    union: (s, k) => s.collection(k).union(),
    intersect: (s, k) => s.collection(k).intersect(),
    diff: (s, k) => s.collection(k).diff(),
  },
  zset: {
    score: (s, k) => s.sortedSet(k).score('m1'),
    rank: (s, k) => s.sortedSet(k).rank('m1'),
    range: (s, k) => s.sortedSet(k).range(0, -1),
    rangeByScore: (s, k) => s.sortedSet(k).rangeByScore(-Infinity, Infinity),
    size: (s, k) => s.sortedSet(k).size,
  },
  stream: {
    range: (s, k) => s.stream(k).range(),
    revRange: (s, k) => s.stream(k).revRange(),
    length: (s, k) => s.stream(k).length,
  },
}

const allCalls = (type: StructureType): [string, Call][] => Object.entries({ ...WRITES[type], ...READS[type] })

/** Everything observable about a key and the document, after committing. */
async function snapshot(store: Store, key: string) {
  await store.flush()
  return {
    contents: contentsOf(store, key),
    ttl: store.ttl(key),
    keys: store.keys(),
    stateVector: Y.encodeStateVector(store.doc),
    state: Y.encodeStateAsUpdate(store.doc),
  }
}

describe('the tables of handle methods', () => {
  it('name every public method and getter of every handle', () => {
    // reason: the helpers are TypeScript-private, so they are on the prototype too; they are listed here.
    const privates: Record<StructureType, string[]> = { hash: ['sortedNames'], list: ['push', 'pop', 'element'], set: ['sets'], zset: [], stream: ['collect', 'entryOf'] }
    const classes = { hash: Hash, list: List, set: Collection, zset: SortedSet, stream: Stream }
    for (const type of STRUCTURES) {
      const own = Object.getOwnPropertyNames(classes[type].prototype).filter((n) => n !== 'constructor' && !privates[type].includes(n))
      expect(
        allCalls(type)
          .map(([name]) => name)
          .sort(),
        type,
      ).toEqual(own.sort())
    }
  })
})

describe('store.type', () => {
  it('names what each key holds: string, counter, hash, list, set, zset, stream, or none', async () => {
    const store = await memoryStore()
    for (const type of HELD_TYPES) FILL[type](store, type)
    store.set('null', null)
    expect(HELD_TYPES.map((t) => store.type(t))).toEqual(HELD_TYPES)
    expect(store.type('null')).toBe('string')
    expect(store.type('missing')).toBe('none')
    expect(codeOf(() => store.type(''))).toBe('INVALID_KEY')
  })
})

describe('WRONG_TYPE', () => {
  describe.each(STRUCTURES)('every %s method', (handle) => {
    it.each(HELD_TYPES.filter((t) => t !== handle))('throws WRONG_TYPE on a key holding a %s, and changes nothing', async (held) => {
      const store = await memoryStore()
      FILL[held](store, 'k')
      const before = await snapshot(store, 'k')
      const changes: Change[] = []
      store.watch('k', (c) => changes.push(c))
      for (const [name, call] of allCalls(handle)) {
        expect(
          codeOf(() => call(store, 'k')),
          `${handle}.${name} on a ${held}`,
        ).toBe('WRONG_TYPE')
      }
      expect(await snapshot(store, 'k')).toEqual(before)
      expect(changes).toEqual([])
    })
  })

  it.each(STRUCTURES)('store.get, incr and decr on a %s key throw WRONG_TYPE and change nothing', async (type) => {
    const store = await memoryStore()
    FILL[type](store, 'k')
    const before = await snapshot(store, 'k')
    expect(codeOf(() => store.get('k'))).toBe('WRONG_TYPE')
    expect(codeOf(() => store.incr('k'))).toBe('WRONG_TYPE')
    expect(codeOf(() => store.decr('k', 2))).toBe('WRONG_TYPE')
    expect(await snapshot(store, 'k')).toEqual(before)
  })

  it('the error message names the type the key holds', async () => {
    const store = await memoryStore()
    store.sortedSet('scores').add('ada', 1)
    expect(() => store.hash('scores').get('f')).toThrow(/holds a zset/)
    expect(() => store.get('scores')).toThrow(/holds a zset/)
  })
})

describe('the store API on structure keys', () => {
  it('getMany reads undefined for structure keys, as Redis MGET does', async () => {
    const store = await memoryStore()
    for (const type of HELD_TYPES) FILL[type](store, type)
    expect(store.getMany(HELD_TYPES)).toEqual(['text', 5, undefined, undefined, undefined, undefined, undefined])
  })

  it('keys, has and size count every type; entries lists only values', async () => {
    const store = await memoryStore()
    for (const type of HELD_TYPES) FILL[type](store, type)
    expect(store.keys()).toEqual([...HELD_TYPES].sort())
    expect(store.keys({ prefix: 's' })).toEqual(['set', 'stream', 'string'])
    expect(store.keys({ after: 'list', limit: 2 })).toEqual(['set', 'stream'])
    expect(HELD_TYPES.map((t) => store.has(t))).toEqual(HELD_TYPES.map(() => true))
    expect(store.size).toBe(7)
    expect(store.entries()).toEqual([
      ['counter', 5],
      ['string', 'text'],
    ])
  })

  it.each(STRUCTURES)('store.set replaces a %s, TTL included, leaving one entry in the document (Redis SET)', async (type) => {
    const store = await memoryStore()
    FILL[type](store, 'k')
    store.expire('k', 60_000)
    store.set('k', { now: 'plain' })
    expect(store.type('k')).toBe('string')
    expect(store.get('k')).toEqual({ now: 'plain' })
    expect(store.ttl('k')).toBe(-1)
    await store.flush()
    expect(store.doc.getArray('tidekv').length).toBe(1)
    const replica = await memoryStore()
    Y.applyUpdate(replica.doc, Y.encodeStateAsUpdate(store.doc))
    expect(contentsOf(replica, 'k')).toEqual(contentsOf(store, 'k'))
  })

  it.each(HELD_TYPES)('delete removes a whole %s: true once, then false; nothing left in the document', async (type) => {
    const store = await memoryStore()
    FILL[type](store, 'k')
    FILL[type](store, 'other')
    await store.flush()
    const entries = store.doc.getArray('tidekv').length
    expect(store.delete('k')).toBe(true)
    expect(store.delete('k')).toBe(false)
    expect(store.type('k')).toBe('none')
    expect(store.keys()).toEqual(['other'])
    await store.flush()
    expect(store.doc.getArray('tidekv').length).toBe(entries / 2)
  })

  it('deleteMany and clear remove structures like values', async () => {
    const store = await memoryStore()
    for (const type of HELD_TYPES) FILL[type](store, type)
    expect(store.deleteMany(['hash', 'list', 'missing'])).toBe(2)
    expect(store.keys()).toEqual(['counter', 'set', 'stream', 'string', 'zset'])
    store.clear()
    expect(store.size).toBe(0)
    await store.flush()
    expect(store.doc.getArray('tidekv').length).toBe(0)
  })

  it('a handle write on a key left empty starts a new structure there', async () => {
    const store = await memoryStore()
    store.set('k', 'text')
    store.delete('k')
    store.hash('k').set('f', 1)
    store.hash('k').delete('f')
    expect(store.list('k').pushRight(1)).toBe(1)
    expect(contentsOf(store, 'k')).toEqual({ type: 'list', values: [1] })
  })

  it('every handle refuses a key that could never be stored with INVALID_KEY', async () => {
    const store = await memoryStore({ maxKeyBytes: 8 })
    const handles = [store.hash.bind(store), store.list.bind(store), store.collection.bind(store), store.sortedSet.bind(store), store.stream.bind(store)]
    for (const handle of handles) {
      expect(codeOf(() => handle(''))).toBe('INVALID_KEY')
      expect(codeOf(() => handle(illTyped(5)))).toBe('INVALID_KEY')
      expect(codeOf(() => handle('123456789'))).toBe('INVALID_KEY')
      expect(codeOf(() => handle('a\ud800'))).toBe('INVALID_KEY')
    }
  })

  it('values inside structures must be well-formed UTF-16, as store values must', async () => {
    const store = await memoryStore()
    expect(codeOf(() => store.hash('h').set('f', 'a\ud800'))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.list('l').pushRight('a\udc00'))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.stream('s').add({ ['a\ud800']: 1 }))).toBe('INVALID_VALUE')
    expect(store.size).toBe(0)
  })

  // BUG: checkMember checks type and length but not well-formedness. A member with a lone
  // surrogate is kept as is in memory, but its entry is encoded as UTF-8 (U+FFFD), so other
  // replicas, and this one after a reload, read another member. Drop `.fails` once fixed.
  it('members and fields must be well-formed UTF-16, as keys must: other replicas would read U+FFFD', async () => {
    const store = await memoryStore()
    expect(codeOf(() => store.collection('s').add('a\ud800'))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.hash('h').set('a\udc00', 1))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.sortedSet('z').add('a\ud800', 1))).toBe('INVALID_VALUE')
    expect(store.size).toBe(0)
  })
})

describe('TTL on structures', () => {
  it.each(HELD_TYPES)('expire, ttl and persist work on a %s, and it expires whole', async (type) => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    FILL[type](store, 'k')
    const contents = contentsOf(store, 'k')
    expect(store.ttl('k')).toBe(-1)
    expect(store.persist('k')).toBe(false)
    expect(store.expire('k', 1000)).toBe(true)
    expect(store.ttl('k')).toBe(1000)
    clock.now += 400
    expect(store.ttl('k')).toBe(600)
    expect(store.persist('k')).toBe(true)
    expect(store.ttl('k')).toBe(-1)
    expect(store.expire('k', 1000)).toBe(true)
    clock.now += 999
    expect(contentsOf(store, 'k')).toEqual(contents)
    clock.now += 1
    expect(store.type('k')).toBe('none')
    expect(store.has('k')).toBe(false)
    expect(store.ttl('k')).toBe(-2)
    expect(store.keys()).toEqual([])
    expect(store.size).toBe(0)
    expect(store.expire('k', 1000)).toBe(false)
    expect(store.persist('k')).toBe(false)
    await store.flush() // a commit sweeps expired keys out of the document
    expect(store.doc.getArray('tidekv').length).toBe(0)
  })

  it.each(STRUCTURES)('an expired %s reads as empty through its handle', async (type) => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    FILL[type](store, 'k')
    store.expire('k', 10)
    clock.now += 10
    const reads = Object.fromEntries(Object.entries(READS[type]).map(([name, read]) => [name, read(store, 'k')]))
    const empty = {
      hash: { get: undefined, getAll: {}, has: false, keys: [], values: [], size: 0 },
      list: { range: [], at: undefined, length: 0 },
      set: { has: false, members: [], size: 0, union: [], intersect: [], diff: [] },
      zset: { score: undefined, rank: undefined, range: [], rangeByScore: [], size: 0 },
      stream: { range: [], revRange: [], length: 0 },
    }
    expect(reads).toEqual(empty[type])
  })

  it('members written while a structure has a TTL keep it: the whole structure expires at once', async () => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    const h = store.hash('session')
    h.set('user', 'ada')
    store.expire('session', 1000)
    clock.now += 500
    h.set('page', 'home')
    h.incr('clicks')
    expect(store.ttl('session')).toBe(500)
    clock.now += 500
    expect(h.getAll()).toEqual({})
    expect(store.type('session')).toBe('none')
  })

  it('a write after a structure expired starts a new one, without the TTL', async () => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    store.list('l').pushRight('old')
    store.expire('l', 100)
    clock.now += 100
    expect(store.list('l').pushRight('new')).toBe(1)
    expect(store.list('l').range(0, -1)).toEqual(['new'])
    expect(store.ttl('l')).toBe(-1)
    store.set('v', 'text', { ttl: 100 })
    clock.now += 100
    expect(store.collection('v').add('m')).toBe(1) // an expired value of another type is no obstacle
    expect(store.type('v')).toBe('set')
  })

  it('expire with a ttl of 0 or less deletes a structure', async () => {
    const store = await memoryStore()
    store.sortedSet('z').add('a', 1)
    store.stream('s').add({ a: 1 })
    expect(store.expire('z', 0)).toBe(true)
    expect(store.expire('s', -5)).toBe(true)
    expect(store.keys()).toEqual([])
  })

  it('a TTL set on a structure reaches other replicas', async () => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    store.collection('c').add('a')
    store.expire('c', 5000)
    await store.flush()
    const replica = await memoryStore({ clock: clock.fn })
    Y.applyUpdate(replica.doc, Y.encodeStateAsUpdate(store.doc))
    expect(replica.ttl('c')).toBe(5000)
    clock.now += 5000
    expect(replica.type('c')).toBe('none')
  })

  it('the expiry timer removes an expired structure from the document and tells watchers', async () => {
    // A manual clock: with the real one, a busy machine may pass the expiry before the first
    // commit, and the write and its expiry then make one transaction that changes nothing.
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    const changes: unknown[] = []
    store.watch('h', (c) => changes.push([c.type, c.origin]))
    store.hash('h').set('f', 1)
    store.expire('h', 20)
    await store.flush()
    expect(changes).toEqual([['hash', 'local']])
    clock.now += 20 // the timer, armed for 20 ms, sweeps once it fires
    await vi.waitFor(
      () =>
        expect(changes).toEqual([
          ['hash', 'local'],
          ['none', 'local'],
        ]),
      { timeout: 4000 },
    )
    expect(store.doc.getArray('tidekv').length).toBe(0)
  })
})

describe('watch on structures', () => {
  it.each(STRUCTURES)('a %s change carries its type, value and previous undefined, once per transaction', async (type) => {
    const store = await memoryStore()
    const changes: Change[] = []
    store.watch('k', (c) => changes.push(c))
    FILL[type](store, 'k') // several writes in one tick: one transaction
    FILL[type](store, 'k')
    await store.flush()
    expect(changes).toEqual([{ key: 'k', type, value: undefined, previous: undefined, origin: 'local' }])
    const write = Object.values(WRITES[type])[0]! // an add, a push or a set
    store.batch(() => {
      write(store, 'k')
      write(store, 'k')
    })
    expect(changes).toHaveLength(2)
    expect(changes[1]).toEqual({ key: 'k', type, value: undefined, previous: undefined, origin: 'local' })
    store.delete('k')
    await store.flush()
    expect(changes).toHaveLength(3)
    expect(changes[2]).toEqual({ key: 'k', type: 'none', value: undefined, previous: undefined, origin: 'local' })
  })

  it('removing the last member reports type none; set over a structure reports the value', async () => {
    const store = await memoryStore()
    const changes: Change[] = []
    store.watch({ prefix: '' }, (c) => changes.push(c))
    store.collection('c').add('m')
    await store.flush()
    store.collection('c').remove('m')
    await store.flush()
    store.sortedSet('z').add('m', 1)
    await store.flush()
    store.set('z', 'plain')
    await store.flush()
    expect(changes.map((c) => [c.key, c.type, c.value, c.previous])).toEqual([
      ['c', 'set', undefined, undefined],
      ['c', 'none', undefined, undefined],
      ['z', 'zset', undefined, undefined],
      ['z', 'string', 'plain', undefined],
    ])
  })

  it('changes from another replica are reported once per key per transaction, with origin remote', async () => {
    const a = await memoryStore()
    const b = await memoryStore()
    const changes: Change[] = []
    b.watch({ prefix: '' }, (c) => changes.push(c))
    for (const type of STRUCTURES) FILL[type](a, type)
    await a.flush()
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    expect(changes.map((c) => [c.key, c.type, c.value, c.origin])).toEqual(STRUCTURES.map((t) => [t, t, undefined, 'remote']))
  })

  it('a write that changes nothing reports nothing', async () => {
    const store = await memoryStore()
    for (const type of STRUCTURES) FILL[type](store, type)
    await store.flush()
    const changes: Change[] = []
    store.watch({ prefix: '' }, (c) => changes.push(c))
    store.hash('hash').delete('missing')
    store.list('list').remove('missing')
    store.list('list').trim(0, -1)
    store.collection('set').remove('missing')
    store.sortedSet('zset').remove('missing')
    store.stream('stream').trim({ maxLen: 10 })
    await store.flush()
    expect(changes).toEqual([])
  })
})

/** A socket that never connects: enough for a store synced with a read-only token, no relay needed. */
class SilentSocket {
  binaryType = 'arraybuffer'
  readyState = 0
  constructor(readonly url: string) {}
  send(): void {}
  close(): void {}
}

describe('READ_ONLY and CLOSED', () => {
  it('a store synced read-only refuses every structure write with READ_ONLY and still answers reads', async () => {
    const disk = memoryStorage()
    const writer = await openStore('read-only', { storage: disk, tabs: false })
    for (const type of STRUCTURES) FILL[type](writer, type)
    const expected = STRUCTURES.map((t) => contentsOf(writer, t))
    await writer.close()
    const reader = await openStore('read-only', { storage: disk, tabs: false, sync: { url: 'ws://127.0.0.1:9', readOnly: true, WebSocket: SilentSocket } })
    try {
      await reader.loaded
      for (const type of STRUCTURES) {
        for (const [name, write] of Object.entries(WRITES[type])) {
          expect(
            codeOf(() => write(reader, type)),
            `${type}.${name}`,
          ).toBe('READ_ONLY')
          expect(
            codeOf(() => write(reader, `new-${type}`)),
            `${type}.${name} on a new key`,
          ).toBe('READ_ONLY')
        }
        for (const [name, read] of Object.entries(READS[type]))
          expect(
            codeOf(() => read(reader, type)),
            `${type}.${name}`,
          ).toBeUndefined()
        expect(codeOf(() => reader.set(type, 1))).toBe('READ_ONLY')
        expect(codeOf(() => reader.delete(type))).toBe('READ_ONLY')
        expect(codeOf(() => reader.expire(type, 1000))).toBe('READ_ONLY')
        expect(codeOf(() => reader.persist(type))).toBe('READ_ONLY')
      }
      expect(STRUCTURES.map((t) => contentsOf(reader, t))).toEqual(expected)
      expect(reader.keys()).toEqual([...STRUCTURES].sort())
    } finally {
      await reader.close()
    }
  })

  it('every structure method throws CLOSED once the store is closed, on handles made before or after', async () => {
    const store = await memoryStore()
    for (const type of STRUCTURES) FILL[type](store, type)
    const hash = store.hash('hash')
    const stream = store.stream('stream')
    await store.close()
    for (const type of STRUCTURES) {
      for (const [name, call] of allCalls(type))
        expect(
          codeOf(() => call(store, type)),
          `${type}.${name}`,
        ).toBe('CLOSED')
    }
    expect(codeOf(() => store.type('hash'))).toBe('CLOSED')
    expect(codeOf(() => hash.get('f'))).toBe('CLOSED')
    expect(codeOf(() => stream.add({ a: 1 }))).toBe('CLOSED')
  })
})
