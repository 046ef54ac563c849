/**
 * The keyspace: every key's slot (slot.ts) in a hash map (O(1) reads), beside
 * a sorted index (prefix scans) and an expiry heap (TTL); and the resolution
 * of a key that holds data structures. It is derived from the document; it
 * never touches Yjs.
 */
import type { SavedKeys } from './saved-keys.js'
import { type Entry, StructType } from '../layout/entry.js'
import { decodeEntry } from '../layout/entry-codec.js'
import type { Value } from '../layout/value.js'
import { ExpiryQueue } from './expiry-queue.js'
import { addEntry, compareEntries, eachEntry, entriesOf, entryCount, type MemberSlot, NO_ENTRIES, resolvedValue, resolveSlot, Slot } from './slot.js'
import { SortedIndex } from './sorted-index.js'
import { Structure } from './structure.js'

/**
 * Resolves a key slot: its plain entries (see `resolveSlot`) and its data
 * structures. When a key holds entries of more than one type (replicas wrote
 * different types to it concurrently), the type of the newest write wins; the
 * other type's entries are losers, removed by the next commit.
 */
export function resolveKey(slot: Slot): void {
  resolveSlot(slot)
  let structs = slot.structs
  if (structs === null) {
    slot.winner = null
    return
  }
  if (structs.some((s) => !s.live)) {
    structs = structs.filter((s) => s.live)
    slot.structs = structs.length === 0 ? null : structs
  }
  if (structs.length === 0) {
    slot.winner = null
    return
  }
  let winner: Structure | null = structs[0]!
  if (structs.length > 1 || entryCount(slot) > 0) {
    let newest: Entry | null = null
    for (const e of entriesOf(slot)) if (newest === null || compareEntries(e, newest) > 0) newest = e
    winner = null
    for (const s of structs) {
      // Only metas left (an expire or persist whose members were all removed concurrently):
      // garbage, not a write of its type; it must not make a concurrent write of another type lose.
      if (s.members.size === 0) continue
      const n = s.newestStamp()
      if (n !== null && (newest === null || compareEntries(n, newest) > 0)) {
        newest = n
        winner = s
      }
    }
    slot.hasLosers = true
  }
  slot.winner = winner
  if (winner === null) return
  slot.base = null
  slot.counter = false
  slot.value = undefined
  slot.expiresAt = winner.expiry()
  // A structure whose members are all gone keeps only metas: garbage, removed by the next commit.
  // So are the metas that lost to a newer one (concurrent expire/persist calls).
  if (winner.members.size === 0 || winner.metas.length > 1) slot.hasLosers = true
}

/** Places a decoded entry in its key slot (plain and meta entries) or member slot; returns the member slot, if any. */
export function placeEntry(slot: Slot, entry: Entry): MemberSlot | null {
  if (entry.type === StructType.PLAIN) {
    addEntry(slot, entry)
    return null
  }
  const struct = structureOf(slot, entry.type, true)!
  if (entry.member === null) {
    struct.metas.push(entry)
    return null
  }
  const member = struct.member(entry.member)
  addEntry(member, entry)
  return member
}

/** The structure of `type` under a key slot (created when `create`). */
export function structureOf(slot: Slot, type: StructType, create: boolean): Structure | undefined {
  const found = slot.structs?.find((s) => s.type === type)
  if (found !== undefined || !create) return found
  const struct = new Structure(type, slot)
  ;(slot.structs ??= []).push(struct)
  return struct
}

/** Whether a key slot has no entries at all. */
export function isEmptySlot(slot: Slot): boolean {
  return entryCount(slot) === 0 && (slot.structs === null || slot.structs.every((s) => !s.live))
}

/** Calls `fn` with every entry of a key slot: plain, metas and members. */
export function forEachEntry(slot: Slot, fn: (e: Entry) => void): void {
  eachEntry(slot, fn)
  if (slot.structs !== null) for (const s of slot.structs) s.forEachEntry(fn)
}

/** The resolved value of a slot, decoding the base on first use. */
export function slotValue(slot: Slot): Value | undefined {
  if (slot.saved !== null) materialize(slot)
  return resolvedValue(slot)
}

/**
 * Decodes the entries of a slot made at a fast open (see saved-keys.ts),
 * checking each as an entry from another replica is checked: entries that do
 * not decode, or hold an invalid value, are dropped (every replica ignores
 * them).
 */
export function materialize(slot: Slot): void {
  const saved = slot.saved
  if (saved === null) return
  slot.saved = null
  slot.entries = NO_ENTRIES
  const members = new Set<MemberSlot>()
  const end = saved.starts[slot.savedIndex + 1]!
  for (let e = saved.starts[slot.savedIndex]!; e < end; e++) {
    const offset = saved.offsets[e]!
    const bytes = saved.buffer.subarray(offset, offset + saved.lengths[e]!)
    try {
      const member = placeEntry(slot, decodeEntry(bytes, saved.clients[e]!, saved.clocks[e]!, true))
      if (member !== null) members.add(member)
    } catch {
      // reason: an invalid entry is ignored, as by every replica; the document load reports it
    }
  }
  for (const member of members) member.owner.refresh(member)
  resolveKey(slot)
}

/** Whether the value must be copied on the way out (it holds bytes, which cannot be frozen). */
export function slotIsBinary(slot: Slot): boolean {
  return !slot.counter && slot.base !== null && slot.base.binary
}

