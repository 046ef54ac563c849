import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { openStore, type Value } from './index.js'
import { codeOf, illTyped, manualClock, memoryStores } from './testing/test-support.js'

const memoryStore = memoryStores('test')

describe('get, set, has, delete', () => {
  it('reads a write back at once, before any commit', async () => {
    const store = await memoryStore()
    store.set('a', { theme: 'dark' })
    expect(store.get('a')).toEqual({ theme: 'dark' })
    expect(store.has('a')).toBe(true)
    expect(store.get('missing')).toBeUndefined()
    expect(store.has('missing')).toBe(false)
  })

  it('stores every kind of value: null, booleans, numbers, strings, arrays, objects, bytes, nested', async () => {
    const store = await memoryStore()
    const values: Value[] = [
      null,
      true,
      false,
      0,
      -1.5,
      2 ** 40,
      'text',
      'ünïcødé ✓ 😀',
      [],
      [1, 'a', null],
      {},
      { a: { b: [1, { c: new Uint8Array([1, 2]) }] } },
      new Uint8Array([0, 255]),
    ]
    values.forEach((v, i) => store.set(`k${i}`, v))
    await store.flush()
    const replica = await memoryStore()
    Y.applyUpdate(replica.doc, Y.encodeStateAsUpdate(store.doc))
    values.forEach((v, i) => {
      expect(store.get(`k${i}`)).toEqual(v)
      expect(replica.get(`k${i}`)).toEqual(v)
    })
  })

  it('refuses values that are not JSON-compatible or bytes, and changes nothing', async () => {
    const store = await memoryStore()
    store.set('k', 'before')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    class Point {
      x = 1
    }
    const bad: unknown[] = [
      undefined,
      NaN,
      Infinity,
      -Infinity,
      () => 1,
      Symbol('s'),
      10n,
      new Date(),
      new Map(),
      new Point(),
      cyclic,
      [1, undefined],
      { a: undefined },
      { a: NaN },
      '\ud800',
      { ['__proto__']: 1 },
    ]
    for (const v of bad) {
      const value: unknown = v === bad[15] ? JSON.parse('{"__proto__": 1}') : v
      expect(
        codeOf(() => store.set('k', illTyped(value))),
        String(v),
      ).toBe('INVALID_VALUE')
    }
    expect(store.get('k')).toBe('before')
    await store.flush()
    expect(store.doc.getArray('tidekv').length).toBe(1)
  })

  it('refuses empty, non-string, too long and malformed keys with INVALID_KEY', async () => {
    const store = await memoryStore({ maxKeyBytes: 8 })
    expect(codeOf(() => store.set('', 1))).toBe('INVALID_KEY')
    expect(codeOf(() => store.set(illTyped(5), 1))).toBe('INVALID_KEY')
    expect(codeOf(() => store.set('123456789', 1))).toBe('INVALID_KEY')
    expect(codeOf(() => store.set('ééééé', 1))).toBe('INVALID_KEY') // 10 bytes of UTF-8
    expect(codeOf(() => store.set('a\udc00', 1))).toBe('INVALID_KEY')
    expect(codeOf(() => store.get(''))).toBe('INVALID_KEY')
    expect(codeOf(() => store.delete(illTyped(null)))).toBe('INVALID_KEY')
    expect(store.set('12345678', 1)).toBeUndefined()
    expect(store.size).toBe(1)
  })

  it('refuses a value whose encoding is larger than maxValueBytes with VALUE_TOO_LARGE', async () => {
    const store = await memoryStore({ maxValueBytes: 100 })
    expect(codeOf(() => store.set('k', 'x'.repeat(200)))).toBe('VALUE_TOO_LARGE')
    expect(codeOf(() => store.set('k', new Uint8Array(99)))).toBe('VALUE_TOO_LARGE') // tag + length prefix count
    store.set('k', 'x'.repeat(90))
    expect(store.get('k')).toBe('x'.repeat(90))
  })

  it('defaults to a 1 MiB value limit', async () => {
    const store = await memoryStore()
    store.set('k', new Uint8Array(1024 * 1024 - 8))
    expect(codeOf(() => store.set('k2', new Uint8Array(1024 * 1024)))).toBe('VALUE_TOO_LARGE')
  })

  it('never aliases values: changing the object passed to set or returned by get does not change the store', async () => {
    const store = await memoryStore()
    const input = { list: [1, 2], nested: { a: 1 } }
    store.set('k', input)
    input.list.push(3)
    input.nested.a = 2
    expect(store.get('k')).toEqual({ list: [1, 2], nested: { a: 1 } })
    const out = store.get<{ list: number[] }>('k')!
    expect(Object.isFrozen(out)).toBe(true)
    expect(() => out.list.push(4)).toThrow(TypeError)
    const bytes = new Uint8Array([1, 2, 3])
    store.set('b', { bytes })
    bytes[0] = 9
    const got = store.get<{ bytes: Uint8Array }>('b')!
    got.bytes[1] = 9
    expect(store.get('b')).toEqual({ bytes: new Uint8Array([1, 2, 3]) })
  })

  it('delete returns whether the key held a value', async () => {
    const store = await memoryStore()
    store.set('k', 1)
    expect(store.delete('k')).toBe(true)
    expect(store.delete('k')).toBe(false)
    expect(store.get('k')).toBeUndefined()
  })
})

