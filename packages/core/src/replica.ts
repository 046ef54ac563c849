/**
 * One replica's machinery between the keyspace and the document: pending
 * writes and their commit (one Yjs transaction per tick), the observer that
 * folds other replicas' transactions into the keyspace, clean-up of entries
 * that lost, expiry, and watcher delivery. `DocStore` is the API in front of it.
 */
import * as Y from 'yjs'
import type { Transaction } from 'yjs'
import { afterTransactions, DocLog, inTransaction, markPendingTransactions } from './layout/doc-log.js'
import { type Entry, StructType } from './layout/entry.js'
import { decodeEntry, decodeEntryAddress } from './layout/entry-codec.js'
import { asTideKVError, TideKVError } from './errors.js'
import { compareStamps, HybridClock } from './layout/hlc.js'
import { Keyspace, placeEntry, slotValue, structureOf } from './keyspace/keyspace.js'
import { addEntry, entriesOf, entryCount, filterEntries, isLoser, type MemberSlot, NO_ENTRIES, type Slot } from './keyspace/slot.js'
import { type Structure, StructureVersion, TYPE_NAMES } from './keyspace/structure.js'
import { changeOriginOf, TransactionOrigin } from './origins.js'
import { keysOfSnapshot } from './keyspace/snapshot-keyspace.js'
import { findIn, holderOf } from './keyspace/entry-holder.js'
import { PreloadedEntries } from './keyspace/preloaded-entries.js'
import { countedBytes, liveBytes } from './keyspace/slot-bytes.js'
import { cloneValue, type Value } from './layout/value.js'
import { type ChangeOrigin, type KeyType, Watchers } from './watchers.js'

/** Expired keys removed from the document per commit or timer tick: bounded work. */
const SWEEP_BATCH = 1000
const MAX_TIMER_DELAY = 2 ** 31 - 1

/** What watchers compare for a key: a plain key's value, a structure's current version (never handed out), or undefined. */
type Watched = Value | StructureVersion | undefined

export class Replica {
  readonly doc = new Y.Doc()
  readonly log = new DocLog(this.doc)
  private readonly keyspace = new Keyspace()
  readonly watchers = new Watchers()
  readonly hlc: HybridClock
  /** The origin of this replica's own transactions. */
  readonly origin = new TransactionOrigin('local', this)
  /**
   * A client id reused from an earlier session, taken on once the stored
   * document has loaded (Yjs would take its own structs arriving through
   * `applyUpdate` for another client's and pick a new id).
   */
  #reusedClientId: number | undefined = undefined
  /** False until the document has loaded: commits wait for it. */
  #docReady = false
  #batchDepth = 0
  /**
   * Called before a local write adds `added` bytes of entries to `key`,
   * replacing `replaced` bytes of its entries ('key': all of them). A cache
   * store refuses a write over its budget here (by throwing), before anything
   * changed.
   */
  admit: ((key: string, added: number, replaced: number | 'key') => void) | null = null
  /** Called after a key's entries changed, whatever the origin: the bytes of its live entries (0: gone) and its expiry. */
  keyChanged: ((key: string, bytes: number, expiresAt: number) => void) | null = null
  /** Called when every key left at once (`clear`). */
  keysCleared: (() => void) | null = null

  /** The keys this replica may write, under a token's write rules (null: all); see `#retireOne`. */
  mayWrite: ((key: string) => boolean) | null = null

  #pendingInserts = new Set<Entry>()
  #pendingDeletes: Entry[] = []
  /** Slots holding entries that lost to a concurrent write: cleaned at the next commit. */
  readonly #dirty = new Set<Slot>()
  /** Member slots holding entries that lost (concurrent writes to one field or member). */
  readonly #dirtyMembers = new Set<MemberSlot>()
  /** Keys written since the last commit, with their value before, for watchers. */
  #localChanges = new Map<string, Watched>()
  #commitScheduled = false
  /** Between a fast open and the document load: the saved entries, which await their items. */
  #preloaded: PreloadedEntries | null = null
  #sweepTimer: ReturnType<typeof setTimeout> | null = null
  #sweepDue = Infinity
  #stopped = false

