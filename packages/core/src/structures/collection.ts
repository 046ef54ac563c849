/**
 * A set of strings under one key (Redis SADD, SREM, ...), named `collection`
 * because `store.set` is Redis's SET. Observed-remove semantics: `remove`
 * removes the additions it has seen, so an `add` made concurrently on another
 * replica wins, and re-adding a present member renews it.
 */
import { StructType } from '../layout/entry.js'
import { TideKVError } from '../errors.js'
import { checkKey } from '../layout/key.js'
import { type StoreAccess, StructureHandle } from './handle.js'

export class Collection extends StructureHandle {
  /** @internal Use `store.collection(key)`. */
  constructor(store: StoreAccess, key: string) {
    super(store, key, StructType.SET)
  }

  /**
   * Adds members; returns how many were not there (SADD).
   * @throws TideKVError `WRONG_TYPE`, `INVALID_VALUE`, `READ_ONLY`, `CLOSED`
   * @example
   * store.collection('tags:post:1').add('crdt', 'offline')
   */
  add(...members: string[]): number {
    const struct = this.check()
    if (members.length === 0) throw new TideKVError('INVALID_VALUE', 'add needs at least one member')
    const unique = [...new Set(members)]
    const stamp = this.stamp()
    const entries = unique.map((m) => {
      this.checkMember(m)
      return this.memberEntry(m, true, struct, stamp)
    })
    const target = this.open()
    let added = 0
    for (const entry of entries) {
      if (!target.members.has(entry.member!)) added++
      this.replica.setMember(target, entry)
    }
    return added
  }

  /** Removes members; returns how many were there (SREM). Removing the last removes the key. */
  remove(...members: string[]): number {
    return this.removeMembers(members)
  }

  /** Whether `member` is in the set (SISMEMBER). */
  has(member: string): boolean {
    return this.read()?.members.has(member) ?? false
  }

  /** The members in code-unit order (SMEMBERS). */
  members(): string[] {
    const struct = this.read()
    return struct === undefined ? [] : [...struct.members.keys()].sort()
  }

  /** How many members (SCARD). */
  get size(): number {
    return this.read()?.members.size ?? 0
  }

  /** Members of this set or any of the sets at `others`, sorted (SUNION). Missing keys are empty sets. */
  union(...others: string[]): string[] {
    const all = new Set<string>()
    for (const set of this.#sets(others)) for (const m of set) all.add(m)
    return [...all].sort()
  }

  /** Members of this set that are in every set at `others`, sorted (SINTER). */
  intersect(...others: string[]): string[] {
    const [first, ...rest] = this.#sets(others)
    return [...first!].filter((m) => rest.every((set) => set.has(m))).sort()
  }

  /** Members of this set that are in none of the sets at `others`, sorted (SDIFF). */
  diff(...others: string[]): string[] {
    const [first, ...rest] = this.#sets(others)
    return [...first!].filter((m) => !rest.some((set) => set.has(m))).sort()
  }

  /** The member sets of this key and `others` (each checked for its type). */
  #sets(others: string[]): ReadonlySet<string>[] {
    const handles = [this, ...others.map((key) => (checkKey(key, this.store.maxKeyBytes), new Collection(this.store, key)))]
    return handles.map((h) => new Set(h.read()?.members.keys() ?? []))
  }
}
