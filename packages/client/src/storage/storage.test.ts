import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { CompactionResult, StoredUpdate } from './storage.js'
import { indexedDBStorage } from './indexeddb-storage.js'
import { memoryStorage } from './memory-storage.js'
import { describeStorageConformance } from '../testing/storage-conformance.js'

describeStorageConformance('memory', () => memoryStorage())
describeStorageConformance('IndexedDB (fake-indexeddb)', () => indexedDBStorage(new IDBFactory()))

describe('IndexedDB: a two-step compaction (freeFirst) with another tab writing between its steps', () => {
  /** A tab's document and its builds: merge what others stored, return the whole state as a V2 snapshot. */
  const tab = (key: string) => {
    const doc = new Y.Doc()
    doc.getMap('m').set(key, true)
    const build = (unseen: StoredUpdate[]): CompactionResult => {
      for (const u of unseen) (u.v2 ? Y.applyUpdateV2 : Y.applyUpdate)(doc, u.bytes)
      return { snapshot: Y.encodeStateAsUpdateV2(doc), index: new Uint8Array() }
    }
    return { doc, build }
  }

  it("takes in the other tab's compaction instead of leaving its snapshot to be read as a plain update", async () => {
    const idb = new IDBFactory()
    const factory = indexedDBStorage(idb)
    const [a, b] = [await factory('shared'), await factory('shared')]
    const [tabA, tabB] = [tab('a'), tab('b')]
    await a.append([Y.encodeStateAsUpdate(tabA.doc)], true)
    await b.append([Y.encodeStateAsUpdate(tabB.doc)], true)
    const pending: { other?: Promise<void> } = {}
    let builds = 0
    await a.compact(
      (unseen) => {
        builds++
        // B asks to compact while A's first step runs: IndexedDB runs B's transaction before A's second.
        pending.other ??= b.compact(tabB.build)
        return tabA.build(unseen)
      },
      { freeFirst: true },
    )
    await pending.other
    expect(builds).toBe(2) // A saw B's snapshot land between its steps, and took it in
    const reader = await indexedDBStorage(idb)('shared')
    const rows = await reader.loadUpdates()
    expect(rows.filter((r) => r.v2)).toHaveLength(1)
    const loaded = new Y.Doc()
    for (const r of rows) (r.v2 ? Y.applyUpdateV2 : Y.applyUpdate)(loaded, r.bytes)
    expect(loaded.getMap('m').toJSON()).toEqual({ a: true, b: true })
    for (const s of [a, b, reader]) s.close()
  })
})
