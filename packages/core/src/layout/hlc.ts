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

/**
 * The last wall time a stamp or expiry may carry: 9999-12-31T23:59:59.999Z.
 * A fixed bound every replica applies alike, so they agree on what is
 * invalid; it keeps walls within the safe integers and the 16 digits that
 * list positions and stream ids allow.
 */
export const MAX_WALL = 253_402_300_799_999

/**
 * The largest counter a stamp may carry. An honest replica's counter grows
 * only while its wall time stands still; `next` moves the wall on before it
 * gets here.
 */
export const MAX_COUNTER = 0xffff_ffff

/**
 * How far ahead of a replica's own wall clock a stamp may be for the replica
 * to adopt it. A stamp from further ahead (a peer whose clock is wrong, or a
 * hostile one) still orders its own write like any other, but it does not
 * move this replica's clock: otherwise every later write of this replica
 * would carry the bad time, and win every conflict until the world catches
 * up with it.
 */
export const MAX_CLOCK_DRIFT_MS = 60 * 60 * 1000

/** Whether a decoded stamp is inside the bounds every replica enforces. */
export function stampInBounds(stamp: Stamp): boolean {
  return stamp.wall <= MAX_WALL && stamp.counter <= MAX_COUNTER
}

/** The clock of one replica. */
export class HybridClock {
  #wall = 0
  #counter = 0

  constructor(private readonly now: () => number) {}

  /** A stamp greater than every stamp this clock has issued or observed. */
  next(replica: number): Stamp {
    // Whole milliseconds: stamps are encoded as integers, and every replica must compare what was encoded.
    const t = Math.min(Math.floor(this.now()), MAX_WALL)
    if (t > this.#wall) {
      this.#wall = t
      this.#counter = 0
    } else if (this.#counter < MAX_COUNTER) {
      this.#counter++
    } else {
      // Still greater than everything before: the next millisecond, from its first counter.
      this.#wall = Math.min(this.#wall + 1, MAX_WALL)
      this.#counter = 0
    }
    return { wall: this.#wall, counter: this.#counter, replica }
  }

  /**
   * Moves the clock past a stamp seen from another replica, unless the stamp
   * is more than `MAX_CLOCK_DRIFT_MS` ahead of this replica's wall clock (or
   * outside the stamp bounds): that one is not adopted.
   */
  observe(stamp: Stamp): void {
    if (!stampInBounds(stamp) || stamp.wall > this.now() + MAX_CLOCK_DRIFT_MS) return
    if (stamp.wall > this.#wall || (stamp.wall === this.#wall && stamp.counter > this.#counter)) {
      this.#wall = stamp.wall
      this.#counter = stamp.counter
    }
  }
}
