/**
 * Between a fast open (the keys read from a compaction snapshot) and the
 * document load, the saved entries in the keyspace have no Yjs item yet.
 * This links each to its item as the document loads — also the saved
 * entries replaced or deleted meanwhile, whose deletes wait for their items —
 * and, once it has loaded, drops saved entries the document does not hold
 * (a stale save).
 */
import type * as Y from 'yjs'
import type { Entry } from '../layout/entry.js'
import { decodeEntryAddress } from '../layout/entry-codec.js'
import { findIn, holderOf } from './entry-holder.js'
import { forEachEntry, type Keyspace } from './keyspace.js'
import { entriesOf, filterEntries } from './slot.js'

export class PreloadedEntries {
  /** Saved entries replaced or deleted before the document loaded, by item id: their deletes await their items. */
  readonly #awaiting = new Map<number, Map<number, Entry>>()

  constructor(private readonly keyspace: Keyspace) {}

  /** A saved entry (no item yet) left the keyspace: its delete waits for its item. */
  retired(e: Entry): void {
    let byClock = this.#awaiting.get(e.client)
    if (byClock === undefined) this.#awaiting.set(e.client, (byClock = new Map<number, Entry>()))
    byClock.set(e.clock, e)
  }

  /** Links a loaded item to the saved entry with its id (or to its pending delete, if replaced since); false if it has none. */
  attach(item: Y.Item, bytes: Uint8Array): boolean {
    const { client, clock } = item.id
    const address = decodeEntryAddress(bytes)
    const slot = address === undefined ? undefined : this.keyspace.get(address.key)
    const holder = slot === undefined ? undefined : holderOf(slot, address!)
    let entry = holder === undefined ? undefined : findIn(holder, (e) => e.item === null && e.client === client && e.clock === clock)
    entry ??= this.#awaiting.get(client)?.get(clock)
    if (entry === undefined) return false
    entry.item = item
    return true
  }

  /** The document has loaded: drops the saved entries it does not hold from the keyspace. */
  finish(): void {
    const inDocument = (e: Entry): boolean => e.item !== null || e.client < 0
    for (const slot of this.keyspace.all()) {
      let stale = false
      forEachEntry(slot, (e) => {
        if (!inDocument(e)) stale = true
      })
      if (!stale) continue
      filterEntries(slot, inDocument)
      for (const struct of slot.structs ?? []) {
        struct.metas = struct.metas.filter(inDocument)
        for (const member of [...struct.members.values()]) {
          if (entriesOf(member).every(inDocument)) continue
          filterEntries(member, inDocument)
          struct.refresh(member)
        }
      }
      this.keyspace.update(slot)
    }
    this.#awaiting.clear()
  }
}
