import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { Value } from '../index.js'
import { codeOf, illTyped, memoryStores, replicaOf } from '../testing/test-support.js'

const memoryStore = memoryStores('hash')

describe('hash set and get', () => {
  it('set returns true for a new field and false for an overwrite; get reads the value back at once', async () => {
    const store = await memoryStore()
    const user = store.hash('user:1')
    expect(user.key).toBe('user:1')
    expect(user.set('name', 'Ada')).toBe(true)
    expect(user.get('name')).toBe('Ada')
    expect(user.set('name', 'Ada Lovelace')).toBe(false)
    expect(user.get('name')).toBe('Ada Lovelace')
    expect(store.type('user:1')).toBe('hash')
    // A new handle on the same key reads the same fields: handles hold no data.
    expect(store.hash('user:1').get('name')).toBe('Ada Lovelace')
  })

  it('get and has say undefined and false for a missing field and for a missing key', async () => {
    const store = await memoryStore()
    expect(store.hash('nothing').get('f')).toBeUndefined()
    expect(store.hash('nothing').has('f')).toBe(false)
    store.hash('h').set('f', 0)
    expect(store.hash('h').get('other')).toBeUndefined()
    expect(store.hash('h').has('other')).toBe(false)
    expect(store.hash('h').has('f')).toBe(true)
    expect(store.type('nothing')).toBe('none')
  })

  it('stores every kind of value in a field, and another replica reads the same', async () => {
    const store = await memoryStore()
    const values: Value[] = [
      null,
      true,
      false,
      0,
      -1.5,
      2 ** 40,
      '',
      'ünïcødé ✓ 😀',
      [],
      [1, 'a', null],
      {},
      { a: { b: [1, { c: new Uint8Array([1, 2]) }] } },
      new Uint8Array([0, 255]),
    ]
    const h = store.hash('h')
    values.forEach((v, i) => h.set(`f${i}`, v))
    const replica = await replicaOf(store)
    values.forEach((v, i) => {
      expect(h.get(`f${i}`)).toEqual(v)
      expect(replica.hash('h').get(`f${i}`)).toEqual(v)
    })
  })

  it('never aliases values: changing what was passed to set or returned by get does not change the store', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    const input = { list: [1, 2] }
    h.set('obj', input)
    input.list.push(3)
    expect(h.get('obj')).toEqual({ list: [1, 2] })
    const out = h.get<{ list: number[] }>('obj')!
    expect(Object.isFrozen(out)).toBe(true)
    expect(() => out.list.push(4)).toThrow(TypeError)
    h.set('bytes', new Uint8Array([1, 2, 3]))
    h.get<Uint8Array>('bytes')![0] = 9
    h.getAll<Uint8Array>().bytes![1] = 9
    h.values<Uint8Array>()[0]![2] = 9 // 'bytes' sorts before 'obj'
    expect(h.get('bytes')).toEqual(new Uint8Array([1, 2, 3]))
  })

  it('field names may be any string, the empty string included', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    h.setMany({ '': 'empty', ' ': 'space', 'ünï 😀': 'unicode', '0': 'zero' })
    expect(h.get('')).toBe('empty')
    expect(h.get('ünï 😀')).toBe('unicode')
    expect(h.size).toBe(4)
    const replica = await replicaOf(store)
    expect(replica.hash('h').getAll()).toEqual(h.getAll())
  })
})