describe('many keys at once', () => {
  it('getMany, setMany and deleteMany work on lists of keys', async () => {
    const store = await memoryStore()
    store.setMany([
      ['a', 1],
      ['b', 2],
    ])
    expect(store.getMany(['a', 'x', 'b'])).toEqual([1, undefined, 2])
    expect(store.deleteMany(['a', 'x'])).toBe(1)
    expect(store.keys()).toEqual(['b'])
  })

  it('setMany checks every entry first, so one bad entry changes nothing', async () => {
    const store = await memoryStore()
    expect(
      codeOf(() =>
        store.setMany([
          ['a', 1],
          ['b', illTyped(undefined)],
        ]),
      ),
    ).toBe('INVALID_VALUE')
    expect(store.size).toBe(0)
  })

  it('clear deletes every key', async () => {
    const store = await memoryStore()
    store.setMany([
      ['a', 1],
      ['b', 2],
    ])
    store.incr('c')
    store.clear()
    expect(store.size).toBe(0)
    expect(store.keys()).toEqual([])
    await store.flush()
    expect(store.doc.getArray('tidekv').length).toBe(0)
  })
})

describe('counters', () => {
  it('incr starts a missing key from 0 and decr counts down', async () => {
    const store = await memoryStore()
    expect(store.incr('n')).toBe(1)
    expect(store.incr('n', 10)).toBe(11)
    expect(store.decr('n')).toBe(10)
    expect(store.decr('n', 20)).toBe(-10)
    expect(store.get('n')).toBe(-10)
  })

  it('incr on a value that is not an integer throws NOT_AN_INTEGER and changes nothing', async () => {
    const store = await memoryStore()
    store.set('s', 'text')
    store.set('f', 1.5)
    expect(codeOf(() => store.incr('s'))).toBe('NOT_AN_INTEGER')
    expect(codeOf(() => store.incr('f'))).toBe('NOT_AN_INTEGER')
    expect(codeOf(() => store.incr('n', 0.5))).toBe('NOT_AN_INTEGER')
    expect(codeOf(() => store.decr('n', NaN))).toBe('NOT_AN_INTEGER')
    expect(store.get('s')).toBe('text')
    expect(store.has('n')).toBe(false)
  })

  it('incr keeps results safe integers (OUT_OF_RANGE otherwise)', async () => {
    const store = await memoryStore()
    store.set('n', Number.MAX_SAFE_INTEGER - 1)
    expect(store.incr('n')).toBe(Number.MAX_SAFE_INTEGER)
    expect(codeOf(() => store.incr('n'))).toBe('OUT_OF_RANGE')
    expect(store.get('n')).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('incr builds on a set integer, and set on a counter resets it', async () => {
    const store = await memoryStore()
    store.set('n', 5)
    expect(store.incr('n', 2)).toBe(7)
    store.set('n', 100)
    expect(store.incr('n')).toBe(101)
  })

  it('counter state does not grow with every increment', async () => {
    const store = await memoryStore()
    for (let i = 0; i < 1000; i++) store.batch(() => store.incr('n'))
    expect(store.get('n')).toBe(1000)
    expect(store.doc.getArray('tidekv').length).toBe(1)
    expect(Y.encodeStateAsUpdate(store.doc).length).toBeLessThan(200)
  })

  it('increments made concurrently on offline replicas all count after merge', async () => {
    const [a, b, c] = await Promise.all([memoryStore(), memoryStore(), memoryStore()])
    a.incr('n', 1)
    b.incr('n', 10)
    c.incr('n', 100)
    c.incr('n', 100)
    await Promise.all([a.flush(), b.flush(), c.flush()])
    const all = Y.mergeUpdates([a, b, c].map((s) => Y.encodeStateAsUpdate(s.doc)))
    for (const s of [a, b, c]) Y.applyUpdate(s.doc, all)
    expect([a.get('n'), b.get('n'), c.get('n')]).toEqual([211, 211, 211])
    expect(a.incr('n')).toBe(212)
  })
})

describe('TTL', () => {
  it('an expired key is absent from get, has, keys, entries, size and ttl at once', async () => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    store.set('session', 'abc', { ttl: 1000 })
    store.set('other', 1)
    expect(store.ttl('session')).toBe(1000)
    clock.now += 999
    expect(store.get('session')).toBe('abc')
    clock.now += 1
    expect(store.get('session')).toBeUndefined()
    expect(store.has('session')).toBe(false)
    expect(store.keys()).toEqual(['other'])
    expect(store.entries()).toEqual([['other', 1]])
    expect(store.size).toBe(1)
    expect(store.ttl('session')).toBe(-2)
  })

  it('expiresAt sets an absolute expiry; ttl and expiresAt together are refused', async () => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    store.set('k', 1, { expiresAt: clock.now + 500 })
    expect(store.ttl('k')).toBe(500)
    expect(codeOf(() => store.set('k', 1, { ttl: 1, expiresAt: 1 }))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.set('k', 1, { ttl: 0 }))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.set('k', 1, { ttl: -5 }))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.set('k', 1, { expiresAt: NaN }))).toBe('INVALID_VALUE')
    expect(store.ttl('k')).toBe(500)
  })

  it('set without a TTL clears it, incr keeps it, persist removes it', async () => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    store.set('k', 1, { ttl: 1000 })
    expect(store.incr('k')).toBe(2)
    expect(store.ttl('k')).toBe(1000)
    store.set('k', 5)
    expect(store.ttl('k')).toBe(-1)
    store.expire('k', 300)
    expect(store.ttl('k')).toBe(300)
    expect(store.persist('k')).toBe(true)
    expect(store.persist('k')).toBe(false)
    expect(store.ttl('k')).toBe(-1)
    expect(store.persist('missing')).toBe(false)
  })

  it('expire sets a TTL on values and counters, deletes on ttl <= 0, and says false for missing keys', async () => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    store.incr('n', 3)
    expect(store.expire('n', 100)).toBe(true)
    expect(store.ttl('n')).toBe(100)
    expect(store.get('n')).toBe(3)
    store.set('v', { a: 1 })
    expect(store.expire('v', 0)).toBe(true)
    expect(store.has('v')).toBe(false)
    expect(store.expire('missing', 100)).toBe(false)
    expect(codeOf(() => store.expire('n', NaN))).toBe('INVALID_VALUE')
    clock.now += 100
    expect(store.get('n')).toBeUndefined()
    expect(store.incr('n')).toBe(1) // an expired counter starts afresh, without TTL
    expect(store.ttl('n')).toBe(-1)
  })

  it('expired entries leave the document eventually, with no timer per key', async () => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    const spy = vi.spyOn(globalThis, 'setTimeout')
    store.batch(() => {
      for (let i = 0; i < 500; i++) store.set(`k${i}`, i, { ttl: 1000 + i })
    })
    expect(spy.mock.calls.length).toBeLessThanOrEqual(1)
    spy.mockRestore()
    expect(store.doc.getArray('tidekv').length).toBe(500)
    clock.now += 2000
    store.set('trigger', 1) // any commit removes a bounded batch of expired entries
    await store.flush()
    expect(store.doc.getArray('tidekv').length).toBe(1)
  })

  it('the one expiry timer removes expired keys and tells watchers', async () => {
    // A hand-moved clock: with the real one, a slow tick could commit the write and its expiry together (no change to report).
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    const seen: unknown[] = []
    store.watch('session', (c) => seen.push([c.value, c.previous, c.origin]))
    store.set('session', 'abc', { ttl: 20 })
    await store.flush()
    expect(seen).toEqual([['abc', undefined, 'local']])
    clock.now += 20 // the timer, armed for 20 ms of real time, finds the key expired when it fires
    await vi.waitFor(
      () =>
        expect(seen).toEqual([
          ['abc', undefined, 'local'],
          [undefined, 'abc', 'local'],
        ]),
      { timeout: 5000 },
    )
    expect(store.doc.getArray('tidekv').length).toBe(0)
  })
})

