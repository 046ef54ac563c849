/**
 * A decode budget for Yjs updates from untrusted clients (yjs issue 687).
 *
 * `checkUpdate` walks the binary structure of a Yjs update, format V1 (the one
 * `Y.encodeStateAsUpdate`, `doc.on('update')` and y-websocket produce), and
 * throws `UpdateRejected` when the update is malformed or would cost the relay
 * far more than its size suggests. Run it BEFORE `Y.applyUpdate`: it is a
 * single pass, linear in the byte length, and allocates only a few small
 * structures bounded by the budget (it never decodes a string or a value).
 *
 * Why a byte limit alone is not enough: measured on this machine with
 * yjs 13.6.33 / lib0 0.2.120 / Node 20 (scripts in scratch/budget/), these
 * frames are all small and all hurt `Y.applyUpdate`:
 *
 * - A struct count claim makes Yjs run `new Array(count)` before it reads a
 *   single struct: 7 bytes claiming 10^7 structs allocate 69 MB (3·10^7:
 *   153 MB) before Yjs throws "Unexpected end of array". (Issue 687 itself is
 *   about format V2, whose run-length decoders repeat their last value past
 *   the end of the input, so there a tiny frame loops forever. In V1 each struct
 *   costs at least 2 bytes, so the loop stays linear, but the allocation does
 *   not.)
 * - Merging: after a transaction Yjs merges neighbouring items right to left,
 *   and `ContentAny`/`ContentJSON` merge by `arr.concat`, so a run of L
 *   mergeable one-element items copies L²/2 elements: 5,000 items (30 KB)
 *   take 0.26 s, 10,000 (60 KB) 1.1 s, 20,000 (123 KB) 3.6 s, 40,000 more
 *   than 20 s. 100,000 (700 KB) ran the process out of memory
 *   (`Array.prototype.concat`, 4 GB heap).
 * - Delete sets: each range walks the structs it covers, so K ranges that all
 *   cover [0, N) cost K·N: 2,000 such ranges (8 KB) against a room of 20,000
 *   items take 0.62 s. Listing one client in 2,000 sections does the same
 *   (0.50 s). The same ranges sorted and disjoint take 2 ms.
 * - Pending state: structs whose clock lies beyond the room's state, or that
 *   reference structs the room does not have, are kept in
 *   `store.pendingStructs` and re-merged with every later pending update:
 *   2,000 such updates of 161 bytes cost 11.8 s in total, and they are kept
 *   (and written into every snapshot) forever. Within one update, 20,000
 *   client blocks that all go pending take 3.7 s (143 KB) and 40,000 take
 *   24.7 s (303 KB): Yjs filters its list of client ids once for each of them.
 *   Delete ranges beyond the room's state go to `store.pendingDs`, which Yjs
 *   decodes and re-merges on EVERY later update: after one update with 1,000
 *   such ranges, each tiny legit update costs 0.9 ms instead of 0.008 ms.
 * - Poison: some frames apply without error but leave the document broken for
 *   good. Zero-length structs store duplicate ids: a 16-byte frame (an empty
 *   string, then a string that references it) makes every later
 *   `encodeStateAsUpdate` throw, so the room can no longer sync anyone or be
 *   compacted. A 5 KB `ContentJSON` nested 5,000 deep (or `ContentAny` 8,000
 *   deep) applies fine, then `encodeStateAsUpdate` throws "Maximum call stack
 *   size exceeded".
 * - Memory: retained heap per input byte was 59 for binary items, 104 for
 *   nested types (`ContentType`) and 299 for sub-documents (`ContentDoc`),
 *   each of which is a whole `Y.Doc`: 100,000 of them (780 KB) cost 1.2 s and
 *   224 MB.
 * - Huge lengths and clocks are O(1) for Yjs (a GC struct of length 2^52
 *   applies in 0.3 ms) but they corrupt clock arithmetic beyond 2^53 (a clock of
 *   2^60 is accepted silently), and anyone may send them for anyone's client
 *   id: a 14-byte GC of length 2^52 at a victim's clock makes the room silently
 *   drop all of the victim's later inserts.
 *
 * What the budget cannot see (it does not know the room's document): work
 * that depends on the room's content. The worst is YATA's conflict scan:
 * 5,000 items inserted at the head whose right origins lie far down a
 * 5,000-item chain cost 3.2 s (45 KB); 10,000 + 5,000 cost 15.5 s (90 KB).
 * Such scans are bounded here only through `maxStructs`. Nesting is the same
 * kind of problem: type nesting deeper than about 3,500 makes deleting the
 * outer type overflow the stack half-way through a transaction, and an update
 * that touches every level of a chain D deep costs O(D²) (10,000 levels: 11 s).
 * Nesting can be built one level per update, so no check of a single update
 * can stop it: relays whose rooms never hold nested types (TideKV rooms hold
 * only the root `Y.Array` 'tidekv' of `ContentBinary`) should set
 * `maxTypes: 0`; others should cap nesting depth on the room's document.
 */
