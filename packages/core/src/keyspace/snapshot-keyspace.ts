/**
 * The keyspace of a compaction snapshot, read without integrating the
 * document, so a store opens by answering reads at once while Yjs loads the
 * document in the background. The snapshot (a Yjs update in format V2) is
 * the only copy on disk: there is no saved keyspace beside it any more,
 * which repeated every entry and made a compacted store 2.7 times the bytes
 * y-indexeddb stores for the same keys.
 *
 * `Y.decodeUpdateV2` lists the snapshot's structs without integrating them;
 * each live binary item of the log is an entry. A snapshot that also holds
 * pending structs (see `integrableEnds`) is loaded the slow way. Only a document whose items
 * all belong to the log qualifies (another root type, or a nested one, and
 * the store loads the document first, as before): an item names its parent
 * only when it has no origin, so items of other types could not be told
 * apart without integrating. Each key's entries are copied into one buffer,
 * in key order, and decoded when the key is first used (see `materialize` in
 * keyspace.ts); keys whose expiry depends on how their entries resolve are
 * resolved at open (`resolveNow`).
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { decodeEntryHead, LOG_NAME } from '../layout/entry.js'
import { compareStamps, type Stamp, ZERO_STAMP } from '../layout/hlc.js'
import type { SavedKeys } from './keyspace.js'

export interface SnapshotKeyspace extends SavedKeys {
  /** The greatest stamp of any entry: the clock must issue greater ones. */
  maxStamp: Stamp
  /** Keys whose expiry comes from resolving several entries: resolve them at once (their `expiries` say 0). */
  resolveNow: string[]
}

/** One entry found in the snapshot. */
interface Found {
  client: number
  clock: number
  bytes: Uint8Array
  expiresAt: number
  structure: boolean
}

/**
 * The keyspace of `snapshot` (a V2 update of the whole document), or
 * undefined when it cannot be read without integrating it (the store then
 * loads the document first).
 */
export function keysOfSnapshot(snapshot: Uint8Array): SnapshotKeyspace | undefined {
  let decoded: ReturnType<typeof Y.decodeUpdateV2>
  try {
    decoded = Y.decodeUpdateV2(snapshot)
  } catch {
    return undefined // reason: not a snapshot this release reads: the document load says what is wrong
  }
  const ends = integrableEnds(decoded.structs)
  if (ends === undefined) return undefined
  const byKey = new Map<string, Found[]>()
  let max: Stamp = ZERO_STAMP
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue
    if (!dependenciesIn(struct, ends)) return undefined
    // Decoded, not integrated: a parent is the root type's name (a string), or the id of a nested type's item.
    const parent: unknown = struct.parent
    if ((parent !== null && parent !== LOG_NAME) || struct.parentSub !== null || struct.content instanceof Y.ContentType) return undefined
    if (!(struct.content instanceof Y.ContentBinary) || Y.isDeleted(decoded.ds, struct.id)) continue
    const bytes = struct.content.content
    const head = decodeEntryHead(bytes)
    if (head === undefined) continue
    const stamp = { wall: head.wall, counter: head.counter, replica: 0 }
    if (compareStamps(stamp, max) > 0) max = stamp
    const found: Found = { client: struct.id.client, clock: struct.id.clock, bytes, expiresAt: head.expiresAt, structure: head.structure }
    const entries = byKey.get(head.key)
    if (entries === undefined) byKey.set(head.key, [found])
    else entries.push(found)
  }
  const keys = [...byKey.keys()].sort()
  const n = keys.length
  const offsets = new Uint32Array(n)
  const counts = new Uint32Array(n)
  const expiries = new Float64Array(n)
  const resolveNow: string[] = []
  const raw = encoding.createEncoder()
  for (let i = 0; i < n; i++) {
    const entries = byKey.get(keys[i]!)!
    offsets[i] = encoding.length(raw)
    counts[i] = entries.length
    for (const e of entries) {
      encoding.writeVarUint(raw, e.client)
      encoding.writeVarUint(raw, e.clock)
      encoding.writeVarUint8Array(raw, e.bytes)
    }
    const only = entries.length === 1 ? entries[0]! : undefined
    if (only !== undefined && !only.structure) expiries[i] = only.expiresAt
    else if (entries.some((e) => e.expiresAt > 0)) resolveNow.push(keys[i]!)
  }
  return { keys, raw: encoding.toUint8Array(raw), offsets, counts, expiries, maxStamp: max, resolveNow }
}

/**
 * How far each client's structs run, or undefined when some of them would
 * wait in Yjs's pending structs instead of being integrated: a snapshot also
 * carries the document's pending structs (updates whose predecessors never
 * arrived), which are no entries yet. Each client's structs must run from
 * clock 0 without a gap (a gap is a Skip struct in a merged update).
 */
function integrableEnds(structs: readonly (Y.Item | Y.GC | Y.Skip)[]): Map<number, number> | undefined {
  const ends = new Map<number, number>()
  for (const struct of structs) {
    if (struct instanceof Y.Skip || struct.id.clock !== (ends.get(struct.id.client) ?? 0)) return undefined
    ends.set(struct.id.client, struct.id.clock + struct.length)
  }
  return ends
}

/** Whether every struct `item` depends on (origins, a nested parent) is in the snapshot: else it would be pending. */
function dependenciesIn(item: Y.Item, ends: ReadonlyMap<number, number>): boolean {
  const has = (id: Y.ID | null): boolean => id === null || id.clock < (ends.get(id.client) ?? 0)
  const parent: unknown = item.parent
  return has(item.origin) && has(item.rightOrigin) && (!(parent instanceof Y.ID) || has(parent))
}
