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
import { checkJson, JSON_OK, JSON_TOO_DEEP, utf16Length } from './utf8-scan.js'

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

export type UpdateRejectedCode = 'MALFORMED_UPDATE' | 'UPDATE_OVER_BUDGET'

/** Why `checkUpdate` refused an update. */
export class UpdateRejected extends Error {
  override readonly name = 'UpdateRejected'
  /**
   * `MALFORMED_UPDATE`: not something a correct Yjs writes (truncated,
   * trailing bytes, bad varint, unknown content, zero-length or overlapping
   * ranges, invalid UTF-8 or JSON...): the sender is broken or hostile.
   * `UPDATE_OVER_BUDGET`: well-formed but over a limit of the budget.
   */
  readonly code: UpdateRejectedCode
  /** Short, stable name of the check that failed (e.g. 'truncated', 'maxStructs'). */
  readonly reason: string
  /** Byte offset where the problem was found. */
  readonly offset: number

  constructor(code: UpdateRejectedCode, reason: string, offset: number, detail?: string) {
    super(`${code}: ${reason}${detail ? ` (${detail})` : ''} at byte ${offset}`)
    this.code = code
    this.reason = reason
    this.offset = offset
  }
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER
// Content refs: the low 5 bits of an item's info byte (yjs structs/Item.js).
const REF_GC = 0
const REF_DELETED = 1
const REF_JSON = 2
const REF_BINARY = 3
const REF_STRING = 4
const REF_EMBED = 5
const REF_FORMAT = 6
const REF_TYPE = 7
const REF_ANY = 8
const REF_DOC = 9
const REF_SKIP = 10
const BIT6 = 32 // has parentSub (only read when there is no origin)
const BIT7 = 64 // has right origin
const BIT8 = 128 // has origin
const TYPE_REF_XML_ELEMENT = 3
const TYPE_REF_XML_HOOK = 5
const TYPE_REF_MAX = 6

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
  const checker = new Checker(update, budget, stateVector ?? null, sliceEvery)
  checker.run()
  return {
    newStructs: checker.newStructs,
    newStructClients: checker.newStructClients,
    deleteRanges: checker.deleteRanges,
    structs: checker.structCount,
    layout: checker.layout,
  }
}

/** Where an update's blocks and slice cuts are (see `Checker.layout`); read by `sliceUpdate`. */
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

class Checker {
  private pos = 0
  private readonly end: number
  // Running totals against the budget.
  private structs = 0
  private ranges = 0
  private types = 0
  private subdocs = 0
  private mergeCost = 0
  /** A struct past the room's clock for its client: the update writes something. */
  newStructs = false
  /** The client ids under which it writes such structs. */
  readonly newStructClients: number[] = []
  /** Whether the current block's client is in `newStructClients`. */
  private blockMarked = false
  /** The room's clock for the current client block. */
  private roomClock = 0
  // Current client block (struct section).
  private client = 0
  private clock = 0
  /** With a state vector: the clock up to which the current client is applicable. */
  private avail = 0
  /** With a state vector: for each finished block, the clock up to which it is applicable. */
  private readonly blockAvail = new Map<number, number>()
  /** With a state vector: [client, clock] pairs referenced before their block was read. */
  private readonly deferred: number[] = []
  // Stack for nested values (ContentAny) and JSON: remaining entries, kind.
  private readonly stackCount: Float64Array
  private readonly stackKind: Uint8Array

  /**
   * With `sliceEvery`: the update's layout for `sliceUpdate`. Per block:
   * client, first clock, byte offset of its first struct, byte offset of its
   * end, struct count; and every `sliceEvery` structs a cut: block index, byte
   * offset and clock of the struct that starts the next slice, its index in
   * the block.
   */
  readonly layout: UpdateLayout = { blocks: [], cuts: [], deleteSetStart: 0, forwardRefs: false }
  private seenStructs = 0

  constructor(
    private readonly arr: Uint8Array,
    private readonly budget: Readonly<UpdateBudget>,
    private readonly sv: ClientClocks | null,
    private readonly sliceEvery = 0,
  ) {
    this.end = arr.length
    const depth = Math.max(0, Math.min(budget.maxValueDepth, arr.length)) + 2
    this.stackCount = new Float64Array(depth)
    this.stackKind = new Uint8Array(depth)
  }

  private markNew(): void {
    this.newStructs = true
    if (this.blockMarked) return
    this.blockMarked = true
    this.newStructClients.push(this.client)
  }