import { UpdateChecker } from './update-checker.js'
import { UpdateRejected } from './update-rejected.js'

export { UpdateRejected, type UpdateRejectedCode } from './update-rejected.js'

/** Limits for one update. Every count is per update. */
export interface UpdateBudget {
  /** Largest update, in bytes. */
  maxBytes: number
  /** Most structs (items, GC and Skip structs) across all client blocks. */
  maxStructs: number
  /** Most delete-set ranges across all clients. */
  maxDeleteRanges: number
  /** Most client blocks in the struct section, and most clients in the delete set. */
  maxClients: number
  /** Highest clock any struct, reference or delete range may reach (exclusive end). */
  maxClock: number
  /** Longest single GC, Skip or deleted-content struct, and longest delete range. */
  maxLength: number
  /**
   * How far past the room's state for a client (the `stateVector` passed to
   * `checkUpdate`) a struct may start, and a reference or delete range may
   * reach. Ignored without a state vector.
   */
  maxClockJump: number
  /** Most nested shared types (`ContentType` items). */
  maxTypes: number
  /** Most sub-documents (`ContentDoc` items). */
  maxSubdocs: number
  /** Deepest nesting of arrays/objects inside one `ContentAny`/`ContentJSON`/`ContentEmbed`/`ContentFormat` value. */
  maxValueDepth: number
  /** Most array elements Yjs would copy merging runs of `ContentAny`/`ContentJSON` items (see `mergeCost`). */
  maxMergeCost: number
}

/**
 * Defaults for live updates from TideKV clients.
 *
 * A TideKV entry is one `ContentBinary` item of about 12 bytes and up (header,
 * key, stamp, value) plus 8 or 9 bytes of struct header, so a 1 MiB update
 * holds at most about 50,000 of them, and at most as many delete ranges (an
 * overwrite deletes one old item). Full-document snapshots are larger: use
 * `scaleBudget(bytes)` for them.
 */
export const DEFAULT_UPDATE_BUDGET: Readonly<UpdateBudget> = Object.freeze({
  // 2 MiB: twice the largest update a TideKV client sends in normal use.
  maxBytes: 2 * 1024 * 1024,
  // Twice what a 1 MiB TideKV update needs. Bounds what an update can pin in
  // the room: about 400 bytes of heap per item (measured 59 per input byte
  // for 7-byte items), so at most ~40 MB, and it bounds the conflict scans
  // described above.
  maxStructs: 100_000,
  // Ranges are checked to be sorted and disjoint, so applying them is linear;
  // the limit bounds the decode loop and the delete set Yjs builds.
  maxDeleteRanges: 100_000,
  // A live update carries one client, a snapshot one per session that ever
  // wrote. Without a state vector every block may go pending, and Yjs handles
  // pending blocks in O(blocks²): 2,000 blocks cost ~60 ms, 20,000 cost 3.7 s.
  maxClients: 2_000,
  // 2^32 operations from one client id is far past any real session, and it
  // keeps every clock sum far below 2^53, where Yjs's clock arithmetic
  // silently loses precision.
  maxClock: 2 ** 32,
  // A snapshot can carry a long-lived client's whole deleted history as one
  // GC run, so lengths may be as large as clocks. Lower it for a relay that
  // only sees live updates.
  maxLength: 2 ** 32,
  // 0: with the room's state vector, nothing in an accepted update can be left
  // pending (see the pending-state costs above). A client whose offline edits
  // race its own sync step 2 can send an update that starts past the room's
  // state; drop it (do not disconnect): sync step 2 carries those structs
  // again, from the room's state.
  maxClockJump: 0,
  // 104 bytes of heap per input byte; 10,000 types cost ~6 MB. A large rich
  // text paste (two types per paragraph) stays far below it. See the note on
  // nesting above.
  maxTypes: 10_000,
  // Each is a whole Y.Doc (about 2.3 KB of heap, 12 µs).
  maxSubdocs: 1_000,
  // Yjs reads and writes these values recursively; 5,000 levels already broke
  // `encodeStateAsUpdate`. Real JSON data rarely nests past a few dozen.
  maxValueDepth: 128,
  // Measured ~20 ns per copied element: 5 million ≈ 0.1 s. A merged update of
  // 3,000 single-element pushes by one client costs 4.5 million.
  maxMergeCost: 5_000_000,
})

