/**
 * The relay's storage seam: adapters only move bytes (a room's Yjs updates);
 * every piece of Yjs logic stays in the room. Embedded SQLite by default
 * (`sqlite-storage.ts`), an in-memory twin for tests (`memory-storage.ts`),
 * Redis later; all pass one conformance suite (`storage-conformance.ts`).
 */

/** What a room has stored. */
export interface StoredRoom {
  /** The room's updates, oldest first (after a compaction the first is a snapshot). */
  updates: Uint8Array[]
  /** The sequence number of the last update, or 0 for an empty room: pass it to `compact`. */
  lastSeq: number
}

export interface RelayStorage {
  /** Every stored update of `room`. */
  load(room: string): Promise<StoredRoom>
  /**
   * The stored updates of `room` with a seq above `afterSeq`, in order: what
   * a relay that has applied everything up to `afterSeq` lacks. A snapshot
   * among them (from a compaction up to a later seq) stands for every update
   * up to its seq. `lastSeq` as in `load`.
   */
  loadSince(room: string, afterSeq: number): Promise<StoredRoom>
  /**
   * Stores one update of `room` and resolves with its sequence number once it
   * is durable (it survives a crash of the process).
   */
  append(room: string, update: Uint8Array): Promise<number>
  /**
   * Atomically replaces the updates of `room` up to and including `upToSeq`
   * with `snapshot` (which must hold all of them). Updates appended after
   * `upToSeq` are kept, in order, after the snapshot.
   */
  compact(room: string, snapshot: Uint8Array, upToSeq: number): Promise<void>
  /** Deletes everything stored for `room`. */
  deleteRoom(room: string): Promise<void>
  /** Names of the rooms that have anything stored. */
  rooms(): Promise<string[]>
  /** Flushes and releases the backend; later calls fail. */
  close(): Promise<void>
}
