/**
 * The keyspace of a compaction snapshot, read without integrating the
 * document, so a store opens by answering reads at once while Yjs loads the
 * document in the background. The snapshot (a Yjs update in format V2) is
 * the only copy of the entries on disk; beside it there is only its index
 * (`indexOfSnapshot`: the entries in key order, a few bytes a key). Release
 * 0.1.0 saved a keyspace there instead, which repeated every entry and made a
 * compacted store 2.7 times the bytes y-indexeddb stores for the same keys.
 *
 * The snapshot's structs are read without integrating them (see
 * `keysOfSnapshot`, which says which snapshots qualify); each live binary
 * item of the log is an entry. Entries stay where they are, in the
 * snapshot's buffer, each key's listed together in key order, and are
 * decoded and checked when the key is first used (see `materialize` in
 * keyspace.ts); keys whose expiry depends on how their entries resolve are
 * resolved at open (`resolveNow`).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { EntryKind, LOG_NAME, StructType } from '../layout/entry.js'
import { type EntryHead, readEntryHead } from '../layout/entry-codec.js'
import { type Stamp, ZERO_STAMP } from '../layout/hlc.js'
import type { SavedKeys } from './saved-keys.js'

export interface SnapshotKeyspace extends SavedKeys {
  /** The greatest stamp of any entry: the clock must issue greater ones. */
  maxStamp: Stamp
  /** Keys whose expiry comes from resolving several entries: resolve them at once (their `expiries` say 0). */
  resolveNow: string[]
}

/** Struct info: the low five bits are the content type (0 GC, 1 deleted, 3 binary, 10 Skip). */
const CONTENT_GC = 0
const CONTENT_DELETED = 1
const CONTENT_BINARY = 3
const STRUCT_SKIP = 10
const HAS_ORIGIN = 128
const HAS_RIGHT_ORIGIN = 64

/**
 * The keyspace of `snapshot` (a V2 update of the whole document), or
 * undefined when it cannot be read without integrating it (the store then
 * loads the document first).
 *
 * It walks the update with Yjs's own V2 decoder but makes no struct objects
 * (`Y.decodeUpdateV2` made 100,000 items for 100,000 keys, most of the time
 * of a fast open). Every item must belong to the log: in a document with
 * only the log every item that names its parent names the log (an item with
 * an origin names none: it shares its origin's parent), and there is no
 * nested type; anything else, or any content but binary entries and deleted
 * ones, is refused (undefined). So is a snapshot holding pending structs: a
 * gap in a client's clocks, or an origin the snapshot does not hold.
 */
export function keysOfSnapshot(snapshot: Uint8Array, index?: Uint8Array): SnapshotKeyspace | undefined {
  try {
    const items = walk(snapshot)
    if (items === undefined) return undefined
    const order = index === undefined ? undefined : readIndex(index, items.clients.length)
    // An index that does not fit its snapshot is ignored: the keys are sorted here instead.
    return (order === undefined ? undefined : assemble(snapshot, items, order, true)) ?? assemble(snapshot, items, sortByKey(snapshot, items), false)
  } catch {
    return undefined // reason: not a snapshot this release reads: the document load says what is wrong
  }
}

/**
 * The index a fast open of `snapshot` reads beside it: the snapshot's live
 * entries in key order, each as its position among the snapshot's binary
 * items (a varUint each, about 3 bytes a key). With it a fast open neither
 * hashes nor sorts the keys. Undefined when the snapshot is not read that way.
 */
export function indexOfSnapshot(snapshot: Uint8Array): Uint8Array | undefined {
  const items = walk(snapshot)
  if (items === undefined) return undefined
  const order = sortByKey(snapshot, items)
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, order.length)
  for (const position of order) encoding.writeVarUint(encoder, position)
  return encoding.toUint8Array(encoder)
}

/** A snapshot's binary items, as columns: item id, and where the bytes are in the snapshot; and its delete set. */
interface Items {
  clients: number[]
  clocks: number[]
  offsets: number[]
  lengths: number[]
  deleted: Map<number, number[]>
}

