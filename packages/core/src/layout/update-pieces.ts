/**
 * Large states in bounded pieces. A store of a million keys is a ~70 MiB
 * Yjs state: as one sync message it passes any sane limit on a WebSocket
 * message (the relay's is 16 MiB), and it pins that much in socket buffers
 * at once. So states and transactions over `maxBytes` go as a run of
 * ordinary V1 updates, each a valid update of its own, that applied in
 * order have the effect of the whole.
 *
 * Why not cut the bytes anywhere: an item names its left and right origins,
 * which may belong to another client, and in a V1 update clients come in
 * client-id order, not in causal order. A piece whose items reference
 * items of a later piece would wait in Yjs's pending structs, re-merged with
 * every later piece (400,000 items took 9 s that way, where one update took
 * 0.2 s), and a relay refuses such pieces outright (they jump past the
 * room's state). So pieces are filled in dependency order: an item goes in
 * only after its origins, right origin and parent item, as Yjs itself
 * integrates them. Within a piece each client's structs are one contiguous
 * clock range, as V1 requires. The deletes go last, split across pieces too
 * when they are large.
 */
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { MessageType } from './protocol.js'

/** How large one piece may grow. */
export interface PieceLimits {
  /** A piece closes once it holds this many bytes, headers counted (so it may pass it by its last struct). */
  maxBytes: number
  /** A piece closes once it holds this many structs. */
  maxStructs: number
  /** A piece closes once it holds this many delete ranges. */
  maxRanges: number
  /** A piece closes once it names this many clients (client blocks of structs, or of deletes). */
  maxClients: number
}

/**
 * The defaults: 512 KiB, 5,000 structs, 50,000 delete ranges, 1,000
 * clients. A relay applies an update of up to 5,000 structs in one go
 * (larger ones in slices, holding the room's other messages meanwhile), and
 * its budget for a live update is 2 MiB, 100,000 structs, 100,000 delete
 * ranges and 2,000 clients: every piece but a step 2's last goes as a live
 * update, so each must fit that budget, whatever the document holds.
 */
export const PIECE_LIMITS: Readonly<PieceLimits> = Object.freeze({ maxBytes: 512 * 1024, maxStructs: 5_000, maxRanges: 50_000, maxClients: 1_000 })

/** Bytes a client block's header may take: three varUints. */
const BLOCK_HEADER_BYTES = 24

type DeleteSet = ReturnType<typeof Y.createDeleteSet>
type Struct = Y.Item | Y.GC

/** Where a client's structs stand: the next struct to write and the clock written up to. */
interface Cursor {
  readonly structs: Struct[]
  index: number
  clock: number
  /** On the dependency stack (see `encodePieces`). */
  stacked: boolean
}

/** One client's contiguous run of structs in the piece being filled. */
interface Segment {
  readonly clock: number
  count: number
  readonly encoder: Y.UpdateEncoderV1
}

/**
 * The structs of `doc` beyond the state vector `from`, and the deletes
 * `deletes`, as V1 updates within `limits` each; applied in order they have
 * the effect of one update holding all of it. Pass the remote state vector
 * and `Y.createDeleteSetFromStructStore(doc.store)` for a sync step 2 (what
 * `Y.encodeStateAsUpdate(doc, sv)` holds), or a transaction's `beforeState`
 * and `deleteSet` for what it changed.
 */
export function encodePieces(doc: Y.Doc, from: ReadonlyMap<number, number>, deletes: DeleteSet, limits: Readonly<PieceLimits> = PIECE_LIMITS): Uint8Array[] {
  const cursors = new Map<number, Cursor>()
  for (const [client, structs] of doc.store.clients) {
    const clock = from.get(client) ?? 0
    const last = structs[structs.length - 1]
    if (last === undefined || last.id.clock + last.length <= clock) continue
    cursors.set(client, { structs, index: Y.findIndexSS(structs, clock), clock, stacked: false })
  }
  const pieces: Uint8Array[] = []
  let segments = new Map<number, Segment>()
  let bytes = 0
  let structs = 0

  const closePiece = (): void => {
    pieces.push(finish(segments, null))
    segments = new Map()
    bytes = 0
    structs = 0
  }

  /** Whether the receiver has the struct with this id once the pieces so far are applied. */
  const has = (id: Y.ID): boolean => {
    const cursor = cursors.get(id.client)
    return cursor === undefined || id.clock < cursor.clock
  }

  const write = (client: number, cursor: Cursor, struct: Struct): void => {
    const newClient = !segments.has(client)
    if (structs > 0 && (structs >= limits.maxStructs || bytes >= limits.maxBytes || (newClient && segments.size >= limits.maxClients))) closePiece()
    let segment = segments.get(client)
    if (segment === undefined) {
      segment = { clock: cursor.clock, count: 0, encoder: new Y.UpdateEncoderV1() }
      segments.set(client, segment)
      bytes += BLOCK_HEADER_BYTES
    }
    const before = encoding.length(segment.encoder.restEncoder)
    // Only a client's first struct can start before the cursor (`from` may fall inside it).
    struct.write(segment.encoder, cursor.clock - struct.id.clock)
    bytes += encoding.length(segment.encoder.restEncoder) - before
    segment.count++
    structs++
    cursor.clock = struct.id.clock + struct.length
    cursor.index++
  }

  // Depth-first, as Yjs integrates: before a struct, the structs of other
  // clients it depends on, up to the one it names.
  const stack: { client: number; cursor: Cursor; until: number }[] = []
  for (const [client, cursor] of cursors) {
    stack.push({ client, cursor, until: Number.POSITIVE_INFINITY })
    cursor.stacked = true
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      const { cursor: at } = top
      if (at.index >= at.structs.length || at.clock > top.until) {
        stack.pop()
        at.stacked = false
        continue
      }
      const struct = at.structs[at.index]!
      const needed = struct instanceof Y.Item ? missingDependency(struct, has) : null
      if (needed !== null) {
        const next = cursors.get(needed.client)!
        // Stacked already, or written out without it: a cycle or a struct beyond the document,
        // which a document Yjs built never has. Written as it is, Yjs keeps it pending.
        if (!next.stacked && next.index < next.structs.length) {
          stack.push({ client: needed.client, cursor: next, until: needed.clock })
          next.stacked = true
          continue
        }
      }
      write(top.client, at, struct)
    }
  }
  writeDeletes(deletes, limits, segments, bytes, pieces)
  return pieces
}

