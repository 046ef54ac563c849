import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { DocStore as Store } from '../index.js'
import { codeOf, illTyped, memoryStores } from '../testing/test-support.js'

const memoryStore = memoryStores('sorted-set')

/** A store with the sorted set 'z': a 1, b 2, c 2, d 3, e 5 (b and c tie: member order decides). */
async function board(): Promise<Store> {
  const store = await memoryStore()
  const z = store.sortedSet('z')
  z.add('e', 5)
  z.add('c', 2)
  z.add('a', 1)
  z.add('d', 3)
  z.add('b', 2)
  return store
}

describe('sorted set add and score', () => {
  it('add returns true for a new member and false for a new score of an existing one (ZADD)', async () => {
    const store = await memoryStore()
    const z = store.sortedSet('leaderboard')
    expect(z.key).toBe('leaderboard')
    expect(z.add('ada', 120)).toBe(true)
    expect(z.add('ada', 80)).toBe(false)
    expect(z.score('ada')).toBe(80)
    expect(z.size).toBe(1)
    expect(store.type('leaderboard')).toBe('zset')
  })

  it('score is undefined for a missing member and on a missing key', async () => {
    const store = await board()
    expect(store.sortedSet('z').score('nobody')).toBeUndefined()
    expect(store.sortedSet('missing').score('a')).toBeUndefined()
  })

  it('orders by score, negative and fractional included, then by member; a new score moves the member', async () => {
    const store = await memoryStore()
    const z = store.sortedSet('z')
    z.add('m', 0.5)
    z.add('n', -2)
    z.add('o', 1e10)
    z.add('p', -0.25)
    expect(z.range(0, -1)).toEqual(['n', 'p', 'm', 'o'])
    z.add('o', -3)
    expect(z.range(0, -1, { withScores: true })).toEqual([
      ['o', -3],
      ['n', -2],
      ['p', -0.25],
      ['m', 0.5],
    ])
    await store.flush()
    const replica = await memoryStore()
    Y.applyUpdate(replica.doc, Y.encodeStateAsUpdate(store.doc))
    expect(replica.sortedSet('z').range(0, -1, { withScores: true })).toEqual(z.range(0, -1, { withScores: true }))
  })

  it('refuses a score that is not a finite number, and a member that is not a string or is too long, with INVALID_VALUE', async () => {
    const store = await memoryStore({ maxKeyBytes: 8 })
    const z = store.sortedSet('z')
    for (const score of [NaN, Infinity, -Infinity, '1', null, undefined]) {
      expect(
        codeOf(() => z.add('m', illTyped(score))),
        String(score),
      ).toBe('INVALID_VALUE')
    }
    expect(codeOf(() => z.add(illTyped(5), 1))).toBe('INVALID_VALUE')
    expect(codeOf(() => z.add('123456789', 1))).toBe('INVALID_VALUE')
    expect(store.type('z')).toBe('none')
  })
})

describe('sorted set incr', () => {
  it('starts a missing member at 0 and returns the new score (ZINCRBY)', async () => {
    const store = await memoryStore()
    const z = store.sortedSet('z')
    expect(z.incr('ada', 10)).toBe(10)
    expect(z.incr('ada', -2.5)).toBe(7.5)
    expect(z.score('ada')).toBe(7.5)
    expect(z.incr('bob', 0)).toBe(0)
    expect(z.range(0, -1)).toEqual(['bob', 'ada'])
    expect(store.type('z')).toBe('zset')
  })

  it('builds on a score set by add, and add resets it', async () => {
    const store = await memoryStore()
    const z = store.sortedSet('z')
    z.add('m', 100)
    expect(z.incr('m', 5)).toBe(105)
    expect(z.add('m', 1)).toBe(false)
    expect(z.incr('m', 1)).toBe(2)
  })

  it('refuses an increment that is not a finite number, or a bad member, with INVALID_VALUE', async () => {
    const store = await memoryStore()
    const z = store.sortedSet('z')
    z.add('m', 1)
    for (const by of [NaN, Infinity, -Infinity, '1', undefined]) {
      expect(
        codeOf(() => z.incr('m', illTyped(by))),
        String(by),
      ).toBe('INVALID_VALUE')
    }
    expect(codeOf(() => z.incr(illTyped(null), 1))).toBe('INVALID_VALUE')
    expect(z.range(0, -1, { withScores: true })).toEqual([['m', 1]])
  })

  it('throws OUT_OF_RANGE when the score would stop being finite, changing nothing', async () => {
    const store = await memoryStore()
    const z = store.sortedSet('z')
    z.add('m', Number.MAX_VALUE)
    expect(codeOf(() => z.incr('m', Number.MAX_VALUE))).toBe('OUT_OF_RANGE')
    expect(z.score('m')).toBe(Number.MAX_VALUE)
  })

  // BUG: incr returns ((base + c1) + c2), but the stored score is base + (c1 + c2): float
  // addition is not associative, so the returned score can differ from score() and from the
  // order in the index. Drop `.fails` once fixed.
  it('returns exactly the score that score() then reads', async () => {
    const store = await memoryStore()
    const z = store.sortedSet('z')
    z.add('m', 0.1)
    z.incr('m', 0.2)
    const returned = z.incr('m', 0.3)
    expect(returned).toBe(z.score('m'))
  })
})

