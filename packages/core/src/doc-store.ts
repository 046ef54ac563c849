/**
 * The store API over a Yjs document: reads from the keyspace (in memory),
 * writes through the replica into the document (the truth, `store.doc`).
 * No storage and no transport: `@tidekv/client` adds IndexedDB, tabs and
 * sync around it (its `Store` extends this class); the relay can run it over
 * a room's document.
 *
 * Write path: a call checks its input, updates the keyspace at once (the
 * next read sees it) and queues its entry. All writes of a tick are committed
 * to the document in one Yjs transaction at the end of the tick (or at the
 * end of `batch`), then watchers fire and the update goes wherever the
 * document's listeners send it. Changes from other replicas take the other
 * road: the document observer updates the keyspace and fires watchers with
 * their origin.
 */
import { ObservableV2 } from 'lib0/observable'
import type * as Y from 'yjs'
import { checkAmount, counterStep, ownContribution } from './counter.js'
import { asTideKVError, TideKVError } from './errors.js'
import { slotValue } from './keyspace/keyspace.js'
import type { Slot } from './keyspace/slot.js'
import { afterTransactions, inTransaction } from './layout/doc-log.js'
import { type Entry, stampOf } from './layout/entry.js'
import { createCounterEntry, createMetaEntry, createValueEntry, decodeEntryValue, valueByteLength } from './layout/entry-codec.js'
import { type Stamp, ZERO_STAMP } from './layout/hlc.js'
import { checkKey, checkReadKey } from './layout/key.js'
import type { Value } from './layout/value.js'
import { Replica } from './replica.js'
import {
  DEFAULT_MAX_KEY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  type DocStoreEvents,
  type DocStoreOptions,
  expiryOf,
  positiveOption,
  safeExpiry,
  type ScanOptions,
  type SetOptions,
} from './store-options.js'
import type { WriteRules } from './rules/write-rules.js'
import { Collection } from './structures/collection.js'
import type { StoreAccess } from './structures/handle.js'
import { Hash } from './structures/hash.js'
import { List } from './structures/list.js'
import { SortedSet } from './structures/sorted-set.js'
import { Stream } from './structures/stream.js'
import type { Change, KeyType, WatchTarget } from './watchers.js'

const HANDLE_OF = { hash: 'hash', list: 'list', set: 'collection', zset: 'sortedSet', stream: 'stream' } as const

/**
 * A key-value store on a Yjs document, with no storage and no network: the
 * engine that `@tidekv/client` (whose `Store` extends it) and the relay use.
 * Reads are synchronous and served from memory; writes are visible at once
 * and reach the document at the end of the tick.
 */
export class DocStore {
  /** The store's name. */
  readonly name: string
  /** The Yjs document holding the data: what tabs and sync attach to. Layout in PROTOCOL.md. */
  readonly doc: Y.Doc

  /** The engine between the keyspace and the document (for subclasses: the client's `Store`). */
  protected readonly replica: Replica
  /** Milliseconds since the epoch: TTL and the hybrid logical clock run on it. */
  protected readonly clock: () => number
  /** The store's events. */
  protected readonly events = new ObservableV2<DocStoreEvents>()
  /** Set by `close`: every later call throws `CLOSED`. */
  protected closed = false
  /** Writes throw `READ_ONLY` (a store synced with a read-only token). */
  protected readOnly = false
  #writeRules: WriteRules | null = null
  readonly #maxValueBytes: number
  readonly #maxKeyBytes: number
  /** What the data structure handles use of the store. */
  readonly #access: StoreAccess

