/**
 * Issue 11's failover under a crash: two relay processes share rooms through
 * a real redis-server; clients list both relays. One relay is killed with
 * SIGKILL in the middle of traffic: its clients move to the other relay, every
 * write acknowledged (`whenSynced`) before the kill is there, and all replicas
 * converge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRelayProcess } from '../helpers/relay-process.js'
import { newClient, statusIs, tempDir } from '../helpers/relay.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis({ durable: true })
}, 30_000)
afterAll(async () => {
  await redis?.stop()
})

describe('a relay killed mid-traffic', () => {
  it('its clients move to the other relay; every acknowledged write is there; all converge', async () => {
    const url = `redis://127.0.0.1:${redis.port}`
    const doomed = await startRelayProcess(tempDir(), ['--redis', url])
    const survivor = await startRelayProcess(tempDir(), ['--redis', url])
    const onDoomed = await newClient([doomed.ws, survivor.ws], 'crash')
    const onSurvivor = await newClient([survivor.ws, doomed.ws], 'crash')
    await Promise.all([statusIs(onDoomed, 'synced'), statusIs(onSurvivor, 'synced')])
    expect(onDoomed.relay).toBe(doomed.ws)

    const acknowledged: string[] = []
    for (let i = 0; i < 20; i++) {
      onDoomed.set(`a:${i}`, i)
      onSurvivor.incr('total')
      if (i % 4 === 3) {
        await onDoomed.whenSynced()
        for (let k = 0; k <= i; k++) if (!acknowledged.includes(`a:${k}`)) acknowledged.push(`a:${k}`)
      }
    }
    onDoomed.set('in flight', true) // written, maybe sent, not acknowledged: it must still arrive, from the client
    await doomed.kill()

    for (let i = 20; i < 30; i++) onDoomed.set(`a:${i}`, i)
    await onDoomed.whenSynced()
    await onSurvivor.whenSynced()
    expect(onDoomed.relay).toBe(survivor.ws)

    const reader = await newClient(survivor.ws, 'crash')
    await reader.whenSynced()
    await expect.poll(() => acknowledged.filter((k) => reader.get(k) === undefined), { timeout: 10_000 }).toEqual([])
    await expect.poll(() => [reader.keys().length, reader.get('total'), reader.get('in flight')], { timeout: 10_000 }).toEqual([32, 20, true])
    await expect.poll(() => [onDoomed.keys().length, onSurvivor.keys().length], { timeout: 10_000 }).toEqual([32, 32])
  }, 60_000)
})
