/**
 * A relay on Redis while Redis is down (issue 11): `/healthz` answers 503,
 * the relay closes its sockets with 1013 (clients retry) and refuses new ones,
 * and serves again once Redis is back; nothing acknowledged before the crash
 * is lost (Redis restarts on its AOF), and clients come back by themselves.
 * A real redis-server, killed with SIGKILL and restarted on the same folder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newClient, newRelay, statusIs, upgradeStatus } from '../helpers/relay.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis({ durable: true })
}, 30_000)
afterAll(async () => {
  await redis?.stop()
})

const healthz = async (url: string): Promise<{ status: number; body: { status: string } }> => {
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) })
  return { status: res.status, body: (await res.json()) as { status: string } } // reason: /healthz answers this JSON
}

describe('Redis down', () => {
  it('is visible (/healthz 503, metrics), clients are told to retry, and everything comes back with Redis', async () => {
    const relay = await newRelay({ redis: `redis://127.0.0.1:${redis.port}` })
    const client = await newClient(relay.ws, 'outage')
    client.set('before', 1)
    await client.whenSynced()
    expect((await healthz(relay.url)).status).toBe(200)

    await redis.kill()
    await expect.poll(async () => (await healthz(relay.url)).body.status, { timeout: 10_000 }).toBe('redis-down')
    expect((await healthz(relay.url)).status).toBe(503)
    await expect.poll(() => client.status, { timeout: 10_000 }).not.toBe('synced')
    expect(await upgradeStatus(`${relay.ws}/outage`)).toBe(503) // new sockets are refused meanwhile
    const metrics = await (await fetch(`${relay.url}/metrics`)).text()
    expect(metrics).toMatch(/^tidekv_redis_up 0$/m)
    expect(metrics).toMatch(/^tidekv_redis_command_seconds_count\{op="append"\} [1-9]/m) // the write before the crash, timed
    client.set('during', 2) // kept by the client, sent once the relay can store it

    await redis.restart()
    await expect.poll(async () => (await healthz(relay.url)).status, { timeout: 15_000 }).toBe(200)
    await statusIs(client, 'synced')
    await client.whenSynced()
    const reader = await newClient(relay.ws, 'outage')
    await reader.whenSynced()
    await expect.poll(() => [reader.get('before'), reader.get('during')], { timeout: 10_000 }).toEqual([1, 2])
    expect(await (await fetch(`${relay.url}/metrics`)).text()).toMatch(/^tidekv_redis_up 1$/m)
  }, 60_000)
})
