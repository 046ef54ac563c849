/**
 * A room's storage writes, one after the other, and what they acknowledge.
 *
 * - Each update is appended after the client-id claims it needs (an update
 *   stored without its claims would leave its client ids to whoever writes
 *   next), then announced to the other relays (STORED, or UPDATE with its
 *   bytes), then acknowledged to its senders.
 * - A write that fails is not acknowledged. The room remembers what storage
 *   held before it (`unstoredFrom`); the next write, or a retry on its own
 *   (500 ms, doubling to 10 s), appends everything the document has beyond
 *   that and acknowledges every peer: a snapshot would hold it too, but
 *   unannounced, so relays that have the room loaded would never see it.
 * - `persisted` is the state vector storage holds, moving forward only (each
 *   capture of the document's state has a tick; a later one covers more).
 * - The stored log is compacted into one snapshot every
 *   `compactAfterUpdates` writes, and when the room unloads.
 */
import * as Y from 'yjs'
import type { ClientOwners } from './client-owners.js'
import type { Metrics } from './metrics.js'
import type { RoomFeed } from './room-feed.js'
import type { RelayStorage } from './storage.js'

/** The first retry of a failed storage write, and the longest wait between retries (doubling in between). */
const REPAIR_FIRST_MS = 500
const REPAIR_MAX_MS = 10_000

/** The document's state vector at one moment, with its tick. */
interface Taken {
  readonly stateVector: Uint8Array
  readonly tick: number
}

export interface RoomWritesContext {
  readonly name: string
  readonly doc: Y.Doc
  readonly storage: RelayStorage
  readonly feed: RoomFeed | null
  /** The room's client-id owners (read at each write: the room replaces them when it loads). */
  owners(): ClientOwners
  readonly metrics: Metrics
  readonly compactAfterUpdates: number
  onError(error: unknown): void
  /** Acknowledges every peer (after a repair: some may wait on the write that failed). */
  acknowledgeAll(): void
}

export class RoomWrites {
  /** Writes (and claim saves), in order: each waits for the one before. */
  #chain: Promise<void> = Promise.resolve()
  #persisted: Uint8Array = Y.encodeStateVector(new Y.Doc())
  #persistedTick = 0
  #ticks = 0
  #lastSeq = 0
  #sinceCompaction = 0
  /** After a failed write: the state vector of what storage held before it; else null. */
  #unstoredFrom: Uint8Array | null = null
  #repairTimer: ReturnType<typeof setTimeout> | null = null
  #repairDelayMs = REPAIR_FIRST_MS
  #closed = false
  /**
   * The document's state vector as last encoded, until the document changes:
   * encoding it is O(the room's writers), and a PERSISTED question, which any
   * connection may send hundreds of times a second, takes one.
   */
  #stateVector: Uint8Array | null = null

  constructor(private readonly ctx: RoomWritesContext) {
    ctx.doc.on('update', () => {
      this.#stateVector = null
    })
  }

  /** The encoded state vector of what storage holds. */
  get persisted(): Uint8Array {
    return this.#persisted
  }

  /** The room has loaded `updates` stored rows up to `lastSeq` into its document. */
  loaded(lastSeq: number, updates: number): void {
    this.#lastSeq = lastSeq
    this.#sinceCompaction = Math.max(0, updates - 1)
    this.#setPersisted(this.#capture())
  }

  /** Resolves once every write enqueued so far is done. */
  done(): Promise<void> {
    return this.#chain
  }

  /** Runs `task` after the writes enqueued so far (a claim save, say). */
  after(task: () => Promise<void>): void {
    this.#chain = this.#chain.then(task)
  }

