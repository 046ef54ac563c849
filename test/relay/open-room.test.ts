/**
 * `relay.openRoom`: the store API on the relay's copy of a room, for backend
 * code in the relay's process. Its writes reach clients as remote writes and
 * are stored; clients' writes reach it.
 */
import { describe, expect, it, vi } from 'vitest'
import type { Change } from '@tidekv/client'
import { createToken } from '@tidekv/relay'
import * as Y from 'yjs'
import { createDocStore } from '@tidekv/core'
import { newClient, newRelay, onCleanup, rawSocket, statusIs, tempDir } from '../helpers/relay.js'
import { syncMessage } from '../helpers/wire.js'

const wait = { timeout: 10_000, interval: 5 }

describe('relay.openRoom', () => {
  it('reads what clients wrote, and its writes reach them as remote writes and are stored', async () => {
    const dataDir = tempDir()
    const relay = await newRelay({ dataDir })
    const client = await newClient(relay.ws, 'team')
    client.set('from:client', { n: 1 })
    client.hash('profile').set('name', 'Ada')
    await client.whenSynced()
    const room = await relay.openRoom('team')
    expect(room.get('from:client')).toEqual({ n: 1 })
    expect(room.hash('profile').getAll()).toEqual({ name: 'Ada' })
    const seen: Change[] = []
    client.watch({ prefix: 'from:relay' }, (c) => seen.push(c))
    room.set('from:relay', 'hello')
    expect(room.incr('from:relay:count', 5)).toBe(5)
    await room.whenStored()
    await vi.waitFor(() => expect(client.get('from:relay')).toBe('hello'), wait)
    expect(seen.every((c) => c.origin === 'remote')).toBe(true)
    // Clients' later writes reach it, with origin remote.
    const remote: Change[] = []
    room.watch('later', (c) => remote.push(c))
    client.set('later', true)
    await vi.waitFor(() => expect(room.get('later')).toBe(true), wait)
    expect(remote[0]?.origin).toBe('remote')
    await room.close()
    expect(() => room.get('later')).toThrow(expect.objectContaining({ code: 'CLOSED' }))
    await relay.close()
    const again = await newRelay({ dataDir })
    const fresh = await newClient(again.ws, 'team')
    await statusIs(fresh, 'synced')
    expect([fresh.get('from:relay'), fresh.get('from:relay:count')]).toEqual(['hello', 5])
  })

  it('refuses a bad room name, and lets the room unload once closed', async () => {
    const relay = await newRelay({ limits: { idleRoomMs: 20 } })
    await expect(relay.openRoom('')).rejects.toMatchObject({ code: 'INVALID_KEY' })
    await expect(relay.openRoom('a\u0000b')).rejects.toMatchObject({ code: 'INVALID_KEY' })
    const room = await relay.openRoom('idle')
    room.set('k', 1)
    await room.whenStored()
    expect(relay.rooms.has('idle')).toBe(true)
    await room.close()
    await vi.waitFor(() => expect(relay.rooms.has('idle')).toBe(false), wait)
    const back = await relay.openRoom('idle')
    expect(back.get('k')).toBe(1)
  })

  it('createToken refuses a subject starting with U+0000, kept for the relay replicas', async () => {
    await expect(createToken({ secret: 'x'.repeat(32), room: 'r', mode: 'write', sub: '\u0000relay' })).rejects.toMatchObject({ code: 'INVALID_VALUE' })
  })

  describe('while the room applies a large update in slices (and holds, or refuses, other messages)', () => {
    /** Sends a 30,000-key state through a raw socket and resolves once the room is slicing it. */
    async function busyRoom(relay: Awaited<ReturnType<typeof newRelay>>, room: string) {
      const big = createDocStore()
      for (let i = 0; i < 30_000; i++) big.set(`k${i}`, i)
      await big.flush()
      const { ws } = await rawSocket(`${relay.ws}/${room}`)
      onCleanup(() => ws.close())
      ws.send(syncMessage(2, Y.encodeStateAsUpdate(big.doc)))
      await vi.waitFor(() => expect(relay.metrics.slicedUpdates).toBe(1), { timeout: 5000, interval: 1 })
    }

    it('close() keeps a write made just before it', async () => {
      const dataDir = tempDir()
      const relay = await newRelay({ dataDir })
      const team = await relay.openRoom('team')
      await busyRoom(relay, 'team')
      team.set('from:backend', 'hello')
      await team.close()
      await relay.close()
      const again = await newRelay({ dataDir })
      const check = await again.openRoom('team')
      expect([check.get('from:backend'), check.get('k29999')]).toEqual(['hello', 29999])
    })

    it('a write the busy room refused is sent again, and whenStored resolves once it is stored', async () => {
      const dataDir = tempDir()
      const relay = await newRelay({ dataDir, limits: { maxBacklogBytes: 1 } })
      const team = await relay.openRoom('team')
      const errors: string[] = []
      team.on('error', (e) => errors.push(e.code))
      await busyRoom(relay, 'team')
      team.set('x', 1)
      await team.whenStored()
      expect(errors).toContain('STORAGE_FAILED') // the refusal was reported
      await relay.close()
      const again = await newRelay({ dataDir })
      expect((await again.openRoom('team')).get('x')).toBe(1)
    })

    it('the HTTP API answers a request that came while the room was busy, and later ones', async () => {
      const relay = await newRelay({ limits: { maxBacklogBytes: 1 } })
      await busyRoom(relay, 'team')
      const first = await fetch(`${relay.url}/v1/rooms/team/keys/k1`, { signal: AbortSignal.timeout(8000) })
      expect(first.status).toBe(200)
      const second = await fetch(`${relay.url}/v1/rooms/team/keys/k2`, { signal: AbortSignal.timeout(8000) })
      expect(await second.json()).toMatchObject({ value: 2 })
    })
  })
})
