/**
 * The counter rules, shared by plain counters (`incr`) and numeric members
 * (`hash.incr`, `sortedSet.incr`): an increment is this replica's running
 * total on the current base (a PN-counter contribution), so increments made
 * concurrently on other replicas all count once merged. How contributions
 * resolve to a value is `resolveSlot`'s job (keyspace/slot.ts).
 */
import { TideKVError } from './errors.js'
import { type Entry, EntryKind, stampOf } from './layout/entry.js'
import { sameStamp, type Stamp, ZERO_STAMP } from './layout/hlc.js'
import { findEntry, type Slot } from './keyspace/slot.js'

/** What an increment writes. */
export interface CounterStep {
  /** The value after the increment, as `incr` returns it. */
  result: number
  /** This replica's contribution on the current base, which the new one replaces. */
  own: Entry | undefined
  /** The base the contribution builds on (its epoch). */
  epoch: Stamp
  /**
   * This replica's new running total; undefined when it would leave the
   * range though `result` does not: then `result` is written as a new base
   * (a set, so increments concurrent with it on the old base are dropped).
   */
  sum: number | undefined
}

/**
 * Checks an increment of `current` (the slot's visible value, undefined when
 * missing) by `by` and works out what to write. `integer`: safe integers
 * (plain counters, hash fields); else finite floats (sorted set scores).
 * `what` names the value in error messages.
 * @throws TideKVError `NOT_AN_INTEGER` (the value is not a number of that kind), `OUT_OF_RANGE`
 */
export function counterStep(slot: Slot | undefined, current: unknown, by: number, replica: number, integer: boolean, what: string): CounterStep {
  const ok = integer ? Number.isSafeInteger : Number.isFinite
  if (current !== undefined && !(typeof current === 'number' && ok(current))) {
    throw new TideKVError('NOT_AN_INTEGER', `The value of ${what} is not ${integer ? 'an integer' : 'a number'}`)
  }
  // `|| 0`: -0 + 0 is -0 in JavaScript, but a stored counter reads back as 0.
  const result = (current ?? 0) + by || 0
  if (!ok(result)) throw new TideKVError('OUT_OF_RANGE', `Incrementing ${what} by ${by} leaves the ${integer ? 'safe integer' : 'finite number'} range`)
  const live = current === undefined ? undefined : slot
  // A copy: the contribution keeps its epoch, and must not keep the base entry alive with it.
  const epoch = live?.base == null ? ZERO_STAMP : stampOf(live.base)
  const own = live === undefined ? undefined : ownContribution(live, replica)
  const sum = (own?.sum ?? 0) + by
  return { result, own, epoch, sum: ok(sum) ? sum : undefined }
}

/** `replica`'s counter contribution to the slot's current base, if any. */
export function ownContribution(slot: Slot, replica: number): Entry | undefined {
  const epoch = slot.base?.stamp ?? ZERO_STAMP
  return findEntry(slot, (e) => e.kind === EntryKind.COUNTER && e.stamp.replica === replica && sameStamp(e.epoch!, epoch))
}

/** @throws TideKVError `NOT_AN_INTEGER` unless `by` is a safe integer (the amount of `incr`/`decr`) */
export function checkAmount(by: unknown, what = 'Increment'): asserts by is number {
  if (!Number.isSafeInteger(by)) throw new TideKVError('NOT_AN_INTEGER', `${what} ${by} is not a safe integer`)
}
