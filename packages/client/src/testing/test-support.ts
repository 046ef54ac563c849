/**
 * Helpers of the client's unit tests: stores opened with `openStore` (no
 * storage, no tab channel) and replicas of them. The rest (a hand-moved
 * clock, the code a call throws, what a key holds) is the engine's test
 * support, re-exported. Test-only: `testing/` is excluded from the build.
 */
import * as Y from 'yjs'
import { openStore, type Store, type StoreOptions } from '../index.js'

export { codeOf, contentsOf, HELD_TYPES, type HeldType, illTyped, manualClock } from '@tidekv/core/testing'

/**
 * An opener of stores called `name` that persist nothing and use no tab
 * channel; `options` go on top of those.
 *
 * @example
 * const memoryStore = memoryStores('hash')
 * const store = await memoryStore({ maxValueBytes: 1024 })
 */
export function memoryStores(name: string): (options?: StoreOptions) => Promise<Store> {
  return (options = {}) => openStore(name, { persist: false, tabs: false, ...options })
}

/**
 * A second in-memory store of the same name holding everything `store`
 * committed: what another replica (or a reload) reads.
 */
export async function replicaOf(store: Store): Promise<Store> {
  await store.flush()
  const replica = await memoryStores(store.name)()
  Y.applyUpdate(replica.doc, Y.encodeStateAsUpdate(store.doc))
  return replica
}
