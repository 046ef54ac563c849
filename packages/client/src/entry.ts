/**
 * The wire format of one key-value entry (see PROTOCOL.md). Each entry is the
 * binary content (`ContentBinary`) of one item in the root `Y.Array` named
 * `LOG_NAME`. Binary content, unlike JSON content, is never merged with its
 * neighbours while alive, so every entry stays its own item and can be
 * deleted by reference in O(1).
 *
 *   u8        header: FORMAT_VERSION << 4 | hasExpiry << 1 | kind
 *   varString key
 *   varUint   stamp.wall, varUint stamp.counter   (stamp.replica = the item's client id)
 *   varUint   expiresAt                           (only when hasExpiry)
 *   kind VALUE:   any        lib0 `writeAny` encoding of the value
 *   kind COUNTER: varUint epoch.wall, varUint epoch.counter, varUint epoch.replica, varInt sum
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import type { Item } from 'yjs'
import { TideKVError } from './errors.js'
import type { Stamp } from './hlc.js'
import { freezeDecoded, isValue, type Value, writeString, writeValue } from './value.js'

/** Name of the root `Y.Array` holding the entries. */
export const LOG_NAME = 'tidekv'
/** Version of the entry encoding, in the high nibble of the header byte. */
export const FORMAT_VERSION = 1

export const EntryKind = { VALUE: 0, COUNTER: 1 } as const
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind]

const KIND_BIT = 1
const EXPIRY_BIT = 2

/**
 * One live entry of a key, in memory. A key usually has one; it has more
 * while concurrent writes await clean-up, and one per replica for counters.
 */
export class Entry {
  /** The document item, once inserted (or found, after a fast open). */
  item: Item | null = null
  /** The decoded value (value entries), or undefined until first read. */
  value: Value | undefined = undefined
  binary = false

  constructor(
    readonly key: string,
    readonly kind: EntryKind,
    public stamp: Stamp,
    readonly expiresAt: number,
    readonly bytes: Uint8Array,
    /** Where the encoded value starts in `bytes` (value entries). */
    readonly valueStart: number,
    /** The base this counter contribution builds on (counter entries). */
    readonly epoch: Stamp | null,
    /** This replica's summed increments (counter entries). */
    readonly sum: number,
    /** The id of the item holding the entry, when known: -1 while not yet inserted. */
    public client: number,
    public clock: number,
  ) {}
}

// One encoder for every entry: entries are encoded synchronously, one at a
// time, and reusing it spares an allocation per write (writes are hot).
const shared = encoding.createEncoder()

function begin(): encoding.Encoder {
  shared.cpos = 0
  shared.bufs.length = 0
  return shared
}

function finish(enc: encoding.Encoder): Uint8Array {
  return enc.bufs.length === 0 ? enc.cbuf.slice(0, enc.cpos) : encoding.toUint8Array(enc)
}

function header(kind: EntryKind, expiresAt: number): number {
  return (FORMAT_VERSION << 4) | (expiresAt > 0 ? EXPIRY_BIT : 0) | kind
}

function writeHead(enc: encoding.Encoder, kind: EntryKind, key: string, stamp: Stamp, expiresAt: number): void {
  encoding.writeUint8(enc, header(kind, expiresAt))
  writeString(enc, key)
  encoding.writeVarUint(enc, stamp.wall)
  encoding.writeVarUint(enc, stamp.counter)
  if (expiresAt > 0) encoding.writeVarUint(enc, expiresAt)
}

/**
 * Checks and encodes a value entry. The value is decoded again on first read:
 * the store keeps bytes, never the caller's object.
 * @throws TideKVError `INVALID_VALUE`, `VALUE_TOO_LARGE` (stops encoding once past `maxValueBytes`)
 */
export function createValueEntry(key: string, stamp: Stamp, expiresAt: number, value: unknown, maxValueBytes = Infinity): Entry {
  const enc = begin()
  writeHead(enc, EntryKind.VALUE, key, stamp, expiresAt)
  const valueStart = encoding.length(enc)
  const binary = writeValue(enc, value, maxValueBytes)
  const bytes = finish(enc)
  const entry = new Entry(key, EntryKind.VALUE, stamp, expiresAt, bytes, valueStart, null, 0, -1, -1)
  entry.binary = binary
  return entry
}

