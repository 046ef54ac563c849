/**
 * The keyspace saved beside each compaction snapshot, laid out so a store
 * opens by reading its keys and expiries in one pass, without decoding a
 * single entry or integrating the Yjs document (which then loads in the
 * background). Entries stay encoded until their key is first used.
 *
 *   varUint    version (2)
 *   varUint    max stamp wall, varUint max stamp counter   (the clock moves past it)
 *   varUint    key count
 *   varString  every key, concatenated, in key order
 *   per key:   varUint key length (UTF-16 units), varUint expiresAt (0: none),
 *              varUint entry count, varUint byte length of its entries
 *   entries, per key in key order, each: varUint client, varUint clock,
 *              varUint8Array entry bytes (those of document item client:clock)
 *
 * Once the document has loaded, each entry is matched to its item by id.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { compareStamps, type Stamp, ZERO_STAMP } from '../layout/hlc.js'
import { readSafeVarUint } from '../layout/varint.js'
import { forEachEntry, type Keyspace, type SavedKeys } from './keyspace.js'

const VERSION = 2

export interface SavedKeyspace extends SavedKeys {
  /** The greatest stamp of any entry: the clock must issue greater ones. */
  maxStamp: Stamp
}

/** Encodes every entry that is in the document (pending ones are not). */
export function encodeKeyspace(keyspace: Keyspace): Uint8Array {
  const keys: string[] = []
  const table = encoding.createEncoder()
  const entries = encoding.createEncoder()
  let max = ZERO_STAMP
  keyspace.index.scan('', false, (key) => {
    const slot = keyspace.get(key)!
    const start = encoding.length(entries)
    let count = 0
    forEachEntry(slot, (e) => {
      if (e.item === null) return
      encoding.writeVarUint(entries, e.client)
      encoding.writeVarUint(entries, e.clock)
      encoding.writeVarUint8Array(entries, e.bytes)
      if (compareStamps(e.stamp, max) > 0) max = e.stamp
      count++
    })
    if (count === 0) return true
    keys.push(key)
    encoding.writeVarUint(table, key.length)
    encoding.writeVarUint(table, slot.expiresAt)
    encoding.writeVarUint(table, count)
    encoding.writeVarUint(table, encoding.length(entries) - start)
    return true
  })
  const out = encoding.createEncoder()
  encoding.writeVarUint(out, VERSION)
  encoding.writeVarUint(out, max.wall)
  encoding.writeVarUint(out, max.counter)
  encoding.writeVarUint(out, keys.length)
  encoding.writeVarString(out, keys.join(''))
  encoding.writeUint8Array(out, encoding.toUint8Array(table))
  encoding.writeUint8Array(out, encoding.toUint8Array(entries))
  return encoding.toUint8Array(out)
}

/**
 * Reads a saved keyspace: keys, expiries and where each key's entries are
 * (no entry is decoded, no slot made).
 * Returns undefined when the bytes are not one this version understands (the
 * store then loads the document instead).
 */
export function decodeKeyspace(bytes: Uint8Array): SavedKeyspace | undefined {
  try {
    const dec = decoding.createDecoder(bytes)
    if (readSafeVarUint(dec) !== VERSION) return undefined
    const maxStamp: Stamp = { wall: readSafeVarUint(dec), counter: readSafeVarUint(dec), replica: 0 }
    const count = readSafeVarUint(dec)
    const all = decoding.readVarString(dec)
    const keys = new Array<string>(count)
    const offsets = new Uint32Array(count)
    const counts = new Uint32Array(count)
    const expiries = new Float64Array(count)
    let pos = 0
    let offset = 0
    for (let i = 0; i < count; i++) {
      const length = readSafeVarUint(dec)
      if (length === 0) return undefined
      keys[i] = all.slice(pos, (pos += length))
      expiries[i] = readSafeVarUint(dec)
      counts[i] = readSafeVarUint(dec)
      offsets[i] = offset
      offset += readSafeVarUint(dec)
    }
    if (pos !== all.length || dec.pos + offset !== bytes.length) return undefined
    const start = dec.pos
    for (let i = 0; i < count; i++) offsets[i] = offsets[i]! + start
    return { keys, raw: bytes, offsets, counts, expiries, maxStamp }
  } catch {
    return undefined // reason: a damaged saved keyspace is only a cache; the document is the truth
  }
}
