/**
 * StorageAdapter on IndexedDB, through `idb`. One database per store,
 * `tidekv:<name>`, with two object stores:
 *   updates  auto-increment key → Yjs update bytes: V1, except the first row
 *            after a compaction, the V2 snapshot
 *   meta     'snapshot' → { key, index }: that snapshot row's key, and its
 *            entries in key order (for a fast open);
 *            'freeClients' → Yjs client ids released by closed stores
 *
 * Schema version 2. Version 1 (release 0.1.0) kept V1 snapshots and a saved
 * keyspace ('keyspace' in meta) beside them; its rows are all V1 and are
 * read as such, and the next compaction writes version 2's. A tab still
 * running 0.1.0 is told by the upgrade to close its connection (see
 * 'versionchange' below), so it never reads a V2 row as V1.
 */
import { type DBSchema, type IDBPDatabase, type IDBPTransaction, wrap } from 'idb'
import { TideKVError } from '@tidekv/core'
import type { CompactionResult, CompactOptions, StorageAdapter, StorageFactory, StoredSnapshot, StoredUpdate } from './storage.js'

interface SnapshotMeta {
  key: number
  index: Uint8Array
}

interface Schema extends DBSchema {
  updates: { key: number; value: Uint8Array }
  meta: { key: string; value: SnapshotMeta | number | number[] | Uint8Array }
}

function isSnapshotMeta(value: unknown): value is SnapshotMeta {
  return typeof value === 'object' && value !== null && 'key' in value && typeof value.key === 'number' && 'index' in value && value.index instanceof Uint8Array
}

const DB_VERSION = 2
/** Client ids kept for reuse: about the most tabs of one store open at once. */
const MAX_FREE_CLIENTS = 16
/** Tries of a two-step compaction that other tabs' writes keep interrupting (see #compactFreeingFirst). */
const FREE_FIRST_TRIES = 3

/** The IndexedDB database name used for a store. */
export function databaseName(storeName: string): string {
  return `tidekv:${storeName}`
}

/**
 * A storage factory on the given IndexedDB implementation (the browser's, or
 * fake-indexeddb in Node).
 */
export function indexedDBStorage(factory: IDBFactory): StorageFactory {
  return (name) => openIndexedDBStorage(factory, name)
}

async function openIndexedDBStorage(factory: IDBFactory, name: string): Promise<StorageAdapter> {
  // idb recognises IndexedDB objects by the global classes (IDBRequest, ...),
  // which browsers have and Node lacks: say how to get them instead of crashing.
  // reason: the DOM lib types IDBRequest as always there; in Node it is missing unless fake-indexeddb/auto put it there
  if (typeof (globalThis as { IDBRequest?: unknown }).IDBRequest === 'undefined') {
    throw new TideKVError('STORAGE_FAILED', "IndexedDB's classes are not globals here; in Node, import 'fake-indexeddb/auto' before opening a persisted store")
  }
  const request = factory.open(databaseName(name), DB_VERSION)
  request.onupgradeneeded = () => {
    const db = request.result
    if (!db.objectStoreNames.contains('updates')) db.createObjectStore('updates', { autoIncrement: true })
    // Version 1's saved keyspace: this version reads keys from the snapshot itself.
    if (db.objectStoreNames.contains('meta')) request.transaction!.objectStore('meta').delete('keyspace')
    else db.createObjectStore('meta')
  }
  const blocked = new Promise<never>((_, reject) => {
    request.onblocked = () => reject(new TideKVError('STORAGE_FAILED', `IndexedDB "${databaseName(name)}" is blocked by an older open connection`))
  })
  // reason: idb's wrap knows only that the request opens some database; it has Schema's stores, which onupgradeneeded above creates
  const db = (await Promise.race([wrap(request), blocked])) as unknown as IDBPDatabase<Schema>
  return new IndexedDBStorage(db)
}

