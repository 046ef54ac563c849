/**
 * The RelayStorage conformance suite for the Redis storage, on one server or
 * a cluster: every storage gets a key prefix of its own, so each test starts
 * on an empty store, and `reopen` opens a new storage on the same prefix.
 */
import { redisRelayStorage, type RedisClient } from '../../packages/relay/src/redis-storage.js'
import type { RelayStorage } from '../../packages/relay/src/storage.js'
import { describeRelayStorageConformance } from '../../packages/relay/src/storage-conformance.js'

/** Declares the suite; `client` is read when a test opens a storage (after `beforeAll` connected it). */
export function describeRedisStorageConformance(name: string, client: () => RedisClient, prefixBase: string): { open: (prefix: string) => RelayStorage } {
  const prefixes = new WeakMap<RelayStorage, string>()
  let opened = 0
  const open = (prefix: string): RelayStorage => {
    const storage = redisRelayStorage({ client: client(), prefix })
    prefixes.set(storage, prefix)
    return storage
  }
  describeRelayStorageConformance(
    name,
    () => open(`${prefixBase}${++opened}`),
    (closed) => {
      const prefix = prefixes.get(closed)
      if (prefix === undefined) throw new Error('reopen was given a storage this test file did not open')
      return open(prefix)
    },
  )
  return { open }
}
