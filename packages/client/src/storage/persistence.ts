/**
 * Moves the document's updates to storage: queued as they happen, written
 * in one storage transaction per tick (never one per write), compacted into
 * a snapshot once the log outgrows it, and made durable on `flush()`.
 */
import { asTideKVError, type TideKVError } from '@tidekv/core'
import type { CompactionResult, CompactOptions, StorageAdapter, StoredUpdate } from './storage.js'

export interface PersistenceHooks {
  /** Whether the document has loaded: compaction waits for it (a snapshot of half a document would lose the rest). */
  ready(): boolean
  /** Runs synchronously inside compaction: merge `unseen`, commit, encode. */
  build(unseen: StoredUpdate[]): CompactionResult
  onError(error: TideKVError): void
  /**
   * Storage refused a write for lack of space (QuotaExceededError): make room
   * in the document (a cache store evicts by its policy); returns whether it
   * did. The stored updates are then deleted and a snapshot of the smaller
   * document stored, in that order (`freeFirst`), and the write goes with it.
   * `attempt` counts the tries of one write from 0: each should free more
   * (a browser may count a transaction's size before compression, so the
   * snapshot must be well under what the rows took on disk).
   */
  onQuota?(attempt: number): boolean
}

/** Attempts to make room after QuotaExceededError before the write is reported failed (each asks for more room: see `onQuota`). */
const QUOTA_RETRIES = 5

/** Whether `error`, or an error it wraps, is the browser's QuotaExceededError. */
export function isQuotaError(error: unknown): boolean {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    if (typeof e === 'object' && 'name' in e && e.name === 'QuotaExceededError') return true
    e = typeof e === 'object' && 'cause' in e ? e.cause : undefined
  }
  return false
}

export interface CompactionPolicy {
  /** Compact once this many updates were appended since the last snapshot (and they weigh a quarter of it). Default 500. */
  maxLogRows?: number
  /** ...or once appended bytes exceed max(this, snapshot size). Default 1 MiB. */
  minLogBytes?: number
}

interface Waiter {
  target: number
  resolve: () => void
  reject: (error: TideKVError) => void
}

export class Persistence {
  #queue: Uint8Array[] = []
  /** Updates enqueued so far, and how many of them are stored, and stored durably. */
  #enqueued = 0
  #stopped = false
  #stored = 0
  #synced = 0
  #waiters: Waiter[] = []
  #running = false
  #failed = false
  /**
   * The next write must be the whole state, written by a `freeFirst`
   * compaction: set when storage ran out of room for a cache store, and
   * left set when that compaction fails (its first step may have emptied
   * storage, so an append alone would store updates without what they
   * build on).
   */
  #rewrite = false
  #logRows = 0
  #logBytes = 0
  #snapshotBytes = 0
  #compactions: Promise<void> = Promise.resolve()
  readonly #maxLogRows: number
  readonly #minLogBytes: number

  constructor(
    private readonly adapter: StorageAdapter,
    private readonly hooks: PersistenceHooks,
    policy: CompactionPolicy = {},
  ) {
    this.#maxLogRows = policy.maxLogRows ?? 500
    this.#minLogBytes = policy.minLogBytes ?? 1 << 20
  }

  /** True while nothing was appended since the last snapshot. */
  get compacted(): boolean {
    return this.#logRows === 0 && this.#queue.length === 0
  }

  /** Notes that storage holds more than one snapshot's worth of rows, so `close` compacts it. */
  markStale(): void {
    this.#logRows = Math.max(this.#logRows, 1)
  }

