/**
 * Every piece a TideKV client sends of a large state goes as a live update,
 * so each must pass the relay's live decode budget (DEFAULT_UPDATE_BUDGET:
 * 100,000 delete ranges, 2,000 clients) whatever the document holds. A
 * state with more delete ranges or more writer clients than that was refused
 * piece by piece (closed with 1002, on every reconnect) before pieces were
 * bounded in ranges and clients too.
 */
import { encodePieces } from '@tidekv/core/wire'
import { expect, it } from 'vitest'
import * as Y from 'yjs'
import { checkUpdate, DEFAULT_UPDATE_BUDGET } from './update-budget.js'

it("every piece of a state with 2,100 writers and 110,000 delete ranges passes the relay's live budget", () => {
  const doc = new Y.Doc()
  doc.clientID = 1
  doc.getArray<number>('tidekv').insert(
    0,
    Array.from({ length: 220_000 }, (_, i) => i),
  )
  for (let c = 0; c < 2_100; c++) {
    const writer = new Y.Doc()
    writer.clientID = 1_000_000 + c
    writer.getArray<number>('tidekv').insert(0, [c])
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(writer))
  }
  // The delete set of every other item of client 1 (deleting them one by one in Yjs takes minutes).
  const deletes = Y.createDeleteSet()
  deletes.clients.set(
    1,
    Array.from({ length: 110_000 }, (_, i) => ({ clock: i * 2 + 1, len: 1 })),
  )
  const pieces = encodePieces(doc, new Map(), deletes)
  // Checked against the whole document's state: the order of pieces is encodePieces's own test.
  const state = Y.decodeStateVector(Y.encodeStateVector(doc))
  let structs = 0
  let ranges = 0
  for (const piece of pieces) {
    const summary = checkUpdate(piece, DEFAULT_UPDATE_BUDGET, { get: (client) => state.get(client) })
    structs += summary.structs
    const { ds } = Y.decodeUpdate(piece)
    ranges += [...ds.clients.values()].reduce((n, r) => n + r.length, 0)
  }
  expect(structs).toBe(2_101)
  expect(ranges).toBe(110_000)
  expect(pieces.length).toBeGreaterThan(4)
})
