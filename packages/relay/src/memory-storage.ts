/**
 * The in-memory twin of the SQLite relay storage: same contract, same
 * conformance suite, and nothing survives the process. For tests, and for a
 * relay that may lose every room when it restarts.
 */
import type { RelayStorage, StoredRoom } from './storage.js'
import { checkRoom, checkUpToSeq } from './storage-checks.js'

interface Row {
  seq: number
  data: Uint8Array
}

/**
 * A RelayStorage that keeps every room in memory, numbering updates as the
 * SQLite storage does: 1, 2, 3, … per room; a compacted room goes on after
 * its last seq; a deleted room starts over at 1.
 *
 * @throws (as rejections) Error after `close()`, for a room name with a lone
 * surrogate, and for a compaction past the room's last seq.
 * @example
 * import { memoryRelayStorage } from '@tidekv/relay'
 * const storage = memoryRelayStorage()
 * const update = new Uint8Array([0, 0]) // a Yjs update (an empty one)
 * const seq = await storage.append('notes', update) // 1
 */
export function memoryRelayStorage(): RelayStorage {
  return new MemoryRelayStorage()
}

// Every call copies bytes in and out, as SQLite does, so a test cannot pass
// by sharing a buffer with the store.
const copy = (bytes: Uint8Array): Uint8Array => bytes.slice()

const lastSeqOf = (rows: readonly Row[]): number => rows[rows.length - 1]?.seq ?? 0

class MemoryRelayStorage implements RelayStorage {
  // A room without rows has no entry, so `rooms()` is just the keys.
  private readonly data = new Map<string, Row[]>()
  private closed = false

  async load(room: string): Promise<StoredRoom> {
    const rows = this.rows(room)
    return { updates: rows.map((row) => copy(row.data)), lastSeq: lastSeqOf(rows) }
  }

  async loadSince(room: string, afterSeq: number): Promise<StoredRoom> {
    const rows = this.rows(room)
    return { updates: rows.filter((row) => row.seq > afterSeq).map((row) => copy(row.data)), lastSeq: lastSeqOf(rows) }
  }

  async append(room: string, update: Uint8Array): Promise<number> {
    const rows = this.rows(room)
    const seq = lastSeqOf(rows) + 1
    rows.push({ seq, data: copy(update) })
    this.data.set(room, rows)
    return seq
  }

  async compact(room: string, snapshot: Uint8Array, upToSeq: number): Promise<void> {
    const rows = this.rows(room)
    checkUpToSeq(room, upToSeq, lastSeqOf(rows))
    this.data.set(room, [{ seq: upToSeq, data: copy(snapshot) }, ...rows.filter((row) => row.seq > upToSeq)])
  }

  async deleteRoom(room: string): Promise<void> {
    this.rows(room)
    this.data.delete(room)
  }

  async rooms(): Promise<string[]> {
    this.checkOpen()
    return [...this.data.keys()]
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private rows(room: string): Row[] {
    this.checkOpen()
    checkRoom(room)
    return this.data.get(room) ?? []
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('The memory relay storage is closed')
  }
}
