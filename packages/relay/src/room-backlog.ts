/**
 * A room's messages held back, in order and up to a bound, while the room is
 * busy (a large update applied a slice per turn, a client-id claim awaited
 * through the shared log), and handed back once it is not.
 */
import { CloseCode } from '@tidekv/core'
import { ProtocolError } from './protocol-error.js'

export type Held<P> = [peer: P, message: Uint8Array]

export class RoomBacklog<P> {
  #held: Held<P>[] | null = null
  #bytes = 0

  constructor(
    /** The most bytes held at once; a message past it closes its connection with TRY_AGAIN_LATER. */
    private readonly maxBytes: number,
  ) {}

  /**
   * Holds `message` if the room is busy; returns whether it did.
   * @throws ProtocolError `room-busy` when holding it would pass `maxBytes`
   */
  offer(peer: P, message: Uint8Array): boolean {
    if (this.#held === null) return false
    if (this.#bytes + message.length > this.maxBytes) {
      throw new ProtocolError('the room is busy applying a large update: try again later', { reason: 'room-busy', code: CloseCode.TRY_AGAIN_LATER })
    }
    this.#bytes += message.length
    this.#held.push([peer, message])
    return true
  }

  /** From now on the room's messages are held (see `offer`). */
  hold(): void {
    this.#held = []
    this.#bytes = 0
  }

  /** Stops holding; returns the messages held, for `drain`. */
  release(): Held<P>[] {
    const held = this.#held ?? []
    this.#held = null
    this.#bytes = 0
    return held
  }

  /** Hands `held` to `deliver` in order; stops (and holds the rest first) if one makes the room busy again. */
  drain(held: readonly Held<P>[], deliver: (peer: P, message: Uint8Array) => void): void {
    for (let k = 0; k < held.length; k++) {
      if (this.#held !== null) {
        const rest = held.slice(k)
        this.#held = rest.concat(this.#held)
        for (const [, message] of rest) this.#bytes += message.length
        return
      }
      const [peer, message] = held[k]!
      deliver(peer, message)
    }
  }
}