function walk(snapshot: Uint8Array): Items | undefined {
  const decoder = new Y.UpdateDecoderV2(decoding.createDecoder(snapshot))
  const rest = decoder.restDecoder
  const ends = new Map<number, number>()
  /** Every origin named, as client, clock pairs: each must lie within the snapshot, or Yjs would keep its item pending. */
  const origins: number[] = []
  const items: Items = { clients: [], clocks: [], offsets: [], lengths: [], deleted: new Map() }
  const count = decoding.readVarUint(rest)
  for (let c = 0; c < count; c++) {
    const structs = decoding.readVarUint(rest)
    const client = decoder.readClient()
    let clock = decoding.readVarUint(rest)
    if (clock !== 0 || ends.has(client)) return undefined
    for (let i = 0; i < structs; i++) {
      const info = decoder.readInfo()
      const content = info & 31
      if (info === STRUCT_SKIP) return undefined
      if (content === CONTENT_GC) {
        clock += decoder.readLen()
        continue
      }
      if ((info & HAS_ORIGIN) !== 0) pushId(origins, decoder.readLeftID())
      if ((info & HAS_RIGHT_ORIGIN) !== 0) pushId(origins, decoder.readRightID())
      if ((info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN)) === 0) {
        // A root type's name, or (false) the id of a nested type's item; then a map key, if any.
        if (!decoder.readParentInfo() || decoder.readString() !== LOG_NAME || (info & 32) !== 0) return undefined
      }
      if (content === CONTENT_DELETED) {
        clock += decoder.readLen()
      } else if (content === CONTENT_BINARY) {
        const bytes = decoder.readBuf() // a view into `snapshot`
        items.clients.push(client)
        items.clocks.push(clock++)
        items.offsets.push(bytes.byteOffset - snapshot.byteOffset)
        items.lengths.push(bytes.length)
      } else {
        return undefined // a nested type, or any other content: not a TideKV log
      }
    }
    ends.set(client, clock)
  }
  for (let i = 0; i < origins.length; i += 2) if (origins[i + 1]! >= (ends.get(origins[i]!) ?? 0)) return undefined
  items.deleted = readDeleteSet(decoder)
  return items
}

/** Reads the head of binary item `e` into `head`; false when it is deleted or no valid entry. */
function readHead(entries: decoding.Decoder, items: Items, e: number, head: EntryHead): boolean {
  if (isDeleted(items.deleted, items.clients[e]!, items.clocks[e]!)) return false
  entries.pos = items.offsets[e]!
  return readEntryHead(entries, head) && entries.pos <= items.offsets[e]! + items.lengths[e]!
}

/** The live entries' positions, in key order (a key's entries together): hashed and sorted. */
function sortByKey(snapshot: Uint8Array, items: Items): number[] {
  const n = items.clients.length
  const next = new Int32Array(n)
  const last = new Map<string, number>()
  const head = newHead()
  const entries = decoding.createDecoder(snapshot)
  for (let e = 0; e < n; e++) {
    if (!readHead(entries, items, e, head)) continue
    next[e] = last.get(head.key) ?? -1
    last.set(head.key, e)
  }
  const order: number[] = []
  for (const key of [...last.keys()].sort()) for (let e = last.get(key)!; e !== -1; e = next[e]!) order.push(e)
  return order
}

/** An index's positions; undefined when it is malformed or names a position past the snapshot's `n` items. */
function readIndex(index: Uint8Array, n: number): number[] | undefined {
  try {
    const decoder = decoding.createDecoder(index)
    const count = decoding.readVarUint(decoder)
    if (count > n) return undefined
    const order = new Array<number>(count)
    for (let i = 0; i < count; i++) {
      const position = decoding.readVarUint(decoder)
      if (position >= n) return undefined
      order[i] = position
    }
    return decoding.hasContent(decoder) ? undefined : order
  } catch {
    return undefined // reason: a damaged index is only a shortcut: the keys are sorted instead
  }
}

/**
 * The keyspace of the entries at `order`'s positions, which must come in key
 * order (a key's entries together, keys strictly increasing) and name each
 * item once, and (`complete`: an index read from storage) every live entry;
 * undefined otherwise (a stale or damaged index).
 */