describe('sorted set remove', () => {
  it('returns how many members were there, counting a repeated member once (ZREM)', async () => {
    const store = await board()
    const z = store.sortedSet('z')
    expect(z.remove('a', 'a', 'nobody')).toBe(1)
    expect(z.remove()).toBe(0)
    expect(z.range(0, -1)).toEqual(['b', 'c', 'd', 'e'])
    expect(z.size).toBe(4)
    expect(store.sortedSet('missing').remove('a')).toBe(0)
  })

  it('removing the last member removes the key: type none, and nothing left in the document', async () => {
    const store = await memoryStore()
    const z = store.sortedSet('z')
    z.add('a', 1)
    z.incr('b', 2)
    await store.flush()
    expect(z.remove('a', 'b')).toBe(2)
    expect(store.type('z')).toBe('none')
    expect(z.size).toBe(0)
    await store.flush()
    expect(store.doc.getArray('tidekv').length).toBe(0)
  })
})

describe('sorted set rank', () => {
  it('is the 0-based position by ascending score, or from the top with rev (ZRANK, ZREVRANK)', async () => {
    const z = (await board()).sortedSet('z')
    expect(['a', 'b', 'c', 'd', 'e'].map((m) => z.rank(m))).toEqual([0, 1, 2, 3, 4])
    expect(['a', 'b', 'c', 'd', 'e'].map((m) => z.rank(m, { rev: true }))).toEqual([4, 3, 2, 1, 0])
  })

  it('is undefined for a missing member and on a missing key', async () => {
    const store = await board()
    expect(store.sortedSet('z').rank('nobody')).toBeUndefined()
    expect(store.sortedSet('z').rank('nobody', { rev: true })).toBeUndefined()
    expect(store.sortedSet('missing').rank('a')).toBeUndefined()
  })
})

