/**
 * One key's (or one member's) live entries and what they resolve to. A key
 * slot may also hold data structures (structure.ts); a member slot belongs to
 * one. Resolution of a slot's entries, identical on every replica:
 * - the base is the value entry with the greatest stamp (last writer wins);
 * - counter contributions count when built on that base or a later one
 *   (epoch ≥ base stamp); older ones were reset by a later `set`;
 * - value = base value + counted sums (from 0 when there is no base, or when
 *   the base is not an integer: increments built on a newer base win over it);
 * - expiry = that of the newest entry among the base and the counted ones.
 * Entries that neither win nor count are losers, removed from the document
 * by the next commit of any replica that sees them.
 */
import { type Entry, EntryKind, StructType } from '../layout/entry.js'
import { decodeEntryValue } from '../layout/entry-codec.js'
import { compareStamps, ZERO_STAMP } from '../layout/hlc.js'
import type { Value } from '../layout/value.js'
import type { SavedKeys } from './saved-keys.js'
import type { Structure } from './structure.js'

export class Slot {
  /**
   * A slot made at a fast open keeps its entries encoded until first used:
   * they are key `savedIndex` of `saved`. Only `expiresAt` is known before.
   */
  saved: SavedKeys | null = null
  savedIndex = 0
  /** The winning value entry, or null when the key is a counter with no base. */
  base: Entry | null = null
  /** True when counter contributions count towards the value. */
  counter = false
  /** The resolved value; undefined while the base's value is not decoded yet. */
  value: Value | undefined = undefined
  /** Epoch milliseconds, or 0 for no expiry. */
  expiresAt = 0
  hasLosers = false
  /** Key slots holding data structures: those, and the one the key resolves to (null for most keys: 8 B instead of 16). */
  #structures: { structs: Structure[] | null; winner: Structure | null } | null = null

  /** Key slots: the data structures with entries under this key (null: none; two or more only after concurrent writes of different types). */
  get structs(): Structure[] | null {
    return this.#structures?.structs ?? null
  }

