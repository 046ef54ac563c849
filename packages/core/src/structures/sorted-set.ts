/**
 * A sorted set: string members with a number score each, ordered by score
 * then member (Redis ZADD, ZRANGE, ...). Reads by rank and by score come from
 * an ordered index: O(log n + k). `add` sets a member's score (last write
 * wins); `incr` adds through a per-replica contribution, so leaderboard
 * points added on several devices all count.
 */
import { StructType } from '../layout/entry.js'
import { TideKVError } from '../errors.js'
import type { Slot } from '../keyspace/slot.js'
import { positions, type StoreAccess, StructureHandle } from './handle.js'

/** Options of `range`. */
export interface RangeOptions {
  /** Count ranks from the highest score (ZRANGE ... REV, ZREVRANGE). */
  rev?: boolean
  /** Return `[member, score]` pairs (WITHSCORES). */
  withScores?: boolean
}

/** Options of `rangeByScore`. */
export interface ScoreRangeOptions extends RangeOptions {
  /** Exclude members scoring exactly `min` (Redis `(min`). */
  minExclusive?: boolean
  /** Exclude members scoring exactly `max` (Redis `(max`). */
  maxExclusive?: boolean
  /** Skip this many matches first (LIMIT offset). */
  offset?: number
  /** Return at most this many (LIMIT count). */
  limit?: number
}

export class SortedSet extends StructureHandle {
  /** @internal Use `store.sortedSet(key)`. */
  constructor(store: StoreAccess, key: string) {
    super(store, key, StructType.ZSET)
  }

  /**
   * Sets the score of `member`; returns true when it is new (ZADD).
   * A concurrent `incr` of the member on another replica is reset by it.
   * @throws TideKVError `INVALID_VALUE` (score not a finite number), `WRONG_TYPE`, `READ_ONLY`, `CLOSED`
   * @example
   * store.sortedSet('leaderboard').add('ada', 120)
   */
  add(member: string, score: number): boolean {
    const struct = this.check()
    this.checkMember(member)
    checkScore(score, 'A score')
    const entry = this.memberEntry(member, score, struct)
    const target = this.open()
    const added = !target.members.has(member)
    this.replica.setMember(target, entry)
    return added
  }

  /**
   * Adds `by` to the score of `member` (a missing member starts at 0) and
   * returns the new score (ZINCRBY). Increments made concurrently on other
   * replicas all count.
   * @throws TideKVError `INVALID_VALUE`, `OUT_OF_RANGE` (the score would not be finite), `WRONG_TYPE`, `READ_ONLY`, `CLOSED`
   * @example
   * store.sortedSet('leaderboard').incr('ada', 10)
   */
  incr(member: string, by: number): number {
    this.checkMember(member)
    checkScore(by, 'An increment')
    return this.increment(member, by, false)
  }

  /** Removes members; returns how many were there (ZREM). Removing the last removes the key. */
  remove(...members: string[]): number {
    return this.removeMembers(members)
  }

  /** The score of `member`, or undefined (ZSCORE). */
  score(member: string): number | undefined {
    const slot = this.read()?.members.get(member)
    return slot?.indexed ? slot.ord![0] : undefined
  }

  /** The 0-based rank of `member` by ascending score, or from the top with `rev` (ZRANK, ZREVRANK); undefined when absent. O(log n). */
  rank(member: string, options?: { rev?: boolean }): number | undefined {
    const struct = this.read()
    const slot = struct?.members.get(member)
    if (slot === undefined || !slot.indexed) return undefined
    const index = struct!.index!
    const rank = index.rank(slot)
    return options?.rev ? index.size - 1 - rank : rank
  }

  /**
   * Members from rank `start` to `stop` inclusive (negative counts from the
   * end), lowest score first or highest with `rev` (ZRANGE). O(log n + k).
   * @example
   * store.sortedSet('leaderboard').range(0, 9, { rev: true, withScores: true }) // the top ten
   */
  range(start: number, stop: number, options?: RangeOptions & { withScores?: false }): string[]
  range(start: number, stop: number, options: RangeOptions & { withScores: true }): [string, number][]
  range(start: number, stop: number, options?: RangeOptions): string[] | [string, number][]
  range(start: number, stop: number, opts?: RangeOptions): string[] | [string, number][] {
    const options = opts ?? {}
    const struct = this.read()
    const index = struct?.index
    if (index == null) {
      positions(start, stop, 0)
      return []
    }
    const span = positions(start, stop, index.size)
    if (span === null) return []
    const [from, to] = span
    const items = options.rev ? index.slice(index.size - to, index.size - from).reverse() : index.slice(from, to)
    return output(items, options.withScores === true)
  }

  /**
   * Members with `min ≤ score ≤ max` in score order (ZRANGEBYSCORE), or in
   * descending order with `rev` (ZREVRANGEBYSCORE). ±Infinity are open ends.
   * O(log n + offset + k).
   */
  rangeByScore(min: number, max: number, options?: ScoreRangeOptions & { withScores?: false }): string[]
  rangeByScore(min: number, max: number, options: ScoreRangeOptions & { withScores: true }): [string, number][]
  rangeByScore(min: number, max: number, options?: ScoreRangeOptions): string[] | [string, number][]
  rangeByScore(min: number, max: number, opts?: ScoreRangeOptions): string[] | [string, number][] {
    const options = opts ?? {}
    if (typeof min !== 'number' || typeof max !== 'number' || Number.isNaN(min) || Number.isNaN(max)) {
      throw new TideKVError('INVALID_VALUE', 'min and max must be numbers')
    }
    const { offset = 0, limit = Infinity } = options
    if (!Number.isInteger(offset) || offset < 0) throw new TideKVError('INVALID_VALUE', `offset must be a non-negative integer, got ${offset}`)
    if (limit !== Infinity && !(Number.isInteger(limit) && limit >= 0)) {
      throw new TideKVError('INVALID_VALUE', `limit must be a non-negative integer, got ${limit}`)
    }
    const index = this.read()?.index
    if (index == null || limit === 0) return []
    const lo = index.count((m) => (options.minExclusive ? m.ord![0]! <= min : m.ord![0]! < min))
    const hi = index.count((m) => (options.maxExclusive ? m.ord![0]! < max : m.ord![0]! <= max))
    const items: Slot[] = []
    if (lo >= hi) return []
    const start = options.rev ? hi - 1 - offset : lo + offset
    if (start < lo || start >= hi) return []
    const take = Math.min(limit, options.rev ? start - lo + 1 : hi - start)
    index.walk(start, options.rev === true, (m) => {
      items.push(m)
      return items.length < take
    })
    return output(items, options.withScores === true)
  }

  /** How many members (ZCARD). */
  get size(): number {
    return this.read()?.index?.size ?? 0
  }
}

function output(items: Slot[], withScores: boolean): string[] | [string, number][] {
  return withScores ? items.map((m): [string, number] => [m.key, m.ord![0]!]) : items.map((m) => m.key)
}

function checkScore(n: unknown, what: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new TideKVError('INVALID_VALUE', `${what} must be a finite number, got ${n}`)
}
