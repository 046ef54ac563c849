/**
 * Entries a hostile peer with a write token can put in a room, replayed
 * against an honest replica. Each must be refused as INVALID_ENTRY (every
 * replica refuses the same bytes, so they still agree) or bounded, and the
 * honest replica must go on writing: before these fixes the first two froze
 * the next `set()` for good (issue 10, items 3 and 6).
 */
import * as encoding from 'lib0/encoding'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { memoryStorage, openStore } from '@tidekv/client'
import { createDocStore, type DocStore, FORMAT_VERSION, LOG_NAME, STRUCTURE_VERSION } from '@tidekv/core'
import { manualClock } from '@tidekv/core/testing'
import { INFINITE_VARINT } from '../helpers/wire.js'

const EXPIRY_BIT = 2

function varUint(n: number): number[] {
  const enc = encoding.createEncoder()
  encoding.writeVarUint(enc, n)
  return [...encoding.toUint8Array(enc)]
}

function str(s: string): number[] {
  const enc = encoding.createEncoder()
  encoding.writeVarString(enc, s)
  return [...encoding.toUint8Array(enc)]
}

/** A plain value entry for `key` holding the number 1, with the given wall, counter and expiry bytes. */
function plainEntry(key: string, wall: readonly number[], counter: readonly number[], expiry?: readonly number[]): Uint8Array {
  const value = encoding.createEncoder()
  encoding.writeAny(value, 1)
  const head = (FORMAT_VERSION << 4) | (expiry === undefined ? 0 : EXPIRY_BIT)
  return new Uint8Array([head, ...str(key), ...wall, ...counter, ...(expiry ?? []), ...encoding.toUint8Array(value)])
}

/** A list member entry (position `L<wall>.<counter>.<replica>.0`) in structure format. */
function listEntry(key: string, position: string, wall: number): Uint8Array {
  const value = encoding.createEncoder()
  encoding.writeAny(value, 'x')
  const LIST = 4
  return new Uint8Array([(STRUCTURE_VERSION << 4) | 0, ...str(key), LIST, ...str(position), ...varUint(wall), 0, ...encoding.toUint8Array(value)])
}

/** A peer's document holding `entries`, merged into `store` as a sync would. */
function receive(store: DocStore, ...entries: Uint8Array[]): void {
  const peer = new Y.Doc()
  peer.getArray<Uint8Array>(LOG_NAME).push(entries)
  Y.applyUpdate(store.doc, Y.encodeStateAsUpdate(peer))
}

function honest(now = 1_800_000_000_000) {
  const clock = manualClock(now)
  const store = createDocStore({ clock: clock.fn })
  const errors: string[] = []
  store.on('error', (e) => errors.push(e.code))
  return { store, errors, clock }
}

