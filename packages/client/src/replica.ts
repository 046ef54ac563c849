/**
 * One replica's machinery between the keyspace and the document: pending
 * writes and their commit (one Yjs transaction per tick), the observer that
 * folds other replicas' transactions into the keyspace, clean-up of entries
 * that lost, expiry, and watcher delivery. `Store` is the API in front of it.
 */
import * as Y from 'yjs'
import type { Transaction } from 'yjs'
import { DocLog } from './doc-log.js'
import { decodeEntry, decodeEntryKey, type Entry } from './entry.js'
import { TideKVError } from './errors.js'
import { HybridClock } from './hlc.js'
import { isLoser, Keyspace, type Slot, slotValue } from './keyspace.js'
import { changeOriginOf, TransactionOrigin } from './origins.js'
import type { SavedKeyspace } from './saved-keyspace.js'
import { cloneValue, type Value } from './value.js'
import { type ChangeOrigin, Watchers } from './watchers.js'

/** Expired keys removed from the document per commit or timer tick: bounded work. */
const SWEEP_BATCH = 1000
const MAX_TIMER_DELAY = 2 ** 31 - 1

export class Replica {
  readonly doc = new Y.Doc()
  readonly log = new DocLog(this.doc)
  readonly keyspace = new Keyspace()
  readonly watchers = new Watchers()
  readonly hlc: HybridClock
  /** The origin of this replica's own transactions. */
  readonly origin = new TransactionOrigin('local', this)
  /** The origin of transactions applying stored updates. */
  readonly storageOrigin = new TransactionOrigin('storage', this)
  /**
   * A client id reused from an earlier session, taken on once the stored
   * document has loaded (Yjs would take its own structs arriving through
   * `applyUpdate` for another client's and pick a new id).
   */
  reusedClientId: number | undefined = undefined
  /** False until the document has loaded: commits wait for it. */
  docReady = false
  batchDepth = 0

  private pendingInserts = new Set<Entry>()
  private pendingDeletes: Entry[] = []
  /** Slots holding entries that lost to a concurrent write: cleaned at the next commit. */
  private readonly dirty = new Set<Slot>()
  /** Keys written since the last commit, with their value before, for watchers. */
  private localChanges = new Map<string, Value | undefined>()
  private commitScheduled = false
  /** True between a fast open and the document load: saved entries await their items. */
  private preloading = false
  /** Saved entries replaced or deleted before the document loaded, by item id: their deletes await their items. */
  private readonly awaiting = new Map<number, Map<number, Entry>>()
  private sweepTimer: ReturnType<typeof setTimeout> | null = null
  private sweepDue = Infinity
  private stopped = false

  constructor(
    readonly clock: () => number,
    private readonly onError: (error: TideKVError) => void,
  ) {
    this.hlc = new HybridClock(clock)
    this.doc.on('afterTransaction', this.onTransaction)
  }

  /** The Yjs client id this replica writes with (its stamps' replica id). */
  get clientId(): number {
    return this.reusedClientId ?? this.doc.clientID
  }

  /** Takes on the reused client id: call once the stored document is in. */
  adoptClientId(): void {
    if (this.reusedClientId !== undefined) this.doc.clientID = this.reusedClientId
    this.reusedClientId = undefined
  }

  // ---- the local write path ----------------------------------------------

  /** Notes a key's visible value before a local change, if someone watches it. */
  noteLocal(slot: Slot): void {
    if (this.watchers.active && !this.localChanges.has(slot.key) && this.watchers.wants(slot.key)) {
      this.localChanges.set(slot.key, this.visible(slot, this.clock()))
    }
  }

  /** Makes `entry` the only entry of its key. */
  replace(entry: Entry): void {
    const slot = this.keyspace.ensure(entry.key)
    this.noteLocal(slot)
    this.retire(slot.entries)
    slot.entries = [entry]
    this.add(slot, entry)
  }

  /** Adds a counter contribution, replacing `own` (this replica's previous one). */
  contribute(slot: Slot, own: Entry | undefined, entry: Entry): void {
    this.noteLocal(slot)
    if (own !== undefined) {
      this.retire([own])
      slot.entries = slot.entries.filter((e) => e !== own)
    }
    slot.entries.push(entry)
    this.add(slot, entry)
  }

  /** Removes a key: every entry this replica has seen. */
  remove(slot: Slot): void {
    this.noteLocal(slot)
    this.retire(slot.entries)
    slot.entries = []
    this.keyspace.remove(slot)
    this.scheduleCommit()
  }

