/**
 * For a test file that runs relays on both kinds of Redis: one durable
 * redis-server and one three-master Redis Cluster, started before the file's
 * tests and stopped after them, each as the `redis` option of createRelay.
 */
import { afterAll, beforeAll } from 'vitest'
import type { RelayOptions } from '@tidekv/relay'
import { type RedisServer, startRedis } from './redis.js'
import { type RedisCluster, startRedisCluster } from './redis-cluster.js'

export interface RedisBackends {
  /** `redis` for relays on the single server (read once the file's tests run). */
  readonly one: () => RelayOptions['redis']
  /** `redis` for relays on the cluster. */
  readonly cluster: () => RelayOptions['redis']
}

export function useRedisBackends(): RedisBackends {
  let redis: RedisServer | undefined
  let cluster: RedisCluster | undefined
  beforeAll(async () => {
    ;[redis, cluster] = await Promise.all([startRedis({ durable: true }), startRedisCluster(3)])
  }, 60_000)
  afterAll(async () => {
    await Promise.all([redis?.stop(), cluster?.stop()])
  })
  return {
    one: () => `redis://127.0.0.1:${redis!.port}`,
    cluster: () => ({ cluster: cluster!.addresses }),
  }
}
