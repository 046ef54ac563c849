/**
 * The updates a room applied in one task, sent on merged: one message per
 * peer (the frames, not the Yjs work, are what a fan-out costs), a sender
 * getting the others' updates of the batch but not its own back. The batch
 * is sent in a microtask after the socket data that carried it was handled,
 * so a burst is merged and a lone update is not delayed.
 */
import { syncMessage } from '@tidekv/core/wire'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'

/** What a batch went out to: its updates, each one's origin (a peer, another origin, or null), and all of them merged. */
export interface Batch<P, O> {
  readonly updates: Uint8Array[]
  readonly origins: readonly (P | O | null)[]
  readonly merged: Uint8Array
}

export class RoomFanout<P extends { send(message: Uint8Array): void }, O = never> {
  #updates: Uint8Array[] = []
  #origins: (P | O | null)[] = []
  #queued = false

  constructor(
    private readonly peers: ReadonlySet<P>,
    /** Called with each batch once it is sent (the room stores it next). */
    private readonly sent: (batch: Batch<P, O>) => void,
  ) {}

  /** Adds an update to the batch of this task. */
  add(update: Uint8Array, origin: P | O | null): void {
    this.#updates.push(update)
    this.#origins.push(origin)
    if (!this.#queued) {
      this.#queued = true
      queueMicrotask(this.flush)
    }
  }

  /** Sends the batch now (a PERSISTED question, or unloading, wants it stored). */
  readonly flush = (): void => {
    this.#queued = false
    const updates = this.#updates
    const origins = this.#origins
    if (updates.length === 0) return
    this.#updates = []
    this.#origins = []
    const merged = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates)
    const toAll = syncMessage(syncProtocol.messageYjsUpdate, merged)
    const senders = new Set<unknown>(origins)
    const toSender = new Map<P, Uint8Array | null>()
    for (const peer of this.peers) {
      if (!senders.has(peer)) {
        peer.send(toAll)
        continue
      }
      let message = toSender.get(peer)
      if (message === undefined) {
        const others = updates.filter((_, i) => origins[i] !== peer)
        message = others.length === 0 ? null : syncMessage(syncProtocol.messageYjsUpdate, others.length === 1 ? others[0]! : Y.mergeUpdates(others))
        toSender.set(peer, message)
      }
      if (message !== null) peer.send(message)
    }
    this.sent({ updates, origins, merged })
  }
}
