/**
 * Members that carry an order: list positions and stream ids. Both are made
 * from the hybrid logical clock stamp of the write that created them, so they
 * are unique across replicas and order the same way everywhere.
 *
 * A list element's position is the stamp of its push, its index within the
 * push, and the end it went to: `L` elements sit left of every `R` element;
 * among `L` elements the newest push is leftmost (LPUSH), among `R` elements
 * the newest is rightmost (RPUSH). So concurrent pushes all survive, each at
 * its end, ordered by time; one call's values stay together.
 *
 * A stream id is Redis's `<ms>-<seq>`: ms is the stamp's wall time and seq is
 * `counter * 2^32 + replica`, so ids order by time, then replica, and every
 * Redis tool reads them.
 */
import type { Stamp } from './hlc.js'

const TWO_32 = 2 ** 32

/** The position of the `i`th value of a push made at `stamp` onto the left (`L`) or right (`R`) end. */
export function listPosition(side: 'L' | 'R', stamp: Stamp, i: number): string {
  return `${side}${stamp.wall}.${stamp.counter}.${stamp.replica}.${i}`
}

/** The ordering tuple of `listPosition(side, stamp, i)`, without making and parsing the string. */
export function listOrder(side: 'L' | 'R', stamp: Stamp, i: number): number[] {
  const sign = side === 'L' ? -1 : 1
  return [sign, sign * stamp.wall, sign * stamp.counter, sign * stamp.replica, sign * i]
}

const POSITION = /^([LR])(\d{1,16})\.(\d{1,16})\.(\d{1,10})\.(\d{1,10})$/

/** The ordering tuple of a list position, or undefined when it is not one. */
export function parseListPosition(position: string): number[] | undefined {
  const m = POSITION.exec(position)
  if (m === null) return undefined
  const sign = m[1] === 'L' ? -1 : 1
  const parts = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])]
  if (!parts.every(Number.isSafeInteger)) return undefined
  return [sign, ...parts.map((n) => sign * n)]
}

/** The stream id of an entry added at `stamp`. */
export function streamId(stamp: Stamp): string {
  const seq = stamp.counter < 2 ** 21 ? String(stamp.counter * TWO_32 + stamp.replica) : String((BigInt(stamp.counter) << 32n) + BigInt(stamp.replica))
  return `${stamp.wall}-${seq}`
}

/** The ordering tuple of `streamId(stamp)`: [ms, seq high 32 bits, seq low 32 bits]. */
export function streamOrder(stamp: Stamp): number[] {
  return [stamp.wall, stamp.counter, stamp.replica]
}

const ID = /^(\d{1,20})-(\d{1,20})$/

/** The ordering tuple [ms, seq high 32 bits, seq low 32 bits] of a stream id, or undefined. */
export function parseStreamId(id: string): number[] | undefined {
  const m = ID.exec(id)
  if (m === null) return undefined
  return idTuple(m[1]!, m[2]!)
}

/** [ms, hi, lo] from the two decimal parts of an id; undefined past 2^64 or past JavaScript's safe ms. */
export function idTuple(ms: string, seq: string): number[] | undefined {
  const time = Number(ms)
  if (!Number.isSafeInteger(time)) return undefined
  const s = BigInt(seq)
  if (s >= 1n << 64n) return undefined
  return [time, Number(s >> 32n), Number(s & 0xffffffffn)]
}

/** Orders two tuples element by element (a shorter prefix first). */
export function compareTuples(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d
  }
  return a.length - b.length
}