describe('keys and entries', () => {
  it('lists keys in order, by prefix, paged with after and limit', async () => {
    const store = await memoryStore()
    for (const k of ['user:2:prefs', 'user:1:prefs', 'user:10:prefs', 'post:1', 'user:1:name', 'zz']) store.set(k, k.length)
    expect(store.keys()).toEqual(['post:1', 'user:10:prefs', 'user:1:name', 'user:1:prefs', 'user:2:prefs', 'zz'])
    expect(store.keys({ prefix: 'user:1' })).toEqual(['user:10:prefs', 'user:1:name', 'user:1:prefs'])
    expect(store.keys({ prefix: 'user:', limit: 2 })).toEqual(['user:10:prefs', 'user:1:name'])
    expect(store.keys({ prefix: 'user:', after: 'user:1:name', limit: 2 })).toEqual(['user:1:prefs', 'user:2:prefs'])
    expect(store.keys({ after: 'user:2:prefs' })).toEqual(['zz'])
    expect(store.keys({ prefix: 'user:', after: 'a' })).toHaveLength(4)
    expect(store.keys({ prefix: 'nothing' })).toEqual([])
    expect(store.keys({ limit: 0 })).toEqual([])
    expect(store.entries({ prefix: 'post' })).toEqual([['post:1', 6]])
  })

  it('refuses bad scan options with INVALID_VALUE', async () => {
    const store = await memoryStore()
    expect(codeOf(() => store.keys({ limit: -1 }))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.keys({ limit: 1.5 }))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.keys({ prefix: illTyped(1) }))).toBe('INVALID_VALUE')
  })

  it('pages through many keys without missing or repeating one', async () => {
    const store = await memoryStore()
    const all: string[] = []
    for (let i = 0; i < 5000; i++) all.push(`k:${i}`)
    store.batch(() => all.forEach((k) => store.set(k, 1)))
    for (let i = 0; i < 5000; i += 3) store.delete(`k:${i}`)
    const expected = all.filter((_, i) => i % 3 !== 0).sort()
    const paged: string[] = []
    let after: string | undefined
    for (;;) {
      const page = store.keys({ prefix: 'k:', after, limit: 97 })
      if (page.length === 0) break
      paged.push(...page)
      after = page[page.length - 1]
    }
    expect(paged).toEqual(expected)
  })
})

