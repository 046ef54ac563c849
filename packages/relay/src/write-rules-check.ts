/**
 * The relay's check of an update against a connection's write rules (its
 * token's `rules.write`), run after the decode budget passed and before
 * anything is applied: an update that touches a key outside the rules is
 * refused whole. The client need not be a TideKV client, so the check reads
 * the update as Yjs would integrate it, against the room's document:
 *
 * - Every new item must be a TideKV entry of the room's log whose key the
 *   rules allow, or deleted content (it carries no key and changes nothing
 *   visible). Any other content — a nested type, text, JSON, another root
 *   type — is not a key: refused.
 * - Its place must be in the log: a root name of `tidekv`, or an origin and
 *   right origin that are log items (in the room, or new in this update).
 * - Every delete must name ids of entries whose key the rules allow, or ids
 *   already deleted (a step 2 carries the sender's whole delete set, most of
 *   it the room's own history), or new items of this update. A delete of an
 *   id the room does not hold is refused: Yjs would keep it pending and apply
 *   it to whatever item arrives under that id later, whoever writes it.
 *
 * Cost: one Yjs decode of the update (bounded by the budget), a binary search
 * per reference and per delete range, and one step per room struct a delete
 * range covers (ranges are sorted and disjoint, so each struct once per update).
 */
import { decodeEntryAddress } from '@tidekv/core/internal'
import { LOG_NAME, type WriteRules } from '@tidekv/core'
import * as Y from 'yjs'

/** Why an update is refused (a short sentence naming the key when there is one), or null when the rules allow it. */
export function checkWriteRules(doc: Y.Doc, update: Uint8Array, rules: WriteRules): string | null {
  const log = doc.getArray(LOG_NAME)
  const { structs, ds } = Y.decodeUpdate(update)
  const state = (client: number) => Y.getState(doc.store, client)
  // Per client, where this update's new structs start (they run to the client's highest clock in it).
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

  for (const s of structs) {
    if (!(s instanceof Y.Item) || s.id.clock + s.length <= state(s.id.client)) continue // GC, Skip, or held already
    const content = s.content
    if (content instanceof Y.ContentBinary) {
      const key = decodeEntryAddress(content.content)?.key
      if (key === undefined) return 'an entry that does not decode'
      if (!rules.allows(key)) return `key ${JSON.stringify(key)} is outside the write rules`
    } else if (!(content instanceof Y.ContentDeleted)) {
      return 'content that is not a TideKV entry'
    }
    if (s.origin === null && s.rightOrigin === null) {
      // reason: Y.decodeUpdate leaves a root parent as its name (a string), which Yjs's type for the field omits
      const parent = s.parent as unknown
      if (parent !== LOG_NAME || s.parentSub !== null) return 'an item outside the log'
    } else if ((s.origin !== null && !inLog(s.origin)) || (s.rightOrigin !== null && !inLog(s.rightOrigin))) {
      return 'an item outside the log'
    }
  }

  for (const [client, ranges] of ds.clients) {
    const held = state(client)
    const range = fresh.get(client)
    for (const { clock, len } of ranges) {
      const end = clock + len
      // Past the room's state: only this update's own new items.
      if (end > held && (range === undefined || Math.max(clock, held) < range.start || end > range.end)) return 'a delete of ids the room does not hold'
      const refusal = checkHeldDeletes(doc, log, client, clock, Math.min(end, held), rules)
      if (refusal !== null) return refusal
    }
  }
  return null
}

/** Deletes of the room's structs of `client` in [from, to): entries the rules allow, or structs already deleted. */
function checkHeldDeletes(doc: Y.Doc, log: Y.Array<unknown>, client: number, from: number, to: number, rules: WriteRules): string | null {
  if (from >= to) return null
  const structs = doc.store.clients.get(client)
  if (structs === undefined) return null
  for (let i = Y.findIndexSS(structs, from); i < structs.length && structs[i]!.id.clock < to; i++) {
    const s = structs[i]!
    if (!(s instanceof Y.Item) || s.deleted) continue
    if (s.parent !== log || !(s.content instanceof Y.ContentBinary)) return 'a delete outside the log'
    const key = decodeEntryAddress(s.content.content)?.key
    if (key === undefined || !rules.allows(key)) return `a delete of key ${JSON.stringify(key ?? '')}, outside the write rules`
  }
  return null
}

/** The room's struct holding `clock` of `client` (the caller checked the clock is below the room's state). */
function roomStruct(doc: Y.Doc, client: number, clock: number): Y.Item | Y.GC | undefined {
  const structs = doc.store.clients.get(client)
  if (structs === undefined) return undefined
  return structs[Y.findIndexSS(structs, clock)]
}
