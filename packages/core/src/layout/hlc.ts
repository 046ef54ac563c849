/**
 * Hybrid logical clock stamps: wall-clock milliseconds plus a counter plus the
 * writing replica. They order the writes to one key (last writer wins by
 * time) the same way on every replica, and a replica's own writes stay in
 * order even if its wall clock steps back.
 * See Kulkarni et al., "Logical Physical Clocks" (2014).
 */

/** A point in hybrid logical time. `replica` is the Yjs client id of the writer. */
export interface Stamp {
  readonly wall: number
  readonly counter: number
  readonly replica: number
}

/** Orders every stamp below any real write: the epoch of a counter that never had a base value. */
export const ZERO_STAMP: Stamp = Object.freeze({ wall: 0, counter: 0, replica: 0 })

/** Total order on stamps: wall time, then counter, then replica id. */
export function compareStamps(a: Stamp, b: Stamp): number {
  return a.wall - b.wall || a.counter - b.counter || a.replica - b.replica
}

export function sameStamp(a: Stamp, b: Stamp): boolean {
  return a.wall === b.wall && a.counter === b.counter && a.replica === b.replica
}

/** The clock of one replica. */
export class HybridClock {
  #wall = 0
  #counter = 0

  constructor(private readonly now: () => number) {}

  /** A stamp greater than every stamp this clock has issued or observed. */
  next(replica: number): Stamp {
    // Whole milliseconds: stamps are encoded as integers, and every replica must compare what was encoded.
    const t = Math.floor(this.now())
    if (t > this.#wall) {
      this.#wall = t
      this.#counter = 0
    } else {
      this.#counter++
    }
    return { wall: this.#wall, counter: this.#counter, replica }
  }

  /** Moves the clock past a stamp seen from another replica. */
  observe(stamp: Stamp): void {
    if (stamp.wall > this.#wall || (stamp.wall === this.#wall && stamp.counter > this.#counter)) {
      this.#wall = stamp.wall
      this.#counter = stamp.counter
    }
  }
}
