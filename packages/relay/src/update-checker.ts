/**
 * The single pass of `checkUpdate` over a Yjs V1 update: client blocks of
 * structs (counts, clocks, references, content, the merge cost of each run),
 * then the delete set, against an `UpdateBudget` and, when given, the room's
 * state vector. Why each check exists is in update-budget.ts.
 */
import { MergeRun } from './merge-run.js'
import type { ClientClocks, UpdateBudget, UpdateLayout } from './update-budget.js'
import { UpdateReader } from './update-reader.js'

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

export class UpdateChecker extends UpdateReader {
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
    arr: Uint8Array,
    private readonly budget: Readonly<UpdateBudget>,
    private readonly sv: ClientClocks | null,
    private readonly sliceEvery = 0,
  ) {
    super(arr, budget.maxValueDepth)
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
