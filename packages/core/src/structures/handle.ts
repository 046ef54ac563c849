/**
 * What every data structure handle shares: finding its structure (and
 * refusing a key of another type with `WRONG_TYPE`), making its member
 * entries with the store's limits, and counters on members.
 */
import { counterStep } from '../counter.js'
import { type Entry, type StructType } from '../layout/entry.js'
import { createMemberCounterEntry, createMemberEntry, valueByteLength } from '../layout/entry-codec.js'
import { TideKVError } from '../errors.js'
import { checkKey, checkString } from '../layout/key.js'
import { slotValue } from '../keyspace/keyspace.js'
import type { Slot } from '../keyspace/slot.js'
import type { Replica } from '../replica.js'
import { type Structure, TYPE_NAMES } from '../keyspace/structure.js'
import type { Value } from '../layout/value.js'

/** The parts of a store a handle works with. @internal */
export interface StoreAccess {
  readonly replica: Replica
  readonly clock: () => number
  readonly maxValueBytes: number
  readonly maxKeyBytes: number
  assertOpen(): void
  /** A handle read the structure at `key` (a cache store counts it as a use). */
  used(key: string): void
  /** Refuses a closed or read-only store, and a key outside the write rules. */
  assertWritable(key: string): void
}

export abstract class StructureHandle {
  /** @internal Use the store's `hash`, `list`, `collection`, `sortedSet` or `stream`. */
  constructor(
    protected readonly store: StoreAccess,
    /** The key holding the structure. */
    readonly key: string,
    private readonly type: StructType,
  ) {
    checkKey(key, store.maxKeyBytes)
  }

  protected get replica(): Replica {
    return this.store.replica
  }

  /**
   * The structure for a read: undefined when the key holds nothing (or has expired).
   * @throws TideKVError `WRONG_TYPE` when the key holds another type, `CLOSED`
   */
  protected read(): Structure | undefined {
    this.store.assertOpen()
    const found = this.#find()
    if (found !== undefined) this.store.used(this.key)
    return found
  }

  /** Like `read`, for a write: also refuses read-only stores. Changes nothing yet. */
  protected check(): Structure | undefined {
    this.store.assertWritable(this.key)
    return this.#find()
  }

