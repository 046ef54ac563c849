/**
 * The keyspace of a compaction snapshot, read without integrating the
 * document, so a store opens by answering reads at once while Yjs loads the
 * document in the background. The snapshot (a Yjs update in format V2) is
 * the only copy on disk: there is no saved keyspace beside it any more,
 * which repeated every entry and made a compacted store 2.7 times the bytes
 * y-indexeddb stores for the same keys.
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
import * as Y from 'yjs'
import { type EntryHead, LOG_NAME, readEntryHead } from '../layout/entry.js'
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
export function keysOfSnapshot(snapshot: Uint8Array): SnapshotKeyspace | undefined {
  try {
    return readSnapshot(snapshot)
  } catch {
    return undefined // reason: not a snapshot this release reads: the document load says what is wrong
  }
}

function readSnapshot(snapshot: Uint8Array): SnapshotKeyspace | undefined {
  const decoder = new Y.UpdateDecoderV2(decoding.createDecoder(snapshot))
  const rest = decoder.restDecoder
  const ends = new Map<number, number>()
  /** Every origin named, as client, clock pairs: each must lie within the snapshot, or Yjs would keep its item pending. */
  const origins: number[] = []
  // The binary items, as columns: item id, and where the bytes are in `snapshot`.
  const clients: number[] = []
  const clocks: number[] = []
  const offsets: number[] = []
  const lengths: number[] = []
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
        clients.push(client)
        clocks.push(clock++)
        offsets.push(bytes.byteOffset - snapshot.byteOffset)
        lengths.push(bytes.length)
      } else {
        return undefined // a nested type, or any other content: not a TideKV log
      }
    }
    ends.set(client, clock)
  }
  for (let i = 0; i < origins.length; i += 2) if (origins[i + 1]! >= (ends.get(origins[i]!) ?? 0)) return undefined
  const deleted = readDeleteSet(decoder)

  // Each live entry under its key: the last entry of each key in `last`, the ones before chained through `next`.
  const n = clients.length
  const expiresAt = new Float64Array(n)
  const structure = new Uint8Array(n)
  const next = new Int32Array(n)
  const last = new Map<string, number>()
  const head: EntryHead = { key: '', wall: 0, counter: 0, expiresAt: 0, structure: false }
  const entries = decoding.createDecoder(snapshot)
  let max: Stamp = ZERO_STAMP
  let live = 0
  for (let e = 0; e < n; e++) {
    if (isDeleted(deleted, clients[e]!, clocks[e]!)) continue
    entries.pos = offsets[e]!
    if (!readEntryHead(entries, head) || entries.pos > offsets[e]! + lengths[e]!) continue
    if (head.wall > max.wall || (head.wall === max.wall && head.counter > max.counter)) max = { wall: head.wall, counter: head.counter, replica: 0 }
    expiresAt[e] = head.expiresAt
    structure[e] = head.structure ? 1 : 0
    next[e] = last.get(head.key) ?? -1
    last.set(head.key, e)
    live++
  }

  // Keys in order, each key's entries together.
  const keys = [...last.keys()].sort()
  const saved: SnapshotKeyspace = {
    keys,
    starts: new Uint32Array(keys.length + 1),
    clients: new Float64Array(live),
    clocks: new Float64Array(live),
    offsets: new Uint32Array(live),
    lengths: new Uint32Array(live),
    buffer: snapshot,
    expiries: new Float64Array(keys.length),
    maxStamp: max,
    resolveNow: [],
  }
  let at = 0
  for (let k = 0; k < keys.length; k++) {
    saved.starts[k] = at
    const newest = last.get(keys[k]!)!
    let withExpiry = false
    for (let e = newest; e !== -1; e = next[e]!) {
      saved.clients[at] = clients[e]!
      saved.clocks[at] = clocks[e]!
      saved.offsets[at] = offsets[e]!
      saved.lengths[at] = lengths[e]!
      if (expiresAt[e]! > 0) withExpiry = true
      at++
    }
    // One plain entry: its expiry is the key's. Otherwise resolving the entries tells.
    if (at - saved.starts[k]! === 1 && structure[newest] === 0) saved.expiries[k] = expiresAt[newest]!
    else if (withExpiry) saved.resolveNow.push(keys[k]!)
  }
  saved.starts[keys.length] = at
  return saved
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
