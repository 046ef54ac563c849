/**
 * The document side of the keyspace: the root `Y.Array` of entries.
 *
 * Writes use Yjs's exported `Item` API directly instead of `Y.Array.push`
 * and index deletes, which walk the list (O(n) per write). A new entry is
 * integrated right after the last entry this replica wrote (so a replica's
 * entries form one run whose deleted parts Yjs merges into a single struct:
 * history stays near the live size), and an overwritten entry is deleted
 * by its item. Position in the array means nothing to TideKV; only the
 * set of live entries does.
 *
 * Every use of Yjs's private API (underscored fields, the struct store)
 * lives in this file, so a Yjs upgrade touches one place.
 */
import * as Y from 'yjs'
import { ContentBinary, createID, getItemCleanEnd, getState, Item, iterateDeletedStructs, type Transaction } from 'yjs'
import { type Entry, LOG_NAME } from './entry.js'

/**
 * The entries of one transaction are copied into shared buffers of up to this
 * many bytes, each entry a view into one: a small `Uint8Array` with a buffer
 * of its own costs ~240 B of heap for ~50 B of data, a view ~100 B. Entries
 * from other replicas are views too (into the update they came in, whole);
 * the cap bounds what one long-lived entry keeps alive of its neighbours.
 */
const SHARED_BUFFER_BYTES = 8192

export class DocLog {
  readonly array: Y.Array<Uint8Array>
  /** The last item this replica integrated: the next one goes right after it. */
  #tail: Item | null = null

  constructor(readonly doc: Y.Doc) {
    this.array = doc.getArray<Uint8Array>(LOG_NAME)
  }

  /** Deletes the items of `deletes` and appends `inserts`, inside transaction `tr`. */
  write(tr: Transaction, deletes: readonly Entry[], inserts: Iterable<Entry>): void {
    for (const e of deletes) {
      const item = e.item
      if (item !== null && !item.deleted) item.delete(tr)
    }
    const client = this.doc.clientID
    let clock = getState(this.doc.store, client)
    let left = this.#resolveTail(tr)
    const right = left === null ? this.array._start : left.right
    const entries = [...inserts]
    if (entries.length > 1) shareBuffers(entries)
    for (const e of entries) {
      const item = new Item(
        createID(client, clock),
        left,
        left === null ? null : left.lastId,
        right,
        right === null ? null : right.id,
        this.array,
        null,
        new ContentBinary(e.bytes),
      )
      item.integrate(tr, 0)
      e.item = item
      e.clock = clock
      e.replica = client // and so e.client
      clock++
      left = item
    }
    this.#tail = left
    // Search markers speed up index access by other code on this array; we moved
    // items without updating them, so drop them (they are rebuilt on demand).
    const markers = this.array._searchMarker
    if (markers !== null) markers.length = 0
  }

  /** Calls `fn` for every live entry item that transaction `tr` added, with the entry's bytes. */
  forEachAdded(tr: Transaction, fn: (item: Item, bytes: Uint8Array) => void): void {
    const clients = this.doc.store.clients
    tr.afterState.forEach((after, client) => {
      const before = tr.beforeState.get(client) ?? 0
      if (after <= before) return
      const structs = clients.get(client)
      if (structs === undefined) return
      for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
        const s = structs[i]
        if (s instanceof Item && !s.deleted && s.parent === this.array && s.content instanceof ContentBinary) fn(s, s.content.content)
      }
    })
  }

  /** Calls `fn` for every entry item that transaction `tr` deleted, with the entry's bytes (still readable). */
  forEachDeleted(tr: Transaction, fn: (item: Item, bytes: Uint8Array) => void): void {
    iterateDeletedStructs(tr, tr.deleteSet, (s) => {
      if (s instanceof Item && s.parent === this.array && s.content instanceof ContentBinary) fn(s, s.content.content)
    })
  }

  #resolveTail(tr: Transaction): Item | null {
    const tail = this.#tail
    if (tail === null || !tail.deleted) return tail
    // A deleted tail may have been merged into its left neighbour by Yjs's
    // clean-up, leaving this object detached; look up what holds its id now.
    const found = getItemCleanEnd(tr, this.doc.store, tail.lastId)
    return found instanceof Item && found.parent === this.array ? found : null
  }
}

/** Whether a transaction on `doc` is running (an app's, say, on `store.doc`). */
export function inTransaction(doc: Y.Doc): boolean {
  return doc._transaction !== null
}

/** Calls `fn` as soon as the running transactions on `doc` have ended (at once when none runs). */
export function afterTransactions(doc: Y.Doc, fn: () => void): void {
  if (doc._transaction === null) fn()
  else doc.once('afterAllTransactions', fn)
}

/** The key of a transaction's `meta` that says Yjs held pending state when the transaction began. */
const STARTED_PENDING = 'tidekv:startedPending'

/**
 * Marks every transaction of `doc` that begins while Yjs holds pending
 * structs or deletes (heard before what they build on): such a transaction
 * may integrate them, so its update carries state that its origin did not
 * send. A listener that skips updates by origin, because their source has
 * them already (storage, another tab), must not skip these.
 */
export function markPendingTransactions(doc: Y.Doc): void {
  doc.on('beforeTransaction', (tr: Transaction) => {
    if (holdsPending(doc)) tr.meta.set(STARTED_PENDING, true)
  })
}

/** Whether `tr` began while Yjs held pending state (see `markPendingTransactions`). */
export function startedPending(tr: Transaction): boolean {
  return tr.meta.get(STARTED_PENDING) === true
}

/**
 * Whether `doc` holds any state: integrated structs, structs pending on
 * missing ones, or deletes of items it does not have yet (Yjs applies those
 * inside the next transaction that brings the items, such as a load).
 */
export function holdsState(doc: Y.Doc): boolean {
  return Y.decodeStateVector(Y.encodeStateVector(doc)).size > 0 || holdsPending(doc)
}

/** Whether Yjs holds structs or deletes of `doc` that wait for what they build on. */
function holdsPending(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null
}

/** Moves the entries' bytes into shared buffers of up to SHARED_BUFFER_BYTES (a larger entry keeps its own). */
function shareBuffers(entries: readonly Entry[]): void {
  let start = 0
  while (start < entries.length) {
    let end = start
    let size = 0
    while (end < entries.length && size + entries[end]!.bytes.length <= SHARED_BUFFER_BYTES) size += entries[end++]!.bytes.length
    if (end - start > 1) {
      const buffer = new Uint8Array(size)
      let offset = 0
      for (let i = start; i < end; i++) {
        const e = entries[i]!
        buffer.set(e.bytes, offset)
        e.bytes = buffer.subarray(offset, offset + e.bytes.length)
        offset += e.bytes.length
      }
    }
    start = Math.max(end, start + 1)
  }
}
