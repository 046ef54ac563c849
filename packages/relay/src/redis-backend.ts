/**
 * `createRelay({ redis })`: the storage and the bus of relays that share rooms
 * through Redis, on ioredis, which is imported only here (a relay without
 * Redis loads no Redis code).
 *
 * - One Redis: two connections, one for commands and publishing, one in
 *   subscriber mode (which can send nothing else).
 * - A Redis Cluster: one ioredis `Cluster` with `shardedSubscribers`, which
 *   keeps a command connection and a subscriber connection per master, sends
 *   each room's commands and SSUBSCRIBE to the master of the room's slot, and
 *   follows MOVED/ASK when slots move.
 */
import type { Cluster, Redis } from 'ioredis'
import type { RelayBus } from './bus.js'
import { redisRelayBus } from './redis-bus.js'
import { redisRelayStorage } from './redis-storage.js'
import { type RedisSettings, redactUrl } from './relay-options.js'
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

export interface RedisEvents {
  /** Every error a connection reports (each failed reconnect attempt, while Redis is down). */
  onError: (error: unknown) => void
  /** A connection is trying to reconnect. */
  onReconnecting?: () => void
  /** How long a storage call or a publish took (successful or not), for `/metrics`. */
  onCommand?: (op: RedisOp, seconds: number) => void
}

/** What the relay asks of Redis, as `/metrics` labels it. */
export type RedisOp = 'load' | 'append' | 'compact' | 'publish'

/** Connects to Redis (one server or a cluster); resolves once it can serve. */
export async function connectRedis(settings: RedisSettings, events: RedisEvents): Promise<RedisBackend> {
  return 'cluster' in settings ? connectCluster(settings, events) : connectOne(settings, events)
}

async function connectOne({ url, waitReplicas, waitTimeoutMs }: Extract<RedisSettings, { url: string }>, events: RedisEvents): Promise<RedisBackend> {
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
  return backend(redisRelayStorage({ client, waitReplicas, waitTimeoutMs }), bus, [client, subscriber], events)
}

async function connectCluster(settings: Extract<RedisSettings, { cluster: unknown }>, events: RedisEvents): Promise<RedisBackend> {
  const { Cluster } = await import('ioredis')
  const { username, password, tls } = settings
  const cluster = new Cluster(
    settings.cluster.map(({ host, port }) => ({ host, port })),
    {
      lazyConnect: true,
      shardedSubscribers: true,
      // As for one Redis: commands wait while a node is unreachable, then fail (and are not acknowledged).
      redisOptions: { maxRetriesPerRequest: 3, ...(username === undefined ? {} : { username }), ...(password === undefined ? {} : { password }), ...(tls ? { tls: {} } : {}) },
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    },
  )
  cluster.on('error', events.onError)
  try {
    await cluster.connect()
  } catch (error) {
    cluster.disconnect()
    throw new Error(`Could not connect to the Redis Cluster at ${settings.cluster.map(({ host, port }) => `${host}:${port}`).join(', ')}`, { cause: error })
  }
  const bus = redisRelayBus({ publisher: cluster, subscriber: cluster })
  return backend(redisRelayStorage({ client: cluster }), bus, [cluster], events)
}

/** Up while every connection is ready; tells listeners when that changes. */
function backend(storage: RedisBackend['storage'], bus: RelayBus, connections: readonly (Redis | Cluster)[], events: RedisEvents): RedisBackend {
  const listeners = new Set<(up: boolean) => void>()
  const isUp = (): boolean => connections.every((connection) => connection.status === 'ready')
  let wasUp = isUp()
  const check = (): void => {
    const up = isUp()
    if (up === wasUp) return
    wasUp = up
    for (const listener of listeners) listener(up)
  }
  for (const connection of connections) {
    connection.on('ready', check)
    connection.on('close', check)
    connection.on('end', check)
    connection.on('reconnecting', () => {
      events.onReconnecting?.()
      check()
    })
  }
  return {
    storage: timedStorage(storage, events),
    bus: timedBus(bus, events),
    isUp,
    onChange(listener) {
      listeners.add(listener)
    },
    async close() {
      await bus.close()
      await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())))
    },
  }
}

/** The storage, its Redis calls timed. */
function timedStorage(storage: RelayStorage, { onCommand }: RedisEvents): RelayStorage {
  if (onCommand === undefined) return storage
  return {
    load: (room) => timed('load', () => storage.load(room), onCommand),
    loadSince: (room, afterSeq) => timed('load', () => storage.loadSince(room, afterSeq), onCommand),
    append: (room, update) => timed('append', () => storage.append(room, update), onCommand),
    compact: (room, snapshot, upToSeq) => timed('compact', () => storage.compact(room, snapshot, upToSeq), onCommand),
    deleteRoom: (room) => storage.deleteRoom(room),
    rooms: () => storage.rooms(),
    close: () => storage.close(),
  }
}

/** The bus, its publishes timed. */
function timedBus(bus: RelayBus, { onCommand }: RedisEvents): RelayBus {
  if (onCommand === undefined) return bus
  return { ...bus, publish: (room, message) => timed('publish', () => bus.publish(room, message), onCommand) }
}

async function timed<T>(op: RedisOp, call: () => Promise<T>, onCommand: (op: RedisOp, seconds: number) => void): Promise<T> {
  const start = performance.now()
  try {
    return await call()
  } finally {
    onCommand(op, (performance.now() - start) / 1000)
  }
}