describe('sorted set range by rank', () => {
  it('takes ranks start..stop inclusive, negative counting from the end (ZRANGE)', async () => {
    const z = (await board()).sortedSet('z')
    expect(z.range(0, -1)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(z.range(1, 2)).toEqual(['b', 'c'])
    expect(z.range(-2, -1)).toEqual(['d', 'e'])
    expect(z.range(-100, 100)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(z.range(3, 1)).toEqual([])
    expect(z.range(5, 9)).toEqual([])
  })

  it('counts ranks from the highest score with rev, ties in reverse member order (ZRANGE ... REV)', async () => {
    const z = (await board()).sortedSet('z')
    expect(z.range(0, -1, { rev: true })).toEqual(['e', 'd', 'c', 'b', 'a'])
    expect(z.range(0, 1, { rev: true })).toEqual(['e', 'd'])
    expect(z.range(-2, -1, { rev: true })).toEqual(['b', 'a'])
    expect(z.range(1, 3, { rev: true })).toEqual(['d', 'c', 'b'])
    expect(z.range(3, 1, { rev: true })).toEqual([])
  })

  it('returns [member, score] pairs with withScores, in either direction', async () => {
    const z = (await board()).sortedSet('z')
    expect(z.range(0, 1, { withScores: true })).toEqual([
      ['a', 1],
      ['b', 2],
    ])
    expect(z.range(0, 1, { rev: true, withScores: true })).toEqual([
      ['e', 5],
      ['d', 3],
    ])
  })

  it('answers [] on a missing key, and refuses non-integer ranks with INVALID_VALUE even there', async () => {
    const store = await board()
    expect(store.sortedSet('missing').range(0, -1)).toEqual([])
    for (const z of [store.sortedSet('z'), store.sortedSet('missing')]) {
      expect(codeOf(() => z.range(0.5, 1))).toBe('INVALID_VALUE')
      expect(codeOf(() => z.range(0, NaN))).toBe('INVALID_VALUE')
      expect(codeOf(() => z.range(0, Infinity))).toBe('INVALID_VALUE')
    }
  })
})

describe('sorted set range by score', () => {
  it('takes min <= score <= max in ascending order (ZRANGEBYSCORE)', async () => {
    const z = (await board()).sortedSet('z')
    expect(z.rangeByScore(2, 3)).toEqual(['b', 'c', 'd'])
    expect(z.rangeByScore(1.5, 4)).toEqual(['b', 'c', 'd'])
    expect(z.rangeByScore(5, 5)).toEqual(['e'])
    expect(z.rangeByScore(6, 10)).toEqual([])
    expect(z.rangeByScore(3, 2)).toEqual([])
  })

  it('treats -Infinity and Infinity as open ends', async () => {
    const z = (await board()).sortedSet('z')
    expect(z.rangeByScore(-Infinity, Infinity)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(z.rangeByScore(-Infinity, 2)).toEqual(['a', 'b', 'c'])
    expect(z.rangeByScore(3, Infinity)).toEqual(['d', 'e'])
  })

  it('excludes scores equal to min or max with minExclusive and maxExclusive (Redis "(")', async () => {
    const z = (await board()).sortedSet('z')
    expect(z.rangeByScore(2, 3, { minExclusive: true })).toEqual(['d'])
    expect(z.rangeByScore(2, 3, { maxExclusive: true })).toEqual(['b', 'c'])
    expect(z.rangeByScore(2, 3, { minExclusive: true, maxExclusive: true })).toEqual([])
    expect(z.rangeByScore(1, 5, { minExclusive: true, maxExclusive: true })).toEqual(['b', 'c', 'd'])
    expect(z.rangeByScore(2, 2, { minExclusive: true })).toEqual([])
  })

  it('skips offset matches and returns at most limit (LIMIT offset count)', async () => {
    const z = (await board()).sortedSet('z')
    expect(z.rangeByScore(-Infinity, Infinity, { offset: 1, limit: 2 })).toEqual(['b', 'c'])
    expect(z.rangeByScore(2, 5, { offset: 2 })).toEqual(['d', 'e'])
    expect(z.rangeByScore(2, 5, { limit: 1 })).toEqual(['b'])
    expect(z.rangeByScore(2, 5, { offset: 4 })).toEqual([])
    expect(z.rangeByScore(2, 5, { limit: 0 })).toEqual([])
  })

  it('walks from max down to min with rev, offset and limit counted from the top (ZREVRANGEBYSCORE)', async () => {
    const z = (await board()).sortedSet('z')
    expect(z.rangeByScore(2, 3, { rev: true })).toEqual(['d', 'c', 'b'])
    expect(z.rangeByScore(-Infinity, Infinity, { rev: true, offset: 1, limit: 2 })).toEqual(['d', 'c'])
    expect(z.rangeByScore(1, 5, { rev: true, minExclusive: true, maxExclusive: true })).toEqual(['d', 'c', 'b'])
    expect(z.rangeByScore(1, 5, { rev: true, offset: 4, limit: 5 })).toEqual(['a'])
    expect(z.rangeByScore(1, 5, { rev: true, offset: 5 })).toEqual([])
  })

  it('returns [member, score] pairs with withScores', async () => {
    const z = (await board()).sortedSet('z')
    expect(z.rangeByScore(3, Infinity, { withScores: true })).toEqual([
      ['d', 3],
      ['e', 5],
    ])
    expect(z.rangeByScore(3, Infinity, { withScores: true, rev: true })).toEqual([
      ['e', 5],
      ['d', 3],
    ])
  })

  it('answers [] on a missing key, and refuses NaN bounds and bad offset or limit with INVALID_VALUE', async () => {
    const store = await board()
    expect(store.sortedSet('missing').rangeByScore(-Infinity, Infinity)).toEqual([])
    for (const z of [store.sortedSet('z'), store.sortedSet('missing')]) {
      expect(codeOf(() => z.rangeByScore(NaN, 1))).toBe('INVALID_VALUE')
      expect(codeOf(() => z.rangeByScore(0, NaN))).toBe('INVALID_VALUE')
      expect(codeOf(() => z.rangeByScore(illTyped('0'), 1))).toBe('INVALID_VALUE')
      expect(codeOf(() => z.rangeByScore(0, 1, { offset: -1 }))).toBe('INVALID_VALUE')
      expect(codeOf(() => z.rangeByScore(0, 1, { offset: 0.5 }))).toBe('INVALID_VALUE')
      expect(codeOf(() => z.rangeByScore(0, 1, { limit: -1 }))).toBe('INVALID_VALUE')
      expect(codeOf(() => z.rangeByScore(0, 1, { limit: 1.5 }))).toBe('INVALID_VALUE')
    }
  })
})

describe('sorted set size', () => {
  it('counts the members; 0 on a missing key', async () => {
    const store = await board()
    expect(store.sortedSet('z').size).toBe(5)
    store.sortedSet('z').incr('f', 1)
    expect(store.sortedSet('z').size).toBe(6)
    expect(store.sortedSet('missing').size).toBe(0)
  })
})