function assemble(snapshot: Uint8Array, items: Items, order: readonly number[], complete: boolean): SnapshotKeyspace | undefined {
  const n = order.length
  const used = new Uint8Array(items.clients.length)
  const keys: string[] = []
  const starts: number[] = []
  const expiries: number[] = []
  const saved: SnapshotKeyspace = {
    keys,
    starts: new Uint32Array(0),
    clients: new Float64Array(n),
    clocks: new Float64Array(n),
    offsets: new Uint32Array(n),
    lengths: new Uint32Array(n),
    buffer: snapshot,
    expiries: new Float64Array(0),
    maxStamp: ZERO_STAMP,
    resolveNow: [],
  }
  const head = newHead()
  const entries = decoding.createDecoder(snapshot)
  let max: Stamp = ZERO_STAMP
  let at = 0
  // The key being assembled: whether its one entry is plain, and its entries' greatest expiry.
  let plain = false
  let withExpiry = false
  const closeKey = (): void => {
    const k = keys.length - 1
    if (k < 0) return
    // One plain entry: its expiry is the key's. Otherwise resolving the entries tells.
    if (at - starts[k]! === 1 && plain) return
    expiries[k] = 0
    if (withExpiry) saved.resolveNow.push(keys[k]!)
  }
  for (const e of order) {
    if (used[e] === 1 || !readHead(entries, items, e, head)) return undefined
    used[e] = 1
    const previous = keys[keys.length - 1]
    if (previous !== head.key) {
      if (previous !== undefined && !(previous < head.key)) return undefined
      closeKey()
      keys.push(head.key)
      starts.push(at)
      expiries.push(head.expiresAt)
      plain = head.type === StructType.PLAIN
      withExpiry = false
    }
    if (head.expiresAt > 0) withExpiry = true
    if (head.wall > max.wall || (head.wall === max.wall && head.counter > max.counter)) max = { wall: head.wall, counter: head.counter, replica: 0 }
    saved.clients[at] = items.clients[e]!
    saved.clocks[at] = items.clocks[e]!
    saved.offsets[at] = items.offsets[e]!
    saved.lengths[at] = items.lengths[e]!
    at++
  }
  closeKey()
  // The positions not named must be deleted or no entry (few: a deleted entry is no binary item any more).
  if (complete) for (let e = 0; e < used.length; e++) if (used[e] === 0 && readHead(entries, items, e, head)) return undefined
  starts.push(at)
  saved.starts = Uint32Array.from(starts)
  saved.expiries = Float64Array.from(expiries)
  saved.maxStamp = max
  return saved
}

function newHead(): EntryHead {
  return { kind: EntryKind.VALUE, key: '', type: StructType.PLAIN, member: null, wall: 0, counter: 0, expiresAt: 0 }
}

function pushId(out: number[], id: Y.ID): void {
  out.push(id.client, id.clock)
}

/** The delete set after the structs (V2), as sorted [clock, length] pairs per client. */
function readDeleteSet(decoder: Y.UpdateDecoderV2): Map<number, number[]> {
  const out = new Map<number, number[]>()
  const clients = decoding.readVarUint(decoder.restDecoder)
  for (let c = 0; c < clients; c++) {
    decoder.resetDsCurVal()
    const client = decoding.readVarUint(decoder.restDecoder)
    const ranges = decoding.readVarUint(decoder.restDecoder)
    const pairs: number[] = []
    for (let r = 0; r < ranges; r++) pairs.push(decoder.readDsClock(), decoder.readDsLen())
    if (ranges > 0) out.set(client, pairs)
  }
  return out
}

/** Whether client:clock lies in one of the (sorted, disjoint) deleted ranges. */
function isDeleted(deleted: Map<number, number[]>, client: number, clock: number): boolean {
  const pairs = deleted.get(client)
  if (pairs === undefined) return false
  let lo = 0
  let hi = pairs.length / 2
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (pairs[mid * 2]! + pairs[mid * 2 + 1]! <= clock) lo = mid + 1
    else hi = mid
  }
  return lo < pairs.length / 2 && pairs[lo * 2]! <= clock
}
