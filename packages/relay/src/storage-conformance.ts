/**
 * The contract every RelayStorage keeps, as one suite that each adapter (and
 * its in-memory twin) runs from its test file. `open()` returns a storage on
 * a fresh, empty backing store; a persistent adapter also passes `reopen`,
 * which the "after close and reopen" tests use.
 *
 * Seqs are pinned only as far as the interface promises: they increase within
 * a room, `lastSeq` is the last one (0 for an empty room), and `compact`
 * takes one of them. Exact numbering (1, 2, 3, …) is each adapter's business.
 */
import { baseSeed, Random, replayHint, sequenceSeed } from '@tidekv/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import type { RelayStorage } from './storage.js'

/** Returns a storage on a fresh, empty backing store. */
export type OpenRelayStorage = () => RelayStorage | Promise<RelayStorage>

/** Returns a new storage on the backing store of `closed`, which the suite has closed. */
export type ReopenRelayStorage = (closed: RelayStorage) => RelayStorage | Promise<RelayStorage>

const bytes = (...n: number[]) => new Uint8Array(n)

/** Room names a relay may see in a URL path, each a room of its own. */
const ODD_ROOMS = [
  '/a/b',
  '/a',
  'a/b',
  'ü', // precomposed…
  'u\u0308', // …and decomposed: no Unicode normalisation
  'Room',
  'room', // case matters
  '🦀 crab',
  'a\u0000b', // a NUL inside a name does not cut it short
  'a',
  ' a ',
  "'; DROP TABLE updates; --",
  '%2F',
  'x'.repeat(1024),
  'ü'.repeat(512), // 1 KiB of UTF-8 in 512 chars
]

/**
 * Declares the RelayStorage conformance suite for one adapter.
 *
 * @param name - shown in the test names.
 * @param open - a storage on a fresh, empty backing store, for each test.
 * @param reopen - for persistent adapters: a new storage on the same backing
 *   store as the closed one it is given. Without it (an in-memory adapter has
 *   nothing to reopen) the persistence tests do not apply and are not defined.
 * @example
 * describeRelayStorageConformance('memory', () => memoryRelayStorage())
 */
