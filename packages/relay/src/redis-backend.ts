/**
 * `createRelay({ redis: url })`: the storage and the bus of relays that share
 * rooms through one Redis, on ioredis, which is imported only here (a relay
 * without Redis loads no Redis code). Two connections: one for commands and
 * publishing, one in subscriber mode (which can send nothing else).
 */
import type { RelayBus } from './bus.js'
import { redisRelayBus } from './redis-bus.js'
import { redisRelayStorage } from './redis-storage.js'
import type { RelayStorage } from './storage.js'

export interface RedisBackend {
  readonly storage: RelayStorage
  readonly bus: RelayBus
  /** Whether both connections are up now. */
  isUp(): boolean
  /** Calls `listener` when Redis goes down (false) or comes back (true). */
  onChange(listener: (up: boolean) => void): void
  /** Closes the bus and both connections. */
  close(): Promise<void>
}

/** Connects to the Redis at `url`; resolves once both connections are ready. */
export interface RedisEvents {
  /** Every error a connection reports (each failed reconnect attempt, while Redis is down). */
  onError: (error: unknown) => void
  /** A connection is trying to reconnect. */
  onReconnecting?: () => void
}

export interface RedisSettings {
  readonly url: string
  readonly waitReplicas: number
  readonly waitTimeoutMs: number
}

export async function connectRedis({ url, waitReplicas, waitTimeoutMs }: RedisSettings, events: RedisEvents): Promise<RedisBackend> {
  const { onError } = events
  const { Redis } = await import('ioredis')
  // Commands wait (queued) while Redis is unreachable rather than fail at once; the room's
  // storage writes then fail after the retries, and are not acknowledged.
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 })
  const subscriber = new Redis(url, { lazyConnect: true })
  client.on('error', onError)
  subscriber.on('error', onError)
  try {
    await Promise.all([client.connect(), subscriber.connect()])
  } catch (error) {
    client.disconnect()
    subscriber.disconnect()
    throw new Error(`Could not connect to Redis at ${redactUrl(url)}`, { cause: error })
  }
  const bus = redisRelayBus({ publisher: client, subscriber })
  const listeners = new Set<(up: boolean) => void>()
  const isUp = (): boolean => client.status === 'ready' && subscriber.status === 'ready'
  let wasUp = isUp()
  const check = (): void => {
    const up = isUp()
    if (up === wasUp) return
    wasUp = up
    for (const listener of listeners) listener(up)
  }
  for (const connection of [client, subscriber]) {
    connection.on('ready', check)
    connection.on('close', check)
    connection.on('end', check)
    connection.on('reconnecting', () => {
      events.onReconnecting?.()
      check()
    })
  }
  return {
    storage: redisRelayStorage({ client, waitReplicas, waitTimeoutMs }),
    bus,
    isUp,
    onChange(listener) {
      listeners.add(listener)
    },
    async close() {
      await bus.close()
      await Promise.all([client.quit().catch(() => client.disconnect()), subscriber.quit().catch(() => subscriber.disconnect())])
    },
  }
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparsable URL)' // reason: checked by resolveRelayOptions; never echo what may hold a password
  }
}
