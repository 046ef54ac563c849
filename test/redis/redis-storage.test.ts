/**
 * The relay's Redis storage passes the RelayStorage conformance suite against
 * a real redis-server with the relay's durability settings (AOF,
 * `appendfsync always`). One server for the file; every storage gets a key
 * prefix of its own, so each test starts on an empty store, and `reopen`
 * opens a new storage on the same prefix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { roomTag } from '../../packages/relay/src/redis-storage.js'
import { describeRedisStorageConformance } from '../helpers/redis-conformance.js'
import { type RedisServer, startRedis } from '../helpers/redis.js'

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis({ durable: true })
}, 30_000)
afterAll(async () => {
  await redis?.stop()
})

const { open } = describeRedisStorageConformance('Redis', () => redis.client, 't')

describe('Redis storage keys', () => {
  it('put every key of a room under one hash tag, which no room name can break out of', async () => {
    const storage = open('keys')
    const names = ['plain', '{other}', 'a}b{c', '}{', '{', 'x'.repeat(1024), '🦀 {crab}', 'a\u0000b']
    for (const name of names) await storage.append(name, new Uint8Array([0, 0]))
    // A room's client-id owners, as the relay stores them: under the room's tag, not listed as a room.
    await storage.append('plain\u0000owners', new Uint8Array([1]))
    const keys = await redis.client.keys('keys:*')
    expect(keys.length).toBe(names.length * 2 + 2 + 1) // seq and log per room, the owners' two, the rooms set
    // Redis hashes only what is between the first { and the next }: one tag per room, with no brace inside.
    const tagOf = (key: string) => key.slice(key.indexOf('{') + 1, key.indexOf('}', key.indexOf('{')))
    for (const name of names) {
      const tag = roomTag(name)
      expect(tag).toMatch(/^r[A-Za-z0-9_-]+$/)
      expect(keys.filter((key) => tagOf(key) === tag).length).toBe(name === 'plain' ? 4 : 2)
    }
    expect((await storage.rooms()).sort()).toEqual([...names].sort())
  })
})

describe('the room list of the Redis storage', () => {
  it('is written once per room and storage, not on every append, and a room deleted through another storage is listed again when it comes back', async () => {
    const [one, other] = [open('listing'), open('listing')]
    const sadds = async () => Number(/cmdstat_sadd:calls=(\d+)/.exec(String(await redis.client.call('INFO', 'commandstats')))?.[1] ?? 0)
    const before = await sadds()
    for (let i = 0; i < 10; i++) await one.append('room', new Uint8Array([i]))
    expect((await sadds()) - before).toBe(1)
    await other.deleteRoom('room')
    expect(await one.rooms()).toEqual([])
    await one.append('room', new Uint8Array([1])) // seq 1 again: listed again, though `one` had listed it before
    expect(await other.rooms()).toEqual(['room'])
  })
})

describe('compaction in Redis', () => {
  it('deletes the stream it empties (an empty stream still takes memory), and appends go on after it', async () => {
    const storage = open('emptied')
    await storage.append('room', new Uint8Array([1]))
    await storage.append('room', new Uint8Array([2]))
    const log = `emptied:{${roomTag('room')}}:log`
    expect(await redis.client.exists(log)).toBe(1)
    await storage.compact('room', new Uint8Array([9]), 2)
    expect(await redis.client.exists(log)).toBe(0)
    expect(await storage.append('room', new Uint8Array([3]))).toBe(3)
    expect(await storage.load('room')).toEqual({ updates: [new Uint8Array([9]), new Uint8Array([3])], lastSeq: 3 })
  })
})
