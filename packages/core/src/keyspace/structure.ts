/**
 * The in-memory side of one data structure under a key (hash, set, sorted
 * set, list, stream): its members, each a slot of its own entries resolved
 * like a plain key (last writer wins by stamp, counter contributions summed),
 * its meta entries (which carry the structure's expiry), and, for the ordered
 * types, an index kept in order as members come and go.
 *
 * Members are entries of the same log as plain keys, one per hash field, set
 * member, sorted set member, list element or stream entry. Nothing is nested
 * under the key, so two replicas that create and fill one structure offline
 * merge member by member.
 */
import { compareStamps } from '../layout/hlc.js'
import { type Entry, StructType } from '../layout/entry.js'
import { compareTuples, parseListPosition, parseStreamId } from '../layout/member-order.js'
import { RankedIndex } from './ranked-index.js'
import { eachEntry, entryCount, MemberSlot, resolvedValue, resolveSlot, type Slot } from './slot.js'

/** The `store.type()` names of the structures (Redis's TYPE names). */
export const TYPE_NAMES = { [StructType.HASH]: 'hash', [StructType.SET]: 'set', [StructType.ZSET]: 'zset', [StructType.LIST]: 'list', [StructType.STREAM]: 'stream' } as const

/** Members in order: by their tuple (score; position; id), then by member string. */
function compareMembers(a: MemberSlot, b: MemberSlot): number {
  return compareTuples(a.ord!, b.ord!) || compareCodePoints(a.key, b.key)
}

/** Orders strings by code point, which is the order of their UTF-8 bytes (Redis's memcmp), unlike `<` (code units). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    // Surrogates (U+D800–DFFF) stand for code points above U+FFFF: move them above U+E000–FFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000
    }
    return x - y
  }
  return a.length - b.length
}

/** A structure's state as watchers see it: one object per visible version. */
export class StructureVersion {}

export class Structure {
  /** Members by member string (a member slot's `key` is its member string). */
  readonly members = new Map<string, MemberSlot>()
  /** Meta entries: the newest one's expiry is the structure's. */
  metas: Entry[] = []
  /** Ordered types: the members in order. */
  readonly index: RankedIndex<MemberSlot> | null
  /**
   * What watchers compare for this structure: replaced whenever a member comes, goes or
   * changes its value, so a change that leaves every member as it was (a loser cleaned up) fires nothing.
   */
  token: StructureVersion = new StructureVersion()
  /** How many members carry an expiry (used only when no meta is left: see `expiry`). */
  expiring = 0
  /** The bytes of its members' entries, kept as they change: a cache's budget asks after every write. */
  memberBytes = 0
  /** The earliest member expiry and how many members carry it; NaN: unknown, recomputed on demand. */
  #earliest = NaN
  #atEarliest = 0

  constructor(
    readonly type: StructType,
    /** The key slot holding the structure. */
    readonly slot: Slot,
  ) {
    this.index = type === StructType.ZSET || type === StructType.LIST || type === StructType.STREAM ? new RankedIndex(compareMembers) : null
  }

  /**
   * The member slot of `member`, created empty when missing (not indexed
   * until it has entries). `ord`: its order tuple when the caller made the
   * member string from it (saves parsing it back).
   */
  member(member: string, ord?: number[]): MemberSlot {
    let slot = this.members.get(member)
    if (slot === undefined) {
      slot = new MemberSlot(member, this)
      if (ord !== undefined) slot.ord = ord
      else if (this.type === StructType.LIST) slot.ord = parseListPosition(member) ?? null
      else if (this.type === StructType.STREAM) slot.ord = parseStreamId(member) ?? null
      this.members.set(member, slot)
    }
    return slot
  }

  /** True while the structure has members or metas (otherwise its key slot drops it). */
  get live(): boolean {
    return this.members.size > 0 || this.metas.length > 0
  }