  get structCount(): number {
    return this.structs
  }

  get deleteRanges(): number {
    return this.ranges
  }

  run(): void {
    this.structSection()
    this.layout.deleteSetStart = this.pos
    // Structs that reference a later block of the update (Yjs writes blocks by descending client id).
    this.layout.forwardRefs = this.deferred.length > 0
    this.deleteSet()
    if (this.pos !== this.end) this.malformed('trailing bytes', `${this.end - this.pos} after the delete set`)
    const d = this.deferred
    for (let i = 0; i < d.length; i += 2) {
      const client = d[i]!
      const clock = d[i + 1]!
      if (clock >= this.reach(client)) this.over('maxClockJump', `reference to ${client}:${clock}, which neither the room nor the update has`)
    }
  }

  // --- errors -------------------------------------------------------------

  private malformed(reason: string, detail?: string): never {
    throw new UpdateRejected('MALFORMED_UPDATE', reason, this.pos, detail)
  }

  private over(reason: string, detail?: string): never {
    throw new UpdateRejected('UPDATE_OVER_BUDGET', reason, this.pos, detail)
  }

  // --- primitives ---------------------------------------------------------

  private u8(): number {
    if (this.pos >= this.end) this.malformed('truncated')
    return this.arr[this.pos++]!
  }

  /** lib0 varUint, refusing values past 2^53 - 1 (lib0 would return them imprecisely). */
  private varUint(): number {
    const arr = this.arr
    let num = 0
    let mult = 1
    for (let n = 0; ; n++) {
      if (this.pos >= this.end) this.malformed('truncated')
      const b = arr[this.pos++]!
      num += (b & 0x7f) * mult
      if (b < 0x80) break
      mult *= 128
      if (n === 7) this.malformed('varint too long')
    }
    if (num > MAX_SAFE) this.malformed('varint out of range')
    return num
  }

  /** lib0 varInt (6 bits and a sign in the first byte). */
  private skipVarInt(): void {
    let b = this.u8()
    if (b < 0x80) return
    let mult = 64
    for (let n = 0; ; n++) {
      b = this.u8()
      if (b < 0x80) {
        if ((b & 0x7f) * mult > MAX_SAFE) this.malformed('varint out of range')
        return
      }
      mult *= 128
      if (n === 6) this.malformed('varint too long')
    }
  }

  private skip(len: number): void {
    if (len > this.end - this.pos) this.malformed('truncated')
    this.pos += len
  }

  /** Skips a lib0 varString; returns its byte range start. Fails unless valid UTF-8 (lib0 decodes with `fatal: true`). */
  private string(): number {
    const len = this.varUint()
    if (len > this.end - this.pos) this.malformed('truncated')
    const start = this.pos
    if (utf16Length(this.arr, start, start + len) < 0) this.malformed('invalid UTF-8')
    this.pos += len
    return start
  }

  /** Skips a varString and returns its length in UTF-16 code units (Yjs's ContentString length). */
  private stringUnits(): number {
    const len = this.varUint()
    if (len > this.end - this.pos) this.malformed('truncated')
    const units = utf16Length(this.arr, this.pos, this.pos + len)
    if (units < 0) this.malformed('invalid UTF-8')
    this.pos += len
    return units
  }

  /** A varString that must be JSON text (or, when `allowUndefined`, the word undefined). */
  private json(allowUndefined: boolean): void {
    const len = this.varUint()
    if (len > this.end - this.pos) this.malformed('truncated')
    const start = this.pos
    const end = start + len
    if (utf16Length(this.arr, start, end) < 0) this.malformed('invalid UTF-8')
    if (!(allowUndefined && isUndefinedWord(this.arr, start, end))) {
      const r = checkJson(this.arr, start, end, this.budget.maxValueDepth, this.stackKind)
      if (r === JSON_TOO_DEEP) this.over('maxValueDepth', 'JSON value')
      if (r !== JSON_OK) {
        this.pos = start
        this.malformed('invalid JSON')
      }
    }
    this.pos = end
  }