  /** Removes every key. */
  clear(): void {
    for (const slot of this.keyspace.all()) {
      this.noteLocal(slot)
      this.retire(slot.entries)
      slot.entries = []
    }
    this.keyspace.clear()
    this.scheduleCommit()
  }

  private add(slot: Slot, entry: Entry): void {
    this.pendingInserts.add(entry)
    this.keyspace.update(slot)
    this.scheduleCommit()
  }

  /** Queues removal of entries from the document (or drops them if never committed). */
  private retire(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.item !== null || e.client >= 0) {
        this.pendingDeletes.push(e)
        if (e.item === null && this.preloading) {
          let byClock = this.awaiting.get(e.client)
          if (byClock === undefined) this.awaiting.set(e.client, (byClock = new Map()))
          byClock.set(e.clock, e)
        }
      } else {
        this.pendingInserts.delete(e)
      }
    }
  }

  scheduleCommit(): void {
    if (this.commitScheduled || this.batchDepth > 0) return
    this.commitScheduled = true
    queueMicrotask(() => {
      this.commitScheduled = false
      if (this.batchDepth === 0) this.commit()
    })
  }

  /** Moves pending writes into the document in one transaction, then fires local watchers. */
  commit(): void {
    if (!this.docReady) return
    // Inside someone else's transaction (an app transacting on store.doc), our items would
    // take its origin and come back through the observer as foreign: commit after it ends.
    if (this.doc._transaction !== null) {
      this.doc.once('afterAllTransactions', () => this.commit())
      return
    }
    this.sweep(this.clock(), SWEEP_BATCH)
    for (const slot of this.dirty) this.dropLosers(slot)
    this.dirty.clear()
    if (this.pendingInserts.size > 0 || this.pendingDeletes.length > 0) {
      const inserts = this.pendingInserts
      const deletes = this.pendingDeletes
      this.pendingInserts = new Set()
      this.pendingDeletes = []
      this.doc.transact((tr) => this.log.write(tr, deletes, inserts), this.origin)
    }
    this.armSweep()
    if (this.localChanges.size > 0) {
      const changes = this.localChanges
      this.localChanges = new Map()
      this.report(changes, 'local')
    }
  }

  private dropLosers(slot: Slot): void {
    if (this.keyspace.get(slot.key) !== slot || !slot.hasLosers) return
    const losers = slot.entries.filter((e) => isLoser(slot, e))
    this.retire(losers)
    slot.entries = slot.entries.filter((e) => !losers.includes(e))
    this.keyspace.update(slot)
  }

  // ---- expiry --------------------------------------------------------------

  /** Removes up to `limit` expired keys (the document follows at the next commit); returns how many. */
  sweep(now: number, limit: number): number {
    const expiry = this.keyspace.expiry
    let n = 0
    while (n < limit && expiry.peek() <= now) {
      const key = expiry.pop()!
      const slot = this.keyspace.get(key)
      // The heap keeps stale entries of keys rewritten since: skip them.
      if (slot === undefined || slot.expiresAt === 0 || slot.expiresAt > now) continue
      // Watchers learn the value that expired, not the undefined a read gives now.
      if (this.watchers.active && !this.localChanges.has(key) && this.watchers.wants(key)) {
        this.localChanges.set(key, this.output(slot))
      }
      this.retire(slot.entries)
      slot.entries = []
      this.keyspace.remove(slot)
      n++
    }
    return n
  }

  /** One timer per store, set for the earliest expiry. */
  armSweep(): void {
    const due = this.keyspace.expiry.peek()
    if (due === this.sweepDue || this.stopped) return
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer)
    this.sweepTimer = null
    this.sweepDue = due
    if (due === Infinity) return
    const delay = Math.min(MAX_TIMER_DELAY, Math.max(0, due - this.clock()))
    const timer = setTimeout(() => {
      this.sweepTimer = null
      this.sweepDue = Infinity
      if (this.stopped) return
      if (this.sweep(this.clock(), SWEEP_BATCH) > 0) this.scheduleCommit()
      this.armSweep()
    }, delay)
    // In Node, a pending expiry must not keep the process alive.
    ;(timer as { unref?: () => void }).unref?.()
    this.sweepTimer = timer
  }

  // ---- changes from other replicas and from storage ----------------------

  private onTransaction = (tr: Transaction): void => {
    if (tr.origin === this.origin || !tr.changed.has(this.log.array)) return
    const now = this.clock()
    const before = this.watchers.active ? new Map<string, Value | undefined>() : null
    const note = (key: string): void => {
      if (before !== null && !before.has(key) && this.watchers.wants(key)) {
        const slot = this.keyspace.get(key)
        before.set(key, slot === undefined ? undefined : this.visible(slot, now))
      }
    }
    const touched = new Set<Slot>()
    this.log.forEachDeleted(tr, (item) => {
      const key = decodeEntryKey((item.content as Y.ContentBinary).content)
      const slot = key === undefined ? undefined : this.keyspace.get(key)
      if (slot === undefined) return
      const i = slot.entries.findIndex((e) => e.item === item)
      if (i < 0) return
      note(slot.key)
      slot.entries.splice(i, 1)
      touched.add(slot)
    })
    this.log.forEachAdded(tr, (item) => {
      if (this.preloading && this.attachPreloaded(item)) return
      let entry: Entry
      try {
        entry = decodeEntry((item.content as Y.ContentBinary).content, item.id.client, item.id.clock, true)
      } catch (error) {
        this.onError(error as TideKVError)
        return
      }
      entry.item = item
      this.hlc.observe(entry.stamp)
      note(entry.key)
      const slot = this.keyspace.ensure(entry.key)
      slot.entries.push(entry)
      touched.add(slot)
    })
    for (const slot of touched) {
      this.keyspace.update(slot)
      if (slot.hasLosers && slot.entries.length > 0) this.dirty.add(slot)
    }
    if (this.dirty.size > 0) this.scheduleCommit()
    this.armSweep()
    if (before !== null && before.size > 0) this.report(before, changeOriginOf(tr.origin))
  }

  private report(previous: Map<string, Value | undefined>, origin: ChangeOrigin): void {
    const now = this.clock()
    for (const [key, prev] of previous) {
      const slot = this.keyspace.get(key)
      const value = slot === undefined ? undefined : this.visible(slot, now)
      if (value === prev) continue
      this.watchers.emit({ key, value, previous: prev, origin }, (cause) =>
        this.onError(new TideKVError('WATCHER_FAILED', `A watcher of "${key}" threw`, { cause })),
      )
    }
  }

  // ---- loading -------------------------------------------------------------

  /** Fills the keyspace from a saved keyspace, before the document loads. */
  preload(saved: SavedKeyspace): void {
    this.hlc.observe(saved.maxStamp)
    this.keyspace.load(saved)
    this.preloading = true
    this.armSweep()
  }

  /** Links a loaded item to the saved entry with its id (or to its pending delete, if replaced since). */
  private attachPreloaded(item: Y.Item): boolean {
    const { client, clock } = item.id
    const key = decodeEntryKey((item.content as Y.ContentBinary).content)
    const slot = key === undefined ? undefined : this.keyspace.get(key)
    let entry = slot?.entries.find((e) => e.item === null && e.client === client && e.clock === clock)
    entry ??= this.awaiting.get(client)?.get(clock)
    if (entry === undefined) return false
    entry.item = item
    return true
  }

  /** The document has loaded: drop saved entries it does not hold (a stale save), then commit what waited. */
  finishLoad(): void {
    if (this.preloading) {
      for (const slot of this.keyspace.all()) {
        if (slot.entries.every((e) => e.item !== null || e.client < 0)) continue
        slot.entries = slot.entries.filter((e) => e.item !== null || e.client < 0)
        this.keyspace.update(slot)
      }
      this.pendingDeletes = this.pendingDeletes.filter((e) => e.item !== null)
      this.awaiting.clear()
      this.preloading = false
    }
    this.docReady = true
    this.commit()
  }

  // ---- reading slots -------------------------------------------------------

  /** The value a reader sees, or undefined when missing or expired. */
  visible(slot: Slot, now: number): Value | undefined {
    if (slot.expiresAt !== 0 && slot.expiresAt <= now) return undefined
    return this.output(slot)
  }

  /** The slot's value as handed out: values holding bytes are copied, since bytes cannot be frozen. */
  output(slot: Slot): Value | undefined {
    const value = slot.value !== undefined ? slot.value : slotValue(slot)
    return slot.base !== null && slot.base.binary && !slot.counter && value !== undefined ? cloneValue(value) : value
  }

  /** Stops timers and listeners; the document is destroyed. */
  stop(): void {
    this.stopped = true
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer)
    this.doc.off('afterTransaction', this.onTransaction)
    this.doc.destroy()
  }
}