  #find(): Structure | undefined {
    const slot = this.replica.slot(this.key)
    if (slot === undefined) return undefined
    const type = this.replica.typeOf(slot, this.store.clock())
    if (type === 'none') return undefined
    if (slot.winner === null || slot.winner.type !== this.type) {
      const wanted = TYPE_NAMES[this.type as keyof typeof TYPE_NAMES] // reason: a handle is made only for a structure type (hash() … stream()), never PLAIN
      throw new TideKVError('WRONG_TYPE', `"${this.key}" holds a ${type}, not a ${wanted}`)
    }
    return slot.winner
  }

  /** The structure to write to (created, replacing whatever stale entries the key had, when it holds none). Call after every check. */
  protected open(): Structure {
    return this.replica.openStructure(this.key, this.type)
  }

  /** The expiry new members carry: the structure's, so they expire with it even if a replica removes it concurrently. */
  protected expiryOf(struct: Structure | undefined): number {
    return struct === undefined ? 0 : struct.slot.expiresAt
  }

  /** A new stamp of this replica's clock. */
  protected stamp() {
    return this.replica.hlc.next(this.replica.clientId)
  }

  /** @throws TideKVError `INVALID_VALUE` when a member or field is not a string or is too long */
  protected checkMember(member: unknown, what = 'member'): asserts member is string {
    if (typeof member !== 'string') throw new TideKVError('INVALID_VALUE', `A ${what} must be a string, got ${member === null ? 'null' : typeof member}`)
    checkString(member, this.store.maxKeyBytes, 'INVALID_VALUE', what)
  }

  /** @throws TideKVError `INVALID_VALUE` unless `fields` is a plain object with at least one field */
  protected checkFields(fields: unknown, what: string): asserts fields is Readonly<Record<string, Value>> {
    const proto: unknown = typeof fields === 'object' && fields !== null ? Object.getPrototypeOf(fields) : undefined
    if (typeof fields !== 'object' || fields === null || (proto !== Object.prototype && proto !== null)) {
      throw new TideKVError('INVALID_VALUE', `${what} takes a plain object of fields`)
    }
    if (Object.keys(fields).length === 0) throw new TideKVError('INVALID_VALUE', `${what} needs at least one field`)
  }

  /** Encodes a member's value. @throws TideKVError `INVALID_VALUE`, `VALUE_TOO_LARGE` */
  protected memberEntry(member: string, value: unknown, struct: Structure | undefined, stamp = this.stamp()): Entry {
    const max = this.store.maxValueBytes
    const entry = createMemberEntry(this.key, this.type, member, stamp, this.expiryOf(struct), value, max)
    const size = valueByteLength(entry)
    if (size > max) throw new TideKVError('VALUE_TOO_LARGE', `A value in "${this.key}" is ${size} bytes encoded; the limit is ${max}`)
    return entry
  }

  /** Removes the named members that exist; returns how many did (HDEL, SREM, ZREM). Removing the last removes the key. */
  protected removeMembers(names: readonly string[]): number {
    const struct = this.check()
    if (struct === undefined) return 0
    let removed = 0
    for (const name of new Set(names)) {
      const member = struct.members.get(name)
      if (member === undefined) continue
      this.replica.removeMember(member)
      removed++
    }
    return removed
  }

  /** The visible value of a member (bytes copied out), as the type `T` the caller of a generic read (`hash.get<T>`) names. */
  protected valueAs<T extends Value>(member: Slot): T | undefined {
    // reason: T is the caller's word for what it stored (as in store.get<T>, or idb's get<T>); values are checked on write, their shape is not on read
    return this.replica.output(member) as T | undefined
  }

  /**
   * Adds `by` to a member's number through this replica's counter
   * contribution, so increments made concurrently elsewhere all count.
   * `integer`: hash fields count in safe integers; sorted set scores in floats.
   */
  protected increment(member: string, by: number, integer: boolean): number {
    const struct = this.check()
    const slot = struct?.members.get(member)
    const current = slot === undefined ? undefined : slotValue(slot)
    const step = counterStep(slot, current, by, this.replica.clientId, integer, `"${member}" in "${this.key}"`)
    const stamp = this.stamp()
    if (step.sum === undefined) {
      const entry = this.memberEntry(member, step.result, struct, stamp)
      this.replica.setMember(this.open(), entry)
      return step.result
    }
    const entry = createMemberCounterEntry(this.key, this.type, member, stamp, this.expiryOf(struct), step.epoch, step.sum)
    const target = this.open()
    this.replica.contributeMember(target, step.own, entry)
    // What is stored is base + (sum of contributions): with floats, not always (base + old sum) + by.
    // reason: the member now holds a counter, whose value the slot computes as a number (numeric base or 0, plus the sum)
    return integer ? step.result : (slotValue(target.members.get(member)!) as number)
  }
}

/**
 * A record from `[name, value]` pairs, field by field: `Object.fromEntries`
 * over pair arrays cost most of an XRANGE. A field named `__proto__` becomes
 * an own property (as with `Object.fromEntries`), not the prototype setter.
 */
export function toRecord<T>(names: readonly string[], values: readonly T[]): Record<string, T> {
  const out: Record<string, T> = {}
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!
    if (name === '__proto__') Object.defineProperty(out, name, { value: values[i], enumerable: true, writable: true, configurable: true })
    else out[name] = values[i]!
  }
  return out
}

/** Redis's rule for a [start, stop] range of positions (negative from the end, inclusive): [from, to) or null when empty. */
export function positions(start: number, stop: number, length: number): [number, number] | null {
  checkIndex(start, 'start')
  checkIndex(stop, 'stop')
  let from = start < 0 ? start + length : start
  let to = stop < 0 ? stop + length : stop
  if (from < 0) from = 0
  if (to >= length) to = length - 1
  if (from > to || from >= length) return null
  return [from, to + 1]
}

/** @throws TideKVError `INVALID_VALUE` when `n` is not an integer */
export function checkIndex(n: unknown, what: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new TideKVError('INVALID_VALUE', `${what} must be an integer, got ${n}`)
}