describe('batch and commits', () => {
  it('a tick of writes reaches the document as one transaction at the end of the tick', async () => {
    const store = await memoryStore()
    const updates: Uint8Array[] = []
    store.doc.on('update', (u: Uint8Array) => updates.push(u))
    store.set('a', 1)
    store.set('b', 2)
    store.set('a', 3)
    expect(updates).toHaveLength(0)
    await Promise.resolve()
    expect(updates).toHaveLength(1)
    expect(store.doc.getArray('tidekv').length).toBe(2)
  })

  it('batch commits all its writes as one transaction when it returns', async () => {
    const store = await memoryStore()
    const updates: Uint8Array[] = []
    store.doc.on('update', (u: Uint8Array) => updates.push(u))
    store.batch(() => {
      store.set('a', 1)
      store.batch(() => store.incr('n'))
      store.delete('a')
      store.set('b', 2)
    })
    expect(updates).toHaveLength(1)
    expect(store.entries()).toEqual([
      ['b', 2],
      ['n', 1],
    ])
  })

  it('batch keeps the writes made before fn threw', async () => {
    const store = await memoryStore()
    expect(() =>
      store.batch(() => {
        store.set('a', 1)
        throw new Error('boom')
      }),
    ).toThrow('boom')
    expect(store.get('a')).toBe(1)
    expect(store.doc.getArray('tidekv').length).toBe(1)
  })
})

