import { afterEach, describe, expect, it, vi } from 'vitest'
import { baseSeed, Random, replayHint, sequenceSeed } from './random.js'

describe('the seeded generator of the tests', () => {
  afterEach(() => vi.unstubAllEnvs())

  it('draws the same sequence from the same seed, and another from the next seed', () => {
    const draw = (seed: number) => {
      const r = new Random(seed)
      return Array.from({ length: 8 }, () => r.int(0, 1_000_000))
    }
    expect(draw(42)).toEqual(draw(42))
    expect(draw(43)).not.toEqual(draw(42))
  })

  it('refuses seed 0 and 2^32, from which lib0 would draw 0 forever', () => {
    expect(() => new Random(0)).toThrow(RangeError)
    expect(() => new Random(2 ** 32)).toThrow(RangeError)
    expect(() => new Random(1.5)).toThrow(RangeError)
    expect(new Random(2 ** 32 - 1).int(0, 9)).toBeLessThanOrEqual(9)
  })

  it('draws integers inside both bounds, negative ones included, and every value of a small range', () => {
    const r = new Random(7)
    const seen = new Set<number>()
    for (let i = 0; i < 2000; i++) {
      const n = r.int(-3, 3)
      expect(n).toBeGreaterThanOrEqual(-3)
      expect(n).toBeLessThanOrEqual(3)
      seen.add(n)
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3])
    expect(() => r.int(2, 1)).toThrow(RangeError)
    expect(() => r.pick([])).toThrow()
  })

  it('takes TIDEKV_SEED over a fixed seed, and says how to replay', () => {
    expect(baseSeed(7)).toBe(7)
    vi.stubEnv('TIDEKV_SEED', '0x10')
    expect(baseSeed(7)).toBe(16)
    vi.stubEnv('TIDEKV_SEED', '0')
    expect(() => baseSeed()).toThrow(RangeError)
    expect(replayHint(16, 'npx vitest run x.test.ts')).toBe('seed=16 (replay: TIDEKV_SEED=16 npx vitest run x.test.ts)')
  })

  it('numbers the sequences of a run from its seed, wrapping past 2^32 - 1 to 1, never to 0', () => {
    expect(sequenceSeed(5, 0)).toBe(5)
    expect(sequenceSeed(5, 3)).toBe(8)
    expect(sequenceSeed(2 ** 32 - 1, 1)).toBe(1)
  })
})