  set structs(structs: Structure[] | null) {
    if (structs === null && this.#structures === null) return
    ;(this.#structures ??= { structs: null, winner: null }).structs = structs
    if (structs === null && this.#structures.winner === null) this.#structures = null
  }

  /** Key slots: the structure the key resolves to, or null for a plain value (or nothing). */
  get winner(): Structure | null {
    return this.#structures?.winner ?? null
  }

  set winner(winner: Structure | null) {
    if (winner === null && this.#structures === null) return
    ;(this.#structures ??= { structs: null, winner: null }).winner = winner
    if (winner === null && this.#structures.structs === null) this.#structures = null
  }

  /** Member slots (`MemberSlot`): the structure they belong to; null for key slots. */
  get owner(): Structure | null {
    return null
  }

  /** Member slots of ordered structures: the tuple they are ordered by (score; list position; stream id). */
  get ord(): number[] | null {
    return null
  }

  /** Member slots: whether the member is in its structure's index. */
  get indexed(): boolean {
    return false
  }

  constructor(
    readonly key: string,
    /**
     * Every live (or pending) entry of the key: most keys have one, held as
     * itself (an array for it would cost 56 B a key), else an array. Read
     * and change it through the functions below.
     */
    public entries: Entry | Entry[] = NO_ENTRIES,
  ) {}
}

/**
 * The slot of a data structure's member: a key slot's fields, plus its
 * structure and its place in the structure's order. A class of its own, so
 * that the slots of plain keys, by far the most, do not carry these.
 */
export class MemberSlot extends Slot {
  #owner: Structure
  #ord: number[] | null = null
  #indexed = false
  /** The bytes of its entries that its structure counts in `memberBytes` (0 while it is not a member). */
  countedBytes = 0

  constructor(member: string, owner: Structure) {
    super(member)
    this.#owner = owner
  }

  override get owner(): Structure {
    return this.#owner
  }

  override get ord(): number[] | null {
    return this.#ord
  }

  override set ord(ord: number[] | null) {
    this.#ord = ord
  }

  override get indexed(): boolean {
    return this.#indexed
  }

  override set indexed(indexed: boolean) {
    this.#indexed = indexed
  }
}

/** No entries (or, with `raw`, entries still encoded): never pushed to, replaced by the first added entry. */
// reason: frozen so that a stray push throws at once; typed as the mutable Entry[] of `slot.entries`, which holds it only until replaced
export const NO_ENTRIES: Entry[] = Object.freeze([]) as unknown as Entry[]

/** How many entries a slot has. */
export function entryCount(slot: Slot): number {
  const entries = slot.entries
  return Array.isArray(entries) ? entries.length : 1
}

/** A slot's entries as an array (a new one for a single entry: not for hot paths). */
export function entriesOf(slot: Slot): readonly Entry[] {
  const entries = slot.entries
  return Array.isArray(entries) ? entries : [entries]
}

/** Calls `fn` with each entry of the slot (no allocation). */
export function eachEntry(slot: Slot, fn: (e: Entry) => void): void {
  const entries = slot.entries
  if (!Array.isArray(entries)) fn(entries)
  else for (const e of entries) fn(e)
}

/** The first entry of the slot for which `test` holds. */
export function findEntry(slot: Slot, test: (e: Entry) => boolean): Entry | undefined {
  const entries = slot.entries
  if (!Array.isArray(entries)) return test(entries) ? entries : undefined
  return entries.find(test)
}

/** Adds an entry to the slot. */
export function addEntry(slot: Slot, entry: Entry): void {
  const entries = slot.entries
  if (!Array.isArray(entries)) slot.entries = [entries, entry]
  else if (entries.length === 0) slot.entries = entry
  else entries.push(entry)
}

/** Replaces the slot's entries with `list` (which the slot may keep). */
export function setEntries(slot: Slot, list: Entry[]): void {
  slot.entries = list.length === 1 ? list[0]! : list.length === 0 ? NO_ENTRIES : list
}

/** Keeps the slot's entries for which `keep` holds. */
export function filterEntries(slot: Slot, keep: (e: Entry) => boolean): void {
  const entries = slot.entries
  if (!Array.isArray(entries)) {
    if (!keep(entries)) slot.entries = NO_ENTRIES
  } else setEntries(slot, entries.filter(keep))
}

/** Orders two entries of a key; ties (only from a misbehaving peer) fall to the item id. */
export function compareEntries(a: Entry, b: Entry): number {
  return compareStamps(a.stamp, b.stamp) || a.client - b.client || a.clock - b.clock
}

/**
 * Recomputes what a slot's entries resolve to (see the file header). Plain
 * keys and hash fields count in safe integers, summed exactly (with BigInt
 * once a partial sum leaves the safe range, where float addition would round
 * differently in different orders); sorted set scores are floats, summed in
 * stamp order so that every replica rounds the same way.
 */
export function resolveSlot(slot: Slot): void {
  const own = slot.entries
  if (Array.isArray(own)) {
    resolveEntries(slot, own)
    return
  }
  // A single entry: in a reused array rather than a new one per resolution (it is the common case, on every write).
  ONE[0] = own
  resolveEntries(slot, ONE)
  ONE.length = 0
}

const ONE: Entry[] = []

function resolveEntries(slot: Slot, entries: readonly Entry[]): void {
  let base: Entry | null = null
  for (const e of entries) if (e.kind === EntryKind.VALUE && (base === null || compareEntries(e, base) > 0)) base = e
  const baseStamp = base?.stamp ?? ZERO_STAMP
  const float = entries.length > 0 && entries[0]!.type === StructType.ZSET
  let sum = 0
  let counted = false
  let newest = base
  let losers = false
  let contributions: Entry[] | null = null
  for (const e of entries) {
    if (e.kind === EntryKind.COUNTER && compareStamps(e.epoch!, baseStamp) >= 0) {
      ;(contributions ??= []).push(e)
      counted = true
      if (newest === null || compareEntries(e, newest) > 0) newest = e
    } else if (e !== base) {
      losers = true
    }
  }
  if (contributions !== null) {
    // Entries are in delivery order, which differs between replicas: sum in stamp order.
    if (contributions.length > 1) contributions.sort(compareEntries)
    let exact = true
    for (const e of contributions) {
      sum += e.sum
      if (!Number.isSafeInteger(sum)) exact = false
    }
    if (!exact && !float) sum = Number(contributions.reduce((total, e) => total + BigInt(e.sum), 0n))
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
  const numeric = typeof baseValue === 'number' && (float ? Number.isFinite(baseValue) : Number.isSafeInteger(baseValue))
  slot.value = (numeric ? baseValue : 0) + sum
}

/** Whether an entry of a plain key or member neither wins nor counts (valid right after `resolveSlot`). */
export function isLoser(slot: Slot, e: Entry): boolean {
  if (e.kind === EntryKind.VALUE) return e !== slot.base
  return compareStamps(e.epoch!, slot.base?.stamp ?? ZERO_STAMP) < 0
}

export function safeDecode(entry: Entry): Value | undefined {
  try {
    return decodeEntryValue(entry)
  } catch {
    return undefined // reason: an undecodable base reads as absent, the same on every replica
  }
}

/** The resolved value of a slot whose entries are decoded (member slots always are), decoding the base on first use. */
export function resolvedValue(slot: Slot): Value | undefined {
  if (slot.value === undefined && slot.base !== null && !slot.counter) slot.value = safeDecode(slot.base)
  return slot.value
}
