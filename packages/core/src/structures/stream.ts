/**
 * A stream: an append-only log of entries, each a record of fields, under
 * one key (Redis XADD, XRANGE, ...). Ids are Redis's `<ms>-<seq>`, made from
 * the hybrid logical clock (see member-order.ts): unique across replicas and
 * ordered by time, then replica, so concurrent appends all survive in the
 * same order everywhere. Ranges by id come from an ordered index, no scan.
 */
import { StructType } from '../layout/entry.js'
import { TideKVError } from '../errors.js'
import type { Slot } from '../keyspace/slot.js'
import { compareTuples, idTuple, streamId, streamOrder } from '../layout/member-order.js'
import { type StoreAccess, StructureHandle, toRecord } from './handle.js'
import type { Value } from '../layout/value.js'

/** One stream entry. */
export interface StreamEntry<T extends Value = Value> {
  /** `<ms>-<seq>`: milliseconds since the epoch, then a sequence unique to the writing replica. */
  readonly id: string
  readonly fields: Readonly<Record<string, T>>
}

/** Options of `range` and `revRange`. */
export interface StreamRangeOptions {
  /** At most this many entries (COUNT). */
  count?: number
}

const MAX_SEQ = 2 ** 32 - 1

export class Stream extends StructureHandle {
  /** @internal Use `store.stream(key)`. */
  constructor(store: StoreAccess, key: string) {
    super(store, key, StructType.STREAM)
  }

  /**
   * Appends an entry of `fields` (at least one); returns its id (XADD key *).
   * @throws TideKVError `INVALID_VALUE`, `VALUE_TOO_LARGE`, `WRONG_TYPE`, `READ_ONLY`, `CLOSED`
   * @example
   * const id = store.stream('activity').add({ user: 'ada', action: 'scored', points: 10 })
   */
  add(fields: Readonly<Record<string, Value>>): string {
    const struct = this.check()
    this.checkFields(fields, 'A stream entry')
    const names = Object.keys(fields)
    // Stored as [field, value, ...]: an object would reorder integer-like field names.
    const flat: Value[] = []
    for (const name of names) flat.push(name, fields[name]!)
    const stamp = this.stamp()
    const id = streamId(stamp)
    const entry = this.memberEntry(id, flat, struct, stamp)
    this.replica.setMember(this.open(), entry, streamOrder(stamp))
    return id
  }

  /**
   * Entries with `start ≤ id ≤ end`, oldest first (XRANGE). Bounds: `-` and
   * `+` (the ends), `<ms>` (any seq), `<ms>-<seq>`, and `(` before an id for
   * an exclusive bound. O(log n + k).
   * @throws TideKVError `INVALID_VALUE` for a malformed bound or count
   */
  range<T extends Value = Value>(start = '-', end = '+', options: StreamRangeOptions = {}): StreamEntry<T>[] {
    return this.#collect<T>(start, end, false, options ?? {})
  }

  /** Entries with `end ≥ id ≥ start`, newest first (XREVRANGE: note the order of the bounds). */
  revRange<T extends Value = Value>(end = '+', start = '-', options: StreamRangeOptions = {}): StreamEntry<T>[] {
    return this.#collect<T>(start, end, true, options ?? {})
  }

  /** How many entries (XLEN). */
  get length(): number {
    return this.read()?.index?.size ?? 0
  }

  /**
   * Removes the oldest entries until at most `maxLen` are left (XTRIM MAXLEN);
   * returns how many were removed. Trimming to 0 removes the key (Redis keeps
   * an empty stream).
   */
  trim(options: { maxLen: number }): number {
    const maxLen = options?.maxLen
    if (typeof maxLen !== 'number' || !Number.isInteger(maxLen) || maxLen < 0) {
      throw new TideKVError('INVALID_VALUE', `maxLen must be a non-negative integer, got ${maxLen}`)
    }
    const index = this.check()?.index
    if (index == null || index.size <= maxLen) return 0
    const doomed = index.slice(0, index.size - maxLen)
    for (const m of doomed) this.replica.removeMember(m)
    return doomed.length
  }

  #collect<T extends Value>(start: string, end: string, reverse: boolean, options: StreamRangeOptions): StreamEntry<T>[] {
    const lower = bound(start, false)
    const upper = bound(end, true)
    const { count = Infinity } = options
    if (count !== Infinity && !(Number.isInteger(count) && count >= 0)) throw new TideKVError('INVALID_VALUE', `count must be a non-negative integer, got ${count}`)
    const index = this.read()?.index
    if (index == null || count === 0) return []
    const lo = index.count((m) => (lower.exclusive ? compareTuples(m.ord!, lower.at) <= 0 : compareTuples(m.ord!, lower.at) < 0))
    const hi = index.count((m) => (upper.exclusive ? compareTuples(m.ord!, upper.at) < 0 : compareTuples(m.ord!, upper.at) <= 0))
    if (lo >= hi) return []
    const take = Math.min(count, hi - lo)
    const out: StreamEntry<T>[] = []
    index.walk(reverse ? hi - 1 : lo, reverse, (m) => {
      out.push(this.#entryOf<T>(m))
      return out.length < take
    })
    return out
  }

  #entryOf<T extends Value>(member: Slot): StreamEntry<T> {
    // A stream member's value is its [field, value, …] list, fields at the even places (fitsStructure checks other replicas' entries, add builds ours).
    const flat = this.valueAs<Value[]>(member)!
    const names: string[] = []
    const values: T[] = []
    for (let i = 0; i + 1 < flat.length; i += 2) {
      names.push(flat[i] as string) // reason: an even place holds a field name, a string (see flat)
      values.push(flat[i + 1] as T) // reason: T is the caller's word for the field values, as in store.get<T>
    }
    return { id: member.key, fields: toRecord(names, values) }
  }
}

/** Parses a range bound into an id tuple: `-`/`+`, `<ms>`, `<ms>-<seq>`, optionally after `(`. */
function bound(text: string, upper: boolean): { at: number[]; exclusive: boolean } {
  if (typeof text !== 'string') throw new TideKVError('INVALID_VALUE', `A stream id must be a string, got ${typeof text}`)
  if (text === '-') return { at: [-Infinity], exclusive: false }
  if (text === '+') return { at: [Infinity], exclusive: false }
  const exclusive = text.startsWith('(')
  const body = exclusive ? text.slice(1) : text
  const m = /^(\d{1,20})(?:-(\d{1,20}))?$/.exec(body)
  let at = m === null ? undefined : m[2] !== undefined ? idTuple(m[1]!, m[2]) : idTuple(m[1]!, '0')
  // A valid Redis id whose milliseconds are past what JavaScript counts exactly: after every id TideKV makes.
  if (at === undefined && m !== null && BigInt(m[1]!) < 1n << 64n && (m[2] === undefined || BigInt(m[2]) < 1n << 64n)) at = [Infinity]
  if (at === undefined) throw new TideKVError('INVALID_VALUE', `"${text}" is not a stream id (use -, +, <ms> or <ms>-<seq>, optionally after "(")`)
  // `<ms>` alone as an upper bound means every seq of that millisecond.
  if (m![2] === undefined && upper) return { at: [at[0]!, MAX_SEQ, MAX_SEQ], exclusive }
  return { at, exclusive }
}
