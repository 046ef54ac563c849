import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Random } from '../testing/random.js'
import { encodePieces, PIECE_LIMITS, type PieceLimits } from './update-pieces.js'

/** Applies `pieces` to `target` in order; each must leave nothing pending (no struct waits for a later piece). */
function applyInOrder(target: Y.Doc, pieces: Uint8Array[]): void {
  for (const piece of pieces) {
    Y.applyUpdate(target, piece)
    expect(target.store.pendingStructs).toBeNull()
    expect(target.store.pendingDs).toBeNull()
  }
}

function expectSameDocs(a: Y.Doc, b: Y.Doc): void {
  expect(Y.encodeStateVector(b)).toEqual(Y.encodeStateVector(a))
  expect(Y.equalDeleteSets(Y.createDeleteSetFromStructStore(a.store), Y.createDeleteSetFromStructStore(b.store))).toBe(true)
  expect(b.getArray('log').toJSON()).toEqual(a.getArray('log').toJSON())
  expect(b.getMap('meta').toJSON()).toEqual(a.getMap('meta').toJSON())
}

function expectWithin(pieces: Uint8Array[], limits: PieceLimits, largestStruct: number): void {
  for (const piece of pieces) {
    const { structs, ds } = Y.decodeUpdate(piece)
    expect(structs.length).toBeLessThanOrEqual(limits.maxStructs)
    expect(new Set(structs.map((s) => s.id.client)).size).toBeLessThanOrEqual(limits.maxClients)
    expect(ds.clients.size).toBeLessThanOrEqual(limits.maxClients)
    expect([...ds.clients.values()].reduce((n, ranges) => n + ranges.length, 0)).toBeLessThanOrEqual(limits.maxRanges)
    // A piece closes once it reaches maxBytes, so it may pass it by one struct (and its header).
    expect(piece.length).toBeLessThanOrEqual(limits.maxBytes + largestStruct + 32)
  }
}

/** Replicas that insert at random places of one array (and edit a nested map), syncing now and then, then all merged into the first. */
function concurrentEdits(seed: number, replicas: number, steps: number): Y.Doc[] {
  const r = new Random(seed)
  const docs = Array.from({ length: replicas }, (_, i) => {
    const doc = new Y.Doc()
    doc.clientID = 1000 + i * 7919
    return doc
  })
  for (let step = 0; step < steps; step++) {
    const doc = r.pick(docs)
    const log = doc.getArray<unknown>('log')
    switch (r.weighted({ insert: 6, delete: 2, nested: 1, meta: 1, sync: 2 })) {
      case 'insert':
        log.insert(r.int(0, log.length), [r.chance(0.5) ? r.word(1, 30) : new Uint8Array(r.bytes(r.int(1, 40)))])
        break
      case 'delete':
        if (log.length > 0) log.delete(r.int(0, log.length - 1), 1)
        break
      case 'nested': {
        // A map inside the array, edited later by others: its entries name their parent item.
        const nested = log.toArray().find((v): v is Y.Map<unknown> => v instanceof Y.Map)
        if (nested === undefined) log.insert(r.int(0, log.length), [new Y.Map()])
        else nested.set(r.word(1, 3), r.int(0, 1000))
        break
      }
      case 'meta':
        doc.getMap('meta').set(r.word(1, 2), r.word(0, 10))
        break
      case 'sync': {
        const other = r.pick(docs)
        Y.applyUpdate(other, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(other)))
        break
      }
    }
  }
  for (const doc of docs.slice(1)) Y.applyUpdate(docs[0]!, Y.encodeStateAsUpdate(doc))
  return docs
}