describe('watch', () => {
  it('fires once per key per transaction, with value, previous and origin', async () => {
    const store = await memoryStore()
    const changes: unknown[] = []
    store.watch('a', (c) => changes.push(c))
    store.set('a', 1)
    store.set('a', 2)
    store.set('b', 1)
    await store.flush()
    expect(changes).toEqual([{ key: 'a', type: 'string', value: 2, previous: undefined, origin: 'local' }])
    store.delete('a')
    await store.flush()
    expect(changes.at(-1)).toEqual({ key: 'a', type: 'none', value: undefined, previous: 2, origin: 'local' })
  })

  it('prefix watches see every key under the prefix; the returned function unsubscribes', async () => {
    const store = await memoryStore()
    const keys: string[] = []
    const stop = store.watch({ prefix: 'user:' }, (c) => keys.push(c.key))
    store.batch(() => {
      store.set('user:1', 1)
      store.set('user:2', 2)
      store.set('post:1', 3)
    })
    stop()
    store.set('user:3', 3)
    await store.flush()
    expect(keys).toEqual(['user:1', 'user:2'])
  })

  it('reports changes from another replica with origin remote', async () => {
    const a = await memoryStore()
    const b = await memoryStore()
    const seen: unknown[] = []
    b.watch({ prefix: '' }, (c) => seen.push([c.key, c.value, c.origin]))
    a.set('k', 'hello')
    a.incr('n', 2)
    await a.flush()
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    expect(seen).toEqual([
      ['k', 'hello', 'remote'],
      ['n', 2, 'remote'],
    ])
  })

  it('a throwing watcher is reported as WATCHER_FAILED and the others still run', async () => {
    const store = await memoryStore()
    const errors: string[] = []
    store.on('error', (e) => errors.push(e.code))
    let ran = false
    store.watch('k', () => {
      throw new Error('bad watcher')
    })
    store.watch('k', () => {
      ran = true
    })
    store.set('k', 1)
    await store.flush()
    expect(ran).toBe(true)
    expect(errors).toEqual(['WATCHER_FAILED'])
  })
})

describe('replicas', () => {
  it('the write with the greater timestamp wins on every replica, whatever the Yjs client ids', async () => {
    for (const [lowId, highId] of [
      [1, 2],
      [2, 1],
    ] as const) {
      const clockA = manualClock(1000)
      const clockB = manualClock(2000) // b writes later
      const a = await memoryStore({ clock: clockA.fn })
      const b = await memoryStore({ clock: clockB.fn })
      a.doc.clientID = lowId
      b.doc.clientID = highId
      a.set('k', 'older')
      b.set('k', 'newer')
      await Promise.all([a.flush(), b.flush()])
      const ua = Y.encodeStateAsUpdate(a.doc)
      const ub = Y.encodeStateAsUpdate(b.doc)
      Y.applyUpdate(a.doc, ub)
      Y.applyUpdate(b.doc, ua)
      expect([a.get('k'), b.get('k')]).toEqual(['newer', 'newer'])
      // The loser is removed from the document by the next commit.
      await Promise.all([a.flush(), b.flush()])
      expect(a.doc.getArray('tidekv').length).toBe(1)
    }
  })

  it('a replica whose clock is behind still orders its own writes after what it has seen', async () => {
    const a = await memoryStore({ clock: () => 5000 })
    const b = await memoryStore({ clock: () => 1000 }) // far behind
    a.set('k', 'from a')
    await a.flush()
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    b.set('k', 'from b, after seeing a')
    await b.flush()
    Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc))
    expect(a.get('k')).toBe('from b, after seeing a')
  })

  it('a write made concurrently with a delete survives it (add-wins), and a deleted key does not come back', async () => {
    const a = await memoryStore()
    const b = await memoryStore()
    a.set('k', 1)
    a.set('gone', 1)
    await a.flush()
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    a.delete('k')
    a.delete('gone')
    b.set('k', 2) // concurrent with a's delete
    await Promise.all([a.flush(), b.flush()])
    const stale = Y.encodeStateAsUpdate(b.doc)
    Y.applyUpdate(a.doc, stale)
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    expect([a.get('k'), b.get('k')]).toEqual([2, 2])
    expect([a.has('gone'), b.has('gone')]).toEqual([false, false])
    Y.applyUpdate(a.doc, stale) // the stale state again: nothing comes back
    expect(a.has('gone')).toBe(false)
  })

  it('an entry from another replica that cannot be decoded is ignored and reported', async () => {
    const a = await memoryStore()
    const errors: string[] = []
    a.on('error', (e) => errors.push(e.code))
    const rogue = new Y.Doc()
    rogue.getArray('tidekv').push([new Uint8Array([0x10, 0xff, 0xff])])
    Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(rogue))
    expect(errors).toEqual(['INVALID_ENTRY'])
    expect(a.size).toBe(0)
    a.set('k', 1)
    expect(a.get('k')).toBe(1)
  })
})