  /**
   * Appends an update after the ones before it; `acknowledge` runs once it is
   * stored. `ref`: the PENDING this relay announced it as, if any.
   */
  store(update: Uint8Array, acknowledge: () => void, ref?: number): void {
    // What this write covers: the document as it is now, not as it is when the write runs (later updates are later writes).
    const taken = this.#capture()
    this.after(() => this.#write({ update, taken, ref }, acknowledge))
  }

  /**
   * Resolves when a PERSISTED question asked now can be answered with
   * `persisted`: once everything the document holds now is stored — this
   * relay's writes so far, and the updates other relays announced before
   * storing them (PENDING). One whose STORED does not come within a second
   * (its relay may have died) is stored by this relay, with everything else
   * storage may lack: else a client that sent it there first, and here
   * again, would wait forever, since this relay has it already and would
   * never store it.
   */
  async settled(): Promise<void> {
    const taken = this.#capture()
    const [, confirmed] = await Promise.all([this.#chain, this.ctx.feed?.confirmed() ?? true])
    if (!confirmed && this.#unstoredFrom === null) {
      this.#unstoredFrom = this.#persisted
      this.after(() => this.#write(null, () => undefined))
      await this.#chain
    } else if (this.#unstoredFrom === null) this.#setPersisted(taken)
  }

  /** After the last write: stores what a failed write left unstored, compacts if the log grew, retries no more. */
  async close(): Promise<void> {
    await this.#chain
    this.#closed = true
    if (this.#repairTimer !== null) clearTimeout(this.#repairTimer)
    await this.#write(null, () => undefined)
    // Still unstored: a snapshot is the last chance to keep it (unannounced, but a relay that loads the room later reads it).
    if (this.#sinceCompaction > 0 || this.#unstoredFrom !== null) await this.#compact()
  }

  /** The document's state vector now, with a tick: what a write (or an answer) covers if it succeeds. */
  #capture(): Taken {
    this.#stateVector ??= Y.encodeStateVector(this.ctx.doc)
    return { stateVector: this.#stateVector, tick: ++this.#ticks }
  }

  /** Storage holds `taken`: the acknowledged state moves to it unless a later one is there already. */
  #setPersisted(taken: Taken): void {
    if (taken.tick <= this.#persistedTick) return
    this.#persisted = taken.stateVector
    this.#persistedTick = taken.tick
  }

  /** One write: `next`, or after a failure everything storage lacks (which contains it). */
  async #write(next: { update: Uint8Array; taken: Taken; ref: number | undefined } | null, acknowledge: () => void): Promise<void> {
    const { ctx } = this
    const repair = this.#unstoredFrom
    const write = repair !== null ? { update: Y.encodeStateAsUpdate(ctx.doc, repair), taken: this.#capture(), ref: undefined } : next
    if (write === null) return
    const { update, taken, ref } = write
    const started = performance.now()
    try {
      await ctx.owners().save(ctx.storage, ctx.name)
      this.#lastSeq = await ctx.storage.append(ctx.name, update)
      ctx.feed?.stored(this.#lastSeq, update, ref)
    } catch (error) {
      // Not acknowledged: the sender keeps the update and sends it again on reconnect; meanwhile the room retries.
      this.#unstoredFrom ??= this.#persisted
      ctx.onError(error)
      this.#scheduleRepair()
      return
    }
    this.#unstoredFrom = null
    this.#repairDelayMs = REPAIR_FIRST_MS
    ctx.metrics.storageWrite((performance.now() - started) / 1000)
    this.#setPersisted(taken)
    if (repair === null) acknowledge()
    else ctx.acknowledgeAll()
    if (++this.#sinceCompaction >= ctx.compactAfterUpdates) await this.#compact()
  }

  /**
   * Retries a failed write on its own, with backoff: a store that fails
   * while the socket stays open (one Redis Cluster master down, say) would
   * otherwise wait for the next update to be stored.
   */
  #scheduleRepair(): void {
    if (this.#repairTimer !== null || this.#closed) return
    this.#repairTimer = setTimeout(() => {
      this.#repairTimer = null
      this.after(() => this.#write(null, () => undefined))
    }, this.#repairDelayMs)
    this.#repairTimer.unref?.()
    this.#repairDelayMs = Math.min(this.#repairDelayMs * 2, REPAIR_MAX_MS)
  }

  /** Replaces the stored log with one snapshot of the document; returns whether it was stored. */
  async #compact(): Promise<boolean> {
    const { ctx } = this
    try {
      const snapshot = Y.encodeStateAsUpdate(ctx.doc)
      // With other relays, only up to the seq below which the document holds every update.
      const upTo = ctx.feed?.watermark ?? this.#lastSeq
      if (upTo === 0) {
        this.#lastSeq = await ctx.storage.append(ctx.name, snapshot)
        ctx.feed?.stored(this.#lastSeq, snapshot)
      } else await ctx.storage.compact(ctx.name, snapshot, upTo)
      await ctx.owners().compact(ctx.storage, ctx.name)
      this.#sinceCompaction = 0
      return true
    } catch (error) {
      ctx.onError(error)
      return false
    }
  }
}
