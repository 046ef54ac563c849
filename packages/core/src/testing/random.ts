/**
 * Seeded randomness for the property tests of every package and of test/:
 * one generator (lib0/prng) and one seed convention.
 *
 * A run starts from `baseSeed()`: the env variable TIDEKV_SEED when set (to
 * replay a failure), else the test's fixed seed if it has one, else a fresh
 * random seed, which the test prints. Sequence i of a run draws from
 * `sequenceSeed(base, i)`. Every failure message names the seed that replays
 * it (`replayHint`), and `TIDEKV_SEED=<that seed> npx vitest run <file>`
 * runs it first.
 *
 * Seeds are integers from 1 to 2^32 - 1: lib0 fills its generator's state
 * from the seed by xorshift32, for which 0 is a fixed point, so seed 0 (or
 * 2^32) would draw 0 forever — every pick the first item — and a test would
 * pass having tried nothing. Such a seed is refused rather than wrapped.
 *
 * Test-only: `testing/` is excluded from the build and from the package's
 * exports; tests import it as `@tidekv/core/testing` (testing/index.ts, through
 * packages/source-aliases.ts and tsconfig.json "paths").
 */
import * as prng from 'lib0/prng'

const MAX_SEED = 0xffff_ffff
const ENV = 'TIDEKV_SEED'

const isSeed = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= MAX_SEED

function checkSeed(seed: number): number {
  if (!isSeed(seed)) throw new RangeError(`a seed is an integer from 1 to ${MAX_SEED}, not ${seed}`)
  return seed
}

/**
 * murmur3's finalizer: a bijection of the 32-bit integers that keeps 0 at 0.
 * xorshift32 is linear, so lib0's states for neighbouring seeds (the
 * sequences of one run) start out correlated; mixed first, they do not.
 */
function spread(seed: number): number {
  let h = seed >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

export class Random {
  private readonly gen: prng.PRNG

  /** @throws RangeError unless `seed` is an integer from 1 to 2^32 - 1 */
  constructor(readonly seed: number) {
    this.gen = prng.create(spread(checkSeed(seed)))
  }

  /** A float in [0, 1), in steps of 2^-32 (lib0's `real53` has 32 bits, whatever its name says). */
  float(): number {
    return prng.real53(this.gen)
  }

  /**
   * An integer in [lo, hi], both inclusive; every one equally likely for spans up to 2^32.
   * (Not lib0's `uint32`/`uint53`: they wrap or mirror negative results.)
   */
  int(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo) throw new RangeError(`int(${lo}, ${hi}): no integer to draw`)
    return prng.int53(this.gen, lo, hi)
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[this.int(0, items.length - 1)]!
  }

  /** Picks a key of `weights` with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[] // reason: Object.keys widens to string[]; these are the record's own keys
    let total = 0
    for (const k of keys) total += weights[k]
    let r = this.float() * total
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
      const j = this.int(0, i)
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

  /** `length` random bytes. */
  bytes(length: number): Uint8Array {
    return prng.uint8Array(this.gen, length)
  }

  /** From `minLength` to `maxLength` letters a–z. */
  word(minLength = 0, maxLength = 20): string {
    return prng.word(this.gen, minLength, maxLength)
  }

  /**
   * `text` with up to three mutations, each inserting a piece of `junk` at a
   * random place and sometimes cutting up to two characters there: inputs for
   * a parser, near valid ones.
   */
  mutate(text: string, junk: readonly string[]): string {
    for (let k = this.int(0, 3); k > 0; k--) {
      const at = this.int(0, text.length)
      const cut = this.chance(0.5) ? this.int(0, 2) : 0
      text = text.slice(0, at) + this.pick(junk) + text.slice(at + cut)
    }
    return text
  }

  /** Up to `maxLength` characters of code points 0–256 (control characters included, no surrogates). */
  text(maxLength = 20): string {
    return prng.utf16String(this.gen, maxLength)
  }
}

/**
 * The seed of a run: TIDEKV_SEED (decimal or 0x hex) when set, else
 * `fixed` when the test wants the same run every time, else a fresh one.
 * @throws RangeError when TIDEKV_SEED is set but no seed
 */
export function baseSeed(fixed?: number): number {
  const text = process.env[ENV]?.trim()
  if (text) {
    const seed = Number(text)
    if (!isSeed(seed)) throw new RangeError(`${ENV} must be an integer from 1 to ${MAX_SEED} (decimal or 0x hex), got "${text}"`)
    return seed
  }
  if (fixed !== undefined) return checkSeed(fixed)
  // The one unseeded draw: where a fresh run starts.
  return 1 + Math.floor(Math.random() * MAX_SEED)
}

/** The seed of sequence `i` (0, 1, …) of a run that starts at `base`: the seeds that follow it, past 2^32 - 1 on from 1. */
export function sequenceSeed(base: number, i: number): number {
  return 1 + ((checkSeed(base) - 1 + i) % MAX_SEED)
}

/**
 * `seed=<seed> (replay: TIDEKV_SEED=<seed>)`, for a failure message; with
 * `command`, `seed=<seed> (replay: TIDEKV_SEED=<seed> <command>)`.
 */
export function replayHint(seed: number, command?: string): string {
  return `seed=${seed} (replay: ${ENV}=${seed}${command === undefined ? '' : ` ${command}`})`
}
