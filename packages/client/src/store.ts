/**
 * The store an app opens (`openStore`): the store API of `@tidekv/core`
 * (`DocStore`) plus what a browser store adds around the document —
 * persistence in IndexedDB (`storage/`), other tabs and the relay (`sync/`) —
 * and the calls that wait on them: `loaded`, `flush`, `whenSynced`, `close`.
 */
import { ObservableV2 } from 'lib0/observable'
import {
  afterTransactions,
  DocStore,
  type DocStoreEvents,
  type DocStoreOptions,
  inTransaction,
  MessageType,
  parseWriteRules,
  type SetOptions,
  TideKVError,
  type TokenRules,
  type Value,
} from '@tidekv/core/internal'
import type { CompactionPolicy } from './storage/persistence.js'
import type { StorageAdapter, StorageFactory } from './storage/storage.js'
import { StoredDocument } from './storage/stored-document.js'
import { readClaims } from './sync/token-claims.js'
import { PubSub, type SubscribeTarget, type Subscriber } from './pubsub.js'
import type { CacheOptions, CacheStats } from './cache/cache-budget.js'
import type { CacheMode } from './cache/cache-mode.js'

/** The cache module, loaded by `openStore` only for a cache store. */
type CacheModule = typeof import('./cache/cache-mode.js')
import { relayUrls } from './sync/sync-url.js'
import type { SyncLink, SyncOptions, SyncStatus } from './sync/sync-link.js'
import { TabChannel } from './sync/tab-channel.js'

/** How long `openStore` waits for a token function's first token, by default. */
const FIRST_TOKEN_TIMEOUT_MS = 5000

/** Options of `openStore`. */
export interface StoreOptions extends DocStoreOptions {
  /** The IndexedDB to persist in. Default `globalThis.indexedDB`; Node tests pass fake-indexeddb. */
  indexedDB?: IDBFactory
  /** Persist the store (default true). False keeps it in memory only. */
  persist?: boolean
  /** A storage adapter factory to use instead of IndexedDB (see `memoryStorage`). */
  storage?: StorageFactory
  /** When the update log is compacted into a snapshot. */
  compaction?: CompactionPolicy
  /** Sync with a relay (see packages/client/README.md#sync). Without it the store is local (still shared between tabs). */
  sync?: SyncOptions & {
    /** The token only reads: writes throw `READ_ONLY`. Default: read from the token's `mode` claim. */
    readOnly?: boolean
    /** The keys the token may write: writes to others throw `FORBIDDEN`. Default: read from the token's `rules` claim (none: every key). */
    rules?: TokenRules
    /** With a token function: how long `openStore` waits for its first token (whose claims say what the store may write). Default 5,000 ms. */
    firstTokenTimeoutMs?: number
  }
  /** Converge with stores of the same name in other tabs through a BroadcastChannel. Default true where it exists. */
  tabs?: boolean
  /**
   * Make this a cache: at most `maxBytes` of live entries, evicting by
   * `policy` (Redis's maxmemory-policy; default 'allkeys-lru'). A cache does
   * not sync to a relay. See packages/client/README.md, "Cache mode".
   */
  cache?: CacheOptions
}

/** Events of `store.on`. */
export interface StoreEvents extends DocStoreEvents {
  /** A background failure: storage (`STORAGE_FAILED`), an invalid remote entry, a throwing watcher. */
  error: (error: TideKVError) => void
  /** The sync status changed. */
  status: (status: SyncStatus) => void
  /** The relay the store is connected to changed (`sync.url` may list several): its URL, or null when none. */
  relay: (url: string | null) => void
}

/**
 * A key-value store on a Yjs document, persisted and synced. Open one with
 * `openStore`. Reads are synchronous and served from memory; writes are
 * visible at once and reach the document at the end of the tick.
 */
export class Store extends DocStore {
  /**
   * Resolves once the document has loaded from storage. A store with a saved
   * keyspace answers reads before that; writes made meanwhile are kept and
   * committed when it resolves.
   */
  readonly loaded: Promise<void>

