import { describe, expect, it } from 'vitest'
import { baseSeed, Random, replayHint } from '@tidekv/core/testing'
import { SortedIndex } from './sorted-index.js'

const collect = (index: SortedIndex, from = '', exclusive = false, max = Infinity) => {
  const out: string[] = []
  index.scan(from, exclusive, (k) => out.push(k) < max)
  return out
}

describe('SortedIndex', () => {
  it('keeps keys in JavaScript string order through inserts and deletes across many chunks', () => {
    const index = new SortedIndex()
    const model = new Set<string>()
    const seed = baseSeed(7)
    const random = new Random(seed)
    for (let i = 0; i < 20_000; i++) {
      const key = `k${random.int(0, 4999)}`
      if (random.chance(0.7)) expect(index.insert(key), replayHint(seed)).toBe(!model.has(key)), model.add(key)
      else expect(index.delete(key), replayHint(seed)).toBe(model.has(key)), model.delete(key)
    }
    expect(index.size, replayHint(seed)).toBe(model.size)
    expect(collect(index), replayHint(seed)).toEqual([...model].sort())
    for (const k of ['k1', 'k2', 'k4999', 'zzz']) expect(index.has(k)).toBe(model.has(k))
  })

  it('scans from a bound, inclusive or exclusive, and stops when told', () => {
    const index = SortedIndex.fromSorted(['a', 'b', 'c', 'd'])
    expect(collect(index, 'b')).toEqual(['b', 'c', 'd'])
    expect(collect(index, 'b', true)).toEqual(['c', 'd'])
    expect(collect(index, 'bb')).toEqual(['c', 'd'])
    expect(collect(index, 'a', false, 2)).toEqual(['a', 'b'])
    expect(collect(index, 'e')).toEqual([])
    expect(collect(new SortedIndex())).toEqual([])
  })

  it('builds from sorted keys and stays consistent when changed afterwards', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `key:${String(i).padStart(5, '0')}`)
    const index = SortedIndex.fromSorted(keys)
    index.delete('key:00000')
    index.insert('key:01500x')
    index.insert('a')
    const expected = [...keys.slice(1), 'key:01500x', 'a'].sort()
    expect(collect(index)).toEqual(expected)
    index.clear()
    expect(index.size).toBe(0)
  })
})