  /** The document has loaded: a compaction held back meanwhile may run now. */
  resume(): void {
    if (!this.#failed && this.#shouldCompact()) this.#kick()
  }

  enqueue(update: Uint8Array): void {
    if (this.#stopped) return
    this.#queue.push(update)
    this.#enqueued++
    if (!this.#failed) this.#kick()
  }

  /** The store is closing its storage: nothing more is written (what is left came from other replicas, which keep it). */
  stop(): void {
    this.#stopped = true
    this.#queue = []
  }

  /**
   * Resolves once every update enqueued before the call is durably stored.
   * @throws TideKVError `STORAGE_FAILED` when storage refuses the write (it is retried on the next flush).
   */
  flush(): Promise<void> {
    // A rewrite pending after QuotaExceededError: storage may hold nothing of what #synced counts.
    if (this.#synced >= this.#enqueued && !this.#rewrite) return Promise.resolve()
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ target: this.#enqueued, resolve, reject }))
    this.#failed = false
    this.#kick()
    return done
  }

  /**
   * Compacts now if anything was appended since the last snapshot (used on
   * close). At the quota the log stays as it is: every write in it is stored,
   * and a compaction would only have made the next open faster.
   */
  async compactIfNeeded(): Promise<void> {
    await this.flush()
    if (this.#logRows === 0 && this.#queue.length === 0) return
    try {
      await this.#compact()
    } catch (error) {
      if (!isQuotaError(error)) throw error
      // The updates the compaction took (a sweep's deletes, say) are queued again: store them as updates.
      if (this.#queue.length > 0) await this.flush()
    }
  }

  #kick(): void {
    if (this.#running || this.#stopped) return
    this.#running = true
    // Starting a microtask later lets every update of this tick join one storage transaction.
    void this.#run().finally(() => {
      this.#running = false
      if (!this.#failed && (this.#queue.length > 0 || this.#waiters.length > 0 || this.#shouldCompact())) this.#kick()
    })
  }

  async #run(): Promise<void> {
    await Promise.resolve()
    let quotaTries = 0
    for (;;) {
      if (this.#stopped) return
      try {
        // After QuotaExceededError (cache stores): the whole state, written after the rows it replaces are gone.
        if (this.#rewrite) await this.#compact({ freeFirst: true })
        else if (this.#queue.length > 0) await this.#appendQueued()
        else if (this.#waiters.length > 0 && this.#synced < this.#stored) await this.#sync()
        else if (this.#shouldCompact()) await this.#compact()
        else return
      } catch (cause) {
        if (isQuotaError(cause) && quotaTries < QUOTA_RETRIES && this.hooks.ready() && this.hooks.onQuota?.(quotaTries) === true) {
          quotaTries++
          this.#rewrite = true
          continue
        }
        this.#fail(cause)
        return
      }
      // A step went through: the next refusal is a new write's, which starts again at the first try.
      quotaTries = 0
      this.#settle()
    }
  }

  async #appendQueued(): Promise<void> {
    const batch = this.#queue
    this.#queue = []
    const strict = this.#waiters.length > 0
    try {
      await this.adapter.append(batch, strict)
    } catch (cause) {
      this.#queue = batch.concat(this.#queue)
      throw cause
    }
    this.#stored += batch.length
    // A strict commit also makes every earlier (relaxed) write durable.
    if (strict) this.#synced = this.#stored
    this.#logRows += batch.length
    for (const u of batch) this.#logBytes += u.length
  }

  async #sync(): Promise<void> {
    const upTo = this.#stored
    await this.adapter.append([], true)
    this.#synced = Math.max(this.#synced, upTo)
  }

  #shouldCompact(): boolean {
    if (!this.hooks.ready()) return false
    // A compaction costs the whole snapshot: run one only once the log is worth a share of it,
    // so its cost stays proportional to what was written (amortized O(1) per byte).
    return (this.#logRows >= this.#maxLogRows && this.#logBytes * 4 >= this.#snapshotBytes) || this.#logBytes > Math.max(this.#minLogBytes, this.#snapshotBytes)
  }

  /** Compactions run one at a time (the write loop's and `close`'s). */
  #compact(options?: CompactOptions): Promise<void> {
    const run = this.#compactions.then(() => this.#compactNow(options))
    this.#compactions = run.catch(() => undefined)
    return run
  }

  async #compactNow(options?: CompactOptions): Promise<void> {
    let taken: Uint8Array[] = []
    let snapshotBytes = 0
    try {
      await this.adapter.compact((unseen) => {
        const result = this.hooks.build(unseen)
        // The snapshot holds every update queued so far (the build committed into the document first).
        // A two-step compaction may build again: what the first build took stays taken.
        taken = taken.concat(this.#queue)
        this.#queue = []
        snapshotBytes = result.snapshot.length
        return result
      }, options)
    } catch (cause) {
      this.#queue = taken.concat(this.#queue)
      throw cause
    }
    this.#stored += taken.length
    this.#synced = this.#stored
    this.#logRows = 0
    this.#logBytes = 0
    this.#snapshotBytes = snapshotBytes
    if (options?.freeFirst === true) this.#rewrite = false
  }

  #settle(): void {
    const waiting = this.#waiters
    this.#waiters = []
    for (const w of waiting) {
      if (w.target <= this.#synced) w.resolve()
      else this.#waiters.push(w)
    }
  }

  #fail(cause: unknown): void {
    this.#failed = true
    const error = asTideKVError('STORAGE_FAILED', 'Writing to storage failed', cause)
    const waiting = this.#waiters
    this.#waiters = []
    for (const w of waiting) w.reject(error)
    this.hooks.onError(error)
  }
}
