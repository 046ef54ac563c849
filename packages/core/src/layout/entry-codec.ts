/**
 * The wire format of one key-value entry (see PROTOCOL.md), and the codec
 * between it and `Entry` (entry.ts). Each entry is the
 * binary content (`ContentBinary`) of one item in the root `Y.Array` named
 * `LOG_NAME`. Binary content, unlike JSON content, is never merged with its
 * neighbours while alive, so every entry stays its own item and can be
 * deleted by reference in O(1).
 *
 *   u8        header: version << 4 | hasExpiry << 1 | kind
 *   varString key
 *   u8        structure (version 2 only): type | isMeta << 7
 *   varString member (version 2, not meta): hash field, set/zset member, list position, stream id
 *   varUint   stamp.wall, varUint stamp.counter   (stamp.replica = the item's client id)
 *   varUint   expiresAt                           (only when hasExpiry)
 *   kind VALUE:   any        lib0 `writeAny` encoding of the value
 *   kind COUNTER: varUint epoch.wall, varUint epoch.counter, varUint epoch.replica,
 *                 varInt sum (version 1) | float64 sum (version 2)
 *
 * Version 1 entries are plain keys; version 2 entries belong to a data
 * structure (a member, or a meta entry holding the structure's expiry). A
 * reader that knows only version 1 ignores version 2 entries as invalid
 * rather than misreading them.
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { TideKVError } from '../errors.js'
import { MAX_COUNTER, MAX_WALL, type Stamp, stampInBounds } from './hlc.js'
import { readSafeVarUint } from './varint.js'
import { parseListPosition, parseStreamId } from './member-order.js'
import { freezeDecoded, isValue, readValue, type Value, writeString, writeValue } from './value.js'

import { type Entry, EntryKind, entryOf, EXPIRY_BIT, FORMAT_VERSION, isStructureType, KIND_BIT, META_BIT, StructType, STRUCTURE_VERSION } from './entry.js'

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

function writeHead(enc: encoding.Encoder, kind: EntryKind, key: string, stamp: Stamp, expiresAt: number, type: StructType = StructType.PLAIN, member: string | null = null): void {
  const version = type === StructType.PLAIN ? FORMAT_VERSION : STRUCTURE_VERSION
  encoding.writeUint8(enc, (version << 4) | (expiresAt > 0 ? EXPIRY_BIT : 0) | kind)
  writeString(enc, key)
  if (type !== StructType.PLAIN) {
    encoding.writeUint8(enc, member === null ? type | META_BIT : type)
    if (member !== null) writeString(enc, member)
  }
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
  const entry = entryOf(key, EntryKind.VALUE, stamp, expiresAt, bytes, valueStart, null, 0, -1, -1)
  entry.binary = binary
  return entry
}

/** Encodes a counter contribution. */
export function createCounterEntry(key: string, stamp: Stamp, expiresAt: number, epoch: Stamp, sum: number): Entry {
  const enc = begin()
  writeHead(enc, EntryKind.COUNTER, key, stamp, expiresAt)
  writeEpoch(enc, epoch)
  encoding.writeVarInt(enc, sum)
  const bytes = finish(enc)
  return entryOf(key, EntryKind.COUNTER, stamp, expiresAt, bytes, 0, epoch, sum, -1, -1)
}

/**
 * Checks and encodes the value of one member of a data structure (a hash
 * field's value, a set member's presence, a sorted set member's score, a
 * list element, a stream entry's fields).
 * @throws TideKVError `INVALID_VALUE`, `VALUE_TOO_LARGE`
 */
export function createMemberEntry(key: string, type: StructType, member: string, stamp: Stamp, expiresAt: number, value: unknown, maxValueBytes = Infinity): Entry {
  const enc = begin()
  writeHead(enc, EntryKind.VALUE, key, stamp, expiresAt, type, member)
  const valueStart = encoding.length(enc)
  const binary = writeValue(enc, value, maxValueBytes)
  const bytes = finish(enc)
  const entry = entryOf(key, EntryKind.VALUE, stamp, expiresAt, bytes, valueStart, null, 0, -1, -1, type, member)
  entry.binary = binary
  return entry
}