  readonly #stored: StoredDocument | null
  #link: SyncLink | null = null
  #tabs: TabChannel | null = null
  /** Whether the app wants to be connected (it may say so before the link exists). */
  #online = true
  readonly #syncs: boolean
  readonly #syncOptions: StoreOptions['sync']
  readonly #tabsEnabled: boolean
  /** A cache store's budget and eviction; null for other stores. */
  readonly #cache: CacheMode | null = null
  /** `getOrSet` loaders running, by key: one at a time per key. */
  readonly #loading = new Map<string, Promise<unknown>>()
  #pubsub: PubSub | null = null
  readonly #statusEvents = new ObservableV2<Pick<StoreEvents, 'status' | 'relay'>>()

  /** @internal Use `openStore`. */
  constructor(name: string, options: StoreOptions, storage: StorageAdapter | null, cacheModule: CacheModule | null = null) {
    super(name, options, storage === null)
    if (options.cache !== undefined) {
      if (options.sync !== undefined) throw new TideKVError('INVALID_VALUE', 'A cache store does not sync to a relay (a cache is per device): pass cache or sync, not both')
      if (cacheModule === null) throw new TideKVError('INVALID_VALUE', 'Open a cache store with openStore')
      this.#cache = new cacheModule.CacheMode(options.cache, this.replica, storage, (e) => this.emitError(e))
    }
    this.#syncOptions = options.sync
    this.#tabsEnabled = options.tabs ?? typeof BroadcastChannel !== 'undefined'
    this.#applyClaims(options.sync?.token)
    if (options.sync?.rules !== undefined) this.setWriteRules(parseWriteRules(options.sync.rules))
    this.#syncs = options.sync !== undefined
    if (options.sync !== undefined) relayUrls(options.sync.url) // a bad URL is refused now, not in the background
    this.#stored =
      storage === null
        ? null
        : new StoredDocument(this.replica, storage, (e) => this.emitError(e), options.compaction, this.#cache === null ? undefined : (attempt) => this.#cache!.makeRoom(attempt))
    this.loaded = this.#stored?.loaded ?? Promise.resolve()
  }

  /** @internal Loads the stored state; resolves once reads can be answered. */
  async open(options: StoreOptions): Promise<void> {
    // With a token function, the first token is fetched meanwhile: its rules are known before any write.
    await Promise.all([this.#stored?.open(), this.#fetchFirstToken(options)])
    if (this.#cache !== null) {
      await this.loaded
      await this.#cache.open()
    }
  }

  /**
   * The value of `key`; when it has none, calls `loader` (one call at a time
   * per key, however many callers wait), stores what it resolves to (with
   * `options`, such as a TTL) and resolves to it. A loader that throws
   * stores nothing, and every waiting caller gets its error.
   * @throws TideKVError `INVALID_KEY`, `CLOSED`; rejects with the loader's error, or what storing its value threw (`INVALID_VALUE`, `VALUE_TOO_LARGE`, `OUT_OF_MEMORY`)
   * @example
   * const user = await store.getOrSet('user:42', () => ({ name: 'Ada' }), { ttl: 60_000 }) // a loader: fetch('/api/user/42').then((r) => r.json()), say
   */
  async getOrSet<T extends Value = Value>(key: string, loader: () => T | Promise<T>, options?: SetOptions): Promise<T> {
    const found = this.get<T>(key)
    if (found !== undefined) return found
    if (typeof loader !== 'function') throw new TideKVError('INVALID_VALUE', 'getOrSet needs a loader function')
    let loading = this.#loading.get(key)
    if (loading === undefined) {
      loading = (async () => {
        try {
          const value = await loader()
          this.set(key, value, options)
          return value
        } finally {
          this.#loading.delete(key)
        }
      })()
      this.#loading.set(key, loading)
    }
    return loading as Promise<T> // reason: the loader of this key's first caller made it; callers of one key ask for one type
  }

  /**
   * A cache store's counts: `bytes` and `keys` now; `hits` and `misses` of
   * `get` and `getOrSet`; `evictions` so far (this session).
   * @throws TideKVError `INVALID_VALUE` for a store opened without `cache`, `CLOSED`
   */
  stats(): CacheStats {
    this.assertOpen()
    if (this.#cache === null) throw new TideKVError('INVALID_VALUE', 'stats() is for cache stores (openStore with cache)')
    return this.#cache.stats()
  }

  override get<T extends Value = Value>(key: string): T | undefined {
    const value = super.get<T>(key)
    this.#cache?.read(key, value !== undefined)
    return value
  }

  protected override structureRead(key: string): void {
    this.#cache?.touch(key)
  }

  /** The first token of a token function, kept for the first connection; undefined when there is none (yet). */
  #firstToken: string | undefined = undefined

  async #fetchFirstToken(options: StoreOptions): Promise<void> {
    const token = options.sync?.token
    if (typeof token !== 'function') return
    const fetched = (async () => {
      try {
        const first = await token()
        if (this.closed) return
        this.#firstToken = first
        this.#applyClaims(first)
      } catch (cause) {
        // Offline first: the store opens without it (writes are checked once a token arrives); the link asks again.
        this.emitError(new TideKVError('INVALID_VALUE', 'sync.token() failed; retrying', { cause }))
      }
    })()
    // A token that takes longer must not keep local reads waiting: its claims apply when it comes.
    let timer: ReturnType<typeof setTimeout> | undefined
    const wait = options.sync?.firstTokenTimeoutMs ?? FIRST_TOKEN_TIMEOUT_MS
    await Promise.race([fetched, new Promise<void>((resolve) => (timer = setTimeout(resolve, wait)))])
    clearTimeout(timer)
  }

  /** Takes the mode and write rules of `token`, unless the options set them. */
  #applyClaims(token: unknown): void {
    const claims = readClaims(token)
    const sync = this.#syncOptions
    this.readOnly = sync?.readOnly ?? claims.readOnly
    if (sync?.rules === undefined) this.setWriteRules(claims.rules)
  }

  /** @internal Starts sync and the tab channel once the document has loaded. */
  async startSync(options: StoreOptions): Promise<void> {
    const sync = options.sync
    // A dynamic import: an app that never syncs does not ship y-websocket.
    const module = sync === undefined ? null : await import('./sync/sync-link.js')
    const tabs = options.tabs ?? typeof BroadcastChannel !== 'undefined'
    // After the load: the document then holds the stored state, and its client id is final
    // (y-websocket's awareness keys its state by the client id it sees at construction).
    // A failed load is reported through `openStore`, `flush` and the error event: nothing to start then.
    void this.loaded.then(
      () => {
        if (this.closed) return
        if (tabs) this.#tabs = new TabChannel(this.name, this.doc, !this.readOnly, (e) => this.emitError(e))
        if (module === null || sync === undefined) return
        this.#link = new module.SyncLink({
          doc: this.doc,
          room: sync.room ?? this.name,
          options: sync,
          clientId: () => this.replica.clientId,
          onError: (e) => this.emitError(e),
          firstToken: this.#firstToken,
          onToken: (token) => this.#applyClaims(token),
        })
        this.#link.handle(MessageType.PUBSUB, (decoder) => this.#pubsub?.receiveRemote(decoder))
        // A relay forgets a connection's subscriptions with it: tell each new one.
        this.#link.onConnect(() => {
          for (const frame of this.#pubsub?.subscriptionFrames() ?? []) this.#link?.send(frame)
        })
        this.#link.onStatus((status) => this.#statusEvents.emit('status', [status]))
        this.#link.onRelay((url) => this.#statusEvents.emit('relay', [url]))
        if (this.#online) this.#link.connect()
      },
      () => undefined,
    )
  }

