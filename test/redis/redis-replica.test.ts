/**
 * `WAIT` (issue 11): with `waitReplicas`, the Redis storage acknowledges an
 * append only once that many replicas have it, so an acknowledged write
 * survives the primary's loss too. A real primary and a real replica
 * (`--replicaof`); with the replica gone, appends fail (not acknowledged)
 * instead of resolving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisRelayStorage } from '../../packages/relay/src/redis-storage.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

let primary: RedisServer
let replica: RedisServer
beforeAll(async () => {
  primary = await startRedis({ durable: true })
  replica = await startRedis({ durable: true, replicaOf: primary.port })
}, 30_000)
afterAll(async () => {
  await replica?.stop()
  await primary?.stop()
})

describe('Redis storage with waitReplicas', () => {
  it('resolves an append once the replica has it, and fails it when no replica answers in time', async () => {
    const storage = redisRelayStorage({ client: primary.client, prefix: 'wait', waitReplicas: 1, waitTimeoutMs: 300 })
    await expect.poll(async () => /slave0:.*state=online/.test(String(await primary.client.call('INFO', 'replication'))), { timeout: 10_000 }).toBe(true)
    const seq = await storage.append('room', new Uint8Array([1, 2, 3]))
    expect(seq).toBe(1)
    // The replica holds it.
    await expect.poll(async () => replica.client.call('GET', 'wait:{rcm9vbQ}:seq')).toBe('1')
    await replica.kill()
    await expect(storage.append('room', new Uint8Array([4]))).rejects.toThrow(/Only 0 of 1 Redis replicas/)
  })
})