/**
 * The budget for updates up to `maxBytes` (e.g. full-document snapshots): the
 * per-update counts (structs, delete ranges, clients, types, sub-documents)
 * grow in proportion to the bytes; per-item limits (lengths, clocks, depth,
 * merge cost, clock jump) stay as they are.
 */
export function scaleBudget(maxBytes: number, base: Readonly<UpdateBudget> = DEFAULT_UPDATE_BUDGET): UpdateBudget {
  const f = Math.max(1, maxBytes / base.maxBytes)
  const scale = (n: number) => Math.ceil(n * f)
  return {
    ...base,
    maxBytes,
    maxStructs: scale(base.maxStructs),
    maxDeleteRanges: scale(base.maxDeleteRanges),
    maxClients: scale(base.maxClients),
    maxTypes: scale(base.maxTypes),
    maxSubdocs: scale(base.maxSubdocs),
  }
}

/**
 * Throws `UpdateRejected` unless `update` is a well-formed Yjs V1 update
 * within `budget`.
 *
 * Pass `stateVector` (`Y.decodeStateVector(Y.encodeStateVector(roomDoc))`, the
 * room's `getStateVector(doc.store)`, or a lookup with `Y.getState`) to also
 * reject updates that would leave pending state in the room: structs starting
 * past the room's state, references to structs neither the room nor the
 * update has, and delete ranges beyond what the room will have, each allowing
 * `maxClockJump` slack.
 *
 * Pass `sliceEvery` (> 0) to also get the update's layout, so that
 * `sliceUpdate` can cut it into updates of about that many structs.
 */
export function checkUpdate(update: Uint8Array, budget: Readonly<UpdateBudget> = DEFAULT_UPDATE_BUDGET, stateVector?: ClientClocks, sliceEvery = 0): UpdateSummary {
  if (!(update instanceof Uint8Array)) throw new UpdateRejected('MALFORMED_UPDATE', 'not a Uint8Array', 0)
  if (update.length > budget.maxBytes) {
    throw new UpdateRejected('UPDATE_OVER_BUDGET', 'maxBytes', 0, `${update.length} > ${budget.maxBytes}`)
  }
  const checker = new UpdateChecker(update, budget, stateVector ?? null, sliceEvery)
  checker.run()
  return {
    newStructs: checker.newStructs,
    newStructClients: checker.newStructClients,
    deleteRanges: checker.deleteRanges,
    structs: checker.structCount,
    layout: checker.layout,
  }
}

/** Where an update's blocks and slice cuts are (see `UpdateChecker.layout`); read by `sliceUpdate`. */
export interface UpdateLayout {
  /** Per block, five numbers: client, first clock, offset of its first struct, offset of its end, struct count. */
  blocks: number[]
  /** Per cut, four numbers: block index, offset and clock of the struct that starts a slice, its index in the block. */
  cuts: number[]
  /** Offset of the delete set. */
  deleteSetStart: number
  /**
   * Whether a struct references a struct of a later block (known only with a
   * state vector). Slices in byte order would then leave structs pending in
   * Yjs until the last slice, and every slice would re-merge them.
   */
  forwardRefs: boolean
}

/** What an accepted update carries, as far as the check saw it. */
export interface UpdateSummary {
  /**
   * Whether it holds a struct (an item or a GC, not a Skip) past the room's
   * state: with no state vector given, whether it holds one at all.
   */
  readonly newStructs: boolean
  /** The client ids those structs are written under (each once). */
  readonly newStructClients: readonly number[]
  /** Structs in it (items, GC and Skip). */
  readonly structs: number
  /** Its layout, when `checkUpdate` was asked to prepare slices. */
  readonly layout: UpdateLayout
  /** Delete ranges in its delete set (the room may already have them). */
  readonly deleteRanges: number
}

/** The room's next clock per client (a state vector's `get`); undefined or 0 for a client it has nothing of. */
export interface ClientClocks {
  get(client: number): number | undefined
}
