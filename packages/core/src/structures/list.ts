/**
 * A list of values under one key (Redis LPUSH, RPOP, ...). Every element is
 * its own entry, positioned by the push that made it (see member-order.ts):
 * concurrent pushes all survive, in one order on every replica. Pops remove
 * the element the replica sees at that end; two replicas popping concurrently
 * may both get the same element (as two Redis clients cannot) because neither
 * can know of the other's pop until they sync: a list is not a work queue
 * with exactly-once delivery across devices.
 */
import * as encoding from 'lib0/encoding'
import { StructType } from '../layout/entry.js'
import { TideKVError } from '../errors.js'
import type { MemberSlot, Slot } from '../keyspace/slot.js'
import { listOrder, listPosition } from '../layout/member-order.js'
import { checkIndex, positions, type StoreAccess, StructureHandle } from './handle.js'
import type { Structure } from '../keyspace/structure.js'
import { type Value, writeValue } from '../layout/value.js'

export class List extends StructureHandle {
  /** @internal Use `store.list(key)`. */
  constructor(store: StoreAccess, key: string) {
    super(store, key, StructType.LIST)
  }

  /**
   * Pushes values onto the left end, one after the other (so the last ends
   * up first, as LPUSH does); returns the new length.
   * @throws TideKVError `INVALID_VALUE`, `VALUE_TOO_LARGE`, `WRONG_TYPE`, `READ_ONLY`, `CLOSED`
   */
  pushLeft(...values: Value[]): number {
    return this.#push('L', values)
  }

  /**
   * Pushes values onto the right end (RPUSH); returns the new length.
   * @example
   * store.list('jobs').pushRight({ id: 1 }, { id: 2 })
   */
  pushRight(...values: Value[]): number {
    return this.#push('R', values)
  }

  /** Removes and returns the first value, or undefined when empty (LPOP). */
  popLeft<T extends Value = Value>(): T | undefined {
    return this.#pop<T>(false)
  }

  /** Removes and returns the last value, or undefined when empty (RPOP). */
  popRight<T extends Value = Value>(): T | undefined {
    return this.#pop<T>(true)
  }

  /** Values from index `start` to `stop` inclusive, negative from the end (LRANGE). O(log n + k). */
  range<T extends Value = Value>(start: number, stop: number): T[] {
    const index = this.read()?.index
    const span = positions(start, stop, index?.size ?? 0)
    if (span === null) return []
    return index!.slice(span[0], span[1]).map((m) => this.valueAs<T>(m)!)
  }

  /** The value at `index` (negative from the end), or undefined (LINDEX). O(log n). */
  at<T extends Value = Value>(index: number): T | undefined {
    checkIndex(index, 'index')
    const member = this.#element(this.read(), index)
    return member === undefined ? undefined : this.valueAs<T>(member)
  }

  /**
   * Replaces the value at `index` (LSET). A concurrent `set` of the same
   * element on another replica: the last wins.
   * @throws TideKVError `OUT_OF_RANGE` when there is no element at `index` (or no list), `INVALID_VALUE`, `WRONG_TYPE`
   */
  set(index: number, value: Value): void {
    checkIndex(index, 'index')
    const struct = this.check()
    const member = this.#element(struct, index)
    if (member === undefined) throw new TideKVError('OUT_OF_RANGE', struct === undefined ? `No list at "${this.key}"` : `Index ${index} is out of range`)
    this.replica.setMember(struct!, this.memberEntry(member.key, value, struct))
  }

  /**
   * Removes elements equal to `value` (same encoding: deep equality, object
   * keys in the same order): the first `count` from the left when count > 0,
   * the last -count from the right when count < 0, all when 0 (LREM). Returns how many.
   */
  remove(value: Value, count = 0): number {
    checkIndex(count, 'count')
    const struct = this.check()
    const probe = encoding.createEncoder()
    writeValue(probe, value)
    const wanted = encoding.toUint8Array(probe)
    const index = struct?.index
    if (index == null) return 0
    const matches: MemberSlot[] = []
    const limit = count === 0 ? Infinity : Math.abs(count)
    index.walk(count < 0 ? index.size - 1 : 0, count < 0, (m) => {
      if (equalBytes(valueBytes(m), wanted)) matches.push(m)
      return matches.length < limit
    })
    for (const m of matches) this.replica.removeMember(m)
    return matches.length
  }

  /** Keeps only the elements from `start` to `stop` inclusive, negative from the end (LTRIM). */
  trim(start: number, stop: number): void {
    const struct = this.check()
    const index = struct?.index
    const span = positions(start, stop, index?.size ?? 0)
    if (index == null) return
    const [from, to] = span ?? [0, 0]
    const doomed = [...index.slice(0, from), ...index.slice(to, index.size)]
    for (const m of doomed) this.replica.removeMember(m)
  }

  /** How many elements (LLEN). */
  get length(): number {
    return this.read()?.index?.size ?? 0
  }

  #push(side: 'L' | 'R', values: Value[]): number {
    const struct = this.check()
    if (values.length === 0) throw new TideKVError('INVALID_VALUE', 'push needs at least one value')
    // One stamp for the call: its values stay together, in order, whatever is pushed concurrently.
    const stamp = this.stamp()
    const entries = values.map((v, i) => this.memberEntry(listPosition(side, stamp, i), v, struct, stamp))
    const target = this.open()
    for (let i = 0; i < entries.length; i++) this.replica.setMember(target, entries[i]!, listOrder(side, stamp, i))
    return target.index!.size
  }

  #pop<T extends Value>(right: boolean): T | undefined {
    const struct = this.check()
    const index = struct?.index
    if (index == null || index.size === 0) return undefined
    const member = index.at(right ? index.size - 1 : 0)!
    const value = this.valueAs<T>(member)
    this.replica.removeMember(member)
    return value
  }

  #element(struct: Structure | undefined, i: number): Slot | undefined {
    const index = struct?.index
    if (index == null) return undefined
    return index.at(i < 0 ? i + index.size : i)
  }
}

/** The encoded value of an element (its winning entry's value bytes). */
function valueBytes(member: Slot): Uint8Array {
  const base = member.base!
  return base.bytes.subarray(base.valueStart)
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