  /** @internal Releases storage after a failed open. */
  abandon(): void {
    this.#stored?.stop()
  }

  /**
   * Listens to a store event; returns the function that stops listening.
   * @example
   * const stop = store.on('status', (status) => console.log('sync:', status))
   */
  override on<E extends keyof StoreEvents>(event: E, cb: StoreEvents[E]): () => void {
    if (event === 'relay') {
      const listener = cb as StoreEvents['relay'] // reason: E is 'relay' here
      this.#statusEvents.on('relay', listener)
      return () => this.#statusEvents.off('relay', listener)
    }
    if (event !== 'status') return super.on('error', cb as StoreEvents['error']) // reason: E is 'error' here
    const listener = cb as StoreEvents['status'] // reason: E is 'status' here
    this.#statusEvents.on('status', listener)
    return () => this.#statusEvents.off('status', listener)
  }

  /**
   * Publishes `message` (a TideKV value) on `channel` (Redis PUBLISH): it
   * reaches the subscribers of this store in this page (in a microtask), in
   * other tabs, and on other devices through the relay, at most once each.
   * It is not stored: whoever subscribes later never hears it.
   * @throws TideKVError `INVALID_KEY` (channel), `INVALID_VALUE`, `VALUE_TOO_LARGE`, `READ_ONLY`, `FORBIDDEN` (a channel outside the write rules), `CLOSED`
   * @example
   * store.publish('cart', { changed: 'item:7' })
   */
  publish(channel: string, message: Value): void {
    this.#pubSub().publish(channel, message)
  }