describe('history', () => {
  it('stays within 2x of the live data after 100,000 overwrites of 1,000 keys', async () => {
    const store = await memoryStore()
    const value = (i: number) => ({ theme: i % 2 ? 'dark' : 'light', n: i })
    for (let i = 0; i < 100_000; i++) store.batch(() => store.set(`user:${i % 1000}:prefs`, value(i)))
    const fresh = await memoryStore()
    fresh.batch(() => {
      for (let i = 99_000; i < 100_000; i++) fresh.set(`user:${i % 1000}:prefs`, value(i))
    })
    const history = Y.encodeStateAsUpdate(store.doc).length
    const live = Y.encodeStateAsUpdate(fresh.doc).length
    expect(history / live).toBeLessThanOrEqual(2)
    expect(store.entries()).toEqual(fresh.entries())
  }, 60_000)
})

describe('closing', () => {
  it('every call after close throws CLOSED', async () => {
    const store = await memoryStore()
    await store.close()
    const calls: (() => unknown)[] = [
      () => store.get('k'),
      () => store.has('k'),
      () => store.set('k', 1),
      () => store.delete('k'),
      () => store.clear(),
      () => store.getMany(['k']),
      () => store.setMany([['k', 1]]),
      () => store.deleteMany(['k']),
      () => store.incr('k'),
      () => store.decr('k'),
      () => store.expire('k', 1),
      () => store.persist('k'),
      () => store.ttl('k'),
      () => store.keys(),
      () => store.entries(),
      () => store.size,
      () => store.batch(() => undefined),
      () => store.watch('k', () => undefined),
    ]
    for (const call of calls) expect(codeOf(call)).toBe('CLOSED')
    await expect(store.flush()).rejects.toMatchObject({ code: 'CLOSED' })
    await expect(store.close()).resolves.toBeUndefined()
  })
})