describe('hash setMany', () => {
  it('sets several fields in one call and returns how many were new', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    expect(h.setMany({ a: 1, b: 2 })).toBe(2)
    expect(h.setMany({ b: 20, c: 3 })).toBe(1)
    expect(h.getAll()).toEqual({ a: 1, b: 20, c: 3 })
  })

  it('checks every field first, so one bad value or name changes nothing', async () => {
    const store = await memoryStore({ maxValueBytes: 64, maxKeyBytes: 16 })
    const h = store.hash('h')
    h.set('keep', 1)
    await store.flush()
    const before = Y.encodeStateAsUpdate(store.doc)
    expect(codeOf(() => h.setMany({ a: 1, b: illTyped(undefined) }))).toBe('INVALID_VALUE')
    expect(codeOf(() => h.setMany({ a: 1, b: NaN }))).toBe('INVALID_VALUE')
    expect(codeOf(() => h.setMany({ a: 1, b: 'x'.repeat(100) }))).toBe('VALUE_TOO_LARGE')
    expect(codeOf(() => h.setMany({ a: 1, ['f'.repeat(17)]: 2 }))).toBe('INVALID_VALUE')
    expect(h.getAll()).toEqual({ keep: 1 })
    await store.flush()
    expect(Y.encodeStateAsUpdate(store.doc)).toEqual(before)
  })

  it('refuses an empty object, null, an array and a non-object with INVALID_VALUE', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    expect(codeOf(() => h.setMany({}))).toBe('INVALID_VALUE')
    expect(codeOf(() => h.setMany(illTyped(null)))).toBe('INVALID_VALUE')
    expect(codeOf(() => h.setMany(illTyped([1, 2])))).toBe('INVALID_VALUE')
    expect(codeOf(() => h.setMany(illTyped('ab')))).toBe('INVALID_VALUE')
    expect(store.type('h')).toBe('none')
  })
})

describe('hash input limits', () => {
  it('refuses a value larger than maxValueBytes with VALUE_TOO_LARGE and a field longer than maxKeyBytes with INVALID_VALUE', async () => {
    const store = await memoryStore({ maxValueBytes: 64, maxKeyBytes: 8 })
    const h = store.hash('h')
    expect(codeOf(() => h.set('f', 'x'.repeat(100)))).toBe('VALUE_TOO_LARGE')
    expect(codeOf(() => h.set('123456789', 1))).toBe('INVALID_VALUE')
    expect(codeOf(() => h.set('ééééé', 1))).toBe('INVALID_VALUE') // 10 bytes of UTF-8
    expect(codeOf(() => h.incr('123456789'))).toBe('INVALID_VALUE')
    expect(h.set('12345678', 'x'.repeat(50))).toBe(true)
    expect(h.keys()).toEqual(['12345678'])
  })

  it('refuses a value that is not a TideKV value with INVALID_VALUE', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    for (const bad of [undefined, NaN, Infinity, () => 1, new Date(), new Map(), 10n]) {
      expect(
        codeOf(() => h.set('f', illTyped(bad))),
        String(bad),
      ).toBe('INVALID_VALUE')
    }
    expect(store.has('h')).toBe(false)
  })

  it('refuses a field that is not a string in incr with INVALID_VALUE', async () => {
    const store = await memoryStore()
    expect(codeOf(() => store.hash('h').incr(illTyped(5)))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.hash('h').incr(illTyped(null)))).toBe('INVALID_VALUE')
    expect(store.has('h')).toBe(false)
  })

  // BUG: set() builds `{ [field]: value }`, so a number, null or undefined field is coerced to
  // the string '5', 'null' or 'undefined' instead of being refused like incr's. Drop `.fails` once fixed.
  it('refuses a field that is not a string in set with INVALID_VALUE', async () => {
    const store = await memoryStore()
    expect(codeOf(() => store.hash('h').set(illTyped(5), 'x'))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.hash('h').set(illTyped(null), 'x'))).toBe('INVALID_VALUE')
    expect(store.has('h')).toBe(false)
  })
})

describe('hash reads of every field', () => {
  it('getAll, keys and values list the fields in code-unit order, values in the order of keys', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    h.setMany({ b: 2, a: 1, B: 3, '10': 4, '9': 5 })
    expect(h.keys()).toEqual(['10', '9', 'B', 'a', 'b'])
    expect(h.values()).toEqual([4, 5, 3, 1, 2])
    expect(Object.entries(h.getAll()).sort()).toEqual([
      ['10', 4],
      ['9', 5],
      ['B', 3],
      ['a', 1],
      ['b', 2],
    ])
  })

  it('a missing hash reads as empty: {}, [], [] and size 0', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    expect(h.getAll()).toEqual({})
    expect(h.keys()).toEqual([])
    expect(h.values()).toEqual([])
    expect(h.size).toBe(0)
  })

  it('size counts the fields', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    h.setMany({ a: 1, b: 2 })
    h.incr('c')
    expect(h.size).toBe(3)
    h.delete('a')
    expect(h.size).toBe(2)
  })
})

