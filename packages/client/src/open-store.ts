import { asTideKVError, TideKVError } from '@tidekv/core'
import { indexedDBStorage } from './storage/indexeddb-storage.js'
import type { StorageAdapter, StorageFactory } from './storage/storage.js'
import { Store, type StoreOptions } from './store.js'

/**
 * Opens (or creates) the store called `name`, persisted in IndexedDB unless
 * `persist: false`. Resolves once reads can be answered: at once from the
 * keyspace saved by the last compaction, or after loading the document.
 * @throws TideKVError `INVALID_KEY` (bad name), `INVALID_VALUE` (bad option),
 * `STORAGE_FAILED` (no IndexedDB, or it failed)
 * @example
 * import { openStore } from '@tidekv/client'
 * const store = await openStore('prefs')
 * store.set('theme', 'dark')
 * await store.flush() // durable
 */
export async function openStore(name: string, options: StoreOptions = {}): Promise<Store> {
  if (typeof name !== 'string' || name.length === 0) throw new TideKVError('INVALID_KEY', 'A store name must be a non-empty string')
  const factory = storageFactory(options)
  // A dynamic import, as for sync: an app that never opens a cache does not ship its eviction code.
  const cacheModule = options.cache === undefined ? null : await import('./cache/cache-mode.js')
  let storage: StorageAdapter | null = null
  if (factory !== null) {
    try {
      storage = await factory(name)
    } catch (cause) {
      throw asTideKVError('STORAGE_FAILED', `Opening storage for "${name}" failed`, cause)
    }
  }
  let store: Store
  try {
    store = new Store(name, options, storage, cacheModule)
  } catch (cause) {
    storage?.close() // reason: a bad option must not leave the database open
    throw cause
  }
  try {
    await store.open(options)
    await store.startSync(options)
  } catch (cause) {
    store.abandon()
    throw asTideKVError('STORAGE_FAILED', `Opening "${name}" failed`, cause)
  }
  return store
}

function storageFactory(options: StoreOptions): StorageFactory | null {
  if (options.persist === false) return null
  if (options.storage !== undefined) return options.storage
  // reason: the DOM lib types indexedDB as always there, but Node (and some workers) lack it: typed optional, the missing case is checked
  const idb = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB
  if (idb === undefined) {
    throw new TideKVError('STORAGE_FAILED', 'IndexedDB is not available here: pass options.indexedDB (fake-indexeddb in Node) or persist: false')
  }
  return indexedDBStorage(idb)
}