class IndexedDBStorage implements StorageAdapter {
  /** Keys of the rows this adapter loaded or wrote: anything else was written by another tab. */
  private readonly seen = new Set<number>()
  private closedReason: string | null = null
  /** What loadSnapshot read, for the loadUpdates that follows it. */
  private loadedSnapshot: { key: number; bytes: Uint8Array } | null = null

  constructor(private readonly db: IDBPDatabase<Schema>) {
    // Another tab upgrading the schema, or the browser closing the database
    // (storage cleared, disk error): stop using it and say why on next use.
    db.addEventListener('versionchange', () => {
      this.closedReason = 'a newer version of the database was opened elsewhere'
      db.close()
    })
    db.addEventListener('close', () => {
      this.closedReason = 'the browser closed the database'
    })
  }

  async loadSnapshot(): Promise<StoredSnapshot | undefined> {
    this.check()
    const tx = this.db.transaction(['updates', 'meta'], 'readonly')
    const [meta, last] = await Promise.all([tx.objectStore('meta').get('snapshot'), tx.objectStore('updates').openKeyCursor(null, 'prev')])
    // Compaction clears every row before it adds the snapshot: if it is the last row, it is the only one.
    const only = isSnapshotMeta(meta) && last !== null && last.key === meta.key ? meta : undefined
    const bytes = only === undefined ? undefined : await tx.objectStore('updates').get(only.key)
    await tx.done
    if (only === undefined || bytes === undefined) return undefined
    this.loadedSnapshot = { key: only.key, bytes }
    return { snapshot: bytes, index: only.index }
  }

  async loadUpdates(): Promise<StoredUpdate[]> {
    this.check()
    const tx = this.db.transaction(['updates', 'meta'], 'readonly')
    const [meta, keys] = await Promise.all([tx.objectStore('meta').get('snapshot'), tx.objectStore('updates').getAllKeys()])
    const snapshotKey = isSnapshotMeta(meta) ? meta.key : undefined
    // The snapshot loadSnapshot returned is not read twice (megabytes, for a large store).
    const known = this.loadedSnapshot !== null && keys[0] === this.loadedSnapshot.key ? this.loadedSnapshot : null
    const values = await tx.objectStore('updates').getAll(known === null ? null : IDBKeyRange.lowerBound(known.key, true))
    await tx.done
    this.loadedSnapshot = null
    if (known !== null) values.unshift(known.bytes)
    for (const key of keys) this.seen.add(key)
    return values.map((bytes, i) => ({ bytes, v2: keys[i] === snapshotKey }))
  }

  async append(updates: readonly Uint8Array[], strict: boolean): Promise<void> {
    this.check()
    const durability = strict ? 'strict' : 'relaxed'
    if (updates.length === 0) {
      if (!strict) return
      // An empty transaction may not reach the disk: write a marker so this commit is flushed.
      const tx = this.db.transaction('meta', 'readwrite', { durability })
      await Promise.all([tx.store.put(Date.now(), 'flushed'), tx.done])
      return
    }
    const tx = this.db.transaction('updates', 'readwrite', { durability })
    const keys = await Promise.all(updates.map((u) => tx.store.add(u)))
    await tx.done
    for (const key of keys) this.seen.add(key)
  }

  async compact(build: (unseen: StoredUpdate[]) => CompactionResult, options?: CompactOptions): Promise<void> {
    this.check()
    if (options?.freeFirst === true) return this.#compactFreeingFirst(build)
    const tx = this.db.transaction(['updates', 'meta'], 'readwrite', { durability: 'strict' })
    const updates = tx.objectStore('updates')
    const unseen = await this.#unseen(tx)
    // Synchronous: the transaction must not go idle between the reads and the writes.
    const { snapshot, index } = build(unseen)
    void updates.clear()
    const snapshotKey = await updates.add(snapshot)
    void tx.objectStore('meta').put({ key: snapshotKey, index }, 'snapshot')
    await tx.done
    this.seen.clear()
    this.seen.add(snapshotKey)
  }

