/**
 * The in-memory twin of the IndexedDB adapter: same contract, same
 * conformance suite. Stores that share a `MemoryDisk` see each other's rows,
 * like tabs sharing one IndexedDB, and a store reopened on it finds its data.
 */
import { TideKVError } from '@tidekv/core'
import type { CompactionResult, CompactOptions, StorageAdapter, StorageFactory, StoredSnapshot, StoredUpdate } from './storage.js'

interface MemoryDatabase {
  rows: Map<number, Uint8Array>
  nextKey: number
  /** The key of the V2 snapshot row, if any. */
  snapshot: number | undefined
  /** Its index (see CompactionResult). */
  index: Uint8Array
  freeClients: number[]
  /** A cache store's record of its keys' use (see StorageAdapter.saveUsage). */
  usage?: Uint8Array
}

/** Databases by store name: what survives a store's close, as a disk would. */
export type MemoryDisk = Map<string, MemoryDatabase>

/** A storage factory keeping everything in `disk` (a new, empty one by default). */
export function memoryStorage(disk: MemoryDisk = new Map()): StorageFactory {
  return (name) => {
    let db = disk.get(name)
    if (db === undefined) disk.set(name, (db = { rows: new Map(), nextKey: 1, snapshot: undefined, index: new Uint8Array(0), freeClients: [] }))
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

  async loadSnapshot(): Promise<StoredSnapshot | undefined> {
    this.check()
    const key = this.db.snapshot
    if (key === undefined || this.db.rows.size !== 1 || !this.db.rows.has(key)) return undefined
    return { snapshot: copy(this.db.rows.get(key)!), index: copy(this.db.index) }
  }

  async loadUpdates(): Promise<StoredUpdate[]> {
    this.check()
    const out: StoredUpdate[] = []
    for (const [key, bytes] of this.db.rows) {
      this.seen.add(key)
      out.push({ bytes: copy(bytes), v2: key === this.db.snapshot })
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

  /** One step whatever `options` say: memory has no quota, and the step cannot be torn. */
  async compact(build: (unseen: StoredUpdate[]) => CompactionResult, _options?: CompactOptions): Promise<void> {
    this.check()
    const unseen = [...this.db.rows].filter(([key]) => !this.seen.has(key)).map(([key, bytes]) => ({ bytes: copy(bytes), v2: key === this.db.snapshot }))
    const { snapshot, index } = build(unseen)
    const key = this.db.nextKey++
    this.db.rows.clear()
    this.db.rows.set(key, copy(snapshot))
    this.db.snapshot = key
    this.db.index = copy(index)
    this.seen.clear()
    this.seen.add(key)
  }

  async claimClientId(): Promise<number | undefined> {
    this.check()
    return this.db.freeClients.pop()
  }

  async loadUsage(): Promise<Uint8Array | undefined> {
    this.check()
    return this.db.usage === undefined ? undefined : copy(this.db.usage)
  }

  async saveUsage(usage: Uint8Array): Promise<void> {
    this.check()
    this.db.usage = copy(usage)
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
