/**
 * The clocks of the in-process convergence tests: one true time that moves
 * only when the test says, read by each replica through its own skew (drawn
 * from the test's seeded `Random`), until the test makes the clocks common to
 * compare every replica at one time.
 */
import type { Random } from '@tidekv/core/testing'

/** Where the true time starts. */
export const T0 = 1_700_000_000_000
/** The skews replicas draw from (plus 0–3 ms each), ms. */
export const SKEWS = [0, 0, 2, -3, 25, -40, 150, -300, 1000, 5000] as const

export class SkewedClocks {
  /** The one true time; replica i reads now + skews[i] until the clocks are made common. */
  now = T0
  common = false
  readonly skews: number[]

  /** Draws the skews of `size` replicas from `rng`. */
  constructor(size: number, rng: Random) {
    this.skews = Array.from({ length: size }, () => rng.pick(SKEWS) + rng.int(0, 3))
  }

  /** Replica i's clock, to pass as its store's `clock`. */
  clock(i: number): () => number {
    return () => (this.common ? this.now : this.now + this.skews[i]!)
  }

  /** Steps a random replica's wall clock (also backwards), as NTP does; returns what it did, for the trace. */
  jitter(rng: Random): string {
    const i = rng.int(0, this.skews.length - 1)
    const d = rng.int(-100, 100)
    this.skews[i]! += d
    return `r${i} clock steps ${d}`
  }
}
