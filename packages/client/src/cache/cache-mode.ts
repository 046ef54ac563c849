/**
 * A cache store's machinery around its budget (`cache-budget.ts`): the hooks
 * on the replica that count every key and evict right after a local write
 * passes the budget, making room when storage is full, hits and misses, and
 * the record of use kept across reloads. Loaded with `import()` by
 * `openStore` only for a cache store, so an app without one ships none of it.
 */
import { type Replica, TideKVError } from '@tidekv/core/internal'
import { isQuotaError } from '../storage/persistence.js'
import type { StorageAdapter } from '../storage/storage.js'
import { CacheBudget, type CacheOptions, type CacheStats, checkCacheOptions } from './cache-budget.js'

/** How often a cache store saves its record of use, when it changed. */
const USAGE_SAVE_MS = 30_000

export class CacheMode {
  readonly #budget: CacheBudget
  /** The key a local write is adding to, between `admit` and its keyspace update (then evictions may follow). */
  #writing: string | null = null
  /** The key this tab wrote last: storage full, the write that hit it is likely its, and it is spared. */
  #lastWritten: string | undefined = undefined
  #usageTimer: ReturnType<typeof setInterval> | null = null
  #closed = false

  /** Takes over the replica's cache hooks. @throws TideKVError `INVALID_VALUE` for bad options */
  constructor(
    options: CacheOptions,
    private readonly replica: Replica,
    private readonly storage: StorageAdapter | null,
    private readonly emitError: (error: TideKVError) => void,
  ) {
    const { maxBytes, policy } = checkCacheOptions(options)
    const budget = (this.#budget = new CacheBudget(maxBytes, policy))
    replica.keyChanged = (key, bytes, expiresAt) => {
      budget.changed(key, bytes, expiresAt)
      if (this.#writing !== key) return
      // The local write landed (over the budget or not): a later change of this key from another tab is that tab's to evict for.
      this.#writing = null
      // Right after a local write lands: the store is within its budget again before the call returns.
      if (budget.over) this.#evictDownTo(budget.maxBytes, key)
    }
    replica.keysCleared = () => budget.cleared()
    replica.admit = (key, added, replaced) => {
      budget.admit(key, added, replaced)
      // The tab whose write passes the budget evicts; other tabs see deletes.
      this.#writing = key
      this.#lastWritten = key
    }
  }

  /** The document has loaded: count every key, take the saved record of use on, evict down to the budget, save use from now on. */
  async open(): Promise<void> {
    const budget = this.#budget
    // Keys a fast open made from the snapshot were never counted one by one: count them all once.
    budget.cleared()
    this.replica.forEachKeyBytes((key, bytes, expiresAt) => budget.changed(key, bytes, expiresAt))
    // Then how they were used before the reload, so the hot keys are not the first to go.
    const usage = await this.storage?.loadUsage?.().catch(() => undefined)
    if (usage !== undefined) budget.importUsage(usage)
    budget.usageChanged = false
    this.#evictDownTo(budget.maxBytes)
    if (this.storage?.saveUsage !== undefined && !this.#closed) {
      this.#usageTimer = setInterval(() => void this.#saveUsage(), USAGE_SAVE_MS)
      // reason: Node's timers have unref (a store must not keep a process alive); browsers' ids are numbers, and the optional call skips them
      ;(this.#usageTimer as { unref?: () => void }).unref?.()
    }
  }

  stats(): CacheStats {
    const b = this.#budget
    return { bytes: b.bytes, keys: b.keys, hits: b.hits, misses: b.misses, evictions: b.evictions }
  }

  /** A `get` or `getOrSet` found `key` (a hit, and a use) or not (a miss). */
  read(key: string, found: boolean): void {
    if (!found) this.#budget.misses++
    else {
      this.#budget.hits++
      this.#budget.touch(key)
    }
  }

  /** A use that is neither hit nor miss (a read through a data structure's handle). */
  touch(key: string): void {
    this.#budget.touch(key)
  }

  /**
   * Storage is full: evict by the policy until the store holds a share less
   * (10% on the first attempt of a write, doubling on each next, at most
   * 80%; at least one key), never the key written last; whether it evicted anything.
   */
  makeRoom(attempt: number): boolean {
    const share = Math.min(0.8, 0.1 * 2 ** attempt)
    return this.#evictDownTo(Math.floor(this.#budget.bytes * (1 - share)), this.#lastWritten) > 0
  }

  /** Stops evicting and saving; saves the record of use a last time. */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#usageTimer !== null) clearInterval(this.#usageTimer)
    await this.#saveUsage()
  }

  /** Evicts keys by the policy, never `spare`, until the store holds at most `bytes` (or the policy has nothing left); returns how many went. */
  #evictDownTo(bytes: number, spare?: string): number {
    const budget = this.#budget
    if (this.#closed) return 0
    let evicted = 0
    for (let guard = budget.keys; budget.bytes > bytes && guard > 0; guard--) {
      const key = budget.victim(spare)
      if (key === undefined) break
      // As `delete` does, without its checks of a key that is known to be valid and writable here.
      const slot = this.replica.slot(key)
      if (slot === undefined) budget.changed(key, 0, 0)
      else this.replica.remove(slot)
      budget.evictions++
      evicted++
    }
    return evicted
  }

  /** Saves the record of use when it changed (every USAGE_SAVE_MS, and on close). */
  async #saveUsage(): Promise<void> {
    const budget = this.#budget
    const storage = this.storage
    if (storage?.saveUsage === undefined || !budget.usageChanged) return
    try {
      await storage.saveUsage(budget.exportUsage())
    } catch (error) {
      // An aid to eviction, not data: at the quota it waits for the next save.
      if (isQuotaError(error)) {
        budget.usageChanged = true
        return
      }
      this.emitError(new TideKVError('STORAGE_FAILED', 'Saving the cache record of use failed', { cause: error }))
    }
  }
}
