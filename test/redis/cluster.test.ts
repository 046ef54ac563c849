/**
 * Relays on a real three-master Redis Cluster (issue 11): the storage
 * conformance suite on the cluster, rooms spread over the masters (every key
 * of a room on the master of its one slot), clients on three relays
 * converging, and a room's slot moved to another master while its clients
 * write, losing nothing. One cluster for the file; each storage a key prefix
 * of its own.
 */
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { roomTag } from '../../packages/relay/src/redis-storage.js'
import { describeRedisStorageConformance } from '../helpers/redis-conformance.js'
import { type RedisCluster, startRedisCluster } from '../helpers/redis-cluster.js'
import { startRelayProcess } from '../helpers/relay-process.js'
import { newClient, newRelay, tempDir } from '../helpers/relay.js'

let cluster: RedisCluster
let client: Cluster
beforeAll(async () => {
  cluster = await startRedisCluster(3)
  client = new Cluster(
    cluster.addresses.map((address) => ({ host: '127.0.0.1', port: Number(address.split(':')[1]) })),
    { lazyConnect: true },
  )
  await client.connect()
}, 60_000)
afterAll(async () => {
  client?.disconnect()
  await cluster?.stop()
})

describeRedisStorageConformance('Redis Cluster', () => client, 'c')

/** The room's seq key, as redis-storage.ts names it under the default prefix. */
const seqKey = (room: string) => `tidekv:{${roomTag(room)}}:seq`

/** Keys a node holds in the room's slot (a node answers MOVED to commands on keys of slots it does not own). */
const keysInSlotOf = async (node: RedisCluster['nodes'][number], room: string): Promise<number> =>
  Number(await node.client.call('CLUSTER', 'COUNTKEYSINSLOT', Number(await node.client.call('CLUSTER', 'KEYSLOT', seqKey(room)))))

/** One room name per master: names tried in turn until each master has one. */
async function roomsOnEveryMaster(base: string): Promise<string[]> {
  const byPort = new Map<number, string>()
  for (let i = 0; byPort.size < cluster.nodes.length && i < 1000; i++) {
    const room = `${base}-${i}`
    const master = await cluster.masterOf(seqKey(room))
    if (!byPort.has(master.port)) byPort.set(master.port, room)
  }
  return [...byPort.values()]
}

const relays = (count: number) => Promise.all(Array.from({ length: count }, () => newRelay({ redis: { cluster: cluster.addresses } })))

describe('relays on a Redis Cluster', () => {
  it('spread rooms over the masters, and clients of each room on three relays converge', async () => {
    const rooms = await roomsOnEveryMaster(`spread-${Date.now()}`)
    expect(rooms.length).toBe(3)
    const [r0, r1, r2] = await relays(3)
    for (const room of rooms) {
      const clients = await Promise.all([r0!, r1!, r2!].map((relay) => newClient(relay.ws, room)))
      clients.forEach((c, i) => {
        c.set(`from:${i}`, i)
        c.incr('total', i + 1)
        c.list('l').pushRight(room)
      })
      await Promise.all(clients.map((c) => c.whenSynced()))
      for (const c of clients) await expect.poll(() => [c.keys().length, c.get('total'), c.list('l').length], { timeout: 10_000 }).toEqual([5, 6, 3])
    }
    // Each room's keys are on the master of its slot, and only there.
    for (const room of rooms) {
      const master = await cluster.masterOf(seqKey(room))
      // seq and log, and the client-id owners' two (and a snapshot, had a compaction run)
      for (const node of cluster.nodes) expect(await keysInSlotOf(node, room)).toSatisfy((n: number) => (node === master ? n >= 4 : n === 0))
    }
    expect(new Set(await Promise.all(rooms.map(async (room) => (await cluster.masterOf(seqKey(room))).port))).size).toBe(3)
  }, 60_000)

  it("a room's slot moved to another master while its clients write loses nothing, and they converge", async () => {
    const room = `moving-${Date.now()}`
    const [r0, r1] = await relays(2)
    const a = await newClient(r0!.ws, room)
    const b = await newClient(r1!.ws, room)
    const slot = Number(await cluster.nodes[0]!.client.call('CLUSTER', 'KEYSLOT', seqKey(room)))
    const from = await cluster.masterOf(seqKey(room))
    const to = cluster.nodes.find((node) => node !== from)!

    let moved = false
    let rounds = 0
    // The move starts after 10 rounds of writes, so there is traffic before it too.
    const moving = (async () => {
      await vi.waitFor(() => expect(rounds).toBeGreaterThanOrEqual(10), { timeout: 20_000, interval: 5 })
      await cluster.moveSlot(slot, to)
      moved = true
    })()
    const acknowledged: string[] = []
    // Writes go on until 30 rounds after the move (bounded: 2,000 rounds or 30 s), so there is traffic before, during and after it.
    const deadline = Date.now() + 30_000
    let afterMove = 0
    for (let i = 0; (!moved || afterMove++ < 30) && i < 2000 && Date.now() < deadline; i++, rounds++) {
      a.set(`a:${i}`, i)
      b.incr('total')
      if (i % 10 === 9) {
        await a.whenSynced()
        acknowledged.push(...Array.from({ length: 10 }, (_, k) => `a:${i - 9 + k}`))
      } else await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await moving
    expect(afterMove).toBeGreaterThan(30)
    a.set('after', true)
    await Promise.all([a.whenSynced(), b.whenSynced()])
    expect(await cluster.masterOf(seqKey(room))).toBe(to)
    expect(await keysInSlotOf(to, room)).toBeGreaterThanOrEqual(2)
    expect(await keysInSlotOf(from, room)).toBe(0)

    // A relay started now reads the room from its new master.
    const [late] = await relays(1)
    const reader = await newClient(late!.ws, room)
    await reader.whenSynced()
    await expect.poll(() => acknowledged.filter((key) => reader.get(key) === undefined), { timeout: 10_000 }).toEqual([])
    const total = b.get('total')
    for (const c of [a, b, reader]) await expect.poll(() => [c.get('total'), c.get('after'), c.keys().length], { timeout: 10_000 }).toEqual([total, true, a.keys().length])
  }, 90_000)

  it('tidekv-relay takes the cluster as --redis-cluster or TIDEKV_REDIS_CLUSTER (any of its nodes)', async () => {
    const byFlag = await startRelayProcess(tempDir(), ['--redis-cluster', cluster.addresses.slice(0, 2).join(',')])
    const byEnv = await startRelayProcess(tempDir(), [], { TIDEKV_REDIS_CLUSTER: cluster.addresses[2]! })
    expect(byFlag.stdout()).toMatch(/rooms in a Redis Cluster/)
    expect(byEnv.stdout()).toMatch(/rooms in a Redis Cluster/)
    const room = `cli-${Date.now()}`
    const a = await newClient(byFlag.ws, room)
    const b = await newClient(byEnv.ws, room)
    a.set('from', 'flag')
    b.set('to', 'env')
    await expect.poll(() => [a.get('to'), b.get('from')], { timeout: 10_000 }).toEqual(['env', 'flag'])
  }, 60_000)
})
