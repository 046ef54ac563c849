/**
 * A loaded room's link to the other relays that serve it: it announces each
 * update this relay stores (with its seq) on the bus, applies the ones other
 * relays announce, and catches up from storage when it may have missed some.
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
import { decodeBusMessage, encodeBusAwareness, encodeBusUpdate } from './bus-message.js'
import type { RelayStorage } from './storage.js'

/** How long a seq gap may stay open before the room reads what it missed from storage. */
const CATCH_UP_MS = 100

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
  readonly onError: (error: unknown) => void
}

export class RoomFeed {
  #watermark = 0
  readonly #ahead = new Set<number>()
  #timer: ReturnType<typeof setTimeout> | null = null
  #catchingUp: Promise<void> | null = null
  #unsubscribe: (() => Promise<void>) | null = null
  /** Announcements that arrive before the room has loaded, applied once it has. */
  #early: { seq: number; update: Uint8Array }[] | null = []
  #closed = false

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
    for (const { seq, update } of early) this.#take(seq, update)
  }

  /** This relay stored `update` as `seq`: count it, and tell the other relays. */
  stored(seq: number, update: Uint8Array): void {
    this.#see(seq)
    this.options.bus.publish(this.options.room, encodeBusUpdate(this.options.relayId, seq, update)).catch(this.options.onError)
  }

  /** Tells the other relays of presence changes of this relay's clients. */
  presence(update: Uint8Array): void {
    this.options.bus.publish(this.options.room, encodeBusAwareness(this.options.relayId, update)).catch(this.options.onError)
  }

  /** The bus may have lost messages: read what this room lacks from storage now. */
  catchUp(): Promise<void> {
    if (this.#closed || this.#early !== null) return Promise.resolve()
    this.#catchingUp ??= this.#readMissed().finally(() => (this.#catchingUp = null))
    return this.#catchingUp
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    await this.#catchingUp
    await this.#unsubscribe?.()
  }

  #receive(message: Uint8Array): void {
    const announced = decodeBusMessage(message)
    if (announced === undefined || announced.relay === this.options.relayId || this.#closed) return
    if (announced.kind === 'awareness') {
      // Presence is not stored; before the room has loaded, there is no one to show it to yet.
      if (this.#early === null) this.options.applyPresence(announced.relay, announced.update)
      return
    }
    if (this.#early !== null) this.#early.push(announced)
    else this.#take(announced.seq, announced.update)
  }

  #take(seq: number, update: Uint8Array): void {
    if (seq <= this.#watermark) return
    this.options.apply(update)
    this.#see(seq)
  }

  #see(seq: number): void {
    if (seq <= this.#watermark) return
    this.#ahead.add(seq)
    while (this.#ahead.delete(this.#watermark + 1)) this.#watermark++
    if (this.#ahead.size > 0 && this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null
        if (this.#ahead.size > 0) void this.catchUp()
      }, CATCH_UP_MS)
      this.#timer.unref?.()
    }
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
