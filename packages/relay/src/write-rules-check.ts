/**
 * The relay's check of an update against a connection's write rules (its
 * token's `rules.write`), run after the decode budget passed and before
 * anything is applied: an update that touches a key outside the rules, or
 * that is more than writes of keys (update-keys.ts says what that is), is
 * refused whole. The client need not be a TideKV client, so the update is
 * read as Yjs would integrate it, against the room's document. A step 2
 * carries the sender's whole delete set, most of it the room's own history:
 * deletes of items the room has deleted already touch no key.
 */
import type { WriteRules } from '@tidekv/core'
import type * as Y from 'yjs'
import { touchedKeys } from './update-keys.js'

/** Why an update is refused (a short sentence naming the key when there is one), or null when the rules allow it. */
export function checkWriteRules(doc: Y.Doc, update: Uint8Array, rules: WriteRules): string | null {
  const { keys, problem } = touchedKeys(doc, update, true)
  if (problem !== null) return problem
  for (const key of keys) if (!rules.allows(key)) return `key ${JSON.stringify(key)} is outside the write rules`
  return null
}