  /** One lib0 `writeAny` value, iteratively (lib0 and Yjs recurse). */
  private any(): void {
    const count = this.stackCount
    const kind = this.stackKind
    const maxDepth = this.budget.maxValueDepth
    let depth = 0
    for (;;) {
      const t = this.u8()
      let open = -1
      let isObject = 0
      switch (t) {
        case 127: // undefined
        case 126: // null
        case 121: // false
        case 120: // true
          break
        case 125:
          this.skipVarInt()
          break
        case 124:
          this.skip(4)
          break
        case 123: // float64
        case 122: // bigint64
          this.skip(8)
          break
        case 119:
          this.string()
          break
        case 116:
          this.skip(this.varUint())
          break
        case 118: // object: key string + value per entry, at least 2 bytes each
          open = this.varUint()
          if (open > (this.end - this.pos) / 2) this.malformed('truncated', 'object size')
          isObject = 1
          break
        case 117: // array: at least 1 byte per element
          open = this.varUint()
          if (open > this.end - this.pos) this.malformed('truncated', 'array size')
          break
        default:
          this.pos--
          this.malformed('unknown value type', String(t))
      }
      if (open >= 0) {
        if (depth + 1 > maxDepth) this.over('maxValueDepth', 'ContentAny value')
        if (open > 0) {
          depth++
          count[depth] = open
          kind[depth] = isObject
        }
      }
      while (depth > 0 && count[depth] === 0) depth--
      if (depth === 0) return
      count[depth] = count[depth]! - 1
      if (kind[depth] === 1) this.string() // the entry's key
    }
  }

  // --- struct section -----------------------------------------------------

  private structSection(): void {
    const budget = this.budget
    const numClients = this.varUint()
    if (numClients > budget.maxClients) this.over('maxClients', `${numClients} client blocks`)
    // A block is at least 3 bytes: count, client, clock.
    if (numClients > (this.end - this.pos) / 3) this.malformed('truncated', 'client block count')
    const seen = new Set<number>()
    for (let b = 0; b < numClients; b++) {
      const numStructs = this.varUint()
      this.structs += numStructs
      if (this.structs > budget.maxStructs) this.over('maxStructs', `${this.structs} structs`)
      // Every struct is at least 2 bytes (info + one more).
      if (numStructs > (this.end - this.pos) / 2) this.malformed('truncated', 'struct count')
      const client = this.varUint()
      if (seen.has(client)) this.malformed('duplicate client block', String(client))
      seen.add(client)
      const clock = this.varUint()
      if (clock > budget.maxClock) this.over('maxClock', `block starts at ${clock}`)
      this.client = client
      this.clock = clock
      this.avail = this.known(client)
      this.roomClock = this.sv?.get(client) ?? 0
      this.blockMarked = false
      const mergeRun = new MergeRun()
      const structsStart = this.pos
      for (let i = 0; i < numStructs; i++) {
        if (this.sliceEvery > 0 && this.seenStructs > 0 && this.seenStructs % this.sliceEvery === 0) this.layout.cuts.push(b, this.pos, this.clock, i)
        this.seenStructs++
        this.struct(mergeRun)
      }
      if (this.sliceEvery > 0) this.layout.blocks.push(client, clock, structsStart, this.pos, numStructs)
      this.addMergeCost(mergeRun.close())
      if (this.sv) this.blockAvail.set(client, this.avail)
    }
  }

  private struct(run: MergeRun): void {
    const budget = this.budget
    const start = this.clock
    const info = this.u8()
    const ref = info & 0x1f
    let len: number
    if (ref === REF_GC || ref === REF_SKIP) {
      // Yjs ignores the upper bits here; its writers always write exactly 0 / 10.
      if (info !== ref) this.malformed('bad info byte', String(info))
      len = this.length()
      this.addMergeCost(run.close())
      if (ref === REF_GC) {
        this.applicableAt(start, len)
        if (start + len > this.roomClock) this.markNew()
      }
    } else {
      if (ref > REF_SKIP) {
        this.pos--
        this.malformed('unknown content ref', String(ref))
      }
      const hasOrigin = (info & BIT8) !== 0
      const hasRight = (info & BIT7) !== 0
      let originClient = -1
      let originClock = -1
      let rightClient = -1
      let rightClock = -1
      if (hasOrigin) {
        originClient = this.varUint()
        originClock = this.varUint()
        this.reference(originClient, originClock, start)
      }
      if (hasRight) {
        rightClient = this.varUint()
        rightClock = this.varUint()
        this.reference(rightClient, rightClock, start)
      }
      if (!hasOrigin && !hasRight) {
        const parentInfo = this.varUint()
        if (parentInfo === 1) {
          this.string() // name of a root type
        } else if (parentInfo === 0) {
          const parentClient = this.varUint()
          const parentClock = this.varUint()
          this.reference(parentClient, parentClock, start)
        } else {
          this.malformed('bad parent info', String(parentInfo))
        }
        if ((info & BIT6) !== 0) this.string() // parentSub: key in a map
      }
      len = this.content(ref)
      // Can this item merge into the previous one (same content kind, origin
      // = end of the previous item, same right origin)? See `MergeRun`.
      if (ref === REF_ANY || ref === REF_JSON) {
        const joins = hasOrigin && originClient === this.client && originClock === start - 1 && run.continues(ref, rightClient, rightClock)
        if (!joins) this.addMergeCost(run.close())
        run.add(ref, len, rightClient, rightClock)
      } else {
        this.addMergeCost(run.close())
      }
      this.applicableAt(start, len)
      if (start + len > this.roomClock) this.markNew()
    }
    const next = start + len
    if (next > budget.maxClock) this.over('maxClock', `struct ends at ${next}`)
    this.clock = next
  }