/** Encodes a member's counter contribution (hash `incr`, sorted set `incr`): the sum is a float64. */
export function createMemberCounterEntry(key: string, type: StructType, member: string, stamp: Stamp, expiresAt: number, epoch: Stamp, sum: number): Entry {
  const enc = begin()
  writeHead(enc, EntryKind.COUNTER, key, stamp, expiresAt, type, member)
  writeEpoch(enc, epoch)
  encoding.writeFloat64(enc, sum)
  const bytes = finish(enc)
  return entryOf(key, EntryKind.COUNTER, stamp, expiresAt, bytes, 0, epoch, sum, -1, -1, type, member)
}

/** Encodes a structure's meta entry: it carries the structure's expiry (`expire`/`persist` on a structure key). */
export function createMetaEntry(key: string, type: StructType, stamp: Stamp, expiresAt: number): Entry {
  const enc = begin()
  writeHead(enc, EntryKind.VALUE, key, stamp, expiresAt, type, null)
  const bytes = finish(enc)
  return entryOf(key, EntryKind.VALUE, stamp, expiresAt, bytes, bytes.length, null, 0, -1, -1, type, null)
}

function writeEpoch(enc: encoding.Encoder, epoch: Stamp): void {
  encoding.writeVarUint(enc, epoch.wall)
  encoding.writeVarUint(enc, epoch.counter)
  encoding.writeVarUint(enc, epoch.replica)
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
    readHead(dec, scratchHead)
    const { kind, key, type, member, expiresAt } = scratchHead
    const stamp: Stamp = { wall: scratchHead.wall, counter: scratchHead.counter, replica: client }
    if (kind === EntryKind.COUNTER) {
      const epoch: Stamp = { wall: readSafeVarUint(dec), counter: readSafeVarUint(dec), replica: readSafeVarUint(dec) }
      if (!stampInBounds(epoch)) throw new Error('counter epoch out of range')
      const sum = type === StructType.PLAIN ? decoding.readVarInt(dec) : decoding.readFloat64(dec)
      if (type === StructType.PLAIN || type === StructType.HASH ? !Number.isSafeInteger(sum) : !Number.isFinite(sum)) {
        throw new Error('counter sum out of range')
      }
      if (type !== StructType.PLAIN && type !== StructType.HASH && type !== StructType.ZSET) throw new Error('only hashes and sorted sets count')
      return entryOf(key, kind, stamp, expiresAt, bytes, 0, epoch, sum, client, clock, type, member)
    }
    const entry = entryOf(key, kind, stamp, expiresAt, bytes, dec.pos, null, 0, client, clock, type, member)
    if (type !== StructType.PLAIN && member === null) {
      if (dec.pos !== bytes.length) throw new Error('a meta entry holds no value')
      return entry
    }
    if (eager) decodeEntryValue(entry, true)
    return entry
  } catch (cause) {
    if (cause instanceof TideKVError) throw cause
    throw new TideKVError('INVALID_ENTRY', `Ignored an invalid entry in item ${client}:${clock}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
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
    value = readValue(dec)
  } catch (cause) {
    throw new TideKVError('INVALID_ENTRY', `Entry for "${entry.key}" holds an undecodable value`, { cause })
  }
  if ((validate && !(isValue(value) && fitsStructure(entry.type, value))) || dec.pos !== entry.bytes.length) {
    throw new TideKVError('INVALID_ENTRY', `Entry for "${entry.key}" holds an invalid value`)
  }
  // reason: checked by isValue above when `validate`; unchecked are only entries this replica wrote (writeValue checked the value)
  // or saved in its keyspace cache after checking them on arrival (decodeEntry eager)
  const checked = value as Value
  entry.binary = freezeDecoded(checked)
  entry.value = checked
  return checked
}

/** Whether a member's value has the shape its structure needs: a finite score; a stream entry's [field, value, ...] list. */
function fitsStructure(type: StructType, value: unknown): boolean {
  if (type === StructType.ZSET) return typeof value === 'number' && Number.isFinite(value)
  if (type !== StructType.STREAM) return true
  if (!Array.isArray(value) || value.length === 0 || value.length % 2 !== 0) return false
  for (let i = 0; i < value.length; i += 2) if (typeof value[i] !== 'string') return false
  return true
}

/** Where an encoded entry belongs: its key, structure and member (to find the entry of a deleted item). */
export interface EntryAddress {
  key: string
  type: StructType
  member: string | null
}

/** Reads only the address of an encoded entry, or undefined when it is malformed. */
export function decodeEntryAddress(bytes: Uint8Array): EntryAddress | undefined {
  try {
    const dec = decoding.createDecoder(bytes)
    const version = decoding.readUint8(dec) >> 4
    if (version !== FORMAT_VERSION && version !== STRUCTURE_VERSION) return undefined
    const key = readKey(dec)
    if (version === FORMAT_VERSION) return { key, type: StructType.PLAIN, member: null }
    const tag = decoding.readUint8(dec)
    const type = tag & ~META_BIT
    if (!isStructureType(type)) return undefined
    return { key, type, member: (tag & META_BIT) === 0 ? decoding.readVarString(dec) : null }
  } catch {
    return undefined // reason: a malformed entry was never indexed, so there is nothing to remove
  }
}

/** An entry's head: all of it but a counter's fields and a value. */
export interface EntryHead {
  kind: EntryKind
  key: string
  /** PLAIN, or the data structure the entry belongs to. */
  type: StructType
  /** The member within the structure; null for plain keys and for meta entries. */
  member: string | null
  wall: number
  counter: number
  expiresAt: number
}

/** `decodeEntry`'s head: it is done with it before it builds the entry. */
const scratchHead: EntryHead = { kind: EntryKind.VALUE, key: '', type: StructType.PLAIN, member: null, wall: 0, counter: 0, expiresAt: 0 }

/**
 * Reads the head of the entry at `dec`'s position into `head`, with every
 * check `decodeEntry` makes of it.
 * @throws Error naming what is wrong
 */
function readHead(dec: decoding.Decoder, head: EntryHead): void {
  const first = decoding.readUint8(dec)
  const version = first >> 4
  if (version !== FORMAT_VERSION && version !== STRUCTURE_VERSION) throw new Error(`unknown entry format ${version}`)
  head.kind = (first & KIND_BIT) === 0 ? EntryKind.VALUE : EntryKind.COUNTER
  head.key = readKey(dec)
  if (head.key.length === 0) throw new Error('empty key')
  head.type = StructType.PLAIN
  head.member = null
  if (version === STRUCTURE_VERSION) {
    const tag = decoding.readUint8(dec)
    const tagType = tag & ~META_BIT
    if (!isStructureType(tagType)) throw new Error(`unknown structure ${tagType}`)
    head.type = tagType
    if ((tag & META_BIT) === 0) head.member = decoding.readVarString(dec)
    else if (head.kind !== EntryKind.VALUE) throw new Error('a meta entry cannot be a counter')
    if (head.member !== null && head.type === StructType.LIST && parseListPosition(head.member) === undefined) throw new Error('bad list position')
    if (head.member !== null && head.type === StructType.STREAM && parseStreamId(head.member) === undefined) throw new Error('bad stream id')
  }
  // Safe varints and bounded stamps: a peer's Infinity or 2^60 would become this replica's clock (see hlc.ts).
  head.wall = readSafeVarUint(dec)
  head.counter = readSafeVarUint(dec)
  if (head.wall > MAX_WALL || head.counter > MAX_COUNTER) throw new Error('stamp out of range')
  head.expiresAt = first & EXPIRY_BIT ? readSafeVarUint(dec) : 0
  if (head.expiresAt > MAX_WALL) throw new Error('expiry out of range')
}

/**
 * Reads the head of the entry at `dec`'s position into `head`, checked as
 * `decodeEntry` checks it; false when it is malformed (every replica
 * ignores such an entry). Its counter fields and value are not read. One
 * decoder and one head serve every entry of a snapshot: a fast open reads
 * 100,000 of them before its first answer.
 */
export function readEntryHead(dec: decoding.Decoder, head: EntryHead): boolean {
  try {
    readHead(dec, head)
    return true
  } catch {
    return false // reason: a malformed entry is ignored by every replica; the document load reports it
  }
}

/**
 * A key as lib0's `readVarString` reads it, with a fast path for short ASCII
 * keys (most keys): lib0 hands every string to TextDecoder, whose call costs
 * more than the key.
 */
function readKey(dec: decoding.Decoder): string {
  const arr = dec.arr
  const start = dec.pos
  const n = arr[start]
  if (n === undefined || n >= 0x80 || n > 64 || start + 1 + n > arr.length) return decoding.readVarString(dec)
  for (let i = start + 1; i <= start + n; i++) if (arr[i]! >= 0x80) return decoding.readVarString(dec)
  dec.pos = start + 1 + n
  // reason: fromCharCode takes the bytes' numbers as its arguments; a Uint8Array is array-like
  return String.fromCharCode.apply(null, arr.subarray(start + 1, start + 1 + n) as unknown as number[])
}
