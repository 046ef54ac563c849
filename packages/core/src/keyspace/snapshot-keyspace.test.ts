import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createDocStore } from '../doc-store.js'
import { LOG_NAME } from '../layout/entry.js'
import * as encoding from 'lib0/encoding'
import { indexOfSnapshot, keysOfSnapshot } from './snapshot-keyspace.js'

const NOW = 1_700_000_000_000

/** A store on a fixed clock, its writes committed (a microtask after each tick). */
async function storeWith(fill: (store: ReturnType<typeof createDocStore>) => void) {
  const store = createDocStore({ clock: () => NOW })
  fill(store)
  await Promise.resolve()
  await Promise.resolve()
  return store
}

describe("a snapshot's keyspace (keysOfSnapshot)", () => {
  it('lists the keys in order, each with its entries, the single entries’ expiries, and the greatest stamp', async () => {
    const store = await storeWith((s) => {
      s.set('b', 2, { ttl: 5_000 })
      s.set('a', { x: 1 })
      s.set('a', { x: 2 }) // the first entry is deleted: one entry left
      s.set('gone', 1)
      s.delete('gone')
    })
    const keys = keysOfSnapshot(Y.encodeStateAsUpdateV2(store.doc))!
    expect(keys.keys).toEqual(['a', 'b'])
    expect([...keys.starts]).toEqual([0, 1, 2]) // one entry each
    expect([...keys.expiries]).toEqual([0, NOW + 5_000])
    expect(keys.resolveNow).toEqual([])
    expect(keys.maxStamp.wall).toBe(NOW)
    expect(keys.maxStamp.counter).toBeGreaterThan(0) // several writes in one millisecond
  })

  it('keys of several entries with an expiry (a data structure: its members and its meta) are resolved at open, not guessed', async () => {
    const store = await storeWith((s) => {
      s.incr('visits')
      s.expire('visits', 1_000)
      s.hash('h').set('f', 1)
      s.expire('h', 2_000)
      s.collection('plain-set').add('m1', 'm2')
    })
    const keys = keysOfSnapshot(Y.encodeStateAsUpdateV2(store.doc))!
    expect(keys.keys).toEqual(['h', 'plain-set', 'visits'])
    expect(keys.resolveNow).toEqual(['h'])
    // This replica's counter is one entry, its expiry with it.
    expect([...keys.expiries]).toEqual([0, 0, NOW + 1_000])
  })

  it('a document with another root type, or with structs still pending, is not read this way (undefined: load the document)', async () => {
    const store = await storeWith((s) => s.set('k', 1))
    store.doc.getMap('app-data').set('x', 1)
    expect(keysOfSnapshot(Y.encodeStateAsUpdateV2(store.doc))).toBeUndefined()

    // An update whose predecessor never arrived stays pending, and the snapshot carries it.
    const writer = new Y.Doc()
    const log = writer.getArray<Uint8Array>(LOG_NAME)
    log.push([new Uint8Array([1])])
    const first = Y.encodeStateAsUpdate(writer)
    log.push([new Uint8Array([2])])
    const second = Y.encodeStateAsUpdate(writer, Y.encodeStateVectorFromUpdate(first))
    const reader = new Y.Doc()
    Y.applyUpdate(reader, second)
    expect(reader.store.pendingStructs).not.toBeNull()
    expect(keysOfSnapshot(Y.encodeStateAsUpdateV2(reader))).toBeUndefined()
  })

  it('skips bytes that are no entry, as every replica ignores them; a V1 update or garbage is not a snapshot', async () => {
    const store = await storeWith((s) => s.set('k', 1))
    store.doc.getArray<Uint8Array>(LOG_NAME).push([new Uint8Array([0xff, 1, 2])])
    const keys = keysOfSnapshot(Y.encodeStateAsUpdateV2(store.doc))!
    expect(keys.keys).toEqual(['k'])
    expect(keysOfSnapshot(new Uint8Array([1, 2, 3]))).toBeUndefined()
  })

  it('with its index (the entries in key order) it reads the same keyspace without sorting; an index that does not fit is ignored', async () => {
    const store = await storeWith((s) => {
      for (let i = 0; i < 50; i++) s.set(`k${(i * 7919) % 50}`, i)
      s.hash('h').setMany({ a: 1, b: 2 })
      s.incr('n')
    })
    const snapshot = Y.encodeStateAsUpdateV2(store.doc)
    const plain = keysOfSnapshot(snapshot)!
    const index = indexOfSnapshot(snapshot)!
    expect(index.length).toBeLessThan(4 * 54) // a few bytes an entry
    expect(keysOfSnapshot(snapshot, index)).toEqual(plain)
    const indexOf = (positions: number[]) => {
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, positions.length)
      for (const p of positions) encoding.writeVarUint(encoder, p)
      return encoding.toUint8Array(encoder)
    }
    // Out of order, a position twice, a position past the snapshot, trailing bytes, entries left out: each ignored.
    for (const bad of [indexOf([1, 0]), indexOf([0, 0]), indexOf([9_999]), new Uint8Array([...index, 0]), new Uint8Array([200]), indexOf([0])]) {
      expect(keysOfSnapshot(snapshot, bad)).toEqual(plain)
    }
  })
})
