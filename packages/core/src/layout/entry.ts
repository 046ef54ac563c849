/**
 * An entry in memory: `Entry` (a plain key's value), and the subclasses for
 * data structure members and counter contributions (`entryOf` picks the
 * class), with the constants of the wire format they share with the codec.
 * How an entry is written to and read from bytes: entry-codec.ts.
 */
import type { Item } from 'yjs'
import { type Stamp, ZERO_STAMP } from './hlc.js'
import type { Value } from './value.js'

/** Name of the root `Y.Array` holding the entries. */
export const LOG_NAME = 'tidekv'
/** Version of the entry encoding of plain keys, in the high nibble of the header byte. */
export const FORMAT_VERSION = 1
/** Version of the entries of data structures (see the file header). */
export const STRUCTURE_VERSION = 2

/** The data structures, as encoded in the structure byte. 0 is a plain key. */
export const StructType = { PLAIN: 0, HASH: 1, SET: 2, ZSET: 3, LIST: 4, STREAM: 5 } as const
export type StructType = (typeof StructType)[keyof typeof StructType]
export const META_BIT = 0x80

export const EntryKind = { VALUE: 0, COUNTER: 1 } as const
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind]

export const KIND_BIT = 1
export const EXPIRY_BIT = 2

/** Whether `type` (a tag's low bits) names a data structure: hash, set, sorted set, list or stream. */
export function isStructureType(type: number): type is StructType {
  return type >= StructType.HASH && type <= StructType.STREAM
}

/**
 * One live entry of a key, in memory. A key usually has one; it has more
 * while concurrent writes await clean-up, and one per replica for counters.
 * This class is a plain key's value entry, the most common; the entries of
 * data structures and counter contributions are subclasses that add their
 * fields (make them with `entryOf`), so a plain value carries none of
 * them.
 */
export class Entry implements Stamp {
  /** The document item, once inserted (or found, after a fast open). */
  item: Item | null = null
  /** The decoded value (value entries), or undefined until first read. */
  value: Value | undefined = undefined
  binary = false
  // The stamp, as fields: an object of its own cost ~32 B more per entry.
  readonly wall: number
  readonly counter: number
  /** The replica that wrote it: the item's client once inserted. */
  replica: number

  constructor(
    readonly key: string,
    readonly kind: EntryKind,
    stamp: Stamp,
    readonly expiresAt: number,
    /** The encoded entry; the document item's content once inserted (a view into the buffer of its transaction or update). */
    public bytes: Uint8Array,
    /** Where the encoded value starts in `bytes` (value entries). */
    readonly valueStart: number,
    /** The id of the item holding the entry, when known: -1, -1 while not yet inserted. */
    client: number,
    public clock: number,
  ) {
    this.wall = stamp.wall
    this.counter = stamp.counter
    this.replica = clock < 0 ? stamp.replica : client
  }

  /**
   * The client of the item holding the entry: its replica once inserted (the
   * stamp's replica is the item's client), -1 before. Not a field: 8 bytes
   * less per entry.
   */
  get client(): number {
    return this.clock < 0 ? -1 : this.replica
  }

  /**
   * The entry's stamp: the entry itself, which has its fields. To keep a
   * stamp beyond the entry (a counter's epoch), copy it with `stampOf`, or
   * it would keep the whole entry alive.
   */
  get stamp(): Stamp {
    return this
  }

  /** The base this counter contribution builds on (counter entries; null for others). */
  get epoch(): Stamp | null {
    return null
  }

  /** This replica's summed increments (counter entries; 0 for others). */
  get sum(): number {
    return 0
  }

  /** The data structure the entry belongs to (PLAIN for a plain key). */
  get type(): StructType {
    return StructType.PLAIN
  }

  /** The member within the structure; null for plain keys and for meta entries. */
  get member(): string | null {
    return null
  }
}

/** An entry of a data structure: a member's value, or a meta entry (member null). */
class StructureEntry extends Entry {
  readonly #type: StructType
  readonly #member: string | null

  constructor(
    key: string,
    kind: EntryKind,
    stamp: Stamp,
    expiresAt: number,
    bytes: Uint8Array,
    valueStart: number,
    client: number,
    clock: number,
    type: StructType,
    member: string | null,
  ) {
    super(key, kind, stamp, expiresAt, bytes, valueStart, client, clock)
    this.#type = type
    this.#member = member
  }

  override get type(): StructType {
    return this.#type
  }

  override get member(): string | null {
    return this.#member
  }
}

/**
 * A counter contribution: a plain key's (type PLAIN, member null), a hash
 * field's or a sorted set member's. One class for both: counter entries are
 * one per replica and key, few beside the values.
 */
class CounterEntry extends StructureEntry {
  readonly #epoch: Stamp
  readonly #sum: number

  constructor(key: string, stamp: Stamp, expiresAt: number, bytes: Uint8Array, epoch: Stamp, sum: number, client: number, clock: number, type: StructType, member: string | null) {
    super(key, EntryKind.COUNTER, stamp, expiresAt, bytes, 0, client, clock, type, member)
    this.#epoch = epoch
    this.#sum = sum
  }

  override get epoch(): Stamp {
    return this.#epoch
  }

  override get sum(): number {
    return this.#sum
  }
}

/** An entry of the right class for its kind and type. */
export function entryOf(
  key: string,
  kind: EntryKind,
  stamp: Stamp,
  expiresAt: number,
  bytes: Uint8Array,
  valueStart: number,
  epoch: Stamp | null,
  sum: number,
  client: number,
  clock: number,
  type: StructType = StructType.PLAIN,
  member: string | null = null,
): Entry {
  if (kind === EntryKind.COUNTER) return new CounterEntry(key, stamp, expiresAt, bytes, epoch ?? ZERO_STAMP, sum, client, clock, type, member)
  return type === StructType.PLAIN
    ? new Entry(key, kind, stamp, expiresAt, bytes, valueStart, client, clock)
    : new StructureEntry(key, kind, stamp, expiresAt, bytes, valueStart, client, clock, type, member)
}

/** A copy of an entry's stamp (or any stamp), holding nothing else. */
export function stampOf(stamp: Stamp): Stamp {
  return { wall: stamp.wall, counter: stamp.counter, replica: stamp.replica }
}