  /**
   * When the structure expires: the newest meta's expiry. Members written
   * while it had an expiry carry it too, so when a replica deletes an expired
   * structure (and its metas), members added concurrently elsewhere still
   * expire: with no meta left, the earliest member expiry counts.
   */
  expiry(): number {
    if (this.metas.length > 0) {
      let newest = this.metas[0]!
      for (const m of this.metas) if (compareStamps(m.stamp, newest.stamp) > 0) newest = m
      return newest.expiresAt
    }
    if (this.expiring === 0) return 0
    if (Number.isNaN(this.#earliest)) {
      // O(n), but only once each time the members at the earliest expiry have all gone.
      let min = Infinity
      let count = 0
      for (const m of this.members.values()) {
        if (m.expiresAt <= 0 || m.expiresAt > min) continue
        if (m.expiresAt < min) (min = m.expiresAt), (count = 0)
        count++
      }
      this.#earliest = min
      this.#atEarliest = count
    }
    return this.#earliest === Infinity ? 0 : this.#earliest
  }

  /** Keeps the cached earliest member expiry right when one member's expiry goes from `before` to `after` (0: none). */
  #moveExpiry(before: number, after: number): void {
    if (before === after || Number.isNaN(this.#earliest)) return
    if (before > 0 && before === this.#earliest && --this.#atEarliest === 0) this.#earliest = NaN
    if (after > 0 && !Number.isNaN(this.#earliest)) {
      if (after < this.#earliest) (this.#earliest = after), (this.#atEarliest = 1)
      else if (after === this.#earliest) this.#atEarliest++
    }
  }

  /** The greatest stamp of any of its entries: decides between types written to one key concurrently (O(n), rare). */
  newestStamp(): Entry | null {
    let newest: Entry | null = null
    const consider = (e: Entry): void => {
      if (newest === null || compareStamps(e.stamp, newest.stamp) > 0) newest = e
    }
    for (const m of this.metas) consider(m)
    for (const slot of this.members.values()) eachEntry(slot, consider)
    return newest
  }

  /** Re-resolves a member after its entries changed: its value, the index, the expiry count; drops it once empty. */
  refresh(slot: MemberSlot): void {
    const before = slot.expiresAt
    const hadExpiry = before > 0
    const wasBase = slot.base
    const wasValue = slot.counter ? slot.value : undefined
    const wasIn = this.members.get(slot.key) === slot && (slot.base !== null || slot.counter)
    if (entryCount(slot) === 0) {
      if (slot.indexed) this.index!.delete(slot)
      slot.indexed = false
      if (this.members.get(slot.key) === slot) this.members.delete(slot.key)
      slot.expiresAt = 0
    } else {
      resolveSlot(slot)
      if (this.index !== null) this.#reindex(slot)
    }
    this.expiring += (slot.expiresAt > 0 ? 1 : 0) - (hadExpiry ? 1 : 0)
    this.#moveExpiry(before, slot.expiresAt)
    const isIn = this.members.get(slot.key) === slot
    const counted = isIn ? entryBytes(slot) : 0
    this.memberBytes += counted - slot.countedBytes
    slot.countedBytes = counted
    if (isIn !== wasIn || slot.base !== wasBase || (slot.counter ? slot.value : undefined) !== wasValue) this.token = new StructureVersion()
  }

  #reindex(slot: MemberSlot): void {
    if (this.type === StructType.ZSET) {
      const value = resolvedValue(slot)
      const score = typeof value === 'number' ? value : NaN
      if (slot.indexed && slot.ord![0] === score) return
      if (slot.indexed) this.index!.delete(slot)
      slot.indexed = false
      // An undecodable score is no member: the same on every replica.
      if (Number.isNaN(score)) return
      slot.ord = [score]
    } else if (slot.indexed || slot.ord === null) {
      return
    }
    slot.indexed = this.index!.insert(slot)
  }

  /** Forgets every member (their entries are the caller's to retire). */
  clear(): void {
    for (const m of this.members.values()) m.countedBytes = 0
    this.memberBytes = 0
    this.members.clear()
    this.index?.clear()
    this.expiring = 0
    this.#earliest = NaN
  }

  /** The bytes of its entries (metas and members): O(metas), usually one. */
  bytes(): number {
    let n = this.memberBytes
    for (const m of this.metas) n += m.bytes.length
    return n
  }

  /** Every entry of the structure (metas and members). */
  forEachEntry(fn: (e: Entry) => void): void {
    for (const m of this.metas) fn(m)
    for (const slot of this.members.values()) eachEntry(slot, fn)
  }
}

/** The bytes of a slot's own entries. */
function entryBytes(slot: MemberSlot): number {
  const entries = slot.entries
  if (!Array.isArray(entries)) return entries.bytes.length
  let n = 0
  for (const e of entries) n += e.bytes.length
  return n
}