  constructor(
    readonly clock: () => number,
    private readonly onError: (error: TideKVError) => void,
  ) {
    this.hlc = new HybridClock(clock)
    // Storage and the tab channel skip updates by origin, except those that integrated pending state.
    markPendingTransactions(this.doc)
    this.doc.on('afterTransaction', this.#onTransaction)
    this.keyspace.onChange = (slot, removed) => this.keyChanged?.(slot.key, removed ? 0 : countedBytes(slot), removed ? 0 : slot.expiresAt)
    this.keyspace.onClear = () => this.keysCleared?.()
  }

  /** Calls `fn` with every key, the bytes of its live entries and its expiry (O(n): decodes saved keys). */
  forEachKeyBytes(fn: (key: string, bytes: number, expiresAt: number) => void): void {
    for (const slot of this.keyspace.all()) fn(slot.key, liveBytes(slot), slot.expiresAt)
  }

  /** The Yjs client id this replica writes with (its stamps' replica id). */
  get clientId(): number {
    return this.#reusedClientId ?? this.doc.clientID
  }

  /** Writes with `id` (a client id released by an earlier session) once the stored document has loaded. */
  reuseClientId(id: number | undefined): void {
    this.#reusedClientId = id
  }

  /** Whether the document has loaded (`finishLoad`): until then writes wait in the keyspace. */
  get ready(): boolean {
    return this.#docReady
  }

  /** Takes on the reused client id: call once the stored document is in. */
  adoptClientId(): void {
    if (this.#reusedClientId !== undefined) this.doc.clientID = this.#reusedClientId
    this.#reusedClientId = undefined
  }

  // ---- the local write path ----------------------------------------------

  /** Notes a key's visible value before a local change, if someone watches it. */
  noteLocal(slot: Slot): void {
    if (this.watchers.active && !this.#localChanges.has(slot.key) && this.watchers.wants(slot.key)) {
      this.#localChanges.set(slot.key, this.#watchValue(slot, this.clock()))
    }
  }

  /** Makes `entry` (a plain entry) the only entry of its key, whatever the key held. */
  replace(entry: Entry): void {
    this.admit?.(entry.key, entry.bytes.length, 'key')
    const slot = this.keyspace.ensure(entry.key)
    this.noteLocal(slot)
    this.#retireAll(slot)
    slot.entries = entry
    this.#add(slot, entry)
  }

  /**
   * The structure of `type` at `key`, for a write: when the key holds
   * nothing live (missing, expired, or only garbage), whatever it held is
   * removed first and a new structure starts. The caller has checked the type
   * and its input (a key slot left empty would linger until the next update).
   */
  openStructure(key: string, type: StructType): Structure {
    const slot = this.keyspace.ensure(key)
    this.noteLocal(slot)
    if (this.typeOf(slot, this.clock()) === 'none') {
      this.#retireAll(slot)
      slot.expiresAt = 0
    }
    return structureOf(slot, type, true)!
  }

  /** Writes a member's value entry, replacing every entry the member had (a field set, a member added, an element set). `ord`: see `Structure.member`. */
  setMember(struct: Structure, entry: Entry, ord?: number[]): void {
    if (this.admit !== null) {
      const old = struct.members.get(entry.member!)
      let replaced = 0
      if (old !== undefined) for (const e of entriesOf(old)) replaced += e.bytes.length
      this.admit(struct.slot.key, entry.bytes.length, replaced)
    }
    const member = struct.member(entry.member!, ord)
    this.noteLocal(struct.slot)
    this.#retire(entriesOf(member))
    member.entries = entry
    this.#pendingInserts.add(entry)
    this.#memberChanged(member)
  }

  /** Adds a member's counter contribution, replacing `own` (this replica's previous one on the same base). */
  contributeMember(struct: Structure, own: Entry | undefined, entry: Entry): void {
    this.admit?.(struct.slot.key, entry.bytes.length, own?.bytes.length ?? 0)
    const member = struct.member(entry.member!)
    this.noteLocal(struct.slot)
    if (own !== undefined) {
      this.#retire([own])
      filterEntries(member, (e) => e !== own)
    }
    addEntry(member, entry)
    this.#pendingInserts.add(entry)
    this.#memberChanged(member)
  }

  /** Removes a member (every entry of it this replica has seen); the last one takes the key with it. */
  removeMember(member: MemberSlot): void {
    const struct = member.owner
    this.noteLocal(struct.slot)
    this.#retire(entriesOf(member))
    member.entries = NO_ENTRIES
    this.#memberChanged(member)
  }

  /** Replaces a structure's meta entries with `entry` (its new expiry). */
  setMeta(struct: Structure, entry: Entry): void {
    this.admit?.(
      struct.slot.key,
      entry.bytes.length,
      struct.metas.reduce((n, m) => n + m.bytes.length, 0),
    )
    this.noteLocal(struct.slot)
    this.#retire(struct.metas)
    struct.metas = [entry]
    this.#pendingInserts.add(entry)
    this.keyspace.update(struct.slot)
    this.scheduleCommit()
  }

  #memberChanged(member: MemberSlot): void {
    const struct = member.owner
    struct.refresh(member)
    // An emptied structure is no more (as in Redis): its metas go too.
    if (struct.members.size === 0 && struct.metas.length > 0) {
      this.#retire(struct.metas)
      struct.metas = []
    }
    this.keyspace.update(struct.slot)
    this.scheduleCommit()
  }

  /** Queues removal of every entry of a key: plain, metas and members. */
  #retireAll(slot: Slot): void {
    this.#retire(entriesOf(slot))
    slot.entries = NO_ENTRIES
    if (slot.structs !== null) {
      for (const struct of slot.structs) {
        struct.forEachEntry((e) => this.#retireOne(e))
        struct.metas = []
        struct.clear()
      }
      slot.structs = null
    }
    slot.winner = null
  }

  /** Adds a counter contribution, replacing `own` (this replica's previous one). */
  contribute(slot: Slot, own: Entry | undefined, entry: Entry): void {
    this.admit?.(slot.key, entry.bytes.length, own?.bytes.length ?? 0)
    this.noteLocal(slot)
    if (own !== undefined) {
      this.#retire([own])
      filterEntries(slot, (e) => e !== own)
    }
    addEntry(slot, entry)
    this.#add(slot, entry)
  }

  /** Removes a key: every entry this replica has seen. */
  remove(slot: Slot): void {
    this.noteLocal(slot)
    this.#retireAll(slot)
    this.keyspace.remove(slot)
    this.scheduleCommit()
  }

  /** Removes every key (every key `mayWrite` allows, when set). */
  clear(): void {
    const mayWrite = this.mayWrite
    if (mayWrite === null) {
      for (const slot of this.keyspace.all()) {
        this.noteLocal(slot)
        this.#retireAll(slot)
      }
      this.keyspace.clear()
    } else {
      for (const slot of this.keyspace.all()) if (mayWrite(slot.key)) this.remove(slot)
    }
    this.scheduleCommit()
  }

  #add(slot: Slot, entry: Entry): void {
    this.#pendingInserts.add(entry)
    this.keyspace.update(slot)
    this.scheduleCommit()
  }

