/**
 * The keyspace saved beside each compaction snapshot, so a store opens by
 * reading keys and entries directly instead of first integrating the whole
 * Yjs document (which then loads in the background).
 *
 *   varUint  version (1)
 *   varUint  entry count
 *   per entry, in key order: varUint client, varUint clock, varUint8Array entry bytes
 *
 * The entry bytes are those of the document items `client:clock`, so once
 * the document has loaded, each entry is matched to its item by id.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { decodeEntry } from './entry.js'
import { type Keyspace, Slot } from './keyspace.js'

const VERSION = 1

/** Encodes every entry that is in the document (pending ones are not). */
export function encodeKeyspace(keyspace: Keyspace): Uint8Array {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, VERSION)
  let count = 0
  for (const slot of keyspace.slots.values()) for (const e of slot.entries) if (e.item !== null) count++
  encoding.writeVarUint(enc, count)
  keyspace.index.scan('', false, (key) => {
    for (const e of keyspace.get(key)!.entries) {
      if (e.item === null) continue
      encoding.writeVarUint(enc, e.client)
      encoding.writeVarUint(enc, e.clock)
      encoding.writeVarUint8Array(enc, e.bytes)
    }
    return true
  })
  return encoding.toUint8Array(enc)
}

/**
 * Decodes a saved keyspace into slots sorted by key. Values stay encoded
 * until first read. Returns undefined when the bytes are not a saved
 * keyspace this version understands (the store then loads the document).
 */
export function decodeKeyspace(bytes: Uint8Array): Slot[] | undefined {
  try {
    const dec = decoding.createDecoder(bytes)
    if (decoding.readVarUint(dec) !== VERSION) return undefined
    const count = decoding.readVarUint(dec)
    const slots: Slot[] = []
    let slot: Slot | null = null
    for (let i = 0; i < count; i++) {
      const client = decoding.readVarUint(dec)
      const clock = decoding.readVarUint(dec)
      const entry = decodeEntry(decoding.readVarUint8Array(dec), client, clock, false)
      if (slot === null || slot.key !== entry.key) {
        if (slot !== null && entry.key < slot.key) return undefined
        slots.push((slot = new Slot(entry.key)))
      }
      slot.entries.push(entry)
    }
    return slots
  } catch {
    return undefined // reason: a damaged saved keyspace is only a cache; the document is the truth
  }
}
