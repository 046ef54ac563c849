/**
 * A store's document on storage, over its whole life: open (reuse a released
 * client id, answer reads from the keys of the compaction snapshot at once,
 * load the document in the background), the document listener that queues
 * every update for `Persistence`, the snapshots compaction builds (format V2),
 * flush, and close.
 */
import { asTideKVError, holdsState, indexOfSnapshot, type Replica, startedPending, TideKVError, TransactionOrigin } from '@tidekv/core/internal'
import * as Y from 'yjs'
import { type CompactionPolicy, isQuotaError, Persistence } from './persistence.js'
import type { CompactionResult, StorageAdapter, StoredUpdate } from './storage.js'

export class StoredDocument {
  /** Resolves once the document has loaded from storage (rejects when it could not). */
  readonly loaded: Promise<void>
  readonly #persistence: Persistence
  /** Transactions applying stored updates carry this origin (watchers report them as 'tab'). */
  readonly #origin: TransactionOrigin
  #stopped = false
  #resolveLoaded!: () => void
  #rejectLoaded!: (error: unknown) => void

  constructor(
    private readonly replica: Replica,
    private readonly storage: StorageAdapter,
    private readonly onError: (error: TideKVError) => void,
    compaction?: CompactionPolicy,
    /** Storage is full (QuotaExceededError): make room (a cache store evicts); returns whether it did. */
    onQuota?: (attempt: number) => boolean,
  ) {
    this.#origin = new TransactionOrigin('storage', storage)
    this.loaded = new Promise<void>((resolve, reject) => {
      this.#resolveLoaded = resolve
      this.#rejectLoaded = reject
    })
    // A failed load is reported by `openStore`, `flush` and the error event; never unhandled.
    this.loaded.catch(() => undefined)
    this.#persistence = new Persistence(
      storage,
      {
        ready: () => replica.ready,
        build: (unseen) => this.#buildSnapshot(unseen),
        onError,
        ...(onQuota === undefined ? {} : { onQuota }),
      },
      compaction,
    )
    replica.doc.on('update', this.#onUpdate)
  }

  /** Loads the stored state; resolves once reads can be answered (maybe before the document has loaded: see `loaded`). */
  async open(): Promise<void> {
    // Reusing the client id of a cleanly closed session keeps one replica per
    // tab rather than per page load: counters keep one contribution per
    // replica, and a replica's deleted entries merge into one run.
    this.replica.reuseClientId(await this.storage.claimClientId())
    const stored = await this.storage.loadSnapshot()
    if (stored === undefined || !this.replica.preload(stored.snapshot, stored.index)) {
      await this.#loadDocument()
      return
    }
    // The document loads in the background; `loaded` tells when it has.
    void this.#loadDocument().catch((cause) => this.onError(asTideKVError('STORAGE_FAILED', 'Loading the document failed', cause)))
  }

  /** Resolves once every update made before the call is durably stored. @throws TideKVError `STORAGE_FAILED` */
  async flush(): Promise<void> {
    if (!this.replica.ready) await this.loaded
    await this.#persistence.flush()
  }

  /** Stores the last updates, compacts, offers the client id for reuse, and releases storage. */
  async close(): Promise<void> {
    try {
      await this.flush()
      await this.#persistence.compactIfNeeded()
      // Everything made with this client id is stored: a later session may take it over.
      // At the quota it is not offered: a later session takes a new id, which is only a few bytes more.
      await this.storage.releaseClientId(this.replica.clientId).catch((error: unknown) => {
        if (!isQuotaError(error)) throw error
      })
    } finally {
      this.stop()
    }
  }

  /** Stops writing and releases storage at once (a failed open, or after `close`). */
  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    this.replica.doc.off('update', this.#onUpdate)
    this.#persistence.stop()
    this.storage.close()
  }

  #onUpdate = (update: Uint8Array, origin: unknown, _doc: Y.Doc, tr: Y.Transaction): void => {
    // Updates read from storage, or already stored by another tab, are not written again; but one
    // from a tab that integrated pending state (heard from elsewhere: stored by no tab) is.
    if (origin instanceof TransactionOrigin && (origin.kind === 'storage' || (origin.kind === 'tab' && !startedPending(tr)))) return
    this.#persistence.enqueue(update)
  }

  async #loadDocument(): Promise<void> {
    const doc = this.replica.doc
    try {
      const updates = await this.storage.loadUpdates()
      // Anything the app applied to the document (store.doc) before it loaded (items, or deletes
      // of stored items) may only integrate now, inside this transaction, which is not stored:
      // store it explicitly. (Tabs and sync start once the document has loaded.)
      const early = holdsState(doc)
      doc.transact(() => applyStored(doc, updates), this.#origin)
      if (early) {
        const v1 = updates.map(({ bytes, v2 }) => (v2 ? Y.convertUpdateFormatV2ToV1(bytes) : bytes))
        const stored = v1.length === 0 ? new Uint8Array([0]) : Y.encodeStateVectorFromUpdate(Y.mergeUpdates(v1))
        this.#persistence.enqueue(Y.encodeStateAsUpdate(doc, stored))
      }
      this.replica.adoptClientId()
      // More than one row, or one that is no V2 snapshot (an earlier release's): compact on close, so the
      // next open is fast. (One V2 snapshot the fast open cannot read stays as it is: compacting changes nothing.)
      if (updates.length > 1 || (updates.length === 1 && !updates[0]!.v2)) this.#persistence.markStale()
    } catch (cause) {
      const error = asTideKVError('STORAGE_FAILED', 'Loading the stored document failed', cause)
      this.#rejectLoaded(error)
      throw error
    }
    this.#markLoaded()
  }

  #markLoaded(): void {
    this.#resolveLoaded()
    this.replica.finishLoad()
    this.#persistence.resume()
  }

  #buildSnapshot(unseen: StoredUpdate[]): CompactionResult {
    if (!this.replica.ready) throw new TideKVError('STORAGE_FAILED', 'Cannot compact before the document has loaded')
    const doc = this.replica.doc
    if (unseen.length > 0) doc.transact(() => applyStored(doc, unseen), this.#origin)
    this.replica.commit()
    const snapshot = Y.encodeStateAsUpdateV2(doc)
    return { snapshot, index: indexOfSnapshot(snapshot) ?? new Uint8Array(0) }
  }
}

/** Applies stored updates, each in its format. */
function applyStored(doc: Y.Doc, updates: readonly StoredUpdate[]): void {
  for (const { bytes, v2 } of updates) {
    if (v2) Y.applyUpdateV2(doc, bytes)
    else Y.applyUpdate(doc, bytes)
  }
}
