/**
 * The storage seam: adapters only move bytes (Yjs updates, and which of
 * them is a V2 snapshot); every piece of Yjs logic stays in the store. IndexedDB in
 * browsers (`indexeddb-storage.ts`), an in-memory twin for tests
 * (`memory-storage.ts`); both pass one conformance suite.
 */

/**
 * A stored Yjs update: live updates are format V1, as Yjs emits them and as
 * they go to other tabs and the relay; compaction snapshots are format V2
 * (about 13% smaller for a log of small keys, and faster to load).
 */
export interface StoredUpdate {
  bytes: Uint8Array
  v2: boolean
}

/** What `compact` asks the store to build from the stored state. */
export interface CompactionResult {
  /** One Yjs update, format V2, holding the whole document. */
  snapshot: Uint8Array
  /** Its entries in key order, for a fast open (a few bytes a key); kept with it, dropped with it. */
  index: Uint8Array
}

export interface CompactOptions {
  /**
   * Free the space first, for a store at its quota (browsers count a
   * transaction's writes against the quota before its deletes, so a
   * compaction in one transaction cannot succeed there): the first
   * transaction runs `build` and deletes every stored update, the second
   * stores the snapshot. Not atomic — a crash between them leaves the store
   * empty — so only cache stores ask for it (a cache refills). If another
   * writer stores anything between the two, the first runs again to take it
   * in: `build` may be called more than once, each time for the whole state.
   */
  freeFirst?: boolean
}

/** The last compaction's snapshot and its index. */
export interface StoredSnapshot {
  snapshot: Uint8Array
  index: Uint8Array
}

export interface StorageAdapter {
  /** The snapshot of the last compaction (V2) and its index, when it is the only stored row (nothing was stored after it); else undefined. */
  loadSnapshot(): Promise<StoredSnapshot | undefined>
  /** Every stored update, oldest first. */
  loadUpdates(): Promise<StoredUpdate[]>
  /**
   * Stores `updates` in one atomic write. With `strict`, resolves only once
   * the write (and every earlier one) is on disk, where the backend can tell;
   * `strict` with no updates just makes earlier writes durable.
   */
  append(updates: readonly Uint8Array[], strict: boolean): Promise<void>
  /**
   * Atomically replaces every stored update with one snapshot. `build` runs
   * synchronously inside the storage transaction and
   * receives the updates that other writers (other tabs) stored and this
   * adapter has neither loaded nor written, so they are merged, not lost.
   */
  compact(build: (unseen: StoredUpdate[]) => CompactionResult, options?: CompactOptions): Promise<void>
  /**
   * Takes a Yjs client id released by an earlier store of this name, if any,
   * so no two live stores get the same one (atomic against other tabs).
   */
  claimClientId(): Promise<number | undefined>
  /**
   * Offers a client id for reuse. Only call it once every update made with
   * that id is stored: a later store reusing it must hold all of its structs.
   */
  releaseClientId(id: number): Promise<void>
  /**
   * A cache store's record of how its keys were used (recency and
   * frequency), kept across reloads so that a reload does not evict the hot
   * keys first. Optional: without it, a reload starts the use of every key
   * afresh.
   */
  loadUsage?(): Promise<Uint8Array | undefined>
  saveUsage?(usage: Uint8Array): Promise<void>
  /** Releases the backend; later calls fail. */
  close(): void
}

/** Opens the storage of the store called `name`. */
export type StorageFactory = (name: string) => StorageAdapter | Promise<StorageAdapter>
