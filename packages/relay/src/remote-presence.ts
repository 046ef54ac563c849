/**
 * The presence of other relays' clients in a room that relays share: each
 * relay's states are held under one stand-in holder, shown to this relay's
 * peers, and dropped when their relay stops renewing them (it may have died).
 */
import type { Presence } from './presence.js'

/** Who holds a presence state: a connection, or the stand-in for another relay. */
export type PresenceHolder = { readonly subject: string }

/** Another relay's presence states not renewed for this long are dropped (clients renew every 15 s; y-protocols drops at 30 s). */
const REMOTE_PRESENCE_TTL_MS = 30_000

export class RemotePresence {
  /** The holders that stand for other relays in `presence`, by relay id. */
  readonly #holders = new Map<string, PresenceHolder>()
  readonly #sweep: ReturnType<typeof setInterval>

  constructor(
    private readonly presence: Presence<PresenceHolder>,
    /** Told each change (an awareness update) to show this relay's peers. */
    private readonly changed: (update: Uint8Array) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.#sweep = setInterval(() => {
      const now = performance.now()
      const removed = this.presence.expire((holder, at) => this.#isRemote(holder) && now - at > REMOTE_PRESENCE_TTL_MS)
      if (removed !== null) this.changed(removed)
    }, REMOTE_PRESENCE_TTL_MS / 3)
    this.#sweep.unref?.()
  }

  /** Presence changes another relay announced for its own clients. */
  apply(relay: string, update: Uint8Array): void {
    let holder = this.#holders.get(relay)
    if (holder === undefined) {
      holder = { subject: '' }
      this.#holders.set(relay, holder)
    }
    try {
      const changed = this.presence.apply(holder, update, () => true, true)
      if (changed !== null) this.changed(changed)
    } catch (error) {
      this.onError(error)
    }
  }

  close(): void {
    clearInterval(this.#sweep)
  }

  #isRemote(holder: PresenceHolder): boolean {
    for (const remote of this.#holders.values()) if (remote === holder) return true
    return false
  }
}
