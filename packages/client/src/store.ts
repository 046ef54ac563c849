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
import { Collection } from './collection.js'
import { createCounterEntry, createMetaEntry, createValueEntry, decodeEntryValue, type Entry, EntryKind, valueByteLength } from './entry.js'
import { Hash } from './hash.js'
import { List } from './list.js'
import { SortedSet } from './sorted-set.js'
import { Stream } from './stream.js'
import type { StoreAccess } from './structure-handle.js'
import { TideKVError } from './errors.js'
import { sameStamp, type Stamp, ZERO_STAMP } from './hlc.js'
import { checkKey, checkReadKey } from './key.js'
import { type Slot, slotValue } from './keyspace.js'
import { TransactionOrigin } from './origins.js'
import { type CompactionPolicy, Persistence } from './persistence.js'
import { Replica } from './replica.js'
import { decodeKeyspace, encodeKeyspace } from './saved-keyspace.js'
import type { StorageAdapter, StorageFactory } from './storage.js'
import type { Value } from './value.js'
import type { SyncLink, SyncOptions, SyncStatus } from './sync.js'
import { TabChannel } from './tab-channel.js'
import type { Change, KeyType, WatchCallback, WatchTarget } from './watchers.js'

/** Options of `openStore`. */
export interface StoreOptions {
  /** The IndexedDB to persist in. Default `globalThis.indexedDB`; Node tests pass fake-indexeddb. */
  indexedDB?: IDBFactory
  /** Persist the store (default true). False keeps it in memory only. */
  persist?: boolean
  /** A storage adapter factory to use instead of IndexedDB (see `memoryStorage`). */
  storage?: StorageFactory
  /** Largest encoded value accepted by `set`, in bytes. Default 1 MiB. */
  maxValueBytes?: number
  /** Longest key accepted, in bytes of UTF-8. Default 1 KiB. */
  maxKeyBytes?: number
  /** Milliseconds since the epoch. Default `Date.now`. Drives TTL and the hybrid logical clock. */
  clock?: () => number
  /** When the update log is compacted into a snapshot. */
  compaction?: CompactionPolicy
  /** Sync with a relay (see README). Without it the store is local (still shared between tabs). */
  sync?: SyncOptions & {
    /** The token only reads: writes throw `READ_ONLY`. Default: read from the token's `mode` claim when it is a string. */
    readOnly?: boolean
  }
  /** Converge with stores of the same name in other tabs through a BroadcastChannel. Default true where it exists. */
  tabs?: boolean
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
  /** The sync status changed. */
  status: (status: SyncStatus) => void
}

