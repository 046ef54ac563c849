/**
 * Seeded randomness for property tests: a small PRNG (mulberry32) and the
 * seed convention shared by the tests. A test run starts from `baseSeed()`:
 * the env variable TIDEKV_SEED when set (to replay a failure), else a fresh
 * random seed. Every failure message names the seed of the failing
 * sequence, so `TIDEKV_SEED=<seed> npx vitest run <file>` replays it first.
 */

/** mulberry32: 32 bits of state, good enough spread for test data, trivially seedable. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class Random {
  private readonly next: () => number

  constructor(readonly seed: number) {
    this.next = mulberry32(seed)
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next()
  }

  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[Math.floor(this.next() * items.length)]!
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[]
    let total = 0
    for (const k of keys) total += weights[k]
    let r = this.next() * total
    for (const k of keys) {
      r -= weights[k]
      if (r < 0) return k
    }
    return keys[keys.length - 1]!
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice()
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      const t = out[i]!
      out[i] = out[j]!
      out[j] = t
    }
    return out
  }

  /** Up to `max` distinct items of `items`, in random order. */
  sample<T>(items: readonly T[], max: number): T[] {
    return this.shuffle(items).slice(0, max)
  }
}

/** The seed of the first sequence: env TIDEKV_SEED (decimal or 0x hex) when set, else random. */
export function baseSeed(): number {
  const env = process.env.TIDEKV_SEED
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env.trim())
    if (!Number.isSafeInteger(n)) throw new Error(`TIDEKV_SEED must be an integer, got "${env}"`)
    return n >>> 0
  }
  return (Math.random() * 2 ** 32) >>> 0
}

/** The seed of sequence `i` of a run that starts at `base`. */
export function sequenceSeed(base: number, i: number): number {
  return (base + i) >>> 0
}
