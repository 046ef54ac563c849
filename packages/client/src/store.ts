/**
 * The store: the public API over the keyspace (reads, in memory), the
 * document (the truth, `store.doc`) and persistence.
 *
 * Write path: a call checks its input, updates the keyspace at once (the
 * next read sees it) and queues its entry. All writes of a tick are committed
 * to the document in one Yjs transaction at the end of the tick (or at the
 * end of `batch`), then watchers fire and the update goes to storage. Changes
 * from other replicas take the other road: the document observer updates
 * the keyspace and fires watchers with their origin.
 */
import { ObservableV2 } from 'lib0/observable'
import * as Y from 'yjs'
import type { Transaction } from 'yjs'
import { DocLog } from './doc-log.js'
import {
  createCounterEntry,
  createValueEntry,
  decodeEntry,
  decodeEntryKey,
  decodeEntryValue,
  type Entry,
  EntryKind,
  valueByteLength,
} from './entry.js'
import { TideKVError } from './errors.js'
import { HybridClock, sameStamp, ZERO_STAMP } from './hlc.js'
import { checkKey, checkReadKey } from './key.js'
import { isLoser, Keyspace, type Slot, slotValue } from './keyspace.js'
import { TransactionOrigin, changeOriginOf } from './origins.js'
import { type CompactionPolicy, Persistence } from './persistence.js'
import { decodeKeyspace, encodeKeyspace } from './saved-keyspace.js'
import type { StorageAdapter } from './storage.js'
import { cloneValue, prepareValue, type Value } from './value.js'
import { type Change, type ChangeOrigin, type WatchCallback, type WatchTarget, Watchers } from './watchers.js'

/** Options of `openStore`. */
export interface StoreOptions {
  /** The IndexedDB to persist in. Default `globalThis.indexedDB`; Node tests pass fake-indexeddb. */
  indexedDB?: IDBFactory
  /** Persist the store (default true). False keeps it in memory only. */
  persist?: boolean
  /** A storage adapter factory to use instead of IndexedDB (see `memoryStorage`). */
  storage?: import('./storage.js').StorageFactory
  /** Largest encoded value accepted by `set`, in bytes. Default 1 MiB. */
  maxValueBytes?: number
  /** Longest key accepted, in bytes of UTF-8. Default 1 KiB. */
  maxKeyBytes?: number
  /** Milliseconds since the epoch. Default `Date.now`. Drives TTL and the hybrid logical clock. */
  clock?: () => number
  /** When the update log is compacted into a snapshot. */
  compaction?: CompactionPolicy
}

/** Expiry of a `set`: a time to live in ms, or an absolute time in epoch ms. Neither: no expiry. */
export interface SetOptions {
  ttl?: number
  expiresAt?: number
}

/** Range of a `keys`/`entries` scan. Keys come in JavaScript string order (UTF-16 code units). */
export interface ScanOptions {
  /** Only keys starting with this. */
  prefix?: string
  /** Only keys after this one (exclusive): pass the last key of a page to get the next. */
  after?: string
  /** At most this many keys. */
  limit?: number
}

/** Events of `store.on`. */
export interface StoreEvents {
  /** A background failure: storage (`STORAGE_FAILED`), an invalid remote entry, a throwing watcher. */
  error: (error: TideKVError) => void
}

const DEFAULT_MAX_VALUE_BYTES = 1 << 20
const DEFAULT_MAX_KEY_BYTES = 1024
/** Expired keys removed from the document per commit or timer tick: bounded work. */
const SWEEP_BATCH = 1000
const MAX_TIMER_DELAY = 2 ** 31 - 1

/**
 * A key-value store on a Yjs document. Open one with `openStore`.
 * Reads are synchronous and served from memory; writes are visible at once
 * and reach the document at the end of the tick.
 */
export class Store {
  /** The store's name: its IndexedDB database is `tidekv:<name>`. */
  readonly name: string
  /** The Yjs document holding the data: what tabs and sync attach to. Layout in PROTOCOL.md. */
  readonly doc: Y.Doc
  /**
   * Resolves once the document has loaded from storage. A store with a saved
   * keyspace answers reads before that; writes made meanwhile are kept and
   * committed when it resolves.
   */
  readonly loaded: Promise<void>