  /**
   * Calls `cb(message, { channel, origin })` for every message published on
   * `target` from now on — a channel, or `{ pattern }`, a glob over channels
   * (Redis SUBSCRIBE, PSUBSCRIBE) — from this page ('local'), another tab
   * ('tab') or another device ('remote'). Returns the function that stops it.
   * @throws TideKVError `INVALID_KEY` (channel or pattern), `INVALID_VALUE` (too many subscriptions), `CLOSED`
   * @example
   * const stop = store.subscribe({ pattern: 'chat:*' }, (message, { channel, origin }) => console.log(channel, origin, message))
   */
  subscribe(target: SubscribeTarget, cb: Subscriber): () => void {
    return this.#pubSub().subscribe(target, cb)
  }

  #pubSub(): PubSub {
    this.assertOpen()
    this.#pubsub ??= new PubSub({
      tabsName: this.#tabsEnabled ? `tidekv-pubsub:${this.name}` : null,
      ...this.limits,
      assertPublish: (channel) => {
        this.assertWritable()
        this.assertMayWrite(channel)
      },
      send: (message) => this.#link?.send(message),
      onError: (e) => this.emitError(e),
    })
    return this.#pubsub
  }

  /** The relay this store is connected to now (one of `sync.url`), or null when it is not connected. */
  get relay(): string | null {
    return this.#link?.relay ?? null
  }

  /** The sync status: 'local' without sync; else 'offline', 'connecting', 'syncing' (connected, catching up) or 'synced'. */
  get status(): SyncStatus {
    return this.#link?.status ?? (this.#syncs ? 'offline' : 'local')
  }

  /**
   * Resolves once the relay has durably stored every write this store made
   * before the call (after `flush`, so they are stored locally too). Waits
   * through disconnections; without sync, it is `flush()`.
   * @throws TideKVError `STORAGE_FAILED`, `CLOSED`
   * @example
   * store.set('order:17', { total: 42 })
   * await store.whenSynced() // on the relay's disk now
   */
  async whenSynced(): Promise<void> {
    this.assertOpen()
    await this.#flushStored()
    await this.#link?.whenStored()
  }

  /** Connects to the relay (again): the app's "work online" switch. No effect without sync. */
  connect(): void {
    this.assertOpen()
    this.#online = true
    this.#link?.connect()
  }

  /** Disconnects and stays offline until `connect()`: writes keep being stored locally. No effect without sync. */
  disconnect(): void {
    this.assertOpen()
    this.#online = false
    this.#link?.disconnect()
  }

  /**
   * Resolves once every write made before the call is committed to storage
   * (with strict durability where the browser offers it).
   * @throws TideKVError `STORAGE_FAILED` (the write is kept and retried by the next flush), `CLOSED`
   * @example
   * store.set('draft', 'hello')
   * await store.flush() // survives a reload or a crash now
   */
  override async flush(): Promise<void> {
    this.assertOpen()
    await this.#flushStored()
  }

  /**
   * Commits and stores everything, compacts the stored log, and releases the
   * store. Every later call throws `CLOSED`.
   * @throws TideKVError `STORAGE_FAILED` when the last writes could not be stored
   */
  override async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // Stop what brings updates in first: one arriving from the relay or a tab while the last writes
    // are stored would otherwise be written after the database closed (STORAGE_FAILED).
    this.#link?.destroy()
    this.#tabs?.close()
    this.#pubsub?.close()
    await this.#cache?.close()
    try {
      if (this.#stored !== null) {
        await this.#flushStored()
        await this.#stored.close()
      }
    } finally {
      this.#stored?.stop()
      this.replica.stop()
    }
  }

  async #flushStored(): Promise<void> {
    if (!this.replica.ready) await this.loaded
    // Commit and ask storage in one go: a microtask between them would let the
    // commit's update be written without strict durability, then synced again.
    if (inTransaction(this.doc)) await new Promise<void>((resolve) => afterTransactions(this.doc, resolve))
    this.replica.commit()
    await this.#stored?.flush()
  }
}