export class Keyspace {
  readonly #slots = new Map<string, Slot>()
  index = new SortedIndex()
  readonly expiry = new ExpiryQueue()
  /** Told of every slot that changed (after it resolved) or left (`removed`), and of `clear`: a cache's byte count (see Replica.keyChanged). */
  onChange: ((slot: Slot, removed: boolean) => void) | null = null
  onClear: (() => void) | null = null
  /**
   * After a fast open, the saved keys not yet made slots: a key's slot is made
   * on first use (binary search, O(log n)), and all remaining ones when the
   * document has loaded. Building 100,000 slots and a map of them up front
   * would cost more than the whole rest of opening.
   */
  #saved: (SavedKeys & { promoted: Uint8Array; left: number }) | null = null

  /** How many keys there are (expired ones included until swept). */
  get size(): number {
    return this.#slots.size + (this.#saved?.left ?? 0)
  }

  /** The slot of `key`, its entries possibly still encoded: for reads, which need only the value. */
  peek(key: string): Slot | undefined {
    const slot = this.#slots.get(key)
    return slot !== undefined || this.#saved === null ? slot : this.#promote(key)
  }

  /** The slot of `key`, its entries decoded. */
  get(key: string): Slot | undefined {
    const slot = this.peek(key)
    if (slot === undefined || slot.saved === null) return slot
    materialize(slot)
    return this.#keepIfLive(slot)
  }

  /** Every slot, entries decoded (O(n)). */
  all(): Slot[] {
    this.#promoteAll()
    const out: Slot[] = []
    for (const slot of [...this.#slots.values()]) {
      if (slot.saved === null) out.push(slot)
      else {
        materialize(slot)
        if (this.#keepIfLive(slot) !== undefined) out.push(slot)
      }
    }
    return out
  }

  /**
   * A slot read from a snapshot whose entries all turned out invalid (their
   * heads read, their values or fields not) holds nothing: a full load would
   * never have made it. Dropped; until then it counted in `size` and was
   * listed by scans (reads of it gave nothing).
   */
  #keepIfLive(slot: Slot): Slot | undefined {
    if (!isEmptySlot(slot)) return slot
    this.remove(slot)
    return undefined
  }

  /** The slot of `key`, created empty (and indexed) when missing. */
  ensure(key: string): Slot {
    let slot = this.get(key)
    if (slot === undefined) {
      slot = new Slot(key)
      this.#slots.set(key, slot)
      this.index.insert(key)
    }
    return slot
  }

  /** Re-resolves a key slot after its entries changed; drops it once it has none. */
  update(slot: Slot): void {
    if (isEmptySlot(slot)) {
      this.remove(slot)
      return
    }
    const before = slot.expiresAt
    resolveKey(slot)
    if (slot.expiresAt > 0 && slot.expiresAt !== before) {
      this.expiry.push(slot.expiresAt, slot.key)
      // Rewrites leave stale heap entries behind (skipped when popped): rebuild before they pile up.
      if (this.expiry.size > 2 * this.size + 1024) this.#rebuildExpiry()
    }
    this.onChange?.(slot, false)
  }

  #rebuildExpiry(): void {
    this.expiry.clear()
    for (const slot of this.#slots.values()) if (slot.expiresAt > 0) this.expiry.push(slot.expiresAt, slot.key)
    const saved = this.#saved
    if (saved !== null) {
      for (let i = 0; i < saved.keys.length; i++) {
        if (saved.promoted[i] === 0 && saved.expiries[i]! > 0) this.expiry.push(saved.expiries[i]!, saved.keys[i]!)
      }
    }
  }

  remove(slot: Slot): void {
    if (this.#slots.get(slot.key) === slot) {
      this.#slots.delete(slot.key)
      this.index.delete(slot.key)
      this.onChange?.(slot, true)
    }
  }

  clear(): void {
    this.#slots.clear()
    this.index.clear()
    this.expiry.clear()
    this.#saved = null
    this.onClear?.()
  }

  /** Fills an empty keyspace from a saved one, in O(n) with no slot made yet. */
  load(saved: SavedKeys): void {
    const n = saved.keys.length
    this.index = SortedIndex.fromSorted(saved.keys)
    for (let i = 0; i < n; i++) if (saved.expiries[i]! > 0) this.expiry.push(saved.expiries[i]!, saved.keys[i]!)
    this.#saved = n > 0 ? { ...saved, promoted: new Uint8Array(n), left: n } : null
  }

  #promote(key: string): Slot | undefined {
    const saved = this.#saved!
    const keys = saved.keys
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (keys[mid]! < key) lo = mid + 1
      else hi = mid
    }
    // A promoted key may since have been deleted: it must not come back from the saved copy.
    if (keys[lo] !== key || saved.promoted[lo] === 1) return undefined
    return this.#make(lo)
  }

  #promoteAll(): void {
    const saved = this.#saved
    if (saved === null) return
    for (let i = 0; i < saved.keys.length; i++) if (saved.promoted[i] === 0) this.#make(i)
  }

  #make(i: number): Slot {
    const saved = this.#saved!
    const slot = new Slot(saved.keys[i]!, NO_ENTRIES)
    slot.saved = saved
    slot.savedIndex = i
    slot.expiresAt = saved.expiries[i]!
    saved.promoted[i] = 1
    if (--saved.left === 0) this.#saved = null
    this.#slots.set(slot.key, slot)
    return slot
  }
}