  private readonly keyspace = new Keyspace()
  private readonly log: DocLog
  private readonly hlc: HybridClock
  private readonly clock: () => number
  private readonly maxValueBytes: number
  private readonly maxKeyBytes: number
  private readonly watchers = new Watchers()
  private readonly events = new ObservableV2<StoreEvents>()
  private readonly origin = new TransactionOrigin('local', this)
  private readonly storageOrigin = new TransactionOrigin('storage', this)
  private readonly persistence: Persistence | null

  private pendingInserts = new Set<Entry>()
  private pendingDeletes: Entry[] = []
  /** Slots holding entries that lost to a concurrent write: removed at the next commit. */
  private readonly dirty = new Set<Slot>()
  /** Keys written since the last commit, with their value before, for watchers. */
  private localChanges = new Map<string, Value | undefined>()
  private commitScheduled = false
  private batchDepth = 0
  private docReady = false
  /** Between a fast open and the document load: entries from the saved keyspace by item id, awaiting their items. */
  private preloaded: Map<number, Map<number, Entry>> | null = null
  private closed = false
  private sweepTimer: ReturnType<typeof setTimeout> | null = null
  private sweepDue = Infinity
  private resolveLoaded!: () => void
  private rejectLoaded!: (error: unknown) => void

  /** @internal Use `openStore`. */
  constructor(
    name: string,
    options: StoreOptions,
    private readonly storage: StorageAdapter | null,
  ) {
    this.name = name
    this.clock = options.clock ?? Date.now
    this.hlc = new HybridClock(this.clock)
    this.maxValueBytes = positiveOption(options.maxValueBytes, DEFAULT_MAX_VALUE_BYTES, 'maxValueBytes')
    this.maxKeyBytes = positiveOption(options.maxKeyBytes, DEFAULT_MAX_KEY_BYTES, 'maxKeyBytes')
    this.doc = new Y.Doc()
    this.log = new DocLog(this.doc)
    this.loaded = new Promise<void>((resolve, reject) => {
      this.resolveLoaded = resolve
      this.rejectLoaded = reject
    })
    // A failed load is reported by `openStore`, `flush` and the error event; never unhandled.
    this.loaded.catch(() => undefined)
    this.persistence =
      storage === null
        ? null
        : new Persistence(
            storage,
            { build: (unseen) => this.buildSnapshot(unseen), onError: (e) => this.emitError(e) },
            options.compaction,
          )
    this.doc.on('afterTransaction', this.onTransaction)
    this.doc.on('update', this.onUpdate)
  }

  /** @internal Loads the stored state; resolves once reads can be answered. */
  async open(): Promise<void> {
    if (this.storage === null) {
      this.markLoaded()
      return
    }
    const saved = await this.storage.loadKeyspace()
    const slots = saved === undefined ? undefined : decodeKeyspace(saved)
    if (slots === undefined) {
      await this.loadDocument(false)
      return
    }
    const preloaded = new Map<number, Map<number, Entry>>()
    for (const slot of slots) {
      for (const e of slot.entries) {
        this.hlc.observe(e.stamp)
        let byClock = preloaded.get(e.client)
        if (byClock === undefined) preloaded.set(e.client, (byClock = new Map()))
        byClock.set(e.clock, e)
      }
    }
    this.keyspace.load(slots)
    this.preloaded = preloaded
    this.armSweep()
    // The document loads in the background; `loaded` tells when it has.
    void this.loadDocument(true).catch((cause) => this.emitError(toStorageError('Loading the document failed', cause)))
  }

  // ---- reads -------------------------------------------------------------

  /**
   * The value of `key`, or undefined when it is missing or expired. Objects
   * come back deeply frozen (values holding a Uint8Array come back as fresh
   * copies), so changing them cannot change the store.
   * @throws TideKVError `INVALID_KEY`, `CLOSED`
   * @example
   * const prefs = store.get<{ theme: string }>('user:1:prefs')
   */
  get<T extends Value = Value>(key: string): T | undefined {
    if (this.closed) throw closedError()
    const slot = this.keyspace.slots.get(key)
    if (slot === undefined) {
      checkReadKey(key)
      return undefined
    }
    if (slot.expiresAt !== 0 && slot.expiresAt <= this.clock()) return undefined
    return this.output(slot) as T | undefined
  }

