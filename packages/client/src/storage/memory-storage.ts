/**
 * The in-memory twin of the IndexedDB adapter: same contract, same
 * conformance suite. Stores that share a `MemoryDisk` see each other's rows,
 * like tabs sharing one IndexedDB, and a store reopened on it finds its data.
 */
import { TideKVError } from '@tidekv/core'
import type { CompactionResult, StorageAdapter, StorageFactory } from './storage.js'

interface MemoryDatabase {
  rows: Map<number, Uint8Array>
  nextKey: number
  keyspace: { upTo: number; bytes: Uint8Array } | undefined
  freeClients: number[]
}

/** Databases by store name: what survives a store's close, as a disk would. */
export type MemoryDisk = Map<string, MemoryDatabase>

/** A storage factory keeping everything in `disk` (a new, empty one by default). */
export function memoryStorage(disk: MemoryDisk = new Map()): StorageFactory {
  return (name) => {
    let db = disk.get(name)
    if (db === undefined) disk.set(name, (db = { rows: new Map(), nextKey: 1, keyspace: undefined, freeClients: [] }))
    return new MemoryStorage(db)
  }
}

// Every call copies bytes in and out, as IndexedDB's structured clone does,
// so a test cannot pass by sharing a buffer with the store.
const copy = (bytes: Uint8Array): Uint8Array => bytes.slice()

class MemoryStorage implements StorageAdapter {
  private readonly seen = new Set<number>()
  private closed = false

  constructor(private readonly db: MemoryDatabase) {}

  async loadKeyspace(): Promise<Uint8Array | undefined> {
    this.check()
    const saved = this.db.keyspace
    const last = this.db.rows.size > 0 ? this.db.nextKey - 1 : -1 // keys only grow; compaction clears all
    return saved !== undefined && saved.upTo === last ? copy(saved.bytes) : undefined
  }

  async loadUpdates(): Promise<Uint8Array[]> {
    this.check()
    const out: Uint8Array[] = []
    for (const [key, bytes] of this.db.rows) {
      this.seen.add(key)
      out.push(copy(bytes))
    }
    return out
  }

  async append(updates: readonly Uint8Array[], _strict: boolean): Promise<void> {
    this.check()
    for (const u of updates) {
      const key = this.db.nextKey++
      this.db.rows.set(key, copy(u))
      this.seen.add(key)
    }
  }

  async compact(build: (unseen: Uint8Array[]) => CompactionResult): Promise<void> {
    this.check()
    const unseen = [...this.db.rows].filter(([key]) => !this.seen.has(key)).map(([, bytes]) => copy(bytes))
    const { snapshot, keyspace } = build(unseen)
    const key = this.db.nextKey++
    this.db.rows.clear()
    this.db.rows.set(key, copy(snapshot))
    this.db.keyspace = { upTo: key, bytes: copy(keyspace) }
    this.seen.clear()
    this.seen.add(key)
  }

  async claimClientId(): Promise<number | undefined> {
    this.check()
    return this.db.freeClients.pop()
  }

  async releaseClientId(id: number): Promise<void> {
    this.check()
    if (!this.db.freeClients.includes(id)) this.db.freeClients.push(id)
  }

  close(): void {
    this.closed = true
  }

  private check(): void {
    if (this.closed) throw new TideKVError('STORAGE_FAILED', 'The memory storage is closed')
  }
}