  /** The length of a GC, Skip or deleted-content struct. */
  private length(): number {
    const len = this.varUint()
    // Zero-length structs share their id with the next struct; Yjs then keeps
    // duplicate ids in the store (a 16-byte frame broke encodeStateAsUpdate for good).
    if (len === 0) this.malformed('zero length')
    if (len > this.budget.maxLength) this.over('maxLength', `length ${len}`)
    return len
  }

  /** Reads an item's content; returns its length (clock units). */
  private content(ref: number): number {
    switch (ref) {
      case REF_DELETED:
        return this.length()
      case REF_JSON: {
        const n = this.varUint()
        if (n === 0) this.malformed('zero length')
        if (n > this.end - this.pos) this.malformed('truncated', 'JSON item count')
        for (let i = 0; i < n; i++) this.json(true)
        return n
      }
      case REF_BINARY:
        this.skip(this.varUint())
        return 1
      case REF_STRING: {
        const units = this.stringUnits()
        if (units === 0) this.malformed('zero length')
        return units
      }
      case REF_EMBED:
        this.json(false)
        return 1
      case REF_FORMAT:
        this.string()
        this.json(false)
        return 1
      case REF_TYPE: {
        if (++this.types > this.budget.maxTypes) this.over('maxTypes', `${this.types} types`)
        const typeRef = this.varUint()
        if (typeRef > TYPE_REF_MAX) this.malformed('unknown type ref', String(typeRef))
        if (typeRef === TYPE_REF_XML_ELEMENT || typeRef === TYPE_REF_XML_HOOK) this.string()
        return 1
      }
      case REF_ANY: {
        const n = this.varUint()
        if (n === 0) this.malformed('zero length')
        if (n > this.end - this.pos) this.malformed('truncated', 'value count')
        for (let i = 0; i < n; i++) this.any()
        return n
      }
      case REF_DOC: {
        if (++this.subdocs > this.budget.maxSubdocs) this.over('maxSubdocs', `${this.subdocs} sub-documents`)
        this.string() // guid
        // Yjs spreads the options into `new Doc(...)` and reads `opts.shouldLoad`:
        // anything but an object throws there. Its writer always writes an object.
        if (this.pos >= this.end) this.malformed('truncated')
        if (this.arr[this.pos] !== 118) this.malformed('sub-document options are not an object')
        this.any()
        return 1
      }
      default:
        this.malformed('unknown content ref', String(ref))
    }
  }

  private addMergeCost(cost: number): void {
    if (cost === 0) return
    this.mergeCost += cost
    if (this.mergeCost > this.budget.maxMergeCost) this.over('maxMergeCost', `${this.mergeCost} element copies`)
  }

  // --- clocks and references ---------------------------------------------

  /** The room's state for `client` (0 without a state vector). */
  private known(client: number): number {
    return this.sv ? (this.sv.get(client) ?? 0) : 0
  }

  /** With a state vector: the clock below which `client`'s structs will exist once the update is applied. */
  private reach(client: number): number {
    const known = this.known(client)
    const block = this.blockAvail.get(client)
    return (block !== undefined && block > known ? block : known) + this.budget.maxClockJump
  }

  /** A struct of the current client covering [start, start + len) that Yjs will try to integrate. */
  private applicableAt(start: number, len: number): void {
    if (!this.sv) return
    // Yjs keeps structs that start past the room's state in `pendingStructs`.
    if (start > this.avail + this.budget.maxClockJump) {
      this.over('maxClockJump', `client ${this.client} starts at ${start}, the room has ${this.avail}`)
    }
    if (start + len > this.avail) this.avail = start + len
  }