const DEFAULT_MAX_VALUE_BYTES = 1 << 20
const HANDLE_OF = { hash: 'hash', list: 'list', set: 'collection', zset: 'sortedSet', stream: 'stream' } as const
const DEFAULT_MAX_KEY_BYTES = 1024

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

  private readonly replica: Replica
  private readonly clock: () => number
  private readonly maxValueBytes: number
  private readonly maxKeyBytes: number
  private readonly events = new ObservableV2<StoreEvents>()
  private readonly persistence: Persistence | null
  private closed = false
  private readonly readOnly: boolean
  private link: SyncLink | null = null
  /** Whether the app wants to be connected (it may say so before the link exists). */
  private online = true
  private readonly syncs: boolean
  private tabs: TabChannel | null = null
  /** What the data structure handles use of the store. */
  private readonly access: StoreAccess
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
    this.maxValueBytes = positiveOption(options.maxValueBytes, DEFAULT_MAX_VALUE_BYTES, 'maxValueBytes')
    this.maxKeyBytes = positiveOption(options.maxKeyBytes, DEFAULT_MAX_KEY_BYTES, 'maxKeyBytes')
    this.readOnly = options.sync?.readOnly ?? tokenIsReadOnly(options.sync?.token)
    this.syncs = options.sync !== undefined
    this.replica = new Replica(this.clock, (e) => this.emitError(e))
    this.doc = this.replica.doc
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
            {
              ready: () => this.replica.docReady,
              build: (unseen) => this.buildSnapshot(unseen),
              onError: (e) => this.emitError(e),
            },
            options.compaction,
          )
    this.doc.on('update', this.onUpdate)
    this.access = {
      replica: this.replica,
      clock: this.clock,
      maxValueBytes: this.maxValueBytes,
      maxKeyBytes: this.maxKeyBytes,
      assertOpen: () => this.assertOpen(),
      assertWritable: () => this.assertWritable(),
    }
  }

  /** @internal Starts sync and the tab channel once the document has loaded. */
  async startSync(options: StoreOptions): Promise<void> {
    const sync = options.sync
    // A dynamic import: an app that never syncs does not ship y-websocket.
    const module = sync === undefined ? null : await import('./sync.js')
    const tabs = options.tabs ?? typeof BroadcastChannel !== 'undefined'
    // After the load: the document then holds the stored state, and its client id is final
    // (y-websocket's awareness keys its state by the client id it sees at construction).
    void this.loaded.then(() => {
      if (this.closed) return
      if (tabs) this.tabs = new TabChannel(this.name, this.doc, !this.readOnly, (e) => this.emitError(e))
      if (module === null || sync === undefined) return
      this.link = new module.SyncLink(this.doc, sync.room ?? this.name, sync, () => this.replica.clientId, (e) => this.emitError(e))
      this.link.onStatus((status) => this.events.emit('status', [status]))
      if (this.online) this.link.connect()
    })
  }

  /** @internal Loads the stored state; resolves once reads can be answered. */
  async open(): Promise<void> {
    if (this.storage === null) {
      this.markLoaded()
      return
    }
    // Reusing the client id of a cleanly closed session keeps one replica per
    // tab rather than per page load: counters keep one contribution per
    // replica, and a replica's deleted entries merge into one run.
    this.replica.reusedClientId = await this.storage.claimClientId()
    const saved = await this.storage.loadKeyspace()
    const keyspace = saved === undefined ? undefined : decodeKeyspace(saved)
    if (keyspace === undefined) {
      await this.loadDocument()
      return
    }
    this.replica.preload(keyspace)
    // The document loads in the background; `loaded` tells when it has.
    void this.loadDocument().catch((cause) => this.emitError(toStorageError('Loading the document failed', cause)))
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
    const slot = this.replica.keyspace.peek(key)
    if (slot === undefined) {
      checkReadKey(key)
      return undefined
    }
    if (slot.expiresAt !== 0 && slot.expiresAt <= this.clock()) return undefined
    const value = this.replica.output(slot) as T | undefined
    if (value === undefined && slot.winner !== null) this.assertPlain(slot)
    return value
  }

  /** Whether `key` holds anything (a value or a data structure) that has not expired (Redis EXISTS). @throws TideKVError `INVALID_KEY`, `CLOSED` */
  has(key: string): boolean {
    return this.type(key) !== 'none'
  }

  /**
   * What `key` holds (Redis TYPE): 'string' for a value, 'counter' for an
   * integer made by `incr`, 'hash', 'list', 'set', 'zset', 'stream', or
   * 'none' when it is missing or expired.
   * @throws TideKVError `INVALID_KEY`, `CLOSED`
   */
  type(key: string): KeyType {
    this.assertOpen()
    checkReadKey(key)
    const slot = this.replica.keyspace.get(key)
    return slot === undefined ? 'none' : this.replica.typeOf(slot, this.clock())
  }

  /**
   * The values of `keys`, in order: undefined where missing, and where a key
   * holds a data structure (as Redis MGET). @throws TideKVError `INVALID_KEY`, `CLOSED`
   */
  getMany<T extends Value = Value>(keys: readonly string[]): (T | undefined)[] {
    this.assertOpen()
    return keys.map((key) => {
      const slot = this.replica.keyspace.peek(key)
      if (slot === undefined) {
        checkReadKey(key)
        return undefined
      }
      return this.replica.visible(slot, this.clock()) as T | undefined
    })
  }

  // ---- data structures ---------------------------------------------------

  /**
   * The hash at `key` (fields with values: Redis HSET, HGET, ...). The handle
   * is cheap and holds no data: every call reads the store.
   * @throws TideKVError `INVALID_KEY`
   * @example
   * store.hash('user:1').set('name', 'Ada')
   */
  hash(key: string): Hash {
    return new Hash(this.access, key)
  }

  /**
   * The list at `key` (Redis LPUSH, RPOP, LRANGE, ...).
   * @example
   * store.list('queue').pushRight('job-1')
   */
  list(key: string): List {
    return new List(this.access, key)
  }

  /**
   * The set of strings at `key` (Redis SADD, SISMEMBER, ...): `collection`,
   * since `set` is Redis's SET.
   * @example
   * store.collection('online').add('ada')
   */
  collection(key: string): Collection {
    return new Collection(this.access, key)
  }

  /**
   * The sorted set at `key` (Redis ZADD, ZINCRBY, ZRANGE, ...).
   * @example
   * store.sortedSet('leaderboard').incr('ada', 10)
   */
  sortedSet(key: string): SortedSet {
    return new SortedSet(this.access, key)
  }

  /**
   * The stream at `key` (Redis XADD, XRANGE, ...).
   * @example
   * store.stream('activity').add({ user: 'ada', action: 'joined' })
   */
  stream(key: string): Stream {
    return new Stream(this.access, key)
  }

  /**
   * Milliseconds until `key` expires: -1 when it has no expiry, -2 when it is
   * missing (Redis PTTL). @throws TideKVError `INVALID_KEY`, `CLOSED`
   */
  ttl(key: string): number {
    this.assertOpen()
    checkReadKey(key)
    const slot = this.replica.keyspace.get(key)
    const now = this.clock()
    if (slot === undefined || this.replica.typeOf(slot, now) === 'none') return -2
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

  /** `[key, value]` pairs in key order, for keys holding values (data structures are skipped: see `type`); same options as `keys`. */
  entries<T extends Value = Value>(options: ScanOptions = {}): [string, T][] {
    const out: [string, T][] = []
    this.scan(options, (key, slot) => out.push([key, this.replica.output(slot) as T]), true)
    return out
  }

  /** How many keys hold a value that has not expired. */
  get size(): number {
    this.assertOpen()
    // Expired keys leave the keyspace now; their entries leave the document at the next commit.
    if (this.replica.sweep(this.clock(), Infinity) > 0) this.replica.scheduleCommit()
    // A structure left with only meta entries (or a losing type) is garbage: not a key.
    this.replica.settle()
    return this.replica.keyspace.size
  }

  // ---- writes ------------------------------------------------------------

  /**
   * Sets `key` to a copy of `value`. Without an expiry option any previous
   * TTL is cleared (as Redis SET does). It replaces whatever the key held,
   * data structures included (as SET does).
   * @throws TideKVError `INVALID_KEY`, `INVALID_VALUE`, `VALUE_TOO_LARGE`, `CLOSED`
   * @example
   * store.set('session', { user: 1 }, { ttl: 30 * 60_000 })
   */
  set(key: string, value: Value, options?: SetOptions): void {
    this.assertWritable()
    checkKey(key, this.maxKeyBytes)
    const expiresAt = this.expiryOf(options)
    this.replica.replace(this.valueEntry(key, value, expiresAt))
  }

  /** Sets several keys; all are checked first, so a refused entry changes nothing. */
  setMany(entries: Iterable<readonly [string, Value]>, options?: SetOptions): void {
    this.assertWritable()
    const expiresAt = this.expiryOf(options)
    const prepared: Entry[] = []
    for (const pair of entries) {
      checkKey(pair[0], this.maxKeyBytes)
      prepared.push(this.valueEntry(pair[0], pair[1], expiresAt))
    }
    this.batch(() => {
      for (const e of prepared) this.replica.replace(e)
    })
  }

  /**
   * Deletes `key` (a value or a whole data structure); returns whether it
   * held anything. A write made concurrently on another replica survives the
   * delete (add-wins): for a structure, the members the deleting replica had
   * not seen.
   * @throws TideKVError `INVALID_KEY`, `CLOSED`
   */
  delete(key: string): boolean {
    this.assertWritable()
    checkReadKey(key)
    const slot = this.replica.keyspace.get(key)
    if (slot === undefined) return false
    const existed = this.replica.typeOf(slot, this.clock()) !== 'none'
    this.replica.remove(slot)
    return existed
  }

  /** Deletes several keys; returns how many held a value. */
  deleteMany(keys: readonly string[]): number {
    this.assertWritable()
    for (const key of keys) checkReadKey(key)
    let n = 0
    this.batch(() => {
      for (const key of keys) if (this.delete(key)) n++
    })
    return n
  }

  /** Deletes every key. */
  clear(): void {
    this.assertWritable()
    this.replica.clear()
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
    this.assertWritable()
    checkKey(key, this.maxKeyBytes)
    if (!Number.isSafeInteger(by)) throw new TideKVError('NOT_AN_INTEGER', `Increment ${by} is not a safe integer`)
    const slot = this.replica.keyspace.get(key)
    const now = this.clock()
    const current = slot === undefined ? undefined : this.replica.visible(slot, now)
    if (current === undefined && slot !== undefined) this.assertPlain(slot)
    if (current !== undefined && !(typeof current === 'number' && Number.isSafeInteger(current))) {
      throw new TideKVError('NOT_AN_INTEGER', `The value of "${key}" is not an integer`)
    }
    const live = slot !== undefined && current !== undefined ? slot : undefined
    // `|| 0`: -0 + 0 is -0 in JavaScript, but a stored counter reads back as 0.
    const result = (current ?? 0) + by || 0
    if (!Number.isSafeInteger(result)) {
      throw new TideKVError('OUT_OF_RANGE', `Incrementing "${key}" by ${by} leaves the safe integer range`)
    }
    const expiresAt = live?.expiresAt ?? 0
    const own = live === undefined ? undefined : this.ownContribution(live)
    const sum = (own?.sum ?? 0) + by
    if (!Number.isSafeInteger(sum)) {
      // This replica's running total overflows though the value does not: start
      // a new base at the result (a set, so concurrent increments on the old one are dropped).
      this.replica.replace(createValueEntry(key, this.replica.hlc.next(this.replica.clientId), expiresAt, result))
      return result
    }
    this.writeContribution(key, live, own, live?.base?.stamp ?? ZERO_STAMP, sum, expiresAt)
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
    this.assertWritable()
    checkReadKey(key)
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs)) {
      throw new TideKVError('INVALID_VALUE', `A ttl must be a finite number of milliseconds, got ${ttlMs}`)
    }
    const slot = this.replica.keyspace.get(key)
    const now = this.clock()
    if (slot === undefined || this.replica.typeOf(slot, now) === 'none') return false
    if (ttlMs <= 0) return this.delete(key)
    this.rewriteExpiry(slot, safeExpiry(now + ttlMs))
    return true
  }

  /** Removes the expiry of `key`; returns false when it is missing or had none. */
  persist(key: string): boolean {
    this.assertWritable()
    checkReadKey(key)
    const slot = this.replica.keyspace.get(key)
    if (slot === undefined || slot.expiresAt === 0 || this.replica.typeOf(slot, this.clock()) === 'none') return false
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
    this.replica.batchDepth++
    try {
      fn()
    } finally {
      this.replica.batchDepth--
      if (this.replica.batchDepth === 0) this.replica.commit()
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
    return this.replica.watchers.add(target, cb as WatchCallback)
  }

  /** Listens to a store event; returns the function that stops listening. */
  on<E extends keyof StoreEvents>(event: E, cb: StoreEvents[E]): () => void {
    this.events.on(event, cb)
    return () => this.events.off(event, cb)
  }

  /** The sync status: 'local' without sync; else 'offline', 'connecting', 'syncing' (connected, catching up) or 'synced'. */
  get status(): SyncStatus {
    return this.link?.status ?? (this.syncs ? 'offline' : 'local')
  }

  /**
   * Resolves once the relay has durably stored every write this store made
   * before the call (after `flush`, so they are stored locally too). Waits
   * through disconnections; without sync, it is `flush()`.
   * @throws TideKVError `STORAGE_FAILED`, `CLOSED`
   * @example
   * store.set('order:17', order)
   * await store.whenSynced() // on the relay's disk now
   */
  async whenSynced(): Promise<void> {
    this.assertOpen()
    await this.flushInternal()
    await this.link?.whenStored()
  }

  /** Connects to the relay (again): the app's "work online" switch. No effect without sync. */
  connect(): void {
    this.assertOpen()
    this.online = true
    this.link?.connect()
  }

  /** Disconnects and stays offline until `connect()`: writes keep being stored locally. No effect without sync. */
  disconnect(): void {
    this.assertOpen()
    this.online = false
    this.link?.disconnect()
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
    // Stop what brings updates in first: one arriving from the relay or a tab while the last writes
    // are stored would otherwise be written after the database closed (STORAGE_FAILED).
    this.link?.destroy()
    this.tabs?.close()
    try {
      if (this.persistence !== null) {
        await this.flushInternal()
        await this.persistence.compactIfNeeded()
        // Everything made with this client id is stored: a later session may take it over.
        await this.storage!.releaseClientId(this.replica.clientId)
      }
    } finally {
      this.doc.off('update', this.onUpdate)
      this.persistence?.stop()
      this.storage?.close()
      this.replica.stop()
    }
  }

  // ---- the write path ----------------------------------------------------

  private valueEntry(key: string, value: Value, expiresAt: number): Entry {
    const entry = createValueEntry(key, this.replica.hlc.next(this.replica.clientId), expiresAt, value, this.maxValueBytes)
    const size = valueByteLength(entry)
    if (size > this.maxValueBytes) {
      throw new TideKVError('VALUE_TOO_LARGE', `The value of "${key}" is ${size} bytes encoded; the limit is ${this.maxValueBytes}`)
    }
    return entry
  }

  /** This replica's counter contribution to the current base, if any. */
  private ownContribution(slot: Slot): Entry | undefined {
    const me = this.replica.clientId
    const epoch = slot.base?.stamp ?? ZERO_STAMP
    return slot.entries.find((e) => e.kind === EntryKind.COUNTER && e.stamp.replica === me && sameStamp(e.epoch!, epoch))
  }

  /** Writes this replica's contribution; a missing or expired key (`live` undefined) starts afresh. */
  private writeContribution(key: string, live: Slot | undefined, own: Entry | undefined, epoch: Stamp, sum: number, expiresAt: number): void {
    const entry = createCounterEntry(key, this.replica.hlc.next(this.replica.clientId), expiresAt, epoch, sum)
    if (live === undefined) this.replica.replace(entry)
    else this.replica.contribute(live, own, entry)
  }

  private rewriteExpiry(slot: Slot, expiresAt: number): void {
    if (slot.winner !== null) {
      // A structure's expiry lives in its meta entry: one write, whatever its size.
      const struct = slot.winner
      this.replica.setMeta(struct, createMetaEntry(slot.key, struct.type, this.replica.hlc.next(this.replica.clientId), expiresAt))
      return
    }
    // An integer takes its new expiry through a contribution that adds nothing,
    // so increments made concurrently on other replicas still count.
    const value = slotValue(slot)
    if (slot.counter || (typeof value === 'number' && Number.isSafeInteger(value))) {
      const own = this.ownContribution(slot)
      this.writeContribution(slot.key, slot, own, slot.base?.stamp ?? ZERO_STAMP, own?.sum ?? 0, expiresAt)
    } else {
      const base = slot.base!
      this.replica.replace(createValueEntry(slot.key, this.replica.hlc.next(this.replica.clientId), expiresAt, decodeEntryValue(base)))
    }
  }

  private onUpdate = (update: Uint8Array, origin: unknown): void => {
    // Updates read from storage (or already stored by another tab) are not written again.
    if (origin instanceof TransactionOrigin && (origin.kind === 'storage' || origin.kind === 'tab')) return
    this.persistence?.enqueue(update)
  }

  // ---- loading and snapshots -----------------------------------------------

  private async loadDocument(): Promise<void> {
    const preloaded = this.replica.keyspace.size > 0
    try {
      const updates = await this.storage!.loadUpdates()
      // Anything applied to the document before it loaded (by the app, through store.doc) may
      // only integrate now, inside this transaction, which is not stored: store it explicitly.
      const early = Y.decodeStateVector(Y.encodeStateVector(this.doc)).size > 0 || this.doc.store.pendingStructs !== null
      this.doc.transact(() => {
        for (const u of updates) Y.applyUpdate(this.doc, u)
      }, this.replica.storageOrigin)
      if (early) {
        const stored = updates.length === 0 ? new Uint8Array([0]) : Y.encodeStateVectorFromUpdate(Y.mergeUpdates(updates))
        this.persistence!.enqueue(Y.encodeStateAsUpdate(this.doc, stored))
      }
      this.replica.adoptClientId()
      // More than one row, or no saved keyspace: compact on close so the next open is fast.
      if (updates.length > 1 || (!preloaded && updates.length > 0)) this.persistence!.markStale()
    } catch (cause) {
      const error = toStorageError('Loading the stored document failed', cause)
      this.rejectLoaded(error)
      throw error
    }
    this.markLoaded()
  }

  private markLoaded(): void {
    this.resolveLoaded()
    this.replica.finishLoad()
    this.persistence?.resume()
  }

  private buildSnapshot(unseen: Uint8Array[]): { snapshot: Uint8Array; keyspace: Uint8Array } {
    if (!this.replica.docReady) throw new TideKVError('STORAGE_FAILED', 'Cannot compact before the document has loaded')
    if (unseen.length > 0) {
      this.doc.transact(() => {
        for (const u of unseen) Y.applyUpdate(this.doc, u)
      }, this.replica.storageOrigin)
    }
    this.replica.commit()
    return { snapshot: Y.encodeStateAsUpdate(this.doc), keyspace: encodeKeyspace(this.replica.keyspace) }
  }

  private async flushInternal(): Promise<void> {
    if (!this.replica.docReady) await this.loaded
    // Inside an app's transaction on store.doc, the commit waits for it to end.
    if (this.doc._transaction !== null) await new Promise((resolve) => this.doc.once('afterAllTransactions', resolve))
    this.replica.commit()
    await this.persistence?.flush()
  }

  // ---- helpers -------------------------------------------------------------

  private scan(options: ScanOptions, visit: (key: string, slot: Slot) => void, valuesOnly = false): void {
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
    this.replica.keyspace.index.scan(exclusive ? after : prefix, exclusive, (key) => {
      if (!key.startsWith(prefix)) return false
      const slot = this.replica.keyspace.peek(key)!
      if (slot.expiresAt !== 0 && slot.expiresAt <= now) return true
      if (slotValue(slot) === undefined && (valuesOnly || slot.winner === null || slot.winner.members.size === 0)) return true
      visit(key, slot)
      return ++count < limit
    })
  }

  private expiryOf(options: SetOptions | undefined): number {
    if (options === undefined) return 0
    const { ttl, expiresAt } = options
    if (ttl !== undefined && expiresAt !== undefined) throw new TideKVError('INVALID_VALUE', 'Pass ttl or expiresAt, not both')
    if (ttl !== undefined) {
      if (typeof ttl !== 'number' || !(ttl > 0) || !Number.isFinite(ttl)) {
        throw new TideKVError('INVALID_VALUE', `ttl must be a positive number of milliseconds, got ${ttl}`)
      }
      return safeExpiry(this.clock() + ttl)
    }
    if (expiresAt !== undefined) {
      if (typeof expiresAt !== 'number' || !(expiresAt > 0) || !Number.isFinite(expiresAt)) {
        throw new TideKVError('INVALID_VALUE', `expiresAt must be a positive epoch time in milliseconds, got ${expiresAt}`)
      }
      return safeExpiry(expiresAt)
    }
    return 0
  }

  private emitError(error: unknown): void {
    const e = error instanceof TideKVError ? error : new TideKVError('STORAGE_FAILED', String(error), { cause: error })
    this.events.emit('error', [e])
  }

  /** @throws TideKVError `WRONG_TYPE` when the key holds a live data structure */
  private assertPlain(slot: Slot): void {
    const type = this.replica.typeOf(slot, this.clock())
    if (type !== 'none' && type !== 'string' && type !== 'counter') {
      throw new TideKVError('WRONG_TYPE', `"${slot.key}" holds a ${type}: read it with store.${HANDLE_OF[type]}()`)
    }
  }

  private assertOpen(): void {
    if (this.closed) throw closedError()
  }

  private assertWritable(): void {
    if (this.closed) throw closedError()
    if (this.readOnly) throw new TideKVError('READ_ONLY', 'This store syncs with a read-only token: it cannot be written')
  }
}

/** Whether a token (a JWT) carries `mode: 'read'`. Only read, never verified: the relay verifies. */
function tokenIsReadOnly(token: unknown): boolean {
  if (typeof token !== 'string') return false
  try {
    const payload = token.split('.')[1] ?? ''
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'))
    return (JSON.parse(json) as { mode?: unknown }).mode === 'read'
  } catch {
    return false // reason: not a JWT we can read: the relay decides
  }
}

/** An expiry in whole milliseconds that every replica can decode (varUints stop at 2^53). */
function safeExpiry(at: number): number {
  const ms = Math.ceil(at)
  if (!Number.isSafeInteger(ms)) throw new TideKVError('INVALID_VALUE', `The expiry ${at} is beyond the last representable time`)
  return ms
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
