/**
 * A loaded room's link to the other relays that serve it: it announces each
 * update this relay stores (with its seq) on the bus, applies the ones other
 * relays announce, and catches up from storage when it may have missed some.
 *
 * An update from this relay's clients is announced twice: as PENDING (the
 * update, with a number of this relay's, `ref`) when the room sends it to its
 * own clients, before it is stored, so other relays' clients get it as soon
 * as this relay's do; then as STORED (`ref` and the seq storage gave it),
 * which a relay that applied the PENDING counts like an update with that
 * seq. A STORED whose PENDING never arrived is a gap like any other. Updates
 * stored without a PENDING before (a repair, the first snapshot) go out as
 * UPDATE, with their bytes and seq.
 *
 * Which seqs the room's document holds is tracked as a watermark (every seq
 * up to it is in the document) plus the seqs seen above it. A seq that jumps
 * past the watermark means an announcement was lost, or is late: if the gap
 * is still open `CATCH_UP_MS` later, the room reads everything after the
 * watermark with `loadSince` and applies it (Yjs ignores what it already
 * has). So does a bus that reports a gap (its connection dropped). The
 * watermark is also how far the room may compact: never past an update it
 * has not applied, or a compaction would drop it.
 */
import type { RelayBus } from './bus.js'
import { type BusMessage, decodeBusMessage, encodeBusAwareness, encodeBusPending, encodeBusPublish, encodeBusStored, encodeBusUpdate } from './bus-message.js'
import type { RelayStorage } from './storage.js'

/** How long a seq gap may stay open before the room reads what it missed from storage. */
const CATCH_UP_MS = 100
/** PENDING announcements remembered while their STORED is due; past this many the oldest are forgotten (their STORED then reads as a gap). */
const MAX_PENDING = 10_000
/** How long `confirmed()` waits for the STOREDs of the PENDINGs applied so far. */
const CONFIRM_MS = 1_000

/** Announcements held until the room has loaded. */
type Announced = Exclude<BusMessage, { kind: 'awareness' } | { kind: 'publish' }>

export interface RoomFeedOptions {
  readonly room: string
  readonly bus: RelayBus
  readonly storage: RelayStorage
  /** This relay's id: its own announcements come back and are skipped. */
  readonly relayId: string
  /** Applies an update another relay stored (sent to this relay's clients, not stored again). */
  readonly apply: (update: Uint8Array) => void
  /** Applies presence changes of another relay's clients. */
  readonly applyPresence: (relay: string, update: Uint8Array) => void
  /** Delivers a pub/sub message another relay's client published (a PUBLISH frame). */
  readonly applyPublish: (frame: Uint8Array) => void
  readonly onError: (error: unknown) => void
}

export class RoomFeed {
  #watermark = 0
  readonly #ahead = new Set<number>()
  #timer: ReturnType<typeof setTimeout> | null = null
  #catchingUp: Promise<void> | null = null
  #unsubscribe: (() => Promise<void>) | null = null
  /** Announcements that arrive before the room has loaded, applied once it has. */
  #early: Announced[] | null = []
  #closed = false
  /** This relay's last PENDING ref. */
  #ref = 0
  /** Other relays' PENDING updates applied here, `<relay> <ref>`, until their STORED comes. */
  readonly #pending = new Set<string>()
  /** A STORED came for an update not applied here: everything up to this seq must be read from storage. */
  #missingUpTo = 0
  /** Callers of `confirmed()`: the PENDINGs they wait on, and how to answer. */
  readonly #confirming = new Set<{ keys: Set<string>; answer: (all: boolean) => void }>()

  constructor(private readonly options: RoomFeedOptions) {}

  /** Every seq up to this one is in the room's document: the room may compact up to it. */
  get watermark(): number {
    return this.#watermark
  }

  /** Subscribes; call before loading the room, so nothing announced meanwhile is missed. */
  async subscribe(): Promise<void> {
    this.#unsubscribe = await this.options.bus.subscribe(this.options.room, (message) => this.#receive(message))
  }

  /** The room has loaded everything up to `lastSeq`: apply what was announced meanwhile. */
  start(lastSeq: number): void {
    this.#watermark = lastSeq
    const early = this.#early ?? []
    this.#early = null
    for (const announced of early) this.#take(announced)
  }

  /** Tells the other relays of an update of this relay's clients before it is stored; returns its ref, for `stored`. */
  announce(update: Uint8Array): number {
    const ref = ++this.#ref
    this.options.bus.publish(this.options.room, encodeBusPending(this.options.relayId, ref, update)).catch(this.options.onError)
    return ref
  }

  /** This relay stored `update` as `seq`: count it, and tell the other relays (by `ref` if it was announced). */
  stored(seq: number, update: Uint8Array, ref?: number): void {
    this.#see(seq)
    const message = ref === undefined ? encodeBusUpdate(this.options.relayId, seq, update) : encodeBusStored(this.options.relayId, ref, seq)
    this.options.bus.publish(this.options.room, message).catch(this.options.onError)
  }

