/**
 * The contract every StorageAdapter keeps, as one suite that each adapter
 * (and its in-memory twin) runs. `backend()` returns a fresh factory pair
 * sharing one backing store, like two tabs on one IndexedDB.
 */
import { describe, expect, it } from 'vitest'
import type { StorageFactory, StoredUpdate } from '../storage/storage.js'

const bytes = (...n: number[]) => new Uint8Array(n)
/** A live (V1) row, as loadUpdates returns it. */
const v1 = (...n: number[]) => ({ bytes: bytes(...n), v2: false })
/** A compaction snapshot (V2) row. */
const v2 = (...n: number[]) => ({ bytes: bytes(...n), v2: true })

export function describeStorageConformance(name: string, backend: () => StorageFactory): void {
  describe(`${name} storage adapter`, () => {
    it('starts empty', async () => {
      const s = await backend()('empty')
      expect(await s.loadSnapshot()).toBeUndefined()
      expect(await s.loadUpdates()).toEqual([])
    })

    it('returns appended updates in order, to a later reader too', async () => {
      const factory = backend()
      const writer = await factory('db')
      await writer.append([bytes(1), bytes(2)], false)
      await writer.append([bytes(3)], true)
      await writer.append([], true)
      writer.close()
      const reader = await factory('db')
      expect(await reader.loadUpdates()).toEqual([v1(1), v1(2), v1(3)])
    })

    it('copies bytes: changing a buffer after append changes nothing stored', async () => {
      const s = await backend()('db')
      const u = bytes(1, 2)
      await s.append([u], false)
      u[0] = 9
      const [loaded] = await s.loadUpdates()
      expect(loaded).toEqual(v1(1, 2))
    })

    it('compaction replaces every update with the snapshot, offered with its index by loadSnapshot and marked V2 by loadUpdates', async () => {
      const factory = backend()
      const s = await factory('db')
      await s.append([bytes(1), bytes(2)], false)
      await s.compact((unseen) => {
        expect(unseen).toEqual([])
        return { snapshot: bytes(7), index: bytes(5) }
      })
      const reader = await factory('db')
      expect(await reader.loadSnapshot()).toEqual({ snapshot: bytes(7), index: bytes(5) })
      expect(await reader.loadUpdates()).toEqual([v2(7)])
    })

    it('the snapshot is not offered alone once an update was appended after it; loadUpdates still says which row it is', async () => {
      const s = await backend()('db')
      await s.compact(() => ({ snapshot: bytes(7), index: bytes(5) }))
      await s.append([bytes(9)], false)
      expect(await s.loadSnapshot()).toBeUndefined()
      expect(await s.loadUpdates()).toEqual([v2(7), v1(9)])
    })

    it('compaction hands over updates that another writer stored, so they are merged and not lost', async () => {
      const factory = backend()
      const a = await factory('db')
      const b = await factory('db')
      await a.append([bytes(1)], false)
      await b.append([bytes(2)], false)
      let seen: StoredUpdate[] = []
      await a.compact((unseen) => {
        seen = unseen
        return { snapshot: bytes(1, 2), index: bytes(5) }
      })
      expect(seen).toEqual([v1(2)])
      // b now sees a's snapshot as someone else's row, and knows it is a snapshot.
      await b.compact((unseen) => {
        seen = unseen
        return { snapshot: bytes(1, 2, 3), index: bytes(5) }
      })
      expect(seen).toEqual([v2(1, 2)])
    })

    it('an update appended while a compaction runs survives it', async () => {
      const factory = backend()
      const a = await factory('db')
      const b = await factory('db')
      await a.append([bytes(1)], false)
      const compaction = a.compact(() => ({ snapshot: bytes(1), index: bytes(5) }))
      const append = b.append([bytes(2)], true)
      await Promise.all([compaction, append])
      const all = await (await factory('db')).loadUpdates()
      expect(all).toContainEqual(v1(2))
      expect(all).toContainEqual(v2(1))
    })

    it('a failing build aborts the compaction and keeps every update', async () => {
      const factory = backend()
      const s = await factory('db')
      await s.append([bytes(1), bytes(2)], false)
      await expect(
        s.compact(() => {
          throw new Error('build failed')
        }),
      ).rejects.toThrow('build failed')
      expect(await (await factory('db')).loadUpdates()).toEqual([v1(1), v1(2)])
    })

    it('hands a released client id to exactly one later claimant', async () => {
      const factory = backend()
      const a = await factory('db')
      const b = await factory('db')
      expect(await a.claimClientId()).toBeUndefined()
      await a.releaseClientId(1234)
      const claims = await Promise.all([a.claimClientId(), b.claimClientId()])
      expect(claims.sort()).toEqual([1234, undefined])
      await b.releaseClientId(1234)
      await b.releaseClientId(1234)
      expect(await (await factory('db')).claimClientId()).toBe(1234)
      expect(await a.claimClientId()).toBeUndefined()
    })

    it('fails with STORAGE_FAILED after close', async () => {
      const s = await backend()('db')
      s.close()
      await expect(s.append([bytes(1)], false)).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
      await expect(s.loadUpdates()).rejects.toMatchObject({ code: 'STORAGE_FAILED' })
    })
  })
}