  /**
   * Use `createDocStore` (or `openStore` of `@tidekv/client`); subclasses call it.
   * `ready`: the document is complete (nothing to load), so writes commit at once.
   */
  constructor(name: string, options: DocStoreOptions, ready: boolean) {
    this.name = name
    this.clock = options.clock ?? Date.now
    this.#maxValueBytes = positiveOption(options.maxValueBytes, DEFAULT_MAX_VALUE_BYTES, 'maxValueBytes')
    this.#maxKeyBytes = positiveOption(options.maxKeyBytes, DEFAULT_MAX_KEY_BYTES, 'maxKeyBytes')
    this.replica = new Replica(this.clock, (e) => this.emitError(e))
    this.doc = this.replica.doc
    this.#access = {
      replica: this.replica,
      clock: this.clock,
      maxValueBytes: this.#maxValueBytes,
      maxKeyBytes: this.#maxKeyBytes,
      assertOpen: () => this.assertOpen(),
      used: (key: string) => this.structureRead(key),
      assertWritable: (key: string) => {
        this.assertWritable()
        this.assertMayWrite(key)
      },
    }
    if (ready) this.replica.finishLoad()
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
    this.assertOpen()
    const slot = this.replica.peek(key)
    if (slot === undefined) {
      checkReadKey(key)
      return undefined
    }
    if (slot.expiresAt !== 0 && slot.expiresAt <= this.clock()) return undefined
    const value = this.replica.output(slot) as T | undefined // reason: T is the caller's word for what it stored (as idb's get<T>); values are checked on write, their shape is not on read
    if (value === undefined && slot.winner !== null) this.#assertPlain(slot)
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
    const slot = this.replica.slot(key)
    return slot === undefined ? 'none' : this.replica.typeOf(slot, this.clock())
  }

  /**
   * The values of `keys`, in order: undefined where missing, and where a key
   * holds a data structure (as Redis MGET). @throws TideKVError `INVALID_KEY`, `CLOSED`
   */
  getMany<T extends Value = Value>(keys: readonly string[]): (T | undefined)[] {
    this.assertOpen()
    return keys.map((key) => {
      const slot = this.replica.peek(key)
      if (slot === undefined) {
        checkReadKey(key)
        return undefined
      }
      return this.replica.visible(slot, this.clock()) as T | undefined // reason: T is the caller's word for what it stored, as in get<T>
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
    return new Hash(this.#access, key)
  }

  /**
   * The list at `key` (Redis LPUSH, RPOP, LRANGE, ...).
   * @example
   * store.list('queue').pushRight('job-1')
   */
  list(key: string): List {
    return new List(this.#access, key)
  }

  /**
   * The set of strings at `key` (Redis SADD, SISMEMBER, ...): `collection`,
   * since `set` is Redis's SET.
   * @example
   * store.collection('online').add('ada')
   */
  collection(key: string): Collection {
    return new Collection(this.#access, key)
  }

  /**
   * The sorted set at `key` (Redis ZADD, ZINCRBY, ZRANGE, ...).
   * @example
   * store.sortedSet('leaderboard').incr('ada', 10)
   */
  sortedSet(key: string): SortedSet {
    return new SortedSet(this.#access, key)
  }

  /**
   * The stream at `key` (Redis XADD, XRANGE, ...).
   * @example
   * store.stream('activity').add({ user: 'ada', action: 'joined' })
   */
  stream(key: string): Stream {
    return new Stream(this.#access, key)
  }

  /**
   * Milliseconds until `key` expires: -1 when it has no expiry, -2 when it is
   * missing (Redis PTTL). @throws TideKVError `INVALID_KEY`, `CLOSED`
   */
  ttl(key: string): number {
    this.assertOpen()
    checkReadKey(key)
    const slot = this.replica.slot(key)
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
    this.#scan(options, (key) => out.push(key))
    return out
  }

  /** `[key, value]` pairs in key order, for keys holding values (data structures are skipped: see `type`); same options as `keys`. */
  entries<T extends Value = Value>(options: ScanOptions = {}): [string, T][] {
    const out: [string, T][] = []
    // reason: T is the caller's word for what it stored, as in get<T>; the scan skips structures, so every output is a value
    this.#scan(options, (key, slot) => out.push([key, this.replica.output(slot) as T]), true)
    return out
  }

  /** How many keys hold a value that has not expired. */
  get size(): number {
    this.assertOpen()
    // Expired keys leave the keyspace now; their entries leave the document at the next commit.
    if (this.replica.sweep(this.clock(), Infinity) > 0) this.replica.scheduleCommit()
    // A structure left with only meta entries (or a losing type) is garbage: not a key.
    this.replica.settle()
    return this.replica.keyCount
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
    checkKey(key, this.#maxKeyBytes)
    this.assertMayWrite(key)
    const expiresAt = expiryOf(options, this.clock)
    this.replica.replace(this.#valueEntry(key, value, expiresAt))
  }

  /** Sets several keys; all are checked first, so a refused entry changes nothing. */
  setMany(entries: Iterable<readonly [string, Value]>, options?: SetOptions): void {
    this.assertWritable()
    const expiresAt = expiryOf(options, this.clock)
    const prepared: Entry[] = []
    for (const pair of entries) {
      checkKey(pair[0], this.#maxKeyBytes)
      this.assertMayWrite(pair[0])
      prepared.push(this.#valueEntry(pair[0], pair[1], expiresAt))
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
    this.assertMayWrite(key)
    const slot = this.replica.slot(key)
    if (slot === undefined) return false
    const existed = this.replica.typeOf(slot, this.clock()) !== 'none'
    this.replica.remove(slot)
    return existed
  }

  /** Deletes several keys; returns how many held a value. */
  deleteMany(keys: readonly string[]): number {
    this.assertWritable()
    for (const key of keys) {
      checkReadKey(key)
      this.assertMayWrite(key)
    }
    let n = 0
    this.batch(() => {
      for (const key of keys) if (this.delete(key)) n++
    })
    return n
  }

  /** Deletes every key (under write rules, every key the rules allow). */
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
    checkKey(key, this.#maxKeyBytes)
    this.assertMayWrite(key)
    checkAmount(by)
    const slot = this.replica.slot(key)
    const current = slot === undefined ? undefined : this.replica.visible(slot, this.clock())
    if (current === undefined && slot !== undefined) this.#assertPlain(slot)
    const step = counterStep(slot, current, by, this.replica.clientId, true, `"${key}"`)
    const live = current === undefined ? undefined : slot
    const expiresAt = live?.expiresAt ?? 0
    if (step.sum === undefined) {
      this.replica.replace(createValueEntry(key, this.#stamp(), expiresAt, step.result))
    } else {
      this.#writeContribution(key, live, step.own, step.epoch, step.sum, expiresAt)
    }
    return step.result
  }

  /** `incr(key, -by)`. */
  decr(key: string, by = 1): number {
    checkAmount(by, 'Decrement')
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
    this.assertMayWrite(key)
    if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs)) {
      throw new TideKVError('INVALID_VALUE', `A ttl must be a finite number of milliseconds, got ${ttlMs}`)
    }
    const slot = this.replica.slot(key)
    const now = this.clock()
    if (slot === undefined || this.replica.typeOf(slot, now) === 'none') return false
    if (ttlMs <= 0) return this.delete(key)
    this.#rewriteExpiry(slot, safeExpiry(now + ttlMs))
    return true
  }

  /** Removes the expiry of `key`; returns false when it is missing or had none. */
  persist(key: string): boolean {
    this.assertWritable()
    checkReadKey(key)
    this.assertMayWrite(key)
    const slot = this.replica.slot(key)
    if (slot === undefined || slot.expiresAt === 0 || this.replica.typeOf(slot, this.clock()) === 'none') return false
    this.#rewriteExpiry(slot, 0)
    return true
  }

  /**
   * Runs `fn` and commits every write it made as one Yjs transaction (one
   * storage write, one network message), with watchers fired once at the end.
   * Not a rollback: if `fn` throws, the writes it made before are kept.
   * @example
   * store.batch(() => {
   *   store.set('cart:1', { sku: 'tea', qty: 2 })
   *   store.incr('cart:count')
   * })
   */
  batch(fn: () => void): void {
    this.assertOpen()
    this.replica.batch(fn)
  }

  /**
   * Calls `cb` once per transaction in which `key` (or any key starting with
   * `prefix`) changed, whether by this store, another tab or another device.
   * Returns the function that stops watching.
   * @example
   * const stop = store.watch({ prefix: 'user:1:' }, ({ key, value, origin }) => console.log(origin, key, value))
   */
  watch(target: WatchTarget, cb: (change: Change) => void): () => void {
    this.assertOpen()
    if (typeof target === 'string') checkReadKey(target)
    else if (typeof target?.prefix !== 'string') throw new TideKVError('INVALID_KEY', 'watch takes a key or { prefix: string }')
    if (typeof cb !== 'function') throw new TideKVError('INVALID_VALUE', 'watch needs a callback function')
    return this.replica.watchers.add(target, cb)
  }

  /** Listens to a store event; returns the function that stops listening. */
  on<E extends keyof DocStoreEvents>(event: E, cb: DocStoreEvents[E]): () => void {
    this.events.on(event, cb)
    return () => this.events.off(event, cb)
  }

  /**
   * Resolves once every write made before the call is in the document (the
   * client's `Store` also waits for storage).
   * @throws TideKVError `CLOSED`
   */
  async flush(): Promise<void> {
    this.assertOpen()
    // Inside an app's transaction on `doc`, the commit waits for it to end.
    if (inTransaction(this.doc)) await new Promise<void>((resolve) => afterTransactions(this.doc, resolve))
    this.replica.commit()
  }

  /** Commits what is pending and releases the store: every later call throws `CLOSED`. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.replica.commit()
    this.replica.stop()
  }

  // ---- the write path ----------------------------------------------------

  #stamp(): Stamp {
    return this.replica.hlc.next(this.replica.clientId)
  }

  #valueEntry(key: string, value: Value, expiresAt: number): Entry {
    const entry = createValueEntry(key, this.#stamp(), expiresAt, value, this.#maxValueBytes)
    const size = valueByteLength(entry)
    if (size > this.#maxValueBytes) {
      throw new TideKVError('VALUE_TOO_LARGE', `The value of "${key}" is ${size} bytes encoded; the limit is ${this.#maxValueBytes}`)
    }
    return entry
  }

  /** Writes this replica's contribution; a missing or expired key (`live` undefined) starts afresh. */
  #writeContribution(key: string, live: Slot | undefined, own: Entry | undefined, epoch: Stamp, sum: number, expiresAt: number): void {
    const entry = createCounterEntry(key, this.#stamp(), expiresAt, epoch, sum)
    if (live === undefined) this.replica.replace(entry)
    else this.replica.contribute(live, own, entry)
  }

  #rewriteExpiry(slot: Slot, expiresAt: number): void {
    if (slot.winner !== null) {
      // A structure's expiry lives in its meta entry: one write, whatever its size.
      const struct = slot.winner
      this.replica.setMeta(struct, createMetaEntry(slot.key, struct.type, this.#stamp(), expiresAt))
      return
    }
    // An integer takes its new expiry through a contribution that adds nothing,
    // so increments made concurrently on other replicas still count.
    const value = slotValue(slot)
    if (slot.counter || (typeof value === 'number' && Number.isSafeInteger(value))) {
      const own = ownContribution(slot, this.replica.clientId)
      this.#writeContribution(slot.key, slot, own, slot.base === null ? ZERO_STAMP : stampOf(slot.base), own?.sum ?? 0, expiresAt)
    } else {
      const base = slot.base!
      this.replica.replace(createValueEntry(slot.key, this.#stamp(), expiresAt, decodeEntryValue(base)))
    }
  }

  // ---- helpers -------------------------------------------------------------

  #scan(options: ScanOptions, visit: (key: string, slot: Slot) => void, valuesOnly = false): void {
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
    this.replica.scanKeys(exclusive ? after : prefix, exclusive, (key, slot) => {
      if (!key.startsWith(prefix)) return false
      if (slot.expiresAt !== 0 && slot.expiresAt <= now) return true
      if (slotValue(slot) === undefined && (valuesOnly || slot.winner === null || slot.winner.members.size === 0)) return true
      visit(key, slot)
      return ++count < limit
    })
  }

  /** Reports a background failure on the `error` event. */
  protected emitError(error: unknown): void {
    this.events.emit('error', [asTideKVError('STORAGE_FAILED', 'A background task failed', error)])
  }

  /** @throws TideKVError `WRONG_TYPE` when the key holds a live data structure */
  #assertPlain(slot: Slot): void {
    const type = this.replica.typeOf(slot, this.clock())
    if (type !== 'none' && type !== 'string' && type !== 'counter') {
      throw new TideKVError('WRONG_TYPE', `"${slot.key}" holds a ${type}: read it with store.${HANDLE_OF[type]}()`)
    }
  }

  /** The store's key and value limits (`maxKeyBytes`, `maxValueBytes`). */
  protected get limits(): { readonly maxKeyBytes: number; readonly maxValueBytes: number } {
    return { maxKeyBytes: this.#maxKeyBytes, maxValueBytes: this.#maxValueBytes }
  }

  /** A data structure's handle read `key` (a hook for a cache store's recency). */
  protected structureRead(_key: string): void {}

  /** @throws TideKVError `CLOSED` */
  protected assertOpen(): void {
    if (this.closed) throw new TideKVError('CLOSED', 'The store is closed')
  }

  /** @throws TideKVError `CLOSED`, `READ_ONLY` */
  protected assertWritable(): void {
    this.assertOpen()
    if (this.readOnly) throw new TideKVError('READ_ONLY', 'This store syncs with a read-only token: it cannot be written')
  }

  /** @throws TideKVError `FORBIDDEN` when `key` (a valid key) is outside the write rules */
  protected assertMayWrite(key: string): void {
    const rules = this.#writeRules
    if (rules !== null && !rules.allows(key)) {
      throw new TideKVError('FORBIDDEN', `"${key}" is outside this store's write rules (${rules.patterns.map((p) => JSON.stringify(p)).join(', ') || 'none'})`)
    }
  }

  /**
   * Limits writes to the keys `rules` allow (null: every key). The replica
   * then also leaves the clean-up of other keys' entries (superseded or
   * expired) to replicas that may write them: the relay would refuse it.
   */
  protected setWriteRules(rules: WriteRules | null): void {
    this.#writeRules = rules
    this.replica.mayWrite = rules === null ? null : (key) => rules.allows(key)
  }

  /**
   * Whether this store may write `key` now: it is open, not read-only, and
   * the key is within its token's write rules (`rules.write`). For an app
   * that shows an edit control only where a write would be accepted.
   * @throws TideKVError `INVALID_KEY`
   */
  canWrite(key: string): boolean {
    checkReadKey(key)
    return !this.closed && !this.readOnly && (this.#writeRules?.allows(key) ?? true)
  }
}

/**
 * A store over a fresh Yjs document, in memory: the store API with no
 * storage and no network (the relay uses it over a room; tests use it).
 * @throws TideKVError `INVALID_VALUE` (a bad option)
 * @example
 * import { createDocStore } from '@tidekv/core'
 * const store = createDocStore({ name: 'scratch' })
 * store.hash('user:1').set('name', 'Ada')
 * store.hash('user:1').get('name') // 'Ada'
 */
export function createDocStore(options: DocStoreOptions & { name?: string } = {}): DocStore {
  return new DocStore(options.name ?? 'tidekv', options, true)
}
