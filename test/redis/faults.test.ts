/**
 * Issue 11's faults in the middle of traffic, with real processes: a relay
 * frozen (SIGSTOP) while the others write, then resumed (SIGCONT); and Redis
 * killed (SIGKILL) under two relays and restarted on its AOF. In both, nothing
 * acknowledged (`whenSynced`) is lost and every client converges.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Store } from '../../packages/client/src/index.js'
import { startRelayProcess } from '../helpers/relay-process.js'
import { newClient, newRelay, statusIs, tempDir } from '../helpers/relay.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

let redis: RedisServer
let url: string
beforeAll(async () => {
  redis = await startRedis({ durable: true })
  url = `redis://127.0.0.1:${redis.port}`
}, 30_000)
afterAll(async () => {
  await redis?.stop()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Writes `prefix:<i>` keys every few ms until `until()` says stop (bounded by
 * `max` writes, counted in `progress`); after each write, notes the keys a
 * `whenSynced` then acknowledges, without waiting for it. The pause paces
 * the traffic, so that a fault lands in the middle of it.
 */
async function writeUntil(store: Store, prefix: string, until: () => boolean, max: number, acknowledged: Set<string>, progress = { writes: 0 }): Promise<number> {
  let i = 0
  for (; i < max && !until(); i++, progress.writes++) {
    store.set(`${prefix}:${i}`, i)
    store.incr('total')
    const written = Array.from({ length: i + 1 }, (_, k) => `${prefix}:${k}`)
    void store.whenSynced().then(() => {
      for (const key of written) acknowledged.add(key)
    })
    await sleep(10)
  }
  return i
}

describe('faults mid-traffic', () => {
  it('a relay stopped while another keeps writing, its subscription dropped, catches up once resumed, and its clients converge', async () => {
    const frozen = await startRelayProcess(tempDir(), ['--redis', url])
    const running = await startRelayProcess(tempDir(), ['--redis', url])
    const room = `sigstop-${Date.now()}`
    const onFrozen = await newClient(frozen.ws, room)
    const onRunning = await newClient(running.ws, room)
    await Promise.all([statusIs(onFrozen, 'synced'), statusIs(onRunning, 'synced')])
    onFrozen.set('before', true)
    await onFrozen.whenSynced()

    frozen.signal('SIGSTOP')
    // Redis drops the frozen relay's subscription meanwhile (as its output-buffer limit would on a long stall):
    // what is announced until it resubscribes is lost to it, and must be read from the room's stream.
    await redis.client.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    const acknowledged = new Set<string>()
    const stopAt = Date.now() + 1500
    const written = await writeUntil(onRunning, 'r', () => Date.now() > stopAt, 150, acknowledged)
    await onRunning.whenSynced()
    onFrozen.set('while frozen', true) // its relay cannot take it yet; it goes once the relay answers again
    frozen.signal('SIGCONT')

    await expect.poll(() => [onFrozen.get('total'), onFrozen.get(`r:${written - 1}`), onRunning.get('while frozen')], { timeout: 20_000 }).toEqual([written, written - 1, true])
    await onFrozen.whenSynced()
    const reader = await newClient(frozen.ws, room)
    await reader.whenSynced()
    expect([...acknowledged].filter((key) => reader.get(key) === undefined)).toEqual([])
    await expect.poll(() => [reader.keys().length, onFrozen.keys().length, onRunning.keys().length], { timeout: 10_000 }).toEqual([written + 3, written + 3, written + 3])
  }, 60_000)

  it('Redis killed under two relays and restarted on its AOF: they recover, nothing acknowledged is lost, clients converge', async () => {
    const [r0, r1] = await Promise.all([newRelay({ redis: url }), newRelay({ redis: url })])
    const room = `redis-kill-${Date.now()}`
    const a = await newClient(r0.ws, room)
    const b = await newClient(r1.ws, room)
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])

    const acknowledged = new Set<string>()
    let killed = false
    let restarted = false
    let afterRestart = 0
    const progress = { writes: 0 }
    const writtenAtLeast = (n: number) => vi.waitFor(() => expect(progress.writes).toBeGreaterThanOrEqual(n), { timeout: 20_000, interval: 5 })
    // The crash after A's 30th write; the restart 120 writes later. Writers go on throughout, and 30 writes past the restart.
    const crash = (async () => {
      await writtenAtLeast(30)
      await redis.kill()
      killed = true
      await writtenAtLeast(150)
      await redis.restart()
      restarted = true
    })()
    const done = () => restarted && afterRestart++ > 30
    const [writtenA, writtenB] = await Promise.all([
      writeUntil(a, 'a', done, 1000, acknowledged, progress),
      writeUntil(b, 'b', () => restarted && afterRestart > 30, 1000, acknowledged),
    ])
    await crash
    expect(killed).toBe(true)
    await Promise.all([a.whenSynced(), b.whenSynced()])

    // Every acknowledged write is in Redis (a relay that loads the room now reads it) and on the relays that had the room loaded.
    const fresh = await newRelay({ redis: url })
    const readers = await Promise.all([fresh, r0, r1].map((relay) => newClient(relay.ws, room)))
    expect(acknowledged.size).toBeGreaterThan(0)
    for (const reader of readers) {
      await reader.whenSynced()
      await expect.poll(() => [...acknowledged].filter((key) => reader.get(key) === undefined), { timeout: 10_000 }).toEqual([])
    }
    const keys = writtenA + writtenB + 1
    for (const c of [a, b, ...readers]) await expect.poll(() => [c.keys().length, c.get('total')], { timeout: 15_000 }).toEqual([keys, writtenA + writtenB])
  }, 90_000)
})