/** Encodes a counter contribution. */
export function createCounterEntry(key: string, stamp: Stamp, expiresAt: number, epoch: Stamp, sum: number): Entry {
  const enc = begin()
  writeHead(enc, EntryKind.COUNTER, key, stamp, expiresAt)
  encoding.writeVarUint(enc, epoch.wall)
  encoding.writeVarUint(enc, epoch.counter)
  encoding.writeVarUint(enc, epoch.replica)
  encoding.writeVarInt(enc, sum)
  const bytes = finish(enc)
  return new Entry(key, EntryKind.COUNTER, stamp, expiresAt, bytes, 0, epoch, sum, -1, -1)
}

/** Size in bytes of an entry's encoded value: what `maxValueBytes` limits. */
export function valueByteLength(entry: Entry): number {
  return entry.bytes.length - entry.valueStart
}

/**
 * Decodes an entry stored in item `client:clock`. The value is decoded later,
 * on first read, unless `eager`: entries from other replicas are decoded and
 * checked at once, so every replica ignores the same invalid ones.
 * @throws TideKVError `INVALID_ENTRY` when the bytes are not a valid entry.
 */
export function decodeEntry(bytes: Uint8Array, client: number, clock: number, eager: boolean): Entry {
  try {
    const dec = decoding.createDecoder(bytes)
    const head = decoding.readUint8(dec)
    if (head >> 4 !== FORMAT_VERSION) throw new Error(`unknown entry format ${head >> 4}`)
    const kind = (head & KIND_BIT) as EntryKind
    const key = decoding.readVarString(dec)
    if (key.length === 0) throw new Error('empty key')
    const stamp: Stamp = { wall: decoding.readVarUint(dec), counter: decoding.readVarUint(dec), replica: client }
    const expiresAt = head & EXPIRY_BIT ? decoding.readVarUint(dec) : 0
    if (kind === EntryKind.COUNTER) {
      const epoch: Stamp = { wall: decoding.readVarUint(dec), counter: decoding.readVarUint(dec), replica: decoding.readVarUint(dec) }
      const sum = decoding.readVarInt(dec)
      if (!Number.isSafeInteger(sum)) throw new Error('counter sum is not a safe integer')
      return new Entry(key, kind, stamp, expiresAt, bytes, 0, epoch, sum, client, clock)
    }
    const entry = new Entry(key, kind, stamp, expiresAt, bytes, dec.pos, null, 0, client, clock)
    if (eager) decodeEntryValue(entry, true)
    return entry
  } catch (cause) {
    if (cause instanceof TideKVError) throw cause
    throw new TideKVError('INVALID_ENTRY', `Ignored an invalid entry in item ${client}:${clock}: ${(cause as Error).message}`, { cause })
  }
}

/**
 * Decodes (once) and returns a value entry's value. `validate` checks it is a
 * TideKV value: needed for entries from other replicas, not for our own.
 */
export function decodeEntryValue(entry: Entry, validate = false): Value {
  if (entry.value !== undefined) return entry.value
  const dec = decoding.createDecoder(entry.bytes)
  dec.pos = entry.valueStart
  let value: unknown
  try {
    value = decoding.readAny(dec)
  } catch (cause) {
    throw new TideKVError('INVALID_ENTRY', `Entry for "${entry.key}" holds an undecodable value`, { cause })
  }
  if ((validate && !isValue(value)) || dec.pos !== entry.bytes.length) {
    throw new TideKVError('INVALID_ENTRY', `Entry for "${entry.key}" holds an invalid value`)
  }
  entry.binary = freezeDecoded(value as Value)
  entry.value = value as Value
  return value as Value
}

/** Reads only the key of an encoded entry (to find the key of a deleted item). */
export function decodeEntryKey(bytes: Uint8Array): string | undefined {
  try {
    const dec = decoding.createDecoder(bytes)
    if (decoding.readUint8(dec) >> 4 !== FORMAT_VERSION) return undefined
    return decoding.readVarString(dec)
  } catch {
    return undefined // reason: a malformed entry was never indexed, so there is nothing to remove
  }
}