  /** Whether `key` holds a value that has not expired. @throws TideKVError `INVALID_KEY`, `CLOSED` */
  has(key: string): boolean {
    this.assertOpen()
    checkReadKey(key)
    const slot = this.keyspace.get(key)
    return slot !== undefined && this.visible(slot, this.clock()) !== undefined
  }

  /** The values of `keys`, in order (undefined where missing). @throws TideKVError `INVALID_KEY`, `CLOSED` */
  getMany<T extends Value = Value>(keys: readonly string[]): (T | undefined)[] {
    this.assertOpen()
    return keys.map((key) => this.get<T>(key))
  }

  /**
   * Milliseconds until `key` expires: -1 when it has no expiry, -2 when it is
   * missing (Redis PTTL). @throws TideKVError `INVALID_KEY`, `CLOSED`
   */
  ttl(key: string): number {
    this.assertOpen()
    checkReadKey(key)
    const slot = this.keyspace.get(key)
    const now = this.clock()
    if (slot === undefined || this.visible(slot, now) === undefined) return -2
    return slot.expiresAt === 0 ? -1 : slot.expiresAt - now
  }

  /**
   * Keys in order, from an index kept beside the map: O(log n + k).
   * @throws TideKVError `INVALID_VALUE` for bad options, `CLOSED`
   * @example
   * store.keys({ prefix: 'user:1:', limit: 100 })
   */
  keys(options: ScanOptions = {}): string[] {
    const out: string[] = []
    this.scan(options, (key) => out.push(key))
    return out
  }

  /** `[key, value]` pairs in key order; same options as `keys`. */
  entries<T extends Value = Value>(options: ScanOptions = {}): [string, T][] {
    const out: [string, T][] = []
    this.scan(options, (key, slot) => out.push([key, this.output(slot) as T]))
    return out
  }

  /** How many keys hold a value that has not expired. */
  get size(): number {
    this.assertOpen()
    // Expired keys leave the keyspace now; their entries leave the document at the next commit.
    if (this.sweep(this.clock(), Infinity) > 0) this.scheduleCommit()
    return this.keyspace.slots.size
  }

  // ---- writes ------------------------------------------------------------

  /**
   * Sets `key` to a copy of `value`. Without an expiry option any previous
   * TTL is cleared (as Redis SET does).
   * @throws TideKVError `INVALID_KEY`, `INVALID_VALUE`, `VALUE_TOO_LARGE`, `CLOSED`
   * @example
   * store.set('session', { user: 1 }, { ttl: 30 * 60_000 })
   */
  set(key: string, value: Value, options?: SetOptions): void {
    this.assertOpen()
    checkKey(key, this.maxKeyBytes)
    const expiresAt = this.expiryOf(options)
    this.write(this.valueEntry(key, value, expiresAt))
  }

  /** Sets several keys; all are checked first, so a refused entry changes nothing. */
  setMany(entries: Iterable<readonly [string, Value]>, options?: SetOptions): void {
    this.assertOpen()
    const expiresAt = this.expiryOf(options)
    const prepared: Entry[] = []
    for (const pair of entries) {
      checkKey(pair[0], this.maxKeyBytes)
      prepared.push(this.valueEntry(pair[0], pair[1], expiresAt))
    }
    this.batch(() => {
      for (const e of prepared) this.write(e)
    })
  }

  /**
   * Deletes `key`; returns whether it held a value. A write made
   * concurrently on another replica survives the delete (add-wins).
   * @throws TideKVError `INVALID_KEY`, `CLOSED`
   */
  delete(key: string): boolean {
    this.assertOpen()
    checkReadKey(key)
    const slot = this.keyspace.get(key)
    if (slot === undefined) return false
    const existed = this.visible(slot, this.clock()) !== undefined
    this.noteLocal(slot)
    this.retireAll(slot)
    this.scheduleCommit()
    return existed
  }

