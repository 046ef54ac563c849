/**
 * The bus between relays on Redis: sharded pub/sub (SPUBLISH/SSUBSCRIBE,
 * Redis 7), one channel per room, `<prefix>:{r<name>}:bus`, under the room's
 * hash tag (see redis-storage.ts), so on a Redis Cluster a room's
 * announcements go through the node that holds its keys.
 *
 * Pub/sub is at-most-once: messages sent while the subscriber's connection is
 * down are lost. ioredis resubscribes when it reconnects (`ready` again), and
 * a Cluster when its subscribers were replaced after a node failed or slots
 * moved (`subscribersReady`); the bus then reports a gap, and every loaded
 * room reads what it missed from storage.
 */
import type { RelayBus } from './bus.js'
import { roomTag } from './redis-storage.js'

/** How long after a reconnect the resubscriptions are surely in place. */
const RESUBSCRIBED_MS = 500

/** The subscriber's events after which messages may have been missed. */
type GapEvent = 'ready' | 'subscribersReady'

/** What the bus uses of two ioredis clients: one that publishes, one in subscriber mode (or one ioredis Cluster as both). */
export interface RedisBusClients {
  /** Publishes (any connected client; may be the storage's). */
  publisher: { spublish(channel: string, message: Buffer): Promise<unknown> }
  /** Subscribes: a connection of its own (a subscribed connection can send nothing else), or a Cluster with `shardedSubscribers`. */
  subscriber: {
    /** ioredis's connection status: 'ready' once connected. */
    readonly status?: string
    ssubscribe(...channels: string[]): Promise<unknown>
    sunsubscribe(...channels: string[]): Promise<unknown>
    on(event: 'smessageBuffer', listener: (channel: Buffer, message: Buffer) => void): unknown
    on(event: GapEvent, listener: () => void): unknown
    off(event: 'smessageBuffer', listener: (channel: Buffer, message: Buffer) => void): unknown
    off(event: GapEvent, listener: () => void): unknown
  }
  /** Prefix of every channel, as of the storage's keys. Default `tidekv`. */
  prefix?: string
}

/**
 * A RelayBus on Redis sharded pub/sub.
 * @example
 * import { Redis } from 'ioredis'
 * import { redisRelayBus } from '@tidekv/relay'
 * const url = 'redis://127.0.0.1:6379'
 * // lazyConnect: they connect on first use (the relay's createRelay({ redis: url }) does all of this for you)
 * const bus = redisRelayBus({ publisher: new Redis(url, { lazyConnect: true }), subscriber: new Redis(url, { lazyConnect: true }) })
 */
export function redisRelayBus({ publisher, subscriber, prefix = 'tidekv' }: RedisBusClients): RelayBus {
  const listeners = new Map<string, Set<(message: Uint8Array) => void>>()
  const gapListeners = new Set<() => void>()
  const channelOf = (room: string) => `${prefix}:{${roomTag(room)}}:bus`
  const onMessage = (channel: Buffer, message: Buffer): void => {
    const bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength)
    for (const listener of listeners.get(channel.toString()) ?? []) listener(bytes)
  }
  // The first 'ready' is the connection coming up; every later one follows a reconnect, after which messages may be missing.
  let connectedOnce = subscriber.status === 'ready'
  const onReady = (): void => {
    if (!connectedOnce) {
      connectedOnce = true
      return
    }
    reportGap()
  }
  // ioredis emits 'ready' and 'subscribersReady' before its SSUBSCRIBEs are answered: what is announced until
  // they are may be missed too, so the gap is reported again once they surely are.
  let again: ReturnType<typeof setTimeout> | null = null
  const reportGap = (): void => {
    for (const listener of gapListeners) listener()
    if (again !== null) clearTimeout(again)
    again = setTimeout(() => {
      again = null
      for (const listener of gapListeners) listener()
    }, RESUBSCRIBED_MS)
    again.unref?.()
  }
  const onSubscribersReady = (): void => {
    reportGap()
  }
  subscriber.on('smessageBuffer', onMessage)
  subscriber.on('ready', onReady)
  subscriber.on('subscribersReady', onSubscribersReady)
  let closed = false
  const check = (): void => {
    if (closed) throw new Error('The Redis relay bus is closed')
  }
  return {
    async publish(room, message) {
      check()
      await publisher.spublish(channelOf(room), Buffer.from(message.buffer, message.byteOffset, message.byteLength))
    },
    async subscribe(room, onRoomMessage) {
      check()
      const channel = channelOf(room)
      let set = listeners.get(channel)
      if (set === undefined) {
        set = new Set()
        listeners.set(channel, set)
        await subscriber.ssubscribe(channel)
      }
      set.add(onRoomMessage)
      return async () => {
        const current = listeners.get(channel)
        if (current === undefined || !current.delete(onRoomMessage) || current.size > 0) return
        listeners.delete(channel)
        if (!closed) await subscriber.sunsubscribe(channel)
      }
    },
    onGap(listener) {
      gapListeners.add(listener)
      return () => gapListeners.delete(listener)
    },
    async close() {
      closed = true
      if (again !== null) clearTimeout(again)
      subscriber.off('smessageBuffer', onMessage)
      subscriber.off('ready', onReady)
      subscriber.off('subscribersReady', onSubscribersReady)
      listeners.clear()
    },
  }
}