  /** Queues removal of entries from the document (or drops them if never committed). */
  #retire(entries: readonly Entry[]): void {
    for (const e of entries) this.#retireOne(e)
  }

  #retireOne(e: Entry): void {
    if (e.item !== null || e.client >= 0) {
      // Clean-up of a key this replica may not write (a loser, an expired key) is left to replicas
      // that may: the relay would refuse the whole transaction. Its own writes were checked before.
      if (this.mayWrite !== null && !this.mayWrite(e.key)) return
      this.#pendingDeletes.push(e)
      if (e.item === null) this.#preloaded?.retired(e)
    } else {
      this.#pendingInserts.delete(e)
    }
  }

  /** Runs `fn` with commits held back, then commits everything it wrote as one transaction. */
  batch<T>(fn: () => T): T {
    this.#batchDepth++
    try {
      return fn()
    } finally {
      this.#batchDepth--
      if (this.#batchDepth === 0) this.commit()
    }
  }

  scheduleCommit(): void {
    if (this.#commitScheduled || this.#batchDepth > 0) return
    this.#commitScheduled = true
    queueMicrotask(() => {
      this.#commitScheduled = false
      if (this.#batchDepth === 0) this.commit()
    })
  }

  /** Moves pending writes into the document in one transaction, then fires local watchers. */
  commit(): void {
    if (!this.#docReady) return
    // Inside someone else's transaction (an app transacting on store.doc), our items would
    // take its origin and come back through the observer as foreign: commit after it ends.
    if (inTransaction(this.doc)) {
      afterTransactions(this.doc, () => this.commit())
      return
    }
    this.sweep(this.clock(), SWEEP_BATCH)
    this.settle()
    if (this.#pendingInserts.size > 0 || this.#pendingDeletes.length > 0) {
      const inserts = this.#pendingInserts
      const deletes = this.#pendingDeletes
      this.#pendingInserts = new Set()
      this.#pendingDeletes = []
      this.doc.transact((tr) => this.log.write(tr, deletes, inserts), this.origin)
    }
    this.armSweep()
    if (this.#localChanges.size > 0) {
      const changes = this.#localChanges
      this.#localChanges = new Map()
      this.#report(changes, 'local')
    }
  }

  /** Drops the entries that lost from the keyspace now (their deletes reach the document at the next commit). */
  settle(): void {
    if (this.#dirty.size === 0 && this.#dirtyMembers.size === 0) return
    for (const member of this.#dirtyMembers) this.#dropMemberLosers(member)
    this.#dirtyMembers.clear()
    for (const slot of this.#dirty) this.#dropLosers(slot)
    this.#dirty.clear()
    this.scheduleCommit()
  }

  #dropLosers(slot: Slot): void {
    if (this.keyspace.get(slot.key) !== slot || !slot.hasLosers) return
    const winner = slot.winner
    // A structure won over plain entries (or lost to them, or to another structure): the losing type goes whole.
    const losers = winner !== null ? entriesOf(slot) : entriesOf(slot).filter((e) => isLoser(slot, e))
    this.#retire(losers)
    filterEntries(slot, (e) => !losers.includes(e))
    if (slot.structs !== null) {
      for (const struct of slot.structs) {
        if (struct === winner && struct.members.size > 0) {
          // Only the newest meta counts (Structure.expiry): the others lost to it.
          const newest = struct.metas.reduce<Entry | null>((n, m) => (n === null || compareStamps(m.stamp, n.stamp) > 0 ? m : n), null)
          const stale = struct.metas.filter((m) => m !== newest)
          if (stale.length > 0) {
            this.#retire(stale)
            struct.metas = newest === null ? [] : [newest]
          }
          continue
        }
        struct.forEachEntry((e) => this.#retireOne(e))
        struct.metas = []
        struct.clear()
      }
    }
    this.keyspace.update(slot)
  }

  #dropMemberLosers(member: MemberSlot): void {
    const struct = member.owner
    const slot = struct.slot
    if (this.keyspace.get(slot.key) !== slot || struct.members.get(member.key) !== member || !member.hasLosers) return
    const losers = entriesOf(member).filter((e) => isLoser(member, e))
    this.#retire(losers)
    filterEntries(member, (e) => !losers.includes(e))
    struct.refresh(member)
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
      if (this.watchers.active && !this.#localChanges.has(key) && this.watchers.wants(key)) {
        this.#localChanges.set(key, this.#watchValue(slot, -Infinity)) // read as before it expired
      }
      this.#retireAll(slot)
      this.keyspace.remove(slot)
      n++
    }
    return n
  }

  /** One timer per store, set for the earliest expiry. */
  armSweep(): void {
    const due = this.keyspace.expiry.peek()
    if (due === this.#sweepDue || this.#stopped) return
    if (this.#sweepTimer !== null) clearTimeout(this.#sweepTimer)
    this.#sweepTimer = null
    this.#sweepDue = due
    if (due === Infinity) return
    const delay = Math.min(MAX_TIMER_DELAY, Math.max(0, due - this.clock()))
    const timer = setTimeout(() => {
      this.#sweepTimer = null
      this.#sweepDue = Infinity
      if (this.#stopped) return
      if (this.sweep(this.clock(), SWEEP_BATCH) > 0) this.scheduleCommit()
      this.armSweep()
    }, delay)
    // In Node, a pending expiry must not keep the process alive.
    // reason: the handle is a number in browsers (no unref: the optional call skips it) and a Timeout object in Node
    ;(timer as { unref?: () => void }).unref?.()
    this.#sweepTimer = timer
  }

  // ---- changes from other replicas and from storage ----------------------

  #onTransaction = (tr: Transaction): void => {
    if (tr.origin === this.origin || !tr.changed.has(this.log.array)) return
    const now = this.clock()
    const before = this.watchers.active ? new Map<string, Watched>() : null
    const note = (key: string): void => {
      if (before !== null && !before.has(key) && this.watchers.wants(key)) {
        const slot = this.keyspace.get(key)
        before.set(key, slot === undefined ? undefined : this.#watchValue(slot, now))
      }
    }
    const touched = new Set<Slot>()
    const members = new Set<MemberSlot>()
    this.log.forEachDeleted(tr, (item, bytes) => {
      const address = decodeEntryAddress(bytes)
      if (address === undefined) return
      const slot = this.keyspace.get(address.key)
      if (slot === undefined) return
      const holder = holderOf(slot, address)
      if (holder === undefined) return
      const entry = findIn(holder, (e) => e.item === item)
      if (entry === undefined) return
      note(slot.key)
      if ('metas' in holder) holder.metas.splice(holder.metas.indexOf(entry), 1)
      else filterEntries(holder.slot, (e) => e !== entry)
      if (holder.member !== null) members.add(holder.member)
      touched.add(slot)
    })
    this.log.forEachAdded(tr, (item, bytes) => {
      if (this.#preloaded?.attach(item, bytes) === true) return
      let entry: Entry
      try {
        entry = decodeEntry(bytes, item.id.client, item.id.clock, true)
      } catch (error) {
        this.onError(asTideKVError('INVALID_ENTRY', 'Ignored an invalid entry', error))
        return
      }
      entry.item = item
      this.hlc.observe(entry.stamp)
      note(entry.key)
      const slot = this.keyspace.ensure(entry.key)
      const member = placeEntry(slot, entry)
      if (member !== null) members.add(member)
      touched.add(slot)
    })
    for (const member of members) {
      member.owner.refresh(member)
      if (member.hasLosers && entryCount(member) > 1) this.#dirtyMembers.add(member)
    }
    for (const slot of touched) {
      this.keyspace.update(slot)
      if (slot.hasLosers && this.keyspace.get(slot.key) === slot) this.#dirty.add(slot)
    }
    if (this.#dirty.size > 0 || this.#dirtyMembers.size > 0) this.scheduleCommit()
    this.armSweep()
    if (before !== null && before.size > 0) this.#report(before, changeOriginOf(tr.origin))
  }

  #report(previous: Map<string, Watched>, origin: ChangeOrigin): void {
    const now = this.clock()
    for (const [key, prev] of previous) {
      const slot = this.keyspace.get(key)
      const value = slot === undefined ? undefined : this.#watchValue(slot, now)
      if (value === prev) continue
      const type = slot === undefined ? 'none' : this.typeOf(slot, now)
      const visible = (v: Watched): Value | undefined => (v instanceof StructureVersion ? undefined : v)
      const change = { key, type, value: visible(value), previous: visible(prev), origin }
      this.watchers.emit(change, (cause) => this.onError(new TideKVError('WATCHER_FAILED', `A watcher of "${key}" threw`, { cause })))
    }
  }

  // ---- loading -------------------------------------------------------------

  /**
   * Fills the keyspace from a compaction snapshot (a V2 update, with its
   * index: see `indexOfSnapshot`) before the document loads; false when it
   * cannot be read that way (load the document instead).
   */
  preload(snapshot: Uint8Array, index?: Uint8Array): boolean {
    const saved = keysOfSnapshot(snapshot, index)
    if (saved === undefined) return false
    this.hlc.observe(saved.maxStamp)
    this.keyspace.load(saved)
    for (const key of saved.resolveNow) {
      const slot = this.keyspace.get(key) // decodes and resolves it
      if (slot !== undefined && slot.expiresAt > 0) this.keyspace.expiry.push(slot.expiresAt, key)
    }
    this.#preloaded = new PreloadedEntries(this.keyspace)
    this.armSweep()
    return true
  }

  // ---- reading the keyspace ------------------------------------------------

  /** The slot of `key` with its entries decoded, if it has one. */
  slot(key: string): Slot | undefined {
    return this.keyspace.get(key)
  }

  /** The slot of `key`, its entries possibly still encoded: enough for a value. */
  peek(key: string): Slot | undefined {
    return this.keyspace.peek(key)
  }

  /** How many keys there are, expired ones included until swept. */
  get keyCount(): number {
    return this.keyspace.size
  }

  /** Visits keys in order from `from` (excluded when `exclusive`) until `visit` returns false: O(log n + k). */
  scanKeys(from: string, exclusive: boolean, visit: (key: string, slot: Slot) => boolean): void {
    this.keyspace.index.scan(from, exclusive, (key) => visit(key, this.keyspace.peek(key)!))
  }

  /** The document has loaded: drop saved entries it does not hold (a stale save), then commit what waited. */
  finishLoad(): void {
    if (this.#preloaded !== null) {
      this.#preloaded.finish()
      // Deletes of saved entries the document turned out not to hold: nothing to delete.
      this.#pendingDeletes = this.#pendingDeletes.filter((e) => e.item !== null)
      this.#preloaded = null
    }
    this.#docReady = true
    this.commit()
  }

  // ---- reading slots -------------------------------------------------------

  /** What a key holds now: a structure's type, 'string' or 'counter' for a plain value, 'none' when missing or expired. */
  typeOf(slot: Slot, now: number): KeyType {
    if (slot.expiresAt !== 0 && slot.expiresAt <= now) return 'none'
    const value = slotValue(slot)
    const winner = slot.winner
    // reason: a Structure is made only for member and meta entries, whose type decodeEntry checked is HASH..STREAM (never PLAIN)
    if (winner !== null) return winner.members.size > 0 ? TYPE_NAMES[winner.type as keyof typeof TYPE_NAMES] : 'none'
    if (value === undefined) return 'none'
    return slot.counter ? 'counter' : 'string'
  }

  /** What watchers compare: the visible value of a plain key, a marker for a structure. */
  #watchValue(slot: Slot, now: number): Watched {
    const type = this.typeOf(slot, now)
    if (type === 'none') return undefined
    return type === 'string' || type === 'counter' ? this.output(slot) : slot.winner!.token
  }

  /** The value a reader sees, or undefined when missing or expired (and for structures). */
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
    this.#stopped = true
    if (this.#sweepTimer !== null) clearTimeout(this.#sweepTimer)
    this.doc.off('afterTransaction', this.#onTransaction)
    this.doc.destroy()
  }
}
