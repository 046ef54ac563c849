/**
 * A hash: fields with values under one key (Redis HSET, HGET, ...). Each
 * field is its own entry, so fields written on different replicas merge;
 * concurrent writes to one field: the last (by hybrid clock) wins; `incr` on
 * a field counts every replica's increments.
 */
import { StructType } from '../layout/entry.js'
import { TideKVError } from '../errors.js'
import { type StoreAccess, StructureHandle, toRecord } from './handle.js'
import type { Structure } from '../keyspace/structure.js'
import type { Value } from '../layout/value.js'

export class Hash extends StructureHandle {
  /** @internal Use `store.hash(key)`. */
  constructor(store: StoreAccess, key: string) {
    super(store, key, StructType.HASH)
  }

  /**
   * Sets `field` to a copy of `value`; returns true when the field is new (HSET).
   * @throws TideKVError `WRONG_TYPE`, `INVALID_VALUE`, `VALUE_TOO_LARGE`, `READ_ONLY`, `CLOSED`
   * @example
   * store.hash('user:1').set('name', 'Ada')
   */
  set(field: string, value: Value): boolean {
    this.checkMember(field, 'field')
    return this.setMany({ [field]: value }) === 1
  }

  /** Sets several fields at once (HSET with many pairs); all are checked first. Returns how many were new. */
  setMany(fields: Readonly<Record<string, Value>>): number {
    const struct = this.check()
    this.checkFields(fields, 'setMany')
    const names = Object.keys(fields)
    const entries = names.map((name) => {
      this.checkMember(name, 'field')
      return this.memberEntry(name, fields[name], struct)
    })
    let added = 0
    const target = this.open()
    for (const entry of entries) {
      if (!target.members.has(entry.member!)) added++
      this.replica.setMember(target, entry)
    }
    return added
  }

  /** The value of `field`, or undefined (HGET). @throws TideKVError `WRONG_TYPE`, `CLOSED` */
  get<T extends Value = Value>(field: string): T | undefined {
    const member = this.read()?.members.get(field)
    return member === undefined ? undefined : this.valueAs<T>(member)
  }

  /** Every field and value, fields in code-unit order (HGETALL). */
  getAll<T extends Value = Value>(): Record<string, T> {
    const struct = this.read()
    if (struct === undefined) return {}
    const names = sortedNames(struct)
    return toRecord(
      names,
      names.map((name) => this.valueAs<T>(struct.members.get(name)!)!),
    )
  }

  /** Removes fields; returns how many existed (HDEL). Removing the last field removes the key. */
  delete(...fields: string[]): number {
    return this.removeMembers(fields)
  }

  /** Whether `field` exists (HEXISTS). */
  has(field: string): boolean {
    return this.read()?.members.has(field) ?? false
  }

  /**
   * Adds `by` to the integer in `field` (a missing field counts from 0) and
   * returns the result (HINCRBY). Increments made concurrently on other
   * replicas all count; a concurrent `set` of the field resets it.
   * @throws TideKVError `NOT_AN_INTEGER`, `OUT_OF_RANGE`, `WRONG_TYPE`, `READ_ONLY`, `CLOSED`
   */
  incr(field: string, by = 1): number {
    this.checkMember(field, 'field')
    if (!Number.isSafeInteger(by)) throw new TideKVError('NOT_AN_INTEGER', `Increment ${by} is not a safe integer`)
    return this.increment(field, by, true)
  }

  /** Field names in code-unit order (HKEYS). */
  keys(): string[] {
    const struct = this.read()
    return struct === undefined ? [] : sortedNames(struct)
  }

  /** Values in the order of `keys()` (HVALS). */
  values<T extends Value = Value>(): T[] {
    const struct = this.read()
    if (struct === undefined) return []
    return sortedNames(struct).map((name) => this.valueAs<T>(struct.members.get(name)!)!)
  }

  /** How many fields (HLEN). */
  get size(): number {
    return this.read()?.members.size ?? 0
  }
}

function sortedNames(struct: Structure): string[] {
  return [...struct.members.keys()].sort()
}