  /** Tells the other relays of a pub/sub message of this relay's clients (a PUBLISH frame), for their subscribers. */
  publish(frame: Uint8Array): void {
    this.options.bus.publish(this.options.room, encodeBusPublish(this.options.relayId, frame)).catch(this.options.onError)
  }

  /** Tells the other relays of presence changes of this relay's clients. */
  presence(update: Uint8Array): void {
    this.options.bus.publish(this.options.room, encodeBusAwareness(this.options.relayId, update)).catch(this.options.onError)
  }

  /**
   * Resolves true once every PENDING applied so far has its STORED (what
   * other relays' clients sent is then all in storage), false if one is still
   * missing after CONFIRM_MS (its relay may have died before storing it).
   */
  confirmed(): Promise<boolean> {
    if (this.#pending.size === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const waiter = {
        keys: new Set(this.#pending),
        answer: (all: boolean) => {
          clearTimeout(timer)
          this.#confirming.delete(waiter)
          resolve(all)
        },
      }
      const timer = setTimeout(() => waiter.answer(false), CONFIRM_MS)
      timer.unref?.()
      this.#confirming.add(waiter)
    })
  }

  /** The bus may have lost messages: read what this room lacks from storage now. */
  catchUp(): Promise<void> {
    if (this.#closed || this.#early !== null) return Promise.resolve()
    this.#catchingUp ??= this.#readMissed().finally(() => (this.#catchingUp = null))
    return this.#catchingUp
  }

  async close(): Promise<void> {
    this.#closed = true
    for (const waiter of this.#confirming) waiter.answer(false)
    if (this.#timer !== null) clearTimeout(this.#timer)
    await this.#catchingUp
    await this.#unsubscribe?.()
  }

  #receive(message: Uint8Array): void {
    const announced = decodeBusMessage(message)
    if (announced === undefined || announced.relay === this.options.relayId || this.#closed) return
    if (announced.kind === 'publish') {
      // Not stored, not replayed: a room still loading has no subscriber yet.
      if (this.#early === null) this.options.applyPublish(announced.frame)
      return
    }
    if (announced.kind === 'awareness') {
      // Presence is not stored; before the room has loaded, there is no one to show it to yet.
      if (this.#early === null) this.options.applyPresence(announced.relay, announced.update)
      return
    }
    if (this.#early !== null) this.#early.push(announced)
    else this.#take(announced)
  }

  #take(announced: Announced): void {
    if (announced.kind === 'pending') {
      this.options.apply(announced.update)
      if (this.#pending.size >= MAX_PENDING) this.#settle(this.#pending.values().next().value!, false)
      this.#pending.add(`${announced.relay} ${announced.ref}`)
      return
    }
    const applied = announced.kind === 'update' || this.#settle(`${announced.relay} ${announced.ref}`, true)
    if (announced.seq <= this.#watermark) return
    if (announced.kind === 'update') this.options.apply(announced.update)
    if (applied) this.#see(announced.seq)
    else {
      // Its PENDING was lost (or forgotten): the update is in storage.
      this.#missingUpTo = Math.max(this.#missingUpTo, announced.seq)
      this.#scheduleCatchUp()
    }
  }

  /** A PENDING is stored (or forgotten: not known to be); returns whether it was applied here. */
  #settle(key: string, stored: boolean): boolean {
    if (!this.#pending.delete(key)) return false
    for (const waiter of this.#confirming) {
      if (!waiter.keys.delete(key)) continue
      if (!stored) waiter.answer(false)
      else if (waiter.keys.size === 0) waiter.answer(true)
    }
    return true
  }

  #see(seq: number): void {
    if (seq <= this.#watermark) return
    this.#ahead.add(seq)
    while (this.#ahead.delete(this.#watermark + 1)) this.#watermark++
    if (this.#ahead.size > 0) this.#scheduleCatchUp()
  }

  /** Catches up in CATCH_UP_MS unless the gap closes by then (a late announcement). */
  #scheduleCatchUp(): void {
    if (this.#timer !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      if (this.#ahead.size > 0 || this.#missingUpTo > this.#watermark) void this.catchUp()
    }, CATCH_UP_MS)
    this.#timer.unref?.()
  }

  async #readMissed(): Promise<void> {
    try {
      const from = this.#watermark
      const { updates, lastSeq } = await this.options.storage.loadSince(this.options.room, from)
      if (this.#closed) return
      for (const update of updates) this.options.apply(update)
      // Everything stored up to lastSeq is in the document now.
      if (lastSeq > this.#watermark) this.#watermark = lastSeq
      for (const seq of this.#ahead) if (seq <= this.#watermark) this.#ahead.delete(seq)
      while (this.#ahead.delete(this.#watermark + 1)) this.#watermark++
    } catch (error) {
      this.options.onError(error)
    }
  }
}