  /** Deletes several keys; returns how many held a value. */
  deleteMany(keys: readonly string[]): number {
    this.assertOpen()
    for (const key of keys) checkReadKey(key)
    let n = 0
    this.batch(() => {
      for (const key of keys) if (this.delete(key)) n++
    })
    return n
  }

  /** Deletes every key. */
  clear(): void {
    this.assertOpen()
    for (const slot of [...this.keyspace.slots.values()]) {
      this.noteLocal(slot)
      this.retire(slot.entries)
      slot.entries = []
    }
    this.keyspace.clear()
    this.scheduleCommit()
  }

  /**
   * Adds `by` to the integer at `key` (a missing key counts from 0) and
   * returns the result; keeps the key's TTL. Increments made concurrently on
   * other replicas all count once merged.
   * @throws TideKVError `NOT_AN_INTEGER` (the value or `by` is not a safe
   * integer), `OUT_OF_RANGE` (the result would not be one), `INVALID_KEY`, `CLOSED`
   * @example
   * if (store.incr('rate:ip:1.2.3.4') === 1) store.expire('rate:ip:1.2.3.4', 60_000)
   */
  incr(key: string, by = 1): number {
    this.assertOpen()
    checkKey(key, this.maxKeyBytes)
    if (!Number.isSafeInteger(by)) throw new TideKVError('NOT_AN_INTEGER', `Increment ${by} is not a safe integer`)
    const slot = this.keyspace.get(key)
    const now = this.clock()
    const current = slot === undefined ? undefined : this.visible(slot, now)
    if (current !== undefined && !(typeof current === 'number' && Number.isSafeInteger(current))) {
      throw new TideKVError('NOT_AN_INTEGER', `The value of "${key}" is not an integer`)
    }
    const live = slot !== undefined && current !== undefined ? slot : undefined
    const result = (current ?? 0) + by
    const own = live === undefined ? undefined : this.ownContribution(live)
    const sum = (own?.sum ?? 0) + by
    if (!Number.isSafeInteger(result) || !Number.isSafeInteger(sum)) {
      throw new TideKVError('OUT_OF_RANGE', `Incrementing "${key}" by ${by} leaves the safe integer range`)
    }
    const epoch = live?.base?.stamp ?? ZERO_STAMP
    this.writeContribution(key, live, own, epoch, sum, live?.expiresAt ?? 0)
    return result
  }

  /** `incr(key, -by)`. */
  decr(key: string, by = 1): number {
    if (!Number.isSafeInteger(by)) throw new TideKVError('NOT_AN_INTEGER', `Decrement ${by} is not a safe integer`)
    return this.incr(key, -by)
  }

