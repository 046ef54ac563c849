/**
 * The bus between relays that serve the same rooms: after a relay stores an
 * update of a room it announces it, with its seq, to every other relay that
 * has the room loaded, and they send it to their own clients. The bus is
 * at-most-once (Redis pub/sub is): a relay that sees a seq jump, or that
 * resubscribes, reads what it missed from storage (`loadSince`), which is
 * the truth. Bytes only, like the storage seam; the message format is in
 * bus-message.ts. `memoryRelayBus` joins relays in one process (tests); the
 * Redis bus is redis-bus.ts.
 */

/** Cross-relay messages, by room. */
export interface RelayBus {
  /** Sends `message` to every relay subscribed to `room`, this one included (a relay skips its own). */
  publish(room: string, message: Uint8Array): Promise<void>
  /**
   * Calls `onMessage` with each message published to `room` from now on.
   * Resolves, once subscribed, with the function that unsubscribes.
   */
  subscribe(room: string, onMessage: (message: Uint8Array) => void): Promise<() => Promise<void>>
  /**
   * Calls `listener` whenever the bus may have lost messages (its connection
   * dropped and came back): every loaded room then catches up from storage.
   * Returns the function that removes the listener.
   */
  onGap(listener: () => void): () => void
  /** Releases the bus; later calls fail. */
  close(): Promise<void>
}

/**
 * A bus for relays in one process (tests, and a process that runs several
 * relays on one storage). Delivers in a microtask, in publish order.
 * `drop(n)` loses the next n messages, as a dropped subscription would.
 */
export function memoryRelayBus(): RelayBus & { drop(count: number): void; gap(): void } {
  const rooms = new Map<string, Set<(message: Uint8Array) => void>>()
  const gapListeners = new Set<() => void>()
  let dropping = 0
  let closed = false
  const check = () => {
    if (closed) throw new Error('The memory relay bus is closed')
  }
  return {
    async publish(room, message) {
      check()
      if (dropping > 0) {
        dropping--
        return
      }
      const copy = message.slice()
      for (const listener of rooms.get(room) ?? []) queueMicrotask(() => listener(copy))
    },
    async subscribe(room, onMessage) {
      check()
      const listeners = rooms.get(room) ?? new Set()
      listeners.add(onMessage)
      rooms.set(room, listeners)
      return async () => {
        listeners.delete(onMessage)
        if (listeners.size === 0 && rooms.get(room) === listeners) rooms.delete(room)
      }
    },
    onGap(listener) {
      gapListeners.add(listener)
      return () => gapListeners.delete(listener)
    },
    async close() {
      closed = true
      rooms.clear()
    },
    drop(count) {
      dropping += count
    },
    gap() {
      for (const listener of gapListeners) listener()
    },
  }
}