describe('a state in bounded pieces (encodePieces)', () => {
  it('a whole document: the pieces, applied in order to an empty document, rebuild it, none waits for a later one, each within its limits', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const [doc] = concurrentEdits(seed, 4, 600)
      const limits = { ...PIECE_LIMITS, maxBytes: 300, maxStructs: 12 }
      const pieces = encodePieces(doc!, new Map(), Y.createDeleteSetFromStructStore(doc!.store), limits)
      expect(pieces.length).toBeGreaterThan(3)
      expectWithin(pieces, limits, 60)
      const copy = new Y.Doc()
      applyInOrder(copy, pieces)
      expectSameDocs(doc!, copy)
    }
  })

  it('a sync step 2: what a replica lacks, from its state vector, brings it level', () => {
    for (let seed = 20; seed <= 27; seed++) {
      const docs = concurrentEdits(seed, 3, 400)
      const [merged, behind] = docs
      const pieces = encodePieces(merged!, Y.decodeStateVector(Y.encodeStateVector(behind!)), Y.createDeleteSetFromStructStore(merged!.store), {
        ...PIECE_LIMITS,
        maxBytes: 200,
        maxStructs: 8,
      })
      applyInOrder(behind!, pieces)
      expectSameDocs(merged!, behind!)
    }
  })

  it("a transaction's changes (its beforeState and deleteSet) reach a mirror in pieces", () => {
    const doc = new Y.Doc()
    const mirror = new Y.Doc()
    const log = doc.getArray<string>('log')
    log.insert(0, ['a', 'b', 'c'])
    Y.applyUpdate(mirror, Y.encodeStateAsUpdate(doc))
    let pieces: Uint8Array[] = []
    doc.on('update', (_update: Uint8Array, _origin: unknown, _doc: Y.Doc, tr: Y.Transaction) => {
      pieces = encodePieces(doc, tr.beforeState, tr.deleteSet, { ...PIECE_LIMITS, maxBytes: 64, maxStructs: 4 })
    })
    doc.transact(() => {
      for (let i = 0; i < 50; i++) log.insert(i % 2 === 0 ? 0 : log.length, [`item ${i}`])
      log.delete(1, 2)
    })
    expect(pieces.length).toBeGreaterThan(5)
    applyInOrder(mirror, pieces)
    expectSameDocs(doc, mirror)
  })

  it('items that alternate between two clients, each inserted next to the other client’s last, come out causally ordered', () => {
    // Client 1 writes first in a V1 update (it is written by descending client id, 2 first),
    // yet every item of 2 names an item of 1 as its origin.
    const one = new Y.Doc()
    one.clientID = 1
    const two = new Y.Doc()
    two.clientID = 2
    for (let i = 0; i < 100; i++) {
      const writer = i % 2 === 0 ? one : two
      writer.getArray('log').insert(writer.getArray('log').length, [i])
      Y.applyUpdate(i % 2 === 0 ? two : one, Y.encodeStateAsUpdate(writer))
    }
    const pieces = encodePieces(one, new Map(), Y.createDeleteSetFromStructStore(one.store), { ...PIECE_LIMITS, maxBytes: 1_000_000, maxStructs: 3 })
    const copy = new Y.Doc()
    applyInOrder(copy, pieces)
    expect(copy.getArray('log').toJSON()).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it('large delete sets are split across pieces too, after the structs', () => {
    const doc = new Y.Doc()
    const log = doc.getArray<number>('log')
    log.insert(
      0,
      Array.from({ length: 2000 }, (_, i) => i),
    )
    // Every other item deleted: 1,000 ranges.
    doc.transact(() => {
      for (let i = 1000; i > 0; i--) log.delete(i * 2 - 1, 1)
    })
    const limits = { ...PIECE_LIMITS, maxBytes: 500, maxStructs: 5_000 }
    const pieces = encodePieces(doc, new Map(), Y.createDeleteSetFromStructStore(doc.store), limits)
    expect(pieces.length).toBeGreaterThan(4)
    expectWithin(pieces, limits, 4_000)
    const copy = new Y.Doc()
    applyInOrder(copy, pieces)
    expect(copy.getArray('log').toJSON()).toEqual(log.toJSON())
  })

  it('nothing to send is one empty update (a sync step 2 is always answered)', () => {
    const doc = new Y.Doc()
    doc.getArray('log').insert(0, [1])
    const pieces = encodePieces(doc, Y.decodeStateVector(Y.encodeStateVector(doc)), Y.createDeleteSet())
    expect(pieces.length).toBe(1)
    const copy = new Y.Doc()
    Y.applyUpdate(copy, pieces[0]!)
    expect(Y.encodeStateVector(copy)).toEqual(Y.encodeStateVector(new Y.Doc()))
  })

  it('a small state is one piece, the same document as encodeStateAsUpdate gives', () => {
    const [doc] = concurrentEdits(42, 2, 50)
    const pieces = encodePieces(doc!, new Map(), Y.createDeleteSetFromStructStore(doc!.store), PIECE_LIMITS)
    expect(pieces.length).toBe(1)
    const copy = new Y.Doc()
    Y.applyUpdate(copy, pieces[0]!)
    expectSameDocs(doc!, copy)
  })

  it('bounds the delete ranges and the clients of a piece too, so many deletes or many writers still fit a live update', () => {
    const doc = new Y.Doc()
    const log = doc.getArray<number>('log')
    log.insert(
      0,
      Array.from({ length: 2_000 }, (_, i) => i),
    )
    doc.transact(() => {
      for (let i = 1000; i > 0; i--) log.delete(i * 2 - 1, 1)
    })
    for (let c = 0; c < 40; c++) {
      const writer = new Y.Doc()
      writer.clientID = 10_000 + c
      Y.applyUpdate(writer, Y.encodeStateAsUpdate(doc))
      writer.getArray<number>('log').insert(0, [c])
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(writer, Y.encodeStateVector(doc)))
    }
    const limits = { maxBytes: 1_000_000, maxStructs: 5_000, maxRanges: 100, maxClients: 7 }
    const pieces = encodePieces(doc, new Map(), Y.createDeleteSetFromStructStore(doc.store), limits)
    expect(pieces.length).toBeGreaterThan(10) // 1,000 ranges in pieces of 100, 41 clients in pieces of 7
    expectWithin(pieces, limits, 64)
    const copy = new Y.Doc()
    applyInOrder(copy, pieces)
    expectSameDocs(doc, copy)
  })
})