describe('hash delete', () => {
  it('returns how many of the fields existed, counting a repeated field once', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    h.setMany({ a: 1, b: 2, c: 3 })
    expect(h.delete('a', 'a', 'missing')).toBe(1)
    expect(h.delete()).toBe(0)
    expect(h.getAll()).toEqual({ b: 2, c: 3 })
    expect(store.hash('nothing').delete('a')).toBe(0)
  })

  it('removing the last field removes the key: type none, and nothing left in the document', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    h.setMany({ a: 1, b: 2 })
    await store.flush()
    expect(h.delete('a', 'b')).toBe(2)
    expect(store.type('h')).toBe('none')
    expect(store.has('h')).toBe(false)
    expect(store.keys()).toEqual([])
    expect(store.size).toBe(0)
    await store.flush()
    expect(store.doc.getArray('tidekv').length).toBe(0)
  })
})

describe('hash incr', () => {
  it('counts a missing field from 0, builds on a set integer, and returns the result', async () => {
    const store = await memoryStore()
    const h = store.hash('stats')
    expect(h.incr('visits')).toBe(1)
    expect(h.incr('visits', 10)).toBe(11)
    expect(h.incr('visits', -20)).toBe(-9)
    expect(h.get('visits')).toBe(-9)
    h.set('score', 100)
    expect(h.incr('score', 5)).toBe(105)
    expect(h.incr('zero', 0)).toBe(0)
    expect(h.getAll()).toEqual({ score: 105, visits: -9, zero: 0 })
    expect(store.type('stats')).toBe('hash')
  })

  it('set on a counted field resets it', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    h.incr('n', 7)
    expect(h.set('n', 1)).toBe(false)
    expect(h.incr('n')).toBe(2)
  })

  it('a field that is not a safe integer, or an increment that is not one, throws NOT_AN_INTEGER and changes nothing', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    h.setMany({ text: 'ten', float: 1.5, obj: { n: 1 } })
    expect(codeOf(() => h.incr('text'))).toBe('NOT_AN_INTEGER')
    expect(codeOf(() => h.incr('float'))).toBe('NOT_AN_INTEGER')
    expect(codeOf(() => h.incr('obj'))).toBe('NOT_AN_INTEGER')
    expect(codeOf(() => h.incr('n', 0.5))).toBe('NOT_AN_INTEGER')
    expect(codeOf(() => h.incr('n', NaN))).toBe('NOT_AN_INTEGER')
    expect(codeOf(() => h.incr('n', 2 ** 53))).toBe('NOT_AN_INTEGER')
    expect(h.getAll()).toEqual({ float: 1.5, obj: { n: 1 }, text: 'ten' })
  })

  it('a result beyond the safe integer range throws OUT_OF_RANGE and changes nothing', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    h.set('n', Number.MAX_SAFE_INTEGER - 1)
    expect(h.incr('n')).toBe(Number.MAX_SAFE_INTEGER)
    expect(codeOf(() => h.incr('n'))).toBe('OUT_OF_RANGE')
    h.set('m', -Number.MAX_SAFE_INTEGER)
    expect(codeOf(() => h.incr('m', -1))).toBe('OUT_OF_RANGE')
    expect(h.getAll()).toEqual({ m: -Number.MAX_SAFE_INTEGER, n: Number.MAX_SAFE_INTEGER })
  })

  it('keeps one entry per field however often it is incremented', async () => {
    const store = await memoryStore()
    const h = store.hash('h')
    for (let i = 0; i < 100; i++) store.batch(() => h.incr('n'))
    await store.flush()
    expect(h.get('n')).toBe(100)
    expect(store.doc.getArray('tidekv').length).toBe(1)
    expect((await replicaOf(store)).hash('h').get('n')).toBe(100)
  })
})