describe('entries from a hostile peer', () => {
  it('a wall clock that decodes as Infinity is refused, and the next set() completes', () => {
    const { store, errors } = honest()
    receive(store, plainEntry('k', INFINITE_VARINT, [0]))
    expect(errors).toEqual(['INVALID_ENTRY'])
    expect(store.has('k')).toBe(false)
    store.set('k', 'honest')
    store.incr('n')
    expect([store.get('k'), store.get('n')]).toEqual(['honest', 1])
  })

  it('an expiry or a counter that decodes as Infinity is refused, and writes to that key go on', () => {
    const { store, errors } = honest()
    receive(store, plainEntry('k', varUint(1_800_000_000_000), [0], INFINITE_VARINT), plainEntry('j', varUint(1_800_000_000_000), INFINITE_VARINT))
    expect(errors).toEqual(['INVALID_ENTRY', 'INVALID_ENTRY'])
    store.set('k', 1, { ttl: 1000 })
    store.set('j', 2)
    expect([store.get('k'), store.get('j'), store.ttl('k')]).toEqual([1, 2, 1000])
  })

  it('a stamp past the year 9999 (2^60 ms) is refused: list pushes after it still reach other replicas', async () => {
    const { store, errors } = honest()
    receive(store, plainEntry('k', varUint(2 ** 60), [0]), plainEntry('k2', varUint(2 ** 53), [0]))
    expect(errors).toEqual(['INVALID_ENTRY', 'INVALID_ENTRY'])
    store.list('l').pushRight('a')
    await store.flush()
    const other = createDocStore()
    Y.applyUpdate(other.doc, Y.encodeStateAsUpdate(store.doc))
    expect(other.list('l').range(0, -1)).toEqual(['a'])
  })

  it('a stamp 100 years ahead is kept (replicas agree on it) but does not move the honest clock', async () => {
    const { store, errors, clock } = honest()
    const century = clock.now + 100 * 365 * 86_400_000
    receive(store, plainEntry('far', varUint(century), [0]))
    expect(errors).toEqual([])
    expect(store.get('far')).toBe(1)
    store.set('a', 1)
    store.set('b', 2)
    // A concurrent honest write elsewhere, a second later, wins over this replica's: the clock was not dragged a century ahead.
    const other = createDocStore({ clock: () => clock.now + 1000 })
    other.set('a', 'later')
    await Promise.all([store.flush(), other.flush()])
    Y.applyUpdate(store.doc, Y.encodeStateAsUpdate(other.doc))
    Y.applyUpdate(other.doc, Y.encodeStateAsUpdate(store.doc))
    expect([store.get('a'), other.get('a')]).toEqual(['later', 'later'])
  })

  it('a value with a "__proto__" key is refused, as set() refuses it (lib0 would have read it as {})', () => {
    const { store, errors } = honest()
    const head = FORMAT_VERSION << 4
    for (const [key, inner] of [
      ['primitive', [125, 1]], // { __proto__: 1 }
      ['object', [118, 1, ...str('polluted'), 120]], // { __proto__: { polluted: true } }
    ] as const) {
      const value = [118, 1, ...str('__proto__'), ...inner]
      receive(store, new Uint8Array([head, ...str(key), ...varUint(1_800_000_000_000), 0, ...value]))
    }
    expect(errors).toEqual(['INVALID_ENTRY', 'INVALID_ENTRY'])
    expect([store.has('primitive'), store.has('object')]).toEqual([false, false])
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('a value nested past 256 levels is refused without recursing through it', () => {
    const { store, errors } = honest()
    const deep = [...new Array<number>(100_000).fill(0).flatMap(() => [117, 1]), 126]
    receive(store, new Uint8Array([FORMAT_VERSION << 4, ...str('deep'), ...varUint(1_800_000_000_000), 0, ...deep]))
    expect(errors).toEqual(['INVALID_ENTRY'])
  })

  it('a century-ahead entry is not frozen in place: an overwrite by a replica that saw it wins on every replica', async () => {
    const { store, clock } = honest()
    receive(store, plainEntry('k', varUint(clock.now + 100 * 365 * 86_400_000), [0]))
    const other = createDocStore({ clock: () => clock.now })
    Y.applyUpdate(other.doc, Y.encodeStateAsUpdate(store.doc))
    expect([store.get('k'), other.get('k')]).toEqual([1, 1])
    // An overwrite deletes the entries it has seen, whatever their stamps, so it needs no later stamp to win.
    store.set('k', 'now')
    await store.flush()
    Y.applyUpdate(other.doc, Y.encodeStateAsUpdate(store.doc))
    expect([store.get('k'), other.get('k')]).toEqual(['now', 'now'])
  })

  it('a store saved with a poisoned clock heals when it opens: the saved clock from a century ahead is not adopted', async () => {
    const clock = manualClock(1_800_000_000_000)
    const disk = memoryStorage()
    const first = await openStore('poisoned', { storage: disk, tabs: false, clock: clock.fn })
    receive(first, plainEntry('far', varUint(clock.now + 100 * 365 * 86_400_000), [0]))
    await first.close() // saves the keyspace, with the largest stamp it has seen
    const reopened = await openStore('poisoned', { storage: disk, tabs: false, clock: clock.fn })
    await reopened.loaded
    reopened.set('after', 'from the reopened store')
    await reopened.flush()
    const other = createDocStore({ clock: () => clock.now + 1000 })
    other.set('after', 'a second later')
    await other.flush()
    Y.applyUpdate(reopened.doc, Y.encodeStateAsUpdate(other.doc))
    expect([reopened.get('far'), reopened.get('after')]).toEqual([1, 'a second later'])
    await reopened.close()
  })

  it('a list position whose wall is out of range is refused like any other bad position', () => {
    const { store, errors } = honest()
    receive(store, listEntry('l', `L${'9'.repeat(17)}.0.1.0`, 1))
    expect(errors).toEqual(['INVALID_ENTRY'])
  })
})
