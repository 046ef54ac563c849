/**
 * One timer for everything that counts down on the page (the session, the
 * rate window, TTLs in the key browser): reads are synchronous and cheap, so
 * each tick simply asks the store again. Not requestAnimationFrame: that
 * stops in background tabs, and a countdown in a hidden tab must still be
 * right when it is shown (browsers slow timers there to once a second).
 */
export class Ticker {
  private readonly callbacks = new Set<(now: number) => void>()

  constructor(intervalMs: number) {
    setInterval(() => {
      const now = Date.now()
      for (const cb of this.callbacks) cb(now)
    }, intervalMs)
  }

  /** Calls `cb` on every tick; returns the function that stops it. */
  add(cb: (now: number) => void): () => void {
    this.callbacks.add(cb)
    return () => this.callbacks.delete(cb)
  }
}