/** y-protocols' sync message kinds (the byte after MessageType.SYNC). */
const STEP_2 = 1
const UPDATE = 2

/** A SYNC message: y-protocols' step 2 (kind 1) or update (kind 2) holding `update`. */
export function syncMessage(kind: 1 | 2, update: Uint8Array): Uint8Array {
  const message = encoding.createEncoder()
  encoding.writeVarUint(message, MessageType.SYNC)
  encoding.writeVarUint(message, kind)
  encoding.writeVarUint8Array(message, update)
  return encoding.toUint8Array(message)
}

/**
 * The sync step 2 that answers `stateVector` (none: the whole document), as
 * the messages to send: one step 2, or for a state over `PIECE_LIMITS.maxBytes`
 * its pieces as updates, the last as the step 2 (so the receiver counts as
 * synced only after all of it).
 */
export function stepTwoMessages(doc: Y.Doc, stateVector?: Uint8Array): Uint8Array[] {
  const update = Y.encodeStateAsUpdate(doc, stateVector)
  if (update.length <= PIECE_LIMITS.maxBytes) return [syncMessage(STEP_2, update)]
  const from = stateVector === undefined ? new Map<number, number>() : Y.decodeStateVector(stateVector)
  const pieces = encodePieces(doc, from, Y.createDeleteSetFromStructStore(doc.store))
  return pieces.map((piece, i) => syncMessage(i === pieces.length - 1 ? STEP_2 : UPDATE, piece))
}

/** The first struct `item` depends on that the receiver does not have yet, or null. */
function missingDependency(item: Y.Item, has: (id: Y.ID) => boolean): Y.ID | null {
  if (item.origin !== null && !has(item.origin)) return item.origin
  if (item.rightOrigin !== null && !has(item.rightOrigin)) return item.rightOrigin
  // With neither origin the parent is written: a root type's name, or the id of a nested type's item.
  if (item.origin === null && item.rightOrigin === null) {
    const parent = item.parent
    const id = parent instanceof Y.ID ? parent : parent instanceof Y.AbstractType && parent._item !== null ? parent._item.id : null
    if (id !== null && !has(id)) return id
  }
  return null
}

/** Appends the last piece (the structs still open, and the deletes, over as many pieces as they need). */
function writeDeletes(deletes: DeleteSet, limits: Readonly<PieceLimits>, segments: Map<number, Segment>, structBytes: number, pieces: Uint8Array[]): void {
  let part: [number, { clock: number; len: number }[]][] = []
  let bytes = structBytes
  let open = segments
  let count = 0
  const close = (): void => {
    pieces.push(finish(open, part))
    open = new Map()
    part = []
    bytes = 0
    count = 0
  }
  // Clients in descending order, as Yjs writes them.
  const clients = [...deletes.clients.keys()].sort((a, b) => b - a)
  for (const client of clients) {
    let ranges: { clock: number; len: number }[] = []
    for (const { clock, len } of deletes.clients.get(client)!) {
      const full = bytes >= limits.maxBytes || count >= limits.maxRanges || (ranges.length === 0 && part.length >= limits.maxClients)
      if (full && (ranges.length > 0 || part.length > 0 || open.size > 0)) {
        if (ranges.length > 0) part.push([client, ranges])
        ranges = []
        close()
      }
      if (ranges.length === 0) bytes += BLOCK_HEADER_BYTES
      ranges.push({ clock, len })
      bytes += varUintBytes(clock) + varUintBytes(len)
      count++
    }
    if (ranges.length > 0) part.push([client, ranges])
  }
  // Always a last piece, even an empty one: a sync step 2 must be sent even when there is nothing to send.
  if (open.size > 0 || part.length > 0 || pieces.length === 0) close()
}

/** One V1 update: the struct section from `segments`, then the delete set. */
function finish(segments: Map<number, Segment>, deletes: [number, { clock: number; len: number }[]][] | null): Uint8Array {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, segments.size)
  for (const [client, { clock, count, encoder: structs }] of segments) {
    encoding.writeVarUint(encoder, count)
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, clock)
    encoding.writeUint8Array(encoder, encoding.toUint8Array(structs.restEncoder))
  }
  encoding.writeVarUint(encoder, deletes?.length ?? 0)
  for (const [client, ranges] of deletes ?? []) {
    encoding.writeVarUint(encoder, client)
    encoding.writeVarUint(encoder, ranges.length)
    for (const { clock, len } of ranges) {
      encoding.writeVarUint(encoder, clock)
      encoding.writeVarUint(encoder, len)
    }
  }
  return encoding.toUint8Array(encoder)
}

function varUintBytes(n: number): number {
  let bytes = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    bytes++
  }
  return bytes
}