  /**
   * The rows this adapter has neither loaded nor written (other tabs'),
   * each marked V2 if it is the snapshot, read in `tx`.
   */
  async #unseen(tx: IDBPTransaction<Schema, ('updates' | 'meta')[], 'readwrite'>): Promise<StoredUpdate[]> {
    const updates = tx.objectStore('updates')
    const [keys, values, meta] = await Promise.all([updates.getAllKeys(), updates.getAll(), tx.objectStore('meta').get('snapshot')])
    const oldSnapshot = isSnapshotMeta(meta) ? meta.key : undefined
    return values.flatMap((bytes, i) => (this.seen.has(keys[i]!) ? [] : [{ bytes, v2: keys[i] === oldSnapshot }]))
  }

  /**
   * `compact` in two transactions (see CompactOptions.freeFirst): the first
   * merges and deletes every row, the second stores the snapshot — unless
   * another tab stored anything in between (its rows, or a snapshot of its
   * own, which this one must not shadow), and then the first runs again and
   * takes those in, up to FREE_FIRST_TRIES times.
   */
  async #compactFreeingFirst(build: (unseen: StoredUpdate[]) => CompactionResult): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const tx = this.db.transaction(['updates', 'meta'], 'readwrite', { durability: 'strict' })
      const unseen = await this.#unseen(tx)
      const { snapshot, index } = build(unseen)
      void tx.objectStore('updates').clear()
      void tx.objectStore('meta').delete('snapshot')
      // Released client ids stand for updates these rows held: a session taking one before the snapshot is back would reuse clocks.
      void tx.objectStore('meta').delete('freeClients')
      await tx.done
      this.seen.clear()
      const write = this.db.transaction(['updates', 'meta'], 'readwrite', { durability: 'strict' })
      const [rows, meta] = await Promise.all([write.objectStore('updates').count(), write.objectStore('meta').get('snapshot')])
      if (rows > 0 || meta !== undefined) {
        await write.done
        if (attempt >= FREE_FIRST_TRIES) {
          throw new TideKVError('STORAGE_FAILED', 'Another tab kept writing while this one rewrote its storage at the quota; the next write tries again')
        }
        continue
      }
      const snapshotKey = await write.objectStore('updates').add(snapshot)
      void write.objectStore('meta').put({ key: snapshotKey, index }, 'snapshot')
      await write.done
      this.seen.add(snapshotKey)
      return
    }
  }

  async claimClientId(): Promise<number | undefined> {
    this.check()
    const tx = this.db.transaction('meta', 'readwrite')
    const free = await tx.store.get('freeClients')
    let id: number | undefined
    if (Array.isArray(free) && free.length > 0) {
      id = free.pop()
      await tx.store.put(free, 'freeClients')
    }
    await tx.done
    return id
  }

  async releaseClientId(id: number): Promise<void> {
    this.check()
    const tx = this.db.transaction('meta', 'readwrite', { durability: 'strict' })
    const stored = await tx.store.get('freeClients')
    const free = Array.isArray(stored) ? stored : []
    if (!free.includes(id)) free.push(id)
    await tx.store.put(free.slice(-MAX_FREE_CLIENTS), 'freeClients')
    await tx.done
  }

  async loadUsage(): Promise<Uint8Array | undefined> {
    this.check()
    const usage = await this.db.get('meta', 'usage')
    return usage instanceof Uint8Array ? usage : undefined
  }

  async saveUsage(usage: Uint8Array): Promise<void> {
    this.check()
    await this.db.put('meta', usage, 'usage')
  }

  close(): void {
    this.closedReason ??= 'the store was closed'
    this.db.close()
  }

  private check(): void {
    if (this.closedReason !== null) throw new TideKVError('STORAGE_FAILED', `IndexedDB is closed: ${this.closedReason}`)
  }
}
