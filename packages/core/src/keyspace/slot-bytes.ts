/** The bytes of a key's live entries (what a cache store's budget counts), counted two ways: kept by its structures, or entry by entry. */
import { forEachEntry } from './keyspace.js'
import { eachEntry, type Slot } from './slot.js'

/** What `liveBytes` counts, from the counts structures keep: O(the key's own entries and metas), whatever its members. */
export function countedBytes(slot: Slot): number {
  let n = 0
  eachEntry(slot, (e) => {
    n += e.bytes.length
  })
  if (slot.structs !== null) for (const s of slot.structs) n += s.bytes()
  return n
}

/** The bytes of a key's live entries, counted one by one: its plain entries, and every entry of its data structures. */
export function liveBytes(slot: Slot): number {
  let n = 0
  forEachEntry(slot, (e) => {
    n += e.bytes.length
  })
  return n
}