  /** An origin, right origin or parent id read by the struct at `ownClock`. */
  private reference(client: number, clock: number, ownClock: number): void {
    // Ids only ever point back to structs that existed when this one was made.
    if (client === this.client && clock >= ownClock) this.malformed('reference to a later struct', `${client}:${clock}`)
    if (clock >= this.budget.maxClock) this.over('maxClock', `reference to ${client}:${clock}`)
    if (!this.sv) return
    const jump = this.budget.maxClockJump
    if (clock < this.known(client) + jump) return
    if (client === this.client) {
      if (clock >= this.avail + jump) this.over('maxClockJump', `reference to ${client}:${clock}, which neither the room nor the update has`)
      return
    }
    const block = this.blockAvail.get(client)
    if (block !== undefined) {
      if (clock >= block + jump) this.over('maxClockJump', `reference to ${client}:${clock}, which neither the room nor the update has`)
      return
    }
    this.deferred.push(client, clock) // its block may come later in the update
  }

  // --- delete set ---------------------------------------------------------

  private deleteSet(): void {
    const budget = this.budget
    const numClients = this.varUint()
    if (numClients > budget.maxClients) this.over('maxClients', `${numClients} delete-set clients`)
    if (numClients > (this.end - this.pos) / 2) this.malformed('truncated', 'delete-set client count')
    const seen = new Set<number>()
    for (let c = 0; c < numClients; c++) {
      const client = this.varUint()
      // Yjs walks the structs of each section: a client listed twice is walked twice.
      if (seen.has(client)) this.malformed('duplicate delete-set client', String(client))
      seen.add(client)
      const n = this.varUint()
      this.ranges += n
      if (this.ranges > budget.maxDeleteRanges) this.over('maxDeleteRanges', `${this.ranges} ranges`)
      if (n > (this.end - this.pos) / 2) this.malformed('truncated', 'delete range count')
      const reach = this.sv ? this.reach(client) : Infinity
      let prevEnd = 0
      for (let i = 0; i < n; i++) {
        const clock = this.varUint()
        const len = this.varUint()
        // Yjs writes each client's ranges sorted and merged. Overlapping ranges
        // make Yjs walk the same structs again per range (K·N).
        if (len === 0) this.malformed('zero length', 'delete range')
        if (clock < prevEnd) this.malformed('delete ranges overlap or are unsorted', `${client}:${clock}`)
        if (len > budget.maxLength) this.over('maxLength', `delete range of ${len}`)
        const end = clock + len
        if (end > budget.maxClock) this.over('maxClock', `delete range ends at ${end}`)
        // What lies past the room's state goes to `pendingDs`, re-read on every later update.
        if (end > reach) this.over('maxClockJump', `delete range ${client}:${clock}+${len} goes past the room's state`)
        prevEnd = end
      }
    }
  }
}

/**
 * A run of items Yjs will merge after the transaction. `ContentAny` and
 * `ContentJSON` merge by `left.arr = left.arr.concat(right.arr)`, right to
 * left, so merging items with e_1..e_L elements copies
 * sum_{j<L} (e_j + ... + e_L) = sum_i e_i * min(i, L - 1) elements.
 * (Strings merge by concatenation, which V8 does in O(1); deleted content and
 * GC structs by adding lengths.)
 */
class MergeRun {
  private kind = 0
  private items = 0
  private weighted = 0 // sum of e_i * i
  private last = 0 // e_L
  private rightClient = -1
  private rightClock = -1

  continues(kind: number, rightClient: number, rightClock: number): boolean {
    return this.items > 0 && this.kind === kind && this.rightClient === rightClient && this.rightClock === rightClock
  }

  add(kind: number, elements: number, rightClient: number, rightClock: number): void {
    this.kind = kind
    this.items++
    this.weighted += elements * this.items
    this.last = elements
    this.rightClient = rightClient
    this.rightClock = rightClock
  }

  /** Ends the run; returns the elements its merging copies. */
  close(): number {
    const cost = this.items >= 2 ? this.weighted - this.last : 0
    this.items = 0
    this.weighted = 0
    this.last = 0
    this.kind = 0
    return cost
  }
}

function isUndefinedWord(arr: Uint8Array, start: number, end: number): boolean {
  const word = 'undefined'
  if (end - start !== word.length) return false
  for (let i = 0; i < word.length; i++) if (arr[start + i] !== word.charCodeAt(i)) return false
  return true
}
