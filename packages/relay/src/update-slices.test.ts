/**
 * sliceUpdate: the slices of an update, applied in order, leave a document
 * exactly as the whole update does — for any slice size, with several
 * clients whose structs reference each other, deletes, and every content kind.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { baseSeed, Random, replayHint, sequenceSeed } from '@tidekv/core/testing'
import { checkUpdate, scaleBudget } from './update-budget.js'
import { sliceUpdate } from './update-slices.js'

const budget = scaleBudget(64 * 1024 * 1024)

/** Three replicas editing shared types and exchanging updates now and then: blocks that reference each other. */
function randomDocument(rng: Random): Uint8Array {
  const docs = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
  for (let step = 0; step < rng.int(20, 120); step++) {
    const doc = rng.pick(docs)
    const kind = rng.int(0, 5)
    if (kind === 0) doc.getArray<unknown>('a').insert(rng.int(0, doc.getArray('a').length), [rng.int(0, 9), rng.word()])
    else if (kind === 1) doc.getText('t').insert(rng.int(0, doc.getText('t').length), rng.word(1, 5))
    else if (kind === 2) doc.getMap<unknown>('m').set(rng.word(1, 3), rng.chance(0.5) ? rng.bytes(3) : { n: rng.int(0, 9) })
    else if (kind === 3 && doc.getArray('a').length > 0) doc.getArray('a').delete(rng.int(0, doc.getArray('a').length - 1), 1)
    else if (kind === 4 && doc.getText('t').length > 0) doc.getText('t').delete(0, 1)
    else {
      const other = rng.pick(docs)
      Y.applyUpdate(other, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(other)))
    }
  }
  for (const d of docs.slice(1)) Y.applyUpdate(docs[0]!, Y.encodeStateAsUpdate(d))
  return Y.encodeStateAsUpdate(docs[0]!)
}

function contents(doc: Y.Doc) {
  return { a: doc.getArray('a').toJSON(), t: doc.getText('t').toString(), m: doc.getMap('m').toJSON(), sv: [...Y.encodeStateVector(doc)] }
}

describe('sliceUpdate', () => {
  it('slices applied in order give the same document as the whole update, for any slice size', () => {
    const base = baseSeed()
    for (let i = 0; i < 40; i++) {
      const seed = sequenceSeed(base, i)
      const rng = new Random(seed)
      const update = randomDocument(rng)
      const whole = new Y.Doc()
      Y.applyUpdate(whole, update)
      for (const every of [1, 2, 7, 100]) {
        // Against an empty room's state vector, as the relay checks a first sync step 2.
        const { layout } = checkUpdate(update, budget, { get: () => 0 }, every)
        const slices = sliceUpdate(update, layout)
        if (!layout.forwardRefs && layout.cuts.length > 0) expect(slices.length).toBeGreaterThan(1)
        const sliced = new Y.Doc()
        for (const slice of slices) {
          checkUpdate(slice, budget) // each slice is a well-formed update in its own right
          Y.applyUpdate(sliced, slice)
          // Nothing waits in Yjs between slices: that would make every later slice merge it again.
          expect(sliced.store.pendingStructs, `every ${every}, ${replayHint(seed)}`).toBeNull()
        }
        const hint = `every ${every}, ${replayHint(seed)}`
        expect(contents(sliced), hint).toEqual(contents(whole))
        expect(Y.encodeStateAsUpdate(sliced), hint).toEqual(Y.encodeStateAsUpdate(whole))
        expect(sliced.store.pendingStructs, hint).toBeNull()
      }
    }
  })

  it('an update whose blocks reference later blocks comes back whole (slices would wait in pending structs)', () => {
    // Client 1 pushes one item; client 2^31 (written first: Yjs orders blocks by descending id) inserts before it.
    const base = new Y.Doc()
    base.clientID = 1
    base.getArray('a').push(['first'])
    const other = new Y.Doc()
    other.clientID = 2 ** 31
    Y.applyUpdate(other, Y.encodeStateAsUpdate(base))
    for (let i = 0; i < 50; i++) other.getArray('a').insert(0, [i])
    const update = Y.mergeUpdates([Y.encodeStateAsUpdate(base), Y.encodeStateAsUpdate(other)])
    const { layout } = checkUpdate(update, budget, { get: () => 0 }, 10)
    expect(layout.forwardRefs).toBe(true)
    expect(sliceUpdate(update, layout)).toEqual([update])
  })

  it('an update with no cut comes back as itself', () => {
    const doc = new Y.Doc()
    doc.getArray('a').push([1, 2, 3])
    const update = Y.encodeStateAsUpdate(doc)
    expect(sliceUpdate(update, checkUpdate(update, budget, undefined, 1000).layout)).toEqual([update])
  })

  it('cuts 100,000 items that cannot merge into slices of 20,000, and they rebuild the document', () => {
    const doc = new Y.Doc()
    const array = doc.getArray<number>('a')
    for (let i = 0; i < 100_000; i++) array.insert(0, [i]) // each before the last: no two items merge
    const update = Y.encodeStateAsUpdate(doc)
    const { layout, structs } = checkUpdate(update, budget, undefined, 20_000)
    expect(structs).toBe(100_000)
    const slices = sliceUpdate(update, layout)
    expect(slices.length).toBe(5)
    const rebuilt = new Y.Doc()
    for (const slice of slices) Y.applyUpdate(rebuilt, slice)
    expect(rebuilt.getArray('a').length).toBe(100_000)
    expect(rebuilt.getArray('a').get(0)).toBe(99_999)
  })
})
