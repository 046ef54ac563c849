/**
 * Where an entry sits in a key's slot: the slot's own entries (a plain
 * value), a member slot's (a hash field, a set member...), or a structure's
 * meta entries. What an update deletes or adds is found here by its address.
 */
import { type Entry, StructType } from '../layout/entry.js'
import type { EntryAddress } from '../layout/entry-codec.js'
import { structureOf } from './keyspace.js'
import { findEntry, type MemberSlot, type Slot } from './slot.js'

/** Where an entry is held: a slot's entries (a key slot, or the member slot of a member), or a structure's metas. */
export type Holder = { slot: Slot; member: MemberSlot | null } | { metas: Entry[]; member: null }

/** Where an entry of `address` is held in a key slot, if its structure or member exists. */
export function holderOf(slot: Slot, address: EntryAddress): Holder | undefined {
  if (address.type === StructType.PLAIN) return { slot, member: null }
  const struct = structureOf(slot, address.type, false)
  if (struct === undefined) return undefined
  if (address.member === null) return { metas: struct.metas, member: null }
  const member = struct.members.get(address.member)
  return member === undefined ? undefined : { slot: member, member }
}

/** The entry in `holder` for which `test` holds. */
export function findIn(holder: Holder, test: (e: Entry) => boolean): Entry | undefined {
  return 'metas' in holder ? holder.metas.find(test) : findEntry(holder.slot, test)
}