  /**
   * Makes `key` expire `ttlMs` from now; returns false when it is missing.
   * A ttl of 0 or less deletes the key (as Redis does).
   * @throws TideKVError `INVALID_VALUE` (ttl not a finite number), `INVALID_KEY`, `CLOSED`
   */
  expire(key: string, ttlMs: number): boolean {
    this.assertOpen()
    checkReadKey(key)
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs)) {
      throw new TideKVError('INVALID_VALUE', `A ttl must be a finite number of milliseconds, got ${ttlMs}`)
    }
    const slot = this.keyspace.get(key)
    const now = this.clock()
    if (slot === undefined || this.visible(slot, now) === undefined) return false
    if (ttlMs <= 0) return this.delete(key)
    this.rewriteExpiry(slot, Math.ceil(now + ttlMs))
    return true
  }

  /** Removes the expiry of `key`; returns false when it is missing or had none. */
  persist(key: string): boolean {
    this.assertOpen()
    checkReadKey(key)
    const slot = this.keyspace.get(key)
    if (slot === undefined || slot.expiresAt === 0 || this.visible(slot, this.clock()) === undefined) return false
    this.rewriteExpiry(slot, 0)
    return true
  }

  /**
   * Runs `fn` and commits every write it made as one Yjs transaction (one
   * storage write, one network message), with watchers fired once at the end.
   * Not a rollback: if `fn` throws, the writes it made before are kept.
   */
  batch(fn: () => void): void {
    this.assertOpen()
    this.batchDepth++
    try {
      fn()
    } finally {
      this.batchDepth--
      if (this.batchDepth === 0) this.commit()
    }
  }

  /**
   * Calls `cb` once per transaction in which `key` (or any key starting with
   * `prefix`) changed, whether by this store, another tab or another device.
   * Returns the function that stops watching.
   * @example
   * const stop = store.watch({ prefix: 'user:1:' }, ({ key, value, origin }) => render(key, value))
   */
  watch(target: WatchTarget, cb: (change: Change) => void): () => void {
    this.assertOpen()
    if (typeof target === 'string') checkReadKey(target)
    else if (typeof target?.prefix !== 'string') throw new TideKVError('INVALID_KEY', 'watch takes a key or { prefix: string }')
    if (typeof cb !== 'function') throw new TideKVError('INVALID_VALUE', 'watch needs a callback function')
    return this.watchers.add(target, cb as WatchCallback)
  }

  /** Listens to a store event; returns the function that stops listening. */
  on<E extends keyof StoreEvents>(event: E, cb: StoreEvents[E]): () => void {
    this.events.on(event, cb)
    return () => this.events.off(event, cb)
  }

  /**
   * Resolves once every write made before the call is committed to storage
   * (with strict durability where the browser offers it).
   * @throws TideKVError `STORAGE_FAILED` (the write is kept and retried by the next flush), `CLOSED`
   */
  async flush(): Promise<void> {
    this.assertOpen()
    await this.flushInternal()
  }

  /**
   * Commits and stores everything, compacts the stored log, and releases the
   * store. Every later call throws `CLOSED`.
   * @throws TideKVError `STORAGE_FAILED` when the last writes could not be stored
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      if (this.persistence !== null) {
        await this.flushInternal()
        await this.persistence.compactIfNeeded()
      }
    } finally {
      if (this.sweepTimer !== null) clearTimeout(this.sweepTimer)
      this.doc.off('afterTransaction', this.onTransaction)
      this.doc.off('update', this.onUpdate)
      this.storage?.close()
      this.doc.destroy()
    }
  }

  // ---- the write path ----------------------------------------------------

  private valueEntry(key: string, value: Value, expiresAt: number): Entry {
    const prepared = prepareValue(value)
    const entry = createValueEntry(key, this.hlc.next(this.doc.clientID), expiresAt, prepared.value, prepared.binary)
    const size = valueByteLength(entry)
    if (size > this.maxValueBytes) {
      throw new TideKVError('VALUE_TOO_LARGE', `The value of "${key}" is ${size} bytes encoded; the limit is ${this.maxValueBytes}`)
    }
    return entry
  }

  /** Makes `entry` the only entry of its key. */
  private write(entry: Entry): void {
    const slot = this.keyspace.ensure(entry.key)
    this.noteLocal(slot)
    this.retire(slot.entries)
    slot.entries = [entry]
    this.pendingInserts.add(entry)
    this.keyspace.update(slot)
    this.scheduleCommit()
  }

  /** This replica's counter contribution to the current base, if any. */
  private ownContribution(slot: Slot): Entry | undefined {
    const me = this.doc.clientID
    const epoch = slot.base?.stamp ?? ZERO_STAMP
    return slot.entries.find((e) => e.kind === EntryKind.COUNTER && e.stamp.replica === me && sameStamp(e.epoch!, epoch))
  }

  /** Replaces this replica's contribution (a missing or expired key starts afresh). */
  private writeContribution(key: string, live: Slot | undefined, own: Entry | undefined, epoch: typeof ZERO_STAMP, sum: number, expiresAt: number): void {
    const entry = createCounterEntry(key, this.hlc.next(this.doc.clientID), expiresAt, epoch, sum)
    const slot = this.keyspace.ensure(key)
    this.noteLocal(slot)
    if (live === undefined) {
      this.retire(slot.entries)
      slot.entries = [entry]
    } else {
      if (own !== undefined) {
        this.retire([own])
        slot.entries = slot.entries.filter((e) => e !== own)
      }
      slot.entries.push(entry)
    }
    this.pendingInserts.add(entry)
    this.keyspace.update(slot)
    this.scheduleCommit()
  }

  private rewriteExpiry(slot: Slot, expiresAt: number): void {
    if (slot.counter) {
      const own = this.ownContribution(slot)
      this.writeContribution(slot.key, slot, own, slot.base?.stamp ?? ZERO_STAMP, own?.sum ?? 0, expiresAt)
    } else {
      const base = slot.base!
      const entry = createValueEntry(slot.key, this.hlc.next(this.doc.clientID), expiresAt, decodeEntryValue(base), base.binary)
      this.write(entry)
    }
  }

  /** Queues removal of entries from the document (or drops them if never committed). */
  private retire(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.item !== null || e.client >= 0) this.pendingDeletes.push(e)
      else this.pendingInserts.delete(e)
    }
  }

  private retireAll(slot: Slot): void {
    this.retire(slot.entries)
    slot.entries = []
    this.keyspace.remove(slot)
  }

  private scheduleCommit(): void {
    if (this.commitScheduled || this.batchDepth > 0) return
    this.commitScheduled = true
    queueMicrotask(() => {
      this.commitScheduled = false
      if (this.batchDepth === 0) this.commit()
    })
  }

  /** Moves pending writes into the document in one transaction, then fires local watchers. */
  private commit(): void {
    if (!this.docReady) return
    this.sweep(this.clock(), SWEEP_BATCH)
    for (const slot of this.dirty) this.dropLosers(slot)
    this.dirty.clear()
    if (this.pendingInserts.size > 0 || this.pendingDeletes.length > 0) {
      const inserts = this.pendingInserts
      const deletes = this.pendingDeletes
      this.pendingInserts = new Set()
      this.pendingDeletes = []
      this.doc.transact((tr) => this.log.write(tr, deletes, inserts), this.origin)
    }
    this.armSweep()
    if (this.localChanges.size > 0) {
      const changes = this.localChanges
      this.localChanges = new Map()
      this.report(changes, 'local')
    }
  }

  private dropLosers(slot: Slot): void {
    if (this.keyspace.get(slot.key) !== slot || !slot.hasLosers) return
    const losers = slot.entries.filter((e) => isLoser(slot, e))
    this.retire(losers)
    slot.entries = slot.entries.filter((e) => !losers.includes(e))
    this.keyspace.update(slot)
  }

  /** Removes up to `limit` expired keys; returns how many. */
  private sweep(now: number, limit: number): number {
    const expiry = this.keyspace.expiry
    let n = 0
    while (n < limit && expiry.peek() <= now) {
      const key = expiry.pop()!
      const slot = this.keyspace.get(key)
      // The heap keeps stale entries of keys rewritten since: skip them.
      if (slot === undefined || slot.expiresAt === 0 || slot.expiresAt > now) continue
      if (this.watchers.active && !this.localChanges.has(key) && this.watchers.wants(key)) {
        this.localChanges.set(key, this.output(slot))
      }
      this.retireAll(slot)
      n++
    }
    return n
  }

  /** One timer per store, set for the earliest expiry. */
  private armSweep(): void {
    const due = this.keyspace.expiry.peek()
    if (due === this.sweepDue || this.closed) return
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer)
    this.sweepTimer = null
    this.sweepDue = due
    if (due === Infinity) return
    const delay = Math.min(MAX_TIMER_DELAY, Math.max(0, due - this.clock()))
    const timer = setTimeout(() => {
      this.sweepTimer = null
      this.sweepDue = Infinity
      if (this.closed) return
      if (this.sweep(this.clock(), SWEEP_BATCH) > 0) this.scheduleCommit()
      this.armSweep()
    }, delay)
    // In Node, a pending expiry must not keep the process alive.
    ;(timer as { unref?: () => void }).unref?.()
    this.sweepTimer = timer
  }

  // ---- the read side of changes ------------------------------------------

  private onTransaction = (tr: Transaction): void => {
    if (tr.origin === this.origin || !tr.changed.has(this.log.array)) return
    const now = this.clock()
    const before = this.watchers.active ? new Map<string, Value | undefined>() : null
    const note = (key: string): void => {
      if (before !== null && !before.has(key) && this.watchers.wants(key)) {
        const slot = this.keyspace.get(key)
        before.set(key, slot === undefined ? undefined : this.visible(slot, now))
      }
    }
    const touched = new Set<Slot>()
    this.log.forEachDeleted(tr, (item) => {
      const key = decodeEntryKey((item.content as Y.ContentBinary).content)
      const slot = key === undefined ? undefined : this.keyspace.get(key)
      if (slot === undefined) return
      const i = slot.entries.findIndex((e) => e.item === item)
      if (i < 0) return
      note(slot.key)
      slot.entries.splice(i, 1)
      touched.add(slot)
    })
    this.log.forEachAdded(tr, (item) => {
      const bytes = (item.content as Y.ContentBinary).content
      if (this.preloaded !== null && this.attachPreloaded(item)) return
      let entry: Entry
      try {
        entry = decodeEntry(bytes, item.id.client, item.id.clock, true)
      } catch (error) {
        this.emitError(error)
        return
      }
      entry.item = item
      this.hlc.observe(entry.stamp)
      note(entry.key)
      const slot = this.keyspace.ensure(entry.key)
      slot.entries.push(entry)
      touched.add(slot)
    })
    for (const slot of touched) {
      this.keyspace.update(slot)
      if (slot.hasLosers && slot.entries.length > 0) this.dirty.add(slot)
    }
    if (this.dirty.size > 0) this.scheduleCommit()
    this.armSweep()
    if (before !== null && before.size > 0) this.report(before, changeOriginOf(tr.origin))
  }

  /** After a fast open, links a loaded item to the entry the saved keyspace already holds. */
  private attachPreloaded(item: Y.Item): boolean {
    const entry = this.preloaded?.get(item.id.client)?.get(item.id.clock)
    if (entry === undefined) return false
    // The entry may have been replaced or deleted meanwhile: then its delete is pending, and now has its item.
    entry.item = item
    return true
  }

  private onUpdate = (update: Uint8Array, origin: unknown): void => {
    // Updates read from storage (or already stored by another tab) are not written again.
    if (origin instanceof TransactionOrigin && (origin.kind === 'storage' || origin.kind === 'tab')) return
    this.persistence?.enqueue(update)
  }

  private report(previous: Map<string, Value | undefined>, origin: ChangeOrigin): void {
    const now = this.clock()
    for (const [key, prev] of previous) {
      const slot = this.keyspace.get(key)
      const value = slot === undefined ? undefined : this.visible(slot, now)
      if (value === prev) continue
      this.watchers.emit({ key, value, previous: prev, origin }, (cause) =>
        this.emitError(new TideKVError('WATCHER_FAILED', `A watcher of "${key}" threw`, { cause })),
      )
    }
  }

  private noteLocal(slot: Slot): void {
    if (this.watchers.active && !this.localChanges.has(slot.key) && this.watchers.wants(slot.key)) {
      this.localChanges.set(slot.key, this.visible(slot, this.clock()))
    }
  }

  // ---- loading and snapshots -----------------------------------------------

  private async loadDocument(preloaded: boolean): Promise<void> {
    try {
      const updates = await this.storage!.loadUpdates()
      if (this.closed && !preloaded) throw closedError()
      this.doc.transact(() => {
        for (const u of updates) Y.applyUpdate(this.doc, u)
      }, this.storageOrigin)
      if (preloaded) this.dropUnmatched()
      if (updates.length > 1 || (!preloaded && updates.length > 0)) this.persistence!.markStale()
    } catch (cause) {
      const error = toStorageError('Loading the stored document failed', cause)
      this.rejectLoaded(error)
      throw error
    }
    this.markLoaded()
  }

  private markLoaded(): void {
    this.preloaded = null
    this.docReady = true
    this.resolveLoaded()
    this.commit()
  }

  /** Entries of the saved keyspace that the document does not hold (a stale save): dropped. */
  private dropUnmatched(): void {
    for (const slot of [...this.keyspace.slots.values()]) {
      if (slot.entries.every((e) => e.item !== null || e.client < 0)) continue
      slot.entries = slot.entries.filter((e) => e.item !== null || e.client < 0)
      this.keyspace.update(slot)
    }
    this.pendingDeletes = this.pendingDeletes.filter((e) => e.item !== null)
  }

  private buildSnapshot(unseen: Uint8Array[]): { snapshot: Uint8Array; keyspace: Uint8Array } {
    if (!this.docReady) throw new TideKVError('STORAGE_FAILED', 'Cannot compact before the document has loaded')
    if (unseen.length > 0) {
      this.doc.transact(() => {
        for (const u of unseen) Y.applyUpdate(this.doc, u)
      }, this.storageOrigin)
    }
    this.commit()
    return { snapshot: Y.encodeStateAsUpdate(this.doc), keyspace: encodeKeyspace(this.keyspace) }
  }

  private async flushInternal(): Promise<void> {
    if (!this.docReady) await this.loaded
    this.commit()
    await this.persistence?.flush()
  }

  // ---- helpers -------------------------------------------------------------

  private scan(options: ScanOptions, visit: (key: string, slot: Slot) => void): void {
    this.assertOpen()
    const { prefix = '', after, limit = Infinity } = options ?? {}
    if (typeof prefix !== 'string' || (after !== undefined && typeof after !== 'string')) {
      throw new TideKVError('INVALID_VALUE', 'prefix and after must be strings')
    }
    if (limit !== Infinity && !(Number.isInteger(limit) && limit >= 0)) {
      throw new TideKVError('INVALID_VALUE', `limit must be a non-negative integer, got ${limit}`)
    }
    if (limit === 0) return
    const now = this.clock()
    let count = 0
    const exclusive = after !== undefined && after >= prefix
    this.keyspace.index.scan(exclusive ? after : prefix, exclusive, (key) => {
      if (!key.startsWith(prefix)) return false
      const slot = this.keyspace.slots.get(key)!
      if ((slot.expiresAt !== 0 && slot.expiresAt <= now) || slotValue(slot) === undefined) return true
      visit(key, slot)
      return ++count < limit
    })
  }

  /** The value a reader sees, or undefined when missing or expired. */
  private visible(slot: Slot, now: number): Value | undefined {
    if (slot.expiresAt !== 0 && slot.expiresAt <= now) return undefined
    return this.output(slot)
  }

  /** The slot's value as handed out: values holding bytes are copied. */
  private output(slot: Slot): Value | undefined {
    const value = slot.value !== undefined ? slot.value : slotValue(slot)
    return slot.base !== null && slot.base.binary && !slot.counter && value !== undefined ? cloneValue(value) : value
  }

  private expiryOf(options: SetOptions | undefined): number {
    if (options === undefined) return 0
    const { ttl, expiresAt } = options
    if (ttl !== undefined && expiresAt !== undefined) throw new TideKVError('INVALID_VALUE', 'Pass ttl or expiresAt, not both')
    if (ttl !== undefined) {
      if (typeof ttl !== 'number' || !(ttl > 0) || !Number.isFinite(ttl)) {
        throw new TideKVError('INVALID_VALUE', `ttl must be a positive number of milliseconds, got ${ttl}`)
      }
      return Math.ceil(this.clock() + ttl)
    }
    if (expiresAt !== undefined) {
      if (typeof expiresAt !== 'number' || !(expiresAt > 0) || !Number.isFinite(expiresAt)) {
        throw new TideKVError('INVALID_VALUE', `expiresAt must be a positive epoch time in milliseconds, got ${expiresAt}`)
      }
      return Math.ceil(expiresAt)
    }
    return 0
  }

  private emitError(error: unknown): void {
    const e = error instanceof TideKVError ? error : new TideKVError('STORAGE_FAILED', String(error), { cause: error })
    this.events.emit('error', [e])
  }

  private assertOpen(): void {
    if (this.closed) throw closedError()
  }
}

function closedError(): TideKVError {
  return new TideKVError('CLOSED', 'The store is closed')
}

function toStorageError(message: string, cause: unknown): TideKVError {
  return cause instanceof TideKVError ? cause : new TideKVError('STORAGE_FAILED', `${message}: ${(cause as Error)?.message ?? cause}`, { cause })
}

function positiveOption(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!(Number.isInteger(value) && value > 0)) throw new TideKVError('INVALID_VALUE', `${name} must be a positive integer, got ${value}`)
  return value
}
