/**
 * The keys an update touches, read as Yjs would integrate it into the room's
 * document (before it is applied): the key of every TideKV entry it inserts,
 * and of every live entry of the room it deletes (for a data structure
 * member, its structure's key). Write rules (write-rules-check.ts) and
 * webhooks (webhooks.ts) both start from it.
 *
 * With `strict`, it also says what makes the update more than writes of keys:
 * content that is not a TideKV entry of the room's log (another root type, a
 * nested type, text, JSON), an item placed outside the log by its origins,
 * an entry that does not decode, a delete of a live item outside the log, or
 * a delete of ids the room does not hold (Yjs would keep it pending and apply
 * it to whatever arrives under those ids later, whoever writes it).
 *
 * Cost: one Yjs decode of the update (bounded by the decode budget, checked
 * before), a binary search per reference and per delete range, and one step
 * per room struct a delete range covers (ranges are sorted and disjoint, so
 * each struct once per update).
 */
import { decodeEntryAddress } from '@tidekv/core/internal'
import { LOG_NAME } from '@tidekv/core'
import * as Y from 'yjs'

export interface TouchedKeys {
  /** Every key the update writes or deletes, in the order met. */
  keys: Set<string>
  /** With `strict`: why the update is more than writes of keys (the first reason met); else null. */
  problem: string | null
}

/** The keys `update` touches in `doc` (see the file header); `doc` is not changed. */
export function touchedKeys(doc: Y.Doc, update: Uint8Array, strict: boolean): TouchedKeys {
  const log = doc.getArray(LOG_NAME)
  const keys = new Set<string>()
  const { structs, ds } = Y.decodeUpdate(update)
  const state = (client: number) => Y.getState(doc.store, client)
  // Per client, the range of this update's new structs (they run to the client's highest clock in it).
  const fresh = new Map<number, { start: number; end: number }>()
  for (const s of structs) {
    const { client, clock } = s.id
    const end = clock + s.length
    if (end <= state(client)) continue
    const range = fresh.get(client)
    if (range === undefined) fresh.set(client, { start: Math.max(clock, state(client)), end })
    else range.end = Math.max(range.end, end)
  }
  const isFresh = (client: number, clock: number) => {
    const range = fresh.get(client)
    return range !== undefined && clock >= range.start && clock < range.end
  }
  /** Whether `id` is a place in the log: a log item of the room, a GC'd one (Yjs then drops the new item), or new here. */
  const inLog = (id: Y.ID): boolean => {
    if (id.clock >= state(id.client)) return isFresh(id.client, id.clock)
    const held = roomStruct(doc, id.client, id.clock)
    return !(held instanceof Y.Item) || (held.parent === log && held.parentSub === null)
  }
  const result: TouchedKeys = { keys, problem: null }
  const problem = (why: string) => {
    result.problem ??= why
  }

  for (const s of structs) {
    if (!(s instanceof Y.Item) || s.id.clock + s.length <= state(s.id.client)) continue // GC, Skip, or held already
    const content = s.content
    if (content instanceof Y.ContentBinary) {
      const key = decodeEntryAddress(content.content)?.key
      if (key === undefined) problem('an entry that does not decode')
      else keys.add(key)
    } else if (!(content instanceof Y.ContentDeleted)) {
      problem('content that is not a TideKV entry')
    }
    if (!strict) continue
    if (s.origin === null && s.rightOrigin === null) {
      // reason: Y.decodeUpdate leaves a root parent as its name (a string), which Yjs's type for the field omits
      const parent = s.parent as unknown
      if (parent !== LOG_NAME || s.parentSub !== null) problem('an item outside the log')
    } else if ((s.origin !== null && !inLog(s.origin)) || (s.rightOrigin !== null && !inLog(s.rightOrigin))) {
      problem('an item outside the log')
    }
  }

  for (const [client, ranges] of ds.clients) {
    const held = state(client)
    const range = fresh.get(client)
    for (const { clock, len } of ranges) {
      const end = clock + len
      // Past the room's state: only this update's own new items.
      if (end > held && (range === undefined || Math.max(clock, held) < range.start || end > range.end)) problem('a delete of ids the room does not hold')
      heldDeletes(doc, log, client, clock, Math.min(end, held), keys, problem)
    }
  }
  return result
}

/** The keys of the room's live entries of `client` in [from, to); a live item outside the log is a problem. */
function heldDeletes(doc: Y.Doc, log: Y.Array<unknown>, client: number, from: number, to: number, keys: Set<string>, problem: (why: string) => void): void {
  if (from >= to) return
  const structs = doc.store.clients.get(client)
  if (structs === undefined) return
  for (let i = Y.findIndexSS(structs, from); i < structs.length && structs[i]!.id.clock < to; i++) {
    const s = structs[i]!
    if (!(s instanceof Y.Item) || s.deleted) continue
    if (s.parent !== log || !(s.content instanceof Y.ContentBinary)) {
      problem('a delete outside the log')
      continue
    }
    const key = decodeEntryAddress(s.content.content)?.key
    if (key === undefined) problem('a delete of an entry that does not decode')
    else keys.add(key)
  }
}

/** The room's struct holding `clock` of `client` (the caller checked the clock is below the room's state). */
function roomStruct(doc: Y.Doc, client: number, clock: number): Y.Item | Y.GC | undefined {
  const structs = doc.store.clients.get(client)
  if (structs === undefined) return undefined
  return structs[Y.findIndexSS(structs, clock)]
}
