/**
 * RankedIndex: each method on hand-picked cases, then a seeded random run
 * against a plain sorted array. Seeded: the seed is printed, and
 * `TIDEKV_SEED=<n>` replays (default: a fixed seed, so runs are deterministic).
 */
import { describe, expect, it } from 'vitest'
import { baseSeed, Random, replayHint, sequenceSeed } from '../testing/random.js'
import { RankedIndex } from './ranked-index.js'

const SEED = baseSeed(0x5eed1d)
console.log(`ranked-index.test: ${replayHint(SEED)}`)

const byNumber = (a: number, b: number) => a - b
/** A sorted-set member: ordered by score, then member. */
type Scored = { score: number; member: string }
const byScore = (a: Scored, b: Scored) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0)

const walked = <T>(index: RankedIndex<T>, start: number, reverse = false, max = Infinity) => {
  const out: T[] = []
  index.walk(start, reverse, (item) => out.push(item) < max)
  return out
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

describe('RankedIndex', () => {
  it('answers every question on an empty index without throwing', () => {
    const index = new RankedIndex(byNumber)
    expect(index.size).toBe(0)
    expect(index.at(0)).toBeUndefined()
    expect(index.rank(1)).toBe(-1)
    expect(index.delete(1)).toBe(false)
    expect(index.count(() => true)).toBe(0)
    expect(walked(index, 0)).toEqual([])
    expect(walked(index, 0, true)).toEqual([])
    expect(index.slice(0, 10)).toEqual([])
  })

  it('orders a sorted set by score then member, and refuses an equal item, keeping the first', () => {
    const zset = new RankedIndex(byScore)
    const alice = { score: 3, member: 'alice' }
    expect(zset.insert(alice)).toBe(true)
    expect(zset.insert({ score: 1, member: 'bob' })).toBe(true)
    expect(zset.insert({ score: 3, member: 'aaron' })).toBe(true)
    expect(zset.insert({ score: 3, member: 'alice' })).toBe(false)
    expect(zset.size).toBe(3)
    expect(zset.slice(0, 3).map((m) => m.member)).toEqual(['bob', 'aaron', 'alice'])
    expect(zset.at(2)).toBe(alice)
    expect(zset.rank({ score: 3, member: 'alice' })).toBe(2)
    expect(zset.rank({ score: 2, member: 'alice' })).toBe(-1)
  })

  it('deletes the item equal to the one given, and reports a missing one', () => {
    const index = RankedIndex.fromSorted(byNumber, [10, 20, 30])
    expect(index.delete(20)).toBe(true)
    expect(index.delete(20)).toBe(false)
    expect(index.delete(25)).toBe(false)
    expect(index.slice(0, 10)).toEqual([10, 30])
    expect(index.rank(30)).toBe(1)
  })

  it('reads the item at a position, and undefined outside [0, size) or for a fractional position', () => {
    const index = RankedIndex.fromSorted(byNumber, [5, 6, 7])
    expect([0, 1, 2].map((i) => index.at(i))).toEqual([5, 6, 7])
    for (const i of [-1, 3, 1.5, NaN, Infinity]) expect(index.at(i)).toBeUndefined()
  })

  it('counts the prefix where a monotone predicate holds: lower and upper bounds, all, none', () => {
    const index = RankedIndex.fromSorted(byNumber, [10, 20, 20.5, 30], 2)
    expect(index.count((x) => x < 20)).toBe(1) // lower bound of 20
    expect(index.count((x) => x <= 20)).toBe(2) // upper bound of 20
    expect(index.count((x) => x < 25)).toBe(3)
    expect(index.count(() => true)).toBe(4)
    expect(index.count(() => false)).toBe(0)
  })

  it('walks up from a position, or down when reversed, and stops when the visitor returns false', () => {
    const index = RankedIndex.fromSorted(byNumber, range(0, 10), 2)
    expect(walked(index, 7)).toEqual([7, 8, 9])
    expect(walked(index, 9, true)).toEqual(range(0, 10).reverse()) // from the last position
    expect(walked(index, 5, true, 3)).toEqual([5, 4, 3])
    expect(walked(index, 2, false, 1)).toEqual([2])
    const seen: number[] = []
    index.walk(0, false, (x) => void seen.push(x)) // returning nothing keeps going
    expect(seen).toEqual(range(0, 10))
  })

  it('clamps a walk that starts past an end: toward the items it starts at the end, away it visits nothing', () => {
    const index = RankedIndex.fromSorted(byNumber, [1, 2, 3])
    expect(walked(index, -5)).toEqual([1, 2, 3])
    expect(walked(index, 99, true)).toEqual([3, 2, 1])
    expect(walked(index, 3)).toEqual([])
    expect(walked(index, -1, true)).toEqual([])
    expect(walked(index, NaN)).toEqual([])
  })

  it('slices positions [start, end) within [0, size), with no counting from the end', () => {
    const index = RankedIndex.fromSorted(byNumber, range(0, 20), 2)
    expect(index.slice(3, 9)).toEqual(range(3, 9))
    expect(index.slice(-5, 2)).toEqual([0, 1])
    expect(index.slice(18, 100)).toEqual([18, 19])
    expect(index.slice(5, 5)).toEqual([])
    expect(index.slice(9, 3)).toEqual([])
    expect(index.slice(0, Infinity)).toEqual(range(0, 20))
  })

  it('builds from sorted items, stays consistent when changed afterwards, and empties on clear', () => {
    const index = RankedIndex.fromSorted(
      byNumber,
      range(0, 3000).map((i) => i * 2),
    )
    expect(index.size).toBe(3000)
    expect(index.at(1500)).toBe(3000)
    index.insert(3001)
    index.delete(0)
    index.insert(-1)
    expect(index.rank(3001)).toBe(1501)
    expect(index.at(0)).toBe(-1)
    expect(index.slice(1499, 1503)).toEqual([2998, 3000, 3001, 3002])
    index.clear()
    expect(index.size).toBe(0)
    expect(index.at(0)).toBeUndefined()
    expect(index.insert(7)).toBe(true)
    expect(index.slice(0, 1)).toEqual([7])
    expect(RankedIndex.fromSorted(byNumber, []).size).toBe(0)
  })

  it('splits and folds chunks: growing to many chunks and shrinking to nothing keeps positions right', () => {
    const index = new RankedIndex(byNumber, 4)
    for (const x of range(0, 500)) index.insert((x * 7919) % 500) // every number once, out of order
    expect(index.slice(0, 500)).toEqual(range(0, 500))
    for (const x of range(0, 500)) if (x % 3 !== 0) index.delete(x)
    const left = range(0, 500).filter((x) => x % 3 === 0)
    expect(index.slice(0, 500)).toEqual(left)
    expect(left.map((x) => index.rank(x))).toEqual(range(0, left.length))
    for (const x of left) index.delete(x)
    expect(index.size).toBe(0)
  })

  it.each([2, 4, 16])('agrees with a sorted array over 20,000 seeded random operations (chunks of %i)', (load) => {
    const rng = new Random(sequenceSeed(SEED, load))
    const where = (step: number, what: string) => `${replayHint(SEED)} load=${load} step=${step}: ${what}`
    const keys = 3000
    const model: number[] = range(0, 200).map((i) => i * 5)
    const index = RankedIndex.fromSorted(byNumber, model, load)
    const lowerBound = (x: number) => {
      let lo = 0
      let hi = model.length
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (model[mid]! < x) lo = mid + 1
        else hi = mid
      }
      return lo
    }
    let emptied = false

    for (let step = 0; step < 20_000; step++) {
      // Grow, then drain (to empty, around step 14,000), then grow again: splits, folds and an empty index.
      const pInsert = step < 8000 ? 0.7 : step < 14_000 ? 0.2 : 0.6
      const x = rng.int(0, keys)
      const at = lowerBound(x)
      const present = model[at] === x
      if (rng.float() < pInsert) {
        expect(index.insert(x), where(step, `insert ${x}`)).toBe(!present)
        if (!present) model.splice(at, 0, x)
      } else {
        // Deletes mostly hit an item that is there, so the index drains.
        const victim = model.length > 0 && rng.chance(0.5) ? model[rng.int(0, model.length - 1)]! : x
        const vAt = lowerBound(victim)
        const vPresent = model[vAt] === victim
        expect(index.delete(victim), where(step, `delete ${victim}`)).toBe(vPresent)
        if (vPresent) model.splice(vAt, 1)
      }
      if (step % 5 !== 0) continue

      const n = model.length
      expect(index.size, where(step, 'size')).toBe(n)
      if (n === 0) emptied = true
      const probe = rng.int(0, keys)
      const probeAt = lowerBound(probe)
      expect(index.rank(probe), where(step, `rank ${probe}`)).toBe(model[probeAt] === probe ? probeAt : -1)
      expect(
        index.count((i) => i < probe),
        where(step, `count < ${probe}`),
      ).toBe(probeAt)
      const i = rng.int(0, n + 1) - 1 // from -1 to n: one past each end
      expect(index.at(i), where(step, `at ${i}`)).toBe(model[i])
      if (i >= 0 && i < n) expect(index.rank(model[i]!), where(step, `rank of at ${i}`)).toBe(i)
      const a = rng.int(0, n)
      const b = a + rng.int(0, 3 * load)
      expect(index.slice(a, b), where(step, `slice ${a} ${b}`)).toEqual(model.slice(a, b))
      const reverse = rng.chance(0.5)
      const top = Math.min(a, n - 1) // a reverse walk from one past the end starts at the last item
      const expected = reverse ? model.slice(Math.max(0, top - 2 * load), top + 1).reverse() : model.slice(a, a + 2 * load + 1)
      expect(walked(index, a, reverse, 2 * load + 1), where(step, `walk ${a} ${reverse}`)).toEqual(expected)
      if (step % 1000 === 0) expect(index.slice(0, n), where(step, 'all items')).toEqual(model)
    }
    expect(index.slice(0, Infinity)).toEqual(model)
    expect(emptied, 'the drain phase should reach an empty index').toBe(true)
  })
})