describe('openStore', () => {
  it('refuses an empty name and bad options', async () => {
    await expect(openStore('', { persist: false })).rejects.toMatchObject({ code: 'INVALID_KEY' })
    await expect(openStore('x', { persist: false, maxValueBytes: -1 })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
  })

  it('says STORAGE_FAILED when there is no IndexedDB and persistence was not turned off', async () => {
    await expect(openStore('x')).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
  })
})

describe('inputs that used to slip through', () => {
  it('refuses expiries no replica could decode (beyond 2^53 ms)', async () => {
    const store = await memoryStore()
    store.set('k', 1)
    expect(codeOf(() => store.set('k', 1, { ttl: 1e300 }))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.set('k', 1, { expiresAt: Number.MAX_VALUE }))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.expire('k', Number.MAX_VALUE))).toBe('INVALID_VALUE')
    expect(store.ttl('k')).toBe(-1)
  })

  it('refuses bytes nested as deep as readers refuse them', async () => {
    const store = await memoryStore()
    let deep: Value = new Uint8Array([1])
    for (let i = 0; i < 256; i++) deep = [deep]
    expect(codeOf(() => store.set('k', deep))).toBe('INVALID_VALUE')
  })

  it('stops encoding a value built from shared sub-objects once it passes maxValueBytes', async () => {
    const store = await memoryStore({ maxValueBytes: 1024 })
    let v: Value = 'x'
    for (let i = 0; i < 40; i++) v = [v, v] // 2^40 leaves if encoded in full
    expect(codeOf(() => store.set('k', v))).toBe('VALUE_TOO_LARGE')
  })

  it('stores -0 as 0, as JSON does', async () => {
    const store = await memoryStore()
    store.set('k', -0)
    expect(Object.is(store.get('k'), 0)).toBe(true)
  })

  it('replicas with fractional clocks still agree on the winner', async () => {
    const a = await memoryStore({ clock: () => 1_700_000_000_000.5 })
    const b = await memoryStore({ clock: () => 1_700_000_000_000.4 })
    a.set('k', 'a')
    b.set('k', 'b')
    await Promise.all([a.flush(), b.flush()])
    const ua = Y.encodeStateAsUpdate(a.doc)
    const ub = Y.encodeStateAsUpdate(b.doc)
    Y.applyUpdate(a.doc, ub)
    Y.applyUpdate(b.doc, ua)
    await Promise.all([a.flush(), b.flush()])
    Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc))
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    expect(a.get('k')).toBeDefined()
    expect(a.get('k')).toBe(b.get('k'))
  })

  it('a batch inside an app transaction on store.doc commits after it, keeping the write', async () => {
    const store = await memoryStore()
    const text = store.doc.getText('notes')
    store.doc.transact(() => {
      text.insert(0, 'hello')
      store.batch(() => store.set('k', 1))
    })
    await store.flush()
    expect(store.get('k')).toBe(1)
    expect(store.doc.getArray('tidekv').length).toBe(1)
    const replica = await memoryStore()
    Y.applyUpdate(replica.doc, Y.encodeStateAsUpdate(store.doc))
    expect(replica.get('k')).toBe(1)
  })

  it('a key with one entry holds it without an array (56 B a key); two entries are an array, and one again after a set', async () => {
    const store = await memoryStore()
    // reason: white-box look at the slot, the only place the representation shows
    const entriesOf = (key: string) => (store as unknown as { replica: { keyspace: { get(key: string): { entries: unknown } } } }).replica.keyspace.get(key).entries
    store.set('k', 1)
    expect(Array.isArray(entriesOf('k'))).toBe(false)
    store.incr('k', 2) // a counter contribution beside the base
    expect(entriesOf('k')).toHaveLength(2)
    store.set('k', 'plain')
    await store.flush()
    expect(Array.isArray(entriesOf('k'))).toBe(false)
    expect(store.get('k')).toBe('plain')
  })

  it("a counter's contribution keeps a copy of its base's stamp, not the overwritten base entry itself", async () => {
    const store = await memoryStore()
    store.set('n', 10)
    store.incr('n', 5)
    await store.flush()
    // reason: white-box look at the slot's entries, the only place the retention shows
    const slot = (store as unknown as { replica: { keyspace: { get(key: string): { base: object; entries: { epoch: object | null }[] } } } }).replica.keyspace.get('n')
    const contribution = slot.entries.find((e) => e.epoch !== null)!
    expect(contribution.epoch).not.toBe(slot.base)
    expect(Object.keys(contribution.epoch!).sort()).toEqual(['counter', 'replica', 'wall'])
    expect(store.get('n')).toBe(15)
  })

  it('refreshing a TTL many times does not grow the expiry heap without bound', async () => {
    const clock = manualClock()
    const store = await memoryStore({ clock: clock.fn })
    for (let i = 0; i < 20_000; i++) {
      clock.now++
      store.set('session', i, { ttl: 86_400_000 })
    }
    // reason: white-box look at the heap, the only place the growth shows
    const heap = (store as unknown as { replica: { keyspace: { expiry: { size: number } } } }).replica.keyspace.expiry
    expect(heap.size).toBeLessThan(2048)
  })
})
