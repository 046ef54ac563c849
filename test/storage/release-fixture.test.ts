/**
 * A store written by an earlier release opens in this one, with every key as
 * it was: the IndexedDB databases TideKV 0.1.0 left behind (schema version 1,
 * V1 snapshots, a saved keyspace; made by test/fixtures/make-release-fixture.ts)
 * are restored into a fresh fake-indexeddb and opened. Every type, counters,
 * TTLs, deleted keys; a compacted store, and one with update rows after its
 * snapshot. After a close (which compacts into this release's format) it
 * opens again, the same.
 */
import 'fake-indexeddb/auto'
import { readFileSync } from 'node:fs'
import { IDBFactory } from 'fake-indexeddb'
import { describe, expect, it } from 'vitest'
import { openStore } from '@tidekv/client'
import { dump } from '../helpers/structure-dump.js'

interface ExportedDatabase {
  version: number
  stores: Record<string, [IDBValidKey, unknown][]>
}
interface Fixture {
  release: string
  compacted: { expected: string[]; database: ExportedDatabase }
  withLog: { expected: string[]; database: ExportedDatabase }
}

// reason: the file is this repository's own fixture, written by make-release-fixture.ts in this shape
const fixture = JSON.parse(readFileSync(new URL('../fixtures/release-0.1.0-stores.json', import.meta.url), 'utf8')) as Fixture

/** { base64 } back to Uint8Array, anywhere in a value. */
function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode)
  if (typeof value === 'object' && value !== null) {
    if ('base64' in value && typeof value.base64 === 'string') return new Uint8Array(Buffer.from(value.base64, 'base64'))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]))
  }
  return value
}

/** Recreates database `name` in `idb` as exported: its version, its object stores (updates auto-increment), every row at its key. */
async function restore(idb: IDBFactory, name: string, exported: ExportedDatabase): Promise<void> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = idb.open(name, exported.version)
    request.onupgradeneeded = () => {
      request.result.createObjectStore('updates', { autoIncrement: true })
      request.result.createObjectStore('meta')
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error!)
  })
  const tx = db.transaction(Object.keys(exported.stores), 'readwrite')
  for (const [store, rows] of Object.entries(exported.stores)) for (const [key, value] of rows) tx.objectStore(store).put(decode(value), key)
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve()
    tx.onerror = () => reject(tx.error!)
  })
  db.close()
}

describe(`a store written by TideKV ${fixture.release}`, () => {
  for (const [name, { expected, database }] of [
    ['compacted', fixture.compacted],
    ['with-log', fixture.withLog],
  ] as const) {
    it(`${name}: opens with every key, type, counter and TTL as that release left it, and again after a close`, async () => {
      const idb = new IDBFactory()
      await restore(idb, `tidekv:${name}`, database)
      const store = await openStore(name, { indexedDB: idb, tabs: false })
      expect(dump(store)).toEqual(expected)
      await store.loaded
      expect(dump(store)).toEqual(expected)
      store.set('written:after', 1)
      await store.close()
      const again = await openStore(name, { indexedDB: idb, tabs: false })
      expect(dump(again)).toEqual([...expected, 'written:after string 1'].sort(byKey))
      await again.close()
    })
  }
})

function byKey(a: string, b: string): number {
  const ka = a.slice(0, a.indexOf(' '))
  const kb = b.slice(0, b.indexOf(' '))
  return ka < kb ? -1 : ka > kb ? 1 : 0
}
