import { describe, expect, it } from 'vitest'
import type { DocStore as Store, Value } from '../index.js'
import { codeOf, illTyped, memoryStores, replicaOf } from '../testing/test-support.js'

const memoryStore = memoryStores('list')

/** A store with the list 'l' = [a, b, c, d, e]. */
async function abcde(): Promise<Store> {
  const store = await memoryStore()
  store.list('l').pushRight('a', 'b', 'c', 'd', 'e')
  return store
}

describe('list push', () => {
  it('pushRight appends in order and returns the new length (RPUSH)', async () => {
    const store = await memoryStore()
    const l = store.list('jobs')
    expect(l.key).toBe('jobs')
    expect(l.pushRight('a')).toBe(1)
    expect(l.pushRight('b', 'c')).toBe(3)
    expect(l.range(0, -1)).toEqual(['a', 'b', 'c'])
    expect(store.type('jobs')).toBe('list')
  })

  it('pushLeft pushes one value after the other, so the last ends up first (LPUSH)', async () => {
    const store = await memoryStore()
    const l = store.list('l')
    expect(l.pushLeft('a', 'b', 'c')).toBe(3)
    expect(l.range(0, -1)).toEqual(['c', 'b', 'a'])
    expect(l.pushLeft('d')).toBe(4)
    expect(l.range(0, -1)).toEqual(['d', 'c', 'b', 'a'])
  })

  it('left and right pushes interleave like Redis: left pushes before everything, right pushes after', async () => {
    const store = await memoryStore({ clock: () => 1_700_000_000_000 }) // one millisecond: order comes from the clock's counter
    const l = store.list('l')
    l.pushRight('r1')
    l.pushLeft('l1')
    l.pushRight('r2', 'r3')
    l.pushLeft('l2', 'l3')
    expect(l.range(0, -1)).toEqual(['l3', 'l2', 'l1', 'r1', 'r2', 'r3'])
    expect((await replicaOf(store)).list('l').range(0, -1)).toEqual(['l3', 'l2', 'l1', 'r1', 'r2', 'r3'])
  })

  it('keeps duplicates and values of every kind', async () => {
    const store = await memoryStore()
    const values: Value[] = [null, true, 0, -1.5, 'x', 'x', [], [1, 'a'], {}, { a: { b: [1] } }, new Uint8Array([0, 255]), 'x']
    const l = store.list('l')
    expect(l.pushRight(...values)).toBe(values.length)
    expect(l.range(0, -1)).toEqual(values)
    expect((await replicaOf(store)).list('l').range(0, -1)).toEqual(values)
  })

  it('refuses a push of no values, and any invalid value, changing nothing', async () => {
    const store = await memoryStore({ maxValueBytes: 64 })
    const l = store.list('l')
    expect(codeOf(() => l.pushRight())).toBe('INVALID_VALUE')
    expect(codeOf(() => l.pushLeft())).toBe('INVALID_VALUE')
    expect(store.type('l')).toBe('none')
    l.pushRight('keep')
    expect(codeOf(() => l.pushRight('ok', illTyped(undefined)))).toBe('INVALID_VALUE')
    expect(codeOf(() => l.pushLeft('ok', NaN))).toBe('INVALID_VALUE')
    expect(codeOf(() => l.pushLeft('ok', illTyped(new Date())))).toBe('INVALID_VALUE')
    expect(codeOf(() => l.pushRight('ok', 'x'.repeat(100)))).toBe('VALUE_TOO_LARGE')
    expect(l.range(0, -1)).toEqual(['keep'])
  })

  it('never aliases values: changing what was pushed or what was read does not change the store', async () => {
    const store = await memoryStore()
    const l = store.list('l')
    const input = { n: [1] }
    l.pushRight(input, new Uint8Array([1, 2]))
    input.n.push(2)
    expect(Object.isFrozen(l.at(0))).toBe(true)
    l.at<Uint8Array>(1)![0] = 9
    l.range<Uint8Array>(1, 1)[0]![1] = 9
    expect(l.range(0, -1)).toEqual([{ n: [1] }, new Uint8Array([1, 2])])
  })
})

describe('list pop', () => {
  it('popLeft and popRight remove and return the first and the last value', async () => {
    const store = await abcde()
    const l = store.list('l')
    expect(l.popLeft()).toBe('a')
    expect(l.popRight()).toBe('e')
    expect(l.range(0, -1)).toEqual(['b', 'c', 'd'])
    expect(l.length).toBe(3)
  })

  it('pops return undefined on a missing list', async () => {
    const store = await memoryStore()
    expect(store.list('l').popLeft()).toBeUndefined()
    expect(store.list('l').popRight()).toBeUndefined()
    expect(store.type('l')).toBe('none')
  })

  it('popping the last value removes the key: type none, and nothing left in the document', async () => {
    const store = await memoryStore()
    const l = store.list('l')
    l.pushRight(1, 2)
    await store.flush()
    expect(l.popRight()).toBe(2)
    expect(l.popLeft()).toBe(1)
    expect(l.popLeft()).toBeUndefined()
    expect(store.type('l')).toBe('none')
    expect(store.has('l')).toBe(false)
    await store.flush()
    expect(store.doc.getArray('tidekv').length).toBe(0)
  })
})

