import { describe, expect, it } from 'vitest'
import { CacheBudget, checkCacheOptions, SAMPLES } from './cache-budget.js'

/** A budget whose draws are deterministic and whose LFU counter counts every use (random() = 0). */
const budget = (maxBytes: number, policy: ConstructorParameters<typeof CacheBudget>[1]) =>
  new CacheBudget(
    maxBytes,
    policy,
    () => 0,
    () => 0,
  )

describe('CacheBudget', () => {
  it('counts the bytes of live keys, and forgets a key that went', () => {
    const b = budget(100, 'allkeys-lru')
    b.changed('a', 30, 0)
    b.changed('b', 50, 0)
    b.changed('a', 40, 0)
    expect([b.bytes, b.keys, b.over]).toEqual([90, 2, false])
    b.changed('b', 0, 0)
    expect([b.bytes, b.keys]).toEqual([40, 1])
    b.changed('c', 70, 0)
    expect(b.over).toBe(true)
    b.cleared()
    expect([b.bytes, b.keys]).toEqual([0, 0])
  })

  it('LRU: with no more keys than it draws, the victim is exactly the least recently used (a write is a use)', () => {
    const b = budget(1000, 'allkeys-lru')
    for (const k of ['a', 'b', 'c', 'd']) b.changed(k, 10, 0)
    b.touch('a')
    b.touch('c')
    expect(b.victim()).toBe('b')
    b.changed('b', 12, 0)
    expect(b.victim()).toBe('d')
  })

  it('LFU: the least frequently used goes; equal counts, the least recently used of them', () => {
    const b = budget(1000, 'allkeys-lfu')
    for (const k of ['a', 'b', 'c']) b.changed(k, 10, 0)
    for (let i = 0; i < 5; i++) b.touch('a')
    b.touch('b')
    b.touch('c')
    expect(b.victim()).toBe('b')
  })

  it('LFU counts halve with time unused (one per minute, as Redis decays them)', () => {
    let now = 0
    const b = new CacheBudget(
      1000,
      'allkeys-lfu',
      () => 0,
      () => now,
    )
    b.changed('old', 10, 0)
    for (let i = 0; i < 10; i++) b.touch('old') // 5 + 10
    now = 9 * 60_000 // unused for 9 minutes: 15 - 9 = 6
    b.changed('new', 10, 0) // 5
    b.touch('new')
    b.touch('new')
    expect(b.victim()).toBe('old')
  })

  it('volatile policies choose among keys with a TTL only: volatile-ttl the soonest to expire', () => {
    const b = budget(1000, 'volatile-ttl')
    b.changed('forever', 10, 0)
    expect(b.victim()).toBeUndefined()
    b.changed('later', 10, 5000)
    b.changed('soon', 10, 1000)
    expect(b.victim()).toBe('soon')
    b.changed('soon', 10, 0) // persisted: no longer a candidate
    expect(b.victim()).toBe('later')
    expect(budget(10, 'volatile-random').victim()).toBeUndefined()
  })

  it('LRU is exact however many keys: the least recently used goes, in O(1)', () => {
    const b = budget(1, 'allkeys-lru')
    for (let k = 0; k < 1000; k++) b.changed(`k${k}`, 1, 0)
    b.touch('k0')
    b.changed('k1', 2, 0)
    expect(b.victim()).toBe('k2')
    expect(b.victim('k2')).toBe('k3') // never the key just written
    const v = budget(1, 'volatile-lru')
    for (let k = 0; k < 100; k++) v.changed(`k${k}`, 1, k % 2 === 0 ? 0 : 9999) // odd keys have a TTL
    v.changed('k1', 1, 0) // persisted: no longer a candidate
    expect(v.victim()).toBe('k3')
  })

  it('LFU, TTL and random draw at most SAMPLES keys when there are more: the victim is the worst of those drawn', () => {
    const draws = [0.0, 0.5, 0.99, 0.25]
    let i = 0
    const b = new CacheBudget(
      1,
      'volatile-ttl',
      () => draws[i++ % draws.length]!,
      () => 0,
    )
    for (let k = 0; k < 100; k++) b.changed(`k${k}`, 1, 1000 + k)
    // Draws pick k0, k50, k99, k25 (repeated): the soonest to expire of those drawn is k0; without it, k25.
    expect(b.victim()).toBe('k0')
    i = 1
    expect(b.victim('k0')).toBe('k25')
    expect(SAMPLES).toBe(16)
  })

  it('refuses (OUT_OF_MEMORY) a write the policy cannot make room for, before it is made', () => {
    const none = budget(100, 'noeviction')
    none.changed('a', 60, 0)
    expect(() => none.admit('b', 50, 0)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }))
    expect(() => none.admit('a', 90, 'key')).not.toThrow() // replaces a's 60 bytes
    const volatile = budget(100, 'volatile-lru')
    volatile.changed('keep', 60, 0)
    volatile.changed('ttl', 30, 9999)
    expect(() => volatile.admit('new', 35, 0)).not.toThrow() // evicting 'ttl' makes room
    expect(() => volatile.admit('new', 80, 0)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }))
    expect(() => budget(100, 'allkeys-lru').admit('huge', 101, 0)).toThrow(expect.objectContaining({ code: 'OUT_OF_MEMORY' }))
  })

  it('checks its options', () => {
    expect(checkCacheOptions({ maxBytes: 10 })).toEqual({ maxBytes: 10, policy: 'allkeys-lru' })
    for (const bad of [null, {}, { maxBytes: 0 }, { maxBytes: 1.5 }, { maxBytes: 10, policy: 'lru' }]) {
      expect(() => checkCacheOptions(bad)).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }))
    }
  })
})