export function describeRelayStorageConformance(name: string, open: OpenRelayStorage, reopen?: ReopenRelayStorage): void {
  describe(`${name} relay storage`, () => {
    const opened: RelayStorage[] = []
    const fresh = async (): Promise<RelayStorage> => {
      const storage = await open()
      opened.push(storage)
      return storage
    }
    afterEach(async () => {
      // Closing twice is harmless (pinned below), so close whatever a test left open.
      await Promise.all(opened.splice(0).map((storage) => storage.close()))
    })

    it('loads a room never written as no updates and lastSeq 0', async () => {
      const s = await fresh()
      expect(await s.load('nothing')).toEqual({ updates: [], lastSeq: 0 })
      expect(await s.rooms()).toEqual([])
    })

    it('returns increasing seqs from append, and the updates in that order from load', async () => {
      const s = await fresh()
      const seqs = [await s.append('r', bytes(1)), await s.append('r', bytes(2)), await s.append('r', bytes(3))]
      expect(seqs[0]).toBeGreaterThan(0)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
      expect(new Set(seqs).size).toBe(3)
      expect(await s.load('r')).toEqual({ updates: [bytes(1), bytes(2), bytes(3)], lastSeq: seqs[2] })
    })

    it('loadSince gives the updates after a seq, in order, with lastSeq; a snapshot past that seq stands for the updates it covers', async () => {
      const s = await fresh()
      const seqs = [await s.append('r', bytes(1)), await s.append('r', bytes(2)), await s.append('r', bytes(3))]
      expect(await s.loadSince('r', 0)).toEqual({ updates: [bytes(1), bytes(2), bytes(3)], lastSeq: seqs[2] })
      expect(await s.loadSince('r', seqs[0]!)).toEqual({ updates: [bytes(2), bytes(3)], lastSeq: seqs[2] })
      expect(await s.loadSince('r', seqs[2]!)).toEqual({ updates: [], lastSeq: seqs[2] })
      expect(await s.loadSince('nothing', 0)).toEqual({ updates: [], lastSeq: 0 })
      await s.compact('r', bytes(1, 2), seqs[1]!)
      // A relay that had seq 1 only: the snapshot (which holds 2) and 3.
      expect(await s.loadSince('r', seqs[0]!)).toEqual({ updates: [bytes(1, 2), bytes(3)], lastSeq: seqs[2] })
      expect(await s.loadSince('r', seqs[1]!)).toEqual({ updates: [bytes(3)], lastSeq: seqs[2] })
    })

    it('keeps rooms independent', async () => {
      const s = await fresh()
      await s.append('a', bytes(1))
      await s.append('b', bytes(2))
      const a2 = await s.append('a', bytes(3))
      const b2 = await s.append('b', bytes(4))
      await s.compact('a', bytes(13), a2)
      expect(await s.load('b')).toEqual({ updates: [bytes(2), bytes(4)], lastSeq: b2 })
      await s.deleteRoom('b')
      expect(await s.load('a')).toEqual({ updates: [bytes(13)], lastSeq: a2 })
    })

    it('compaction up to lastSeq leaves only the snapshot, and later appends go on after it', async () => {
      const s = await fresh()
      await s.append('r', bytes(1))
      const last = await s.append('r', bytes(2))
      await s.compact('r', bytes(1, 2), last)
      expect(await s.load('r')).toEqual({ updates: [bytes(1, 2)], lastSeq: last })
      const next = await s.append('r', bytes(3))
      expect(next).toBeGreaterThan(last)
      expect(await s.load('r')).toEqual({ updates: [bytes(1, 2), bytes(3)], lastSeq: next })
    })

    it('compaction up to an earlier seq keeps the later updates, in order, after the snapshot', async () => {
      const s = await fresh()
      await s.append('r', bytes(1))
      const upTo = await s.append('r', bytes(2))
      // Appended while the room was building its snapshot of 1 and 2.
      await s.append('r', bytes(3))
      const last = await s.append('r', bytes(4))
      await s.compact('r', bytes(1, 2), upTo)
      expect(await s.load('r')).toEqual({ updates: [bytes(1, 2), bytes(3), bytes(4)], lastSeq: last })
    })

    it('a second compaction replaces the first snapshot too', async () => {
      const s = await fresh()
      const first = await s.append('r', bytes(1))
      await s.compact('r', bytes(1), first)
      await s.append('r', bytes(2))
      const second = await s.append('r', bytes(3))
      await s.compact('r', bytes(1, 2, 3), second)
      expect(await s.load('r')).toEqual({ updates: [bytes(1, 2, 3)], lastSeq: second })
    })

    it('refuses a compaction up to a seq the room does not have, and changes nothing', async () => {
      const s = await fresh()
      await expect(s.compact('empty', bytes(9), 1)).rejects.toThrow(/last seq is 0/)
      const last = await s.append('r', bytes(1))
      for (const upTo of [last + 1, 0, -1, 0.5, Number.NaN]) {
        await expect(s.compact('r', bytes(9), upTo), `upToSeq ${upTo}`).rejects.toThrow(/Cannot compact/)
      }
      expect(await s.load('r')).toEqual({ updates: [bytes(1)], lastSeq: last })
      expect(await s.rooms()).toEqual(['r'])
    })

    it('deleteRoom removes the room, and a later append starts it again from nothing', async () => {
      const s = await fresh()
      await s.append('r', bytes(1))
      const last = await s.append('r', bytes(2))
      await s.compact('r', bytes(1, 2), last)
      await s.append('r', bytes(3))
      await s.deleteRoom('r')
      expect(await s.load('r')).toEqual({ updates: [], lastSeq: 0 })
      expect(await s.rooms()).toEqual([])
      const seq = await s.append('r', bytes(4))
      expect(seq).toBeGreaterThan(0)
      expect(await s.load('r')).toEqual({ updates: [bytes(4)], lastSeq: seq })
    })

    it('deleting a room that has nothing stored does nothing', async () => {
      const s = await fresh()
      await s.append('kept', bytes(1))
      await s.deleteRoom('missing')
      expect(await s.rooms()).toEqual(['kept'])
    })

    it('rooms() lists exactly the rooms that have updates stored', async () => {
      const s = await fresh()
      await s.append('a', bytes(1))
      await s.append('b', bytes(2))
      await s.append('b', bytes(3))
      await s.append('c', bytes(4))
      await s.load('never-written')
      await s.deleteRoom('c')
      expect((await s.rooms()).sort()).toEqual(['a', 'b'])
    })

    it('copies bytes: changing a buffer after append, compact or load changes nothing stored', async () => {
      const s = await fresh()
      const update = bytes(1, 2)
      await s.append('r', update)
      update[0] = 9
      const snapshot = bytes(5, 6)
      const last = await s.append('r', bytes(3))
      await s.compact('r', snapshot, last)
      snapshot[0] = 9
      await s.append('r', bytes(7))
      const loaded = await s.load('r')
      for (const u of loaded.updates) u.fill(0)
      expect((await s.load('r')).updates).toEqual([bytes(5, 6), bytes(7)])
    })

    it('stores only the bytes a view covers, not the rest of its buffer', async () => {
      const s = await fresh()
      await s.append('r', bytes(0, 1, 2, 3, 4).subarray(1, 3))
      const [loaded] = (await s.load('r')).updates
      expect(loaded).toEqual(bytes(1, 2))
    })

    it('hands out plain Uint8Arrays, not Node Buffers', async () => {
      // Buffer#slice shares memory where Uint8Array#slice copies: a caller
      // must not get one without knowing.
      const s = await fresh()
      await s.append('r', bytes(1))
      const [loaded] = (await s.load('r')).updates
      expect(loaded?.constructor).toBe(Uint8Array)
    })

    it('round-trips an empty update and a large one', async () => {
      const s = await fresh()
      const large = new Random(1).bytes(4 * 1024 * 1024)
      await s.append('r', bytes())
      await s.append('r', large)
      const { updates } = await s.load('r')
      expect(updates).toHaveLength(2)
      expect(updates[0]).toEqual(bytes())
      expect(Buffer.compare(updates[1] ?? bytes(), large)).toBe(0)
    })

    it("keeps room names with '/', unicode, NUL and 1 KiB apart and lists them unchanged", async () => {
      const s = await fresh()
      for (const [i, room] of ODD_ROOMS.entries()) await s.append(room, bytes(i))
      for (const [i, room] of ODD_ROOMS.entries()) {
        expect((await s.load(room)).updates, JSON.stringify(room)).toEqual([bytes(i)])
      }
      expect((await s.rooms()).sort()).toEqual([...ODD_ROOMS].sort())
    })

    it('refuses a room name with a lone surrogate, which it could not list back', async () => {
      const s = await fresh()
      await expect(s.append('a\uD800', bytes(1))).rejects.toThrow(/lone surrogate/)
      await expect(s.load('\uDC00')).rejects.toThrow(/lone surrogate/)
      expect(await s.rooms()).toEqual([])
      // A pair is fine.
      await s.append('\uD83E\uDD80', bytes(1))
      expect(await s.rooms()).toEqual(['🦀'])
    })

    it('rejects every call after close, and closing again is harmless', async () => {
      const s = await fresh()
      await s.append('r', bytes(1))
      await s.close()
      // Each call returns a rejected promise rather than throwing where it is made.
      const calls: Promise<unknown>[] = [s.load('r'), s.append('r', bytes(2)), s.compact('r', bytes(1), 1), s.deleteRoom('r'), s.rooms()]
      for (const call of calls) await expect(call).rejects.toThrow(/closed/)
      await s.close()
    })

    it('matches a model of the contract over random calls', async () => {
      await randomCalls(fresh, undefined)
    })

    if (reopen !== undefined)
      describe('after close and reopen', () => {
        const again = async (closed: RelayStorage): Promise<RelayStorage> => {
          await closed.close()
          const storage = await reopen(closed)
          opened.push(storage)
          return storage
        }

        it('keeps every update and room', async () => {
          const s = await fresh()
          await s.append('a', bytes(1))
          const last = await s.append('a', bytes(2))
          const other = await s.append('/b/ü', bytes(3))
          const t = await again(s)
          expect(await t.load('a')).toEqual({ updates: [bytes(1), bytes(2)], lastSeq: last })
          expect(await t.load('/b/ü')).toEqual({ updates: [bytes(3)], lastSeq: other })
          expect((await t.rooms()).sort()).toEqual(['/b/ü', 'a'])
          expect(await t.append('a', bytes(4))).toBeGreaterThan(last)
        })

        it('keeps a compaction and the updates after it, and appends go on after them', async () => {
          const s = await fresh()
          await s.append('r', bytes(1))
          const upTo = await s.append('r', bytes(2))
          const last = await s.append('r', bytes(3))
          await s.compact('r', bytes(1, 2), upTo)
          const t = await again(s)
          expect(await t.load('r')).toEqual({ updates: [bytes(1, 2), bytes(3)], lastSeq: last })
          const next = await t.append('r', bytes(4))
          expect(next).toBeGreaterThan(last)
          await t.compact('r', bytes(1, 2, 3), last)
          expect(await t.load('r')).toEqual({ updates: [bytes(1, 2, 3), bytes(4)], lastSeq: next })
        })

        it('keeps a deleted room deleted', async () => {
          const s = await fresh()
          await s.append('gone', bytes(1))
          await s.append('kept', bytes(2))
          await s.deleteRoom('gone')
          const t = await again(s)
          expect(await t.load('gone')).toEqual({ updates: [], lastSeq: 0 })
          expect(await t.rooms()).toEqual(['kept'])
        })

        it('matches a model of the contract over random calls with reopens between them', async () => {
          await randomCalls(fresh, again)
        })
      })
  })
}

