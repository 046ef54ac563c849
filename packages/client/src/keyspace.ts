/**
 * The keyspace: every key's live entries and the value they resolve to, in a
 * hash map (O(1) reads) beside a sorted index (prefix scans) and an expiry
 * heap (TTL). It is derived from the document; it never touches Yjs.
 *
 * Resolution of one key's entries, identical on every replica:
 * - the base is the value entry with the greatest stamp (last writer wins);
 * - counter contributions count when built on that base or a later one
 *   (epoch ≥ base stamp); older ones were reset by a later `set`;
 * - value = base value + counted sums (from 0 when there is no base, or when
 *   the base is not an integer: increments built on a newer base win over it);
 * - expiry = that of the newest entry among the base and the counted ones.
 * Entries that neither win nor count are losers, removed from the document
 * by the next commit of any replica that sees them.
 */
import { compareStamps, ZERO_STAMP } from './hlc.js'
import * as decoding from 'lib0/decoding'
import { decodeEntry, decodeEntryValue, type Entry, EntryKind } from './entry.js'
import { ExpiryQueue } from './expiry-queue.js'
import { SortedIndex } from './sorted-index.js'
import type { Value } from './value.js'

export class Slot {
  /**
   * A slot loaded from a saved keyspace keeps its entries encoded until first
   * used: `raw` is the saved bytes, `rawOffset`/`rawCount` where its entries
   * are. Only `expiresAt` is known before (it is saved beside the key).
   */
  raw: Uint8Array | null = null
  rawOffset = 0
  rawCount = 0
  /** The winning value entry, or null when the key is a counter with no base. */
  base: Entry | null = null
  /** True when counter contributions count towards the value. */
  counter = false
  /** The resolved value; undefined while the base's value is not decoded yet. */
  value: Value | undefined = undefined
  /** Epoch milliseconds, or 0 for no expiry. */
  expiresAt = 0
  hasLosers = false

  constructor(
    readonly key: string,
    /** Every live (or pending) entry of the key. */
    public entries: Entry[] = [],
  ) {}
}

/** The entries of a slot still encoded: never pushed to (materialize replaces it). */
export const NO_ENTRIES: Entry[] = Object.freeze([]) as unknown as Entry[]

/** Orders two entries of a key; ties (only from a misbehaving peer) fall to the item id. */
function compareEntries(a: Entry, b: Entry): number {
  return compareStamps(a.stamp, b.stamp) || a.client - b.client || a.clock - b.clock
}

/** Recomputes what a slot's entries resolve to (see the file header). */
export function resolveSlot(slot: Slot): void {
  const entries = slot.entries
  let base: Entry | null = null
  for (const e of entries) if (e.kind === EntryKind.VALUE && (base === null || compareEntries(e, base) > 0)) base = e
  const baseStamp = base?.stamp ?? ZERO_STAMP
  let sum = 0
  let counted = false
  let newest = base
  let losers = false
  for (const e of entries) {
    if (e.kind === EntryKind.COUNTER && compareStamps(e.epoch!, baseStamp) >= 0) {
      sum += e.sum
      counted = true
      if (newest === null || compareEntries(e, newest) > 0) newest = e
    } else if (e !== base) {
      losers = true
    }
  }
  slot.base = base
  slot.hasLosers = losers
  slot.counter = counted
  slot.expiresAt = newest?.expiresAt ?? 0
  if (!counted) {
    slot.value = base?.value
    return
  }
  const baseValue = base === null ? 0 : safeDecode(base)
  slot.value = (typeof baseValue === 'number' && Number.isSafeInteger(baseValue) ? baseValue : 0) + sum
}

/** Whether an entry neither wins nor counts (valid right after `resolveSlot`). */
export function isLoser(slot: Slot, e: Entry): boolean {
  if (e.kind === EntryKind.VALUE) return e !== slot.base
  return compareStamps(e.epoch!, slot.base?.stamp ?? ZERO_STAMP) < 0
}

function safeDecode(entry: Entry): Value | undefined {
  try {
    return decodeEntryValue(entry)
  } catch {
    return undefined // reason: an undecodable base reads as absent, the same on every replica
  }
}

/** The resolved value of a slot, decoding the base on first use. */
export function slotValue(slot: Slot): Value | undefined {
  if (slot.raw !== null) materialize(slot)
  if (slot.value === undefined && slot.base !== null && !slot.counter) slot.value = safeDecode(slot.base)
  return slot.value
}

/**
 * Decodes the entries of a slot loaded from a saved keyspace (each saved
 * entry: varUint client, varUint clock, varUint8Array entry bytes; see
 * saved-keyspace.ts). Entries whose bytes no longer decode are dropped.
 */
export function materialize(slot: Slot): void {
  const raw = slot.raw
  if (raw === null) return
  slot.raw = null
  slot.entries = []
  const dec = decoding.createDecoder(raw)
  dec.pos = slot.rawOffset
  for (let i = 0; i < slot.rawCount; i++) {
    const client = decoding.readVarUint(dec)
    const clock = decoding.readVarUint(dec)
    const bytes = decoding.readVarUint8Array(dec)
    try {
      slot.entries.push(decodeEntry(bytes, client, clock, false))
    } catch {
      // reason: the saved keyspace is a cache; the document load repairs the slot
    }
  }
  resolveSlot(slot)
}

/** Whether the value must be copied on the way out (it holds bytes, which cannot be frozen). */
export function slotIsBinary(slot: Slot): boolean {
  return !slot.counter && slot.base !== null && slot.base.binary
}

export class Keyspace {
  readonly slots = new Map<string, Slot>()
  index = new SortedIndex()
  readonly expiry = new ExpiryQueue()

  /** The slot of `key`, its entries decoded. */
  get(key: string): Slot | undefined {
    const slot = this.slots.get(key)
    if (slot !== undefined && slot.raw !== null) materialize(slot)
    return slot
  }

  /** Every slot, entries decoded (O(n)). */
  all(): Slot[] {
    const out = [...this.slots.values()]
    for (const slot of out) if (slot.raw !== null) materialize(slot)
    return out
  }

  /** The slot of `key`, created empty (and indexed) when missing. */
  ensure(key: string): Slot {
    let slot = this.slots.get(key)
    if (slot === undefined) {
      slot = new Slot(key)
      this.slots.set(key, slot)
      this.index.insert(key)
    } else if (slot.raw !== null) {
      materialize(slot)
    }
    return slot
  }

  /** Re-resolves a slot after its entries changed; drops it once it has none. */
  update(slot: Slot): void {
    if (slot.entries.length === 0) {
      this.remove(slot)
      return
    }
    const before = slot.expiresAt
    resolveSlot(slot)
    if (slot.expiresAt > 0 && slot.expiresAt !== before) this.expiry.push(slot.expiresAt, slot.key)
  }

  remove(slot: Slot): void {
    if (this.slots.get(slot.key) === slot) {
      this.slots.delete(slot.key)
      this.index.delete(slot.key)
    }
  }

  clear(): void {
    this.slots.clear()
    this.index.clear()
    this.expiry.clear()
  }

  /** Fills an empty keyspace from slots sorted by key (still encoded), in O(n). */
  load(keys: string[], sorted: Slot[]): void {
    for (const slot of sorted) {
      this.slots.set(slot.key, slot)
      if (slot.expiresAt > 0) this.expiry.push(slot.expiresAt, slot.key)
    }
    this.index = SortedIndex.fromSorted(keys)
  }
}
