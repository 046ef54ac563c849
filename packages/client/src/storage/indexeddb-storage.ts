/**
 * StorageAdapter on IndexedDB, through `idb`. One database per store,
 * `tidekv:<name>`, with two object stores:
 *   updates  auto-increment key → Yjs update bytes (the first row after a
 *            compaction is the snapshot)
 *   meta     'keyspace' → { upTo, bytes }: the keyspace saved by the last
 *            compaction, valid while `upTo` is the last update key;
 *            'freeClients' → Yjs client ids released by closed stores
 */
import { type DBSchema, type IDBPDatabase, wrap } from 'idb'
import { TideKVError } from '@tidekv/core'
import type { CompactionResult, StorageAdapter, StorageFactory } from './storage.js'

interface SavedKeyspace {
  upTo: number
  bytes: Uint8Array
}

interface Schema extends DBSchema {
  updates: { key: number; value: Uint8Array }
  meta: { key: string; value: SavedKeyspace | number | number[] }
}

const DB_VERSION = 1
/** Client ids kept for reuse: about the most tabs of one store open at once. */
const MAX_FREE_CLIENTS = 16

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
    if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta')
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

  async loadKeyspace(): Promise<Uint8Array | undefined> {
    this.check()
    const tx = this.db.transaction(['updates', 'meta'], 'readonly')
    const [saved, last] = await Promise.all([tx.objectStore('meta').get('keyspace'), tx.objectStore('updates').openKeyCursor(null, 'prev')])
    await tx.done
    if (saved === undefined || typeof saved === 'number' || Array.isArray(saved) || last === null || last.key !== saved.upTo) return undefined
    return saved.bytes
  }

  async loadUpdates(): Promise<Uint8Array[]> {
    this.check()
    const tx = this.db.transaction('updates', 'readonly')
    const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()])
    await tx.done
    for (const key of keys) this.seen.add(key)
    return values
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

  async compact(build: (unseen: Uint8Array[]) => CompactionResult): Promise<void> {
    this.check()
    const tx = this.db.transaction(['updates', 'meta'], 'readwrite', { durability: 'strict' })
    const updates = tx.objectStore('updates')
    const [keys, values] = await Promise.all([updates.getAllKeys(), updates.getAll()])
    const unseen = values.filter((_, i) => !this.seen.has(keys[i]!))
    // Synchronous: the transaction must not go idle between the reads and the writes.
    const { snapshot, keyspace } = build(unseen)
    void updates.clear()
    const snapshotKey = await updates.add(snapshot)
    void tx.objectStore('meta').put({ upTo: snapshotKey, bytes: keyspace }, 'keyspace')
    await tx.done
    this.seen.clear()
    this.seen.add(snapshotKey)
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

  close(): void {
    this.closedReason ??= 'the store was closed'
    this.db.close()
  }

  private check(): void {
    if (this.closedReason !== null) throw new TideKVError('STORAGE_FAILED', `IndexedDB is closed: ${this.closedReason}`)
  }
}
