import { expect, it } from 'vitest'
import * as Y from 'yjs'
import { DocLog } from './doc-log.js'
import { LOG_NAME } from './entry.js'
import { createValueEntry, decodeEntry, decodeEntryValue } from './entry-codec.js'

const stamp = { wall: 1_700_000_000_000, counter: 0, replica: 1 }

it("the entries of one transaction share buffers (each a view), and the document holds exactly each entry's bytes", () => {
  const doc = new Y.Doc()
  const log = new DocLog(doc)
  const entries = Array.from({ length: 300 }, (_, i) => createValueEntry(`user:${i}:prefs`, stamp, 0, { theme: 'dark', n: i }))
  const big = createValueEntry('big', stamp, 0, 'x'.repeat(10_000))
  const copies = [...entries, big].map((e) => e.bytes.slice())
  doc.transact((tr) => log.write(tr, [], [...entries, big]))

  const buffers = new Set(entries.map((e) => e.bytes.buffer))
  expect(buffers.size).toBeGreaterThan(1) // capped: not one buffer for all 300
  expect(buffers.size).toBeLessThan(10)
  expect(big.bytes.byteLength).toBe(big.bytes.buffer.byteLength) // larger than the cap: its own buffer
  ;[...entries, big].forEach((e, i) => {
    expect(e.bytes).toEqual(copies[i])
    expect(e.item?.content.getContent()[0]).toBe(e.bytes)
  })

  // Another replica reads the same entries from the update.
  const other = new Y.Doc()
  Y.applyUpdate(other, Y.encodeStateAsUpdate(doc))
  const read = other.getArray<Uint8Array>(LOG_NAME).toArray()
  expect(read.length).toBe(301)
  expect(decodeEntryValue(decodeEntry(read[7]!, 0, 0, false))).toEqual({ theme: 'dark', n: 7 })
})