interface ModelRow {
  seq: number
  data: Uint8Array
}

const SEQUENCES = 20
const CALLS = 80
const MODEL_ROOMS = ['a', '/b/c', 'ü']

/**
 * Random appends, compactions, deletes, loads and (given `again`) reopens on
 * a few rooms, each checked against a model that is just the list of rows per
 * room. Seeded: the failure message names the seed, `TIDEKV_SEED=<n>` replays
 * it first.
 */
async function randomCalls(fresh: () => Promise<RelayStorage>, again: ((closed: RelayStorage) => Promise<RelayStorage>) | undefined): Promise<void> {
  const base = baseSeed()
  for (let n = 0; n < SEQUENCES; n++) {
    const seed = sequenceSeed(base, n)
    const rng = new Random(seed)
    const model = new Map<string, ModelRow[]>()
    const rowsOf = (room: string): ModelRow[] => model.get(room) ?? []
    const lastSeqOf = (room: string): number => rowsOf(room).at(-1)?.seq ?? 0
    const expectRoom = async (s: RelayStorage, room: string, where: string) => {
      expect(await s.load(room), where).toEqual({
        updates: rowsOf(room).map((row) => row.data),
        lastSeq: lastSeqOf(room),
      })
    }
    let s = await fresh()
    for (let call = 0; call < CALLS; call++) {
      const room = rng.pick(MODEL_ROOMS)
      const where = `${replayHint(seed)} call #${call} on room ${JSON.stringify(room)}`
      const pick = rng.float()
      if (pick < 0.55) {
        const data = rng.bytes(rng.int(0, 24))
        const seq = await s.append(room, data)
        expect(seq, where).toBeGreaterThan(lastSeqOf(room))
        model.set(room, [...rowsOf(room), { seq, data }])
      } else if (pick < 0.7) {
        const rows = rowsOf(room)
        if (rows.length === 0) continue
        // Any seq up to the last, also one below the current snapshot (a
        // late compaction) or in a gap between rows.
        const upTo = rng.int(1, lastSeqOf(room))
        const snapshot = rng.bytes(rng.int(0, 24))
        await s.compact(room, snapshot, upTo)
        model.set(room, [{ seq: upTo, data: snapshot }, ...rows.filter((row) => row.seq > upTo)])
      } else if (pick < 0.75) {
        await s.deleteRoom(room)
        model.delete(room)
      } else if (pick < 0.9) {
        await expectRoom(s, room, where)
      } else if (pick < 0.95) {
        expect((await s.rooms()).sort(), where).toEqual([...model.keys()].sort())
      } else if (again !== undefined) {
        s = await again(s)
      }
    }
    const where = `${replayHint(seed)} at the end`
    for (const room of MODEL_ROOMS) await expectRoom(s, room, where)
    expect((await s.rooms()).sort(), where).toEqual([...model.keys()].sort())
    await s.close()
  }
}