describe('list range', () => {
  it('takes start and stop inclusive, negative counting from the end (LRANGE)', async () => {
    const l = (await abcde()).list('l')
    expect(l.range(0, -1)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(l.range(1, 2)).toEqual(['b', 'c'])
    expect(l.range(-2, -1)).toEqual(['d', 'e'])
    expect(l.range(0, 0)).toEqual(['a'])
    expect(l.range(-1, -1)).toEqual(['e'])
    expect(l.range(1, -2)).toEqual(['b', 'c', 'd'])
  })

  it('clamps out-of-range indexes and answers [] for an empty or inverted range', async () => {
    const l = (await abcde()).list('l')
    expect(l.range(-100, 100)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(l.range(3, 100)).toEqual(['d', 'e'])
    expect(l.range(5, 10)).toEqual([])
    expect(l.range(3, 1)).toEqual([])
    expect(l.range(0, -100)).toEqual([])
    expect(l.range(-1, -2)).toEqual([])
  })

  it('answers [] for a missing list', async () => {
    const store = await memoryStore()
    expect(store.list('l').range(0, -1)).toEqual([])
  })

  it('refuses indexes that are not integers with INVALID_VALUE, on a missing list too', async () => {
    const store = await abcde()
    for (const l of [store.list('l'), store.list('missing')]) {
      expect(codeOf(() => l.range(0.5, 2))).toBe('INVALID_VALUE')
      expect(codeOf(() => l.range(0, NaN))).toBe('INVALID_VALUE')
      expect(codeOf(() => l.range(0, Infinity))).toBe('INVALID_VALUE')
      expect(codeOf(() => l.range(illTyped('0'), 1))).toBe('INVALID_VALUE')
    }
  })
})

describe('list at', () => {
  it('reads the value at an index, negative counting from the end (LINDEX)', async () => {
    const l = (await abcde()).list('l')
    expect(l.at(0)).toBe('a')
    expect(l.at(4)).toBe('e')
    expect(l.at(-1)).toBe('e')
    expect(l.at(-5)).toBe('a')
  })

  it('answers undefined out of range and on a missing list', async () => {
    const store = await abcde()
    expect(store.list('l').at(5)).toBeUndefined()
    expect(store.list('l').at(-6)).toBeUndefined()
    expect(store.list('missing').at(0)).toBeUndefined()
  })

  it('refuses an index that is not an integer with INVALID_VALUE', async () => {
    const l = (await abcde()).list('l')
    expect(codeOf(() => l.at(1.5))).toBe('INVALID_VALUE')
    expect(codeOf(() => l.at(NaN))).toBe('INVALID_VALUE')
    expect(codeOf(() => l.at(illTyped('1')))).toBe('INVALID_VALUE')
  })
})

describe('list set', () => {
  it('replaces the value at an index, negative counting from the end, keeping its position (LSET)', async () => {
    const store = await abcde()
    const l = store.list('l')
    l.set(1, 'B')
    l.set(-1, { e: true })
    expect(l.range(0, -1)).toEqual(['a', 'B', 'c', 'd', { e: true }])
    expect(l.length).toBe(5)
    expect((await replicaOf(store)).list('l').range(0, -1)).toEqual(['a', 'B', 'c', 'd', { e: true }])
  })

  it('throws OUT_OF_RANGE for an index with no element, and on a missing list', async () => {
    const store = await abcde()
    expect(codeOf(() => store.list('l').set(5, 'x'))).toBe('OUT_OF_RANGE')
    expect(codeOf(() => store.list('l').set(-6, 'x'))).toBe('OUT_OF_RANGE')
    expect(codeOf(() => store.list('missing').set(0, 'x'))).toBe('OUT_OF_RANGE')
    expect(store.type('missing')).toBe('none')
    expect(store.list('l').range(0, -1)).toEqual(['a', 'b', 'c', 'd', 'e'])
  })

  it('refuses a bad index or value with INVALID_VALUE (VALUE_TOO_LARGE when too large), changing nothing', async () => {
    const store = await memoryStore({ maxValueBytes: 64 })
    const l = store.list('l')
    l.pushRight('a')
    expect(codeOf(() => l.set(0.5, 'x'))).toBe('INVALID_VALUE')
    expect(codeOf(() => l.set(0, illTyped(undefined)))).toBe('INVALID_VALUE')
    expect(codeOf(() => l.set(0, 'x'.repeat(100)))).toBe('VALUE_TOO_LARGE')
    expect(l.range(0, -1)).toEqual(['a'])
  })
})

describe('list remove', () => {
  /** [x, y, x, z, x, y]: three x, two y. */
  async function repeated(): Promise<Store> {
    const store = await memoryStore()
    store.list('l').pushRight('x', 'y', 'x', 'z', 'x', 'y')
    return store
  }

  it('count > 0 removes the first count equal values from the left (LREM)', async () => {
    const l = (await repeated()).list('l')
    expect(l.remove('x', 2)).toBe(2)
    expect(l.range(0, -1)).toEqual(['y', 'z', 'x', 'y'])
  })

  it('count < 0 removes the last -count equal values from the right', async () => {
    const l = (await repeated()).list('l')
    expect(l.remove('x', -2)).toBe(2)
    expect(l.range(0, -1)).toEqual(['x', 'y', 'z', 'y'])
  })

  it('count 0 (the default) removes every equal value', async () => {
    const l = (await repeated()).list('l')
    expect(l.remove('x')).toBe(3)
    expect(l.range(0, -1)).toEqual(['y', 'z', 'y'])
    expect(l.remove('y', 0)).toBe(2)
    expect(l.range(0, -1)).toEqual(['z'])
  })

  it('returns how many it removed: fewer than count when fewer match, 0 for no match or a missing list', async () => {
    const store = await repeated()
    expect(store.list('l').remove('y', 10)).toBe(2)
    expect(store.list('l').remove('y', -10)).toBe(0)
    expect(store.list('l').remove('absent')).toBe(0)
    expect(store.list('missing').remove('x')).toBe(0)
  })

  it('compares values deeply, by their encoding: object keys must come in the same order', async () => {
    const store = await memoryStore()
    const l = store.list('l')
    l.pushRight({ a: 1, b: [2] }, { b: [2], a: 1 }, 1, 1.5, '1', new Uint8Array([1]))
    expect(l.remove({ a: 1, b: [2] })).toBe(1)
    expect(l.remove(1)).toBe(1)
    expect(l.remove(1.5)).toBe(1)
    expect(l.remove(new Uint8Array([1]))).toBe(1)
    expect(l.range(0, -1)).toEqual([{ b: [2], a: 1 }, '1'])
  })

  it('removing every element removes the key', async () => {
    const store = await memoryStore()
    store.list('l').pushRight('x', 'x')
    expect(store.list('l').remove('x')).toBe(2)
    expect(store.type('l')).toBe('none')
  })

  it('refuses a count that is not an integer, or a value that is not a TideKV value, with INVALID_VALUE', async () => {
    const l = (await repeated()).list('l')
    expect(codeOf(() => l.remove('x', 1.5))).toBe('INVALID_VALUE')
    expect(codeOf(() => l.remove('x', NaN))).toBe('INVALID_VALUE')
    expect(codeOf(() => l.remove(illTyped(undefined)))).toBe('INVALID_VALUE')
    expect(l.length).toBe(6)
  })
})

describe('list trim', () => {
  it('keeps only start..stop inclusive, negative counting from the end (LTRIM)', async () => {
    const store = await abcde()
    store.list('l').trim(1, -2)
    expect(store.list('l').range(0, -1)).toEqual(['b', 'c', 'd'])
    store.list('l').trim(-2, 100)
    expect(store.list('l').range(0, -1)).toEqual(['c', 'd'])
    store.list('l').trim(0, -1)
    expect(store.list('l').range(0, -1)).toEqual(['c', 'd'])
  })

  it('an empty range (start after stop, or past the end) removes the key', async () => {
    for (const [start, stop] of [
      [3, 1],
      [5, 10],
      [0, -6],
    ] as const) {
      const store = await abcde()
      await store.flush()
      expect(store.list('l').trim(start, stop)).toBeUndefined()
      expect(store.list('l').length, `${start}..${stop}`).toBe(0)
      expect(store.type('l')).toBe('none')
      await store.flush()
      expect(store.doc.getArray('tidekv').length).toBe(0)
    }
  })

  it('does nothing on a missing list', async () => {
    const store = await memoryStore()
    store.list('l').trim(0, 1)
    expect(store.type('l')).toBe('none')
  })

  it('refuses indexes that are not integers with INVALID_VALUE, changing nothing', async () => {
    const store = await abcde()
    expect(codeOf(() => store.list('l').trim(0.5, 1))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.list('l').trim(0, NaN))).toBe('INVALID_VALUE')
    expect(codeOf(() => store.list('missing').trim(0, NaN))).toBe('INVALID_VALUE')
    expect(store.list('l').length).toBe(5)
  })
})

describe('list length', () => {
  it('counts the elements; 0 for a missing list', async () => {
    const store = await abcde()
    expect(store.list('l').length).toBe(5)
    store.list('l').popLeft()
    expect(store.list('l').length).toBe(4)
    expect(store.list('missing').length).toBe(0)
  })
})
