/**
 * Helpers shared by the engine's unit tests: a hand-moved clock, in-memory
 * stores, the error code a call throws, a replica of a store, and what a key
 * holds whatever its type. Test-only: `testing/` is excluded from the build
 * (tsconfig.build.json) and never exported from `index.ts`.
 */
import * as Y from 'yjs'
import { createDocStore, type DocStore as Store, type DocStoreOptions as StoreOptions, type KeyType, TideKVError } from '../index.js'

/**
 * A clock the test moves by hand: pass `fn` as the store's `clock`, move `now`.
 *
 * @example
 * const clock = manualClock()
 * const store = await memoryStore({ clock: clock.fn })
 * clock.now += 1000
 */
export function manualClock(start = 1_700_000_000_000): { now: number; fn: () => number } {
  const clock = { now: start, fn: () => clock.now }
  return clock
}

/**
 * An opener of in-memory stores called `name` (no storage, no network);
 * `options` go on top.
 *
 * @example
 * const clock = manualClock()
 * const memoryStore = memoryStores('hash')
 * const store = await memoryStore({ clock: clock.fn })
 */
export function memoryStores(name: string): (options?: StoreOptions) => Promise<Store> {
  return async (options = {}) => createDocStore({ name, ...options })
}

/** The code of the TideKVError `fn` throws, or undefined when it returns (anything else thrown fails the test). */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    if (!(e instanceof TideKVError)) throw e
    return e.code
  }
  return undefined
}

/**
 * `value` typed to fit any parameter: for tests that pass what the API's types
 * refuse (a number for a key, undefined for a value), as a JavaScript caller
 * can, to pin the runtime check that refuses it too.
 *
 * @example
 * expect(codeOf(() => store.set(illTyped(5), 1))).toBe('INVALID_KEY')
 */
export function illTyped(value: unknown): never {
  return value as never // reason: on purpose: the point is to get past the types to the runtime checks
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

/** A type a key can hold (every `KeyType` but 'none'). */
export type HeldType = Exclude<KeyType, 'none'>

/** Every type a key can hold, in the order the tests name their keys after them. */
export const HELD_TYPES: readonly HeldType[] = ['string', 'counter', 'hash', 'list', 'set', 'zset', 'stream']

/** What `key` holds, read through the call that reads its type. */
export function contentsOf(store: Store, key: string): unknown {
  const type = store.type(key)
  switch (type) {
    case 'string':
    case 'counter':
      return { type, value: store.get(key) }
    case 'hash':
      return { type, fields: store.hash(key).getAll() }
    case 'list':
      return { type, values: store.list(key).range(0, -1) }
    case 'set':
      return { type, members: store.collection(key).members() }
    case 'zset':
      return { type, members: store.sortedSet(key).range(0, -1, { withScores: true }) }
    case 'stream':
      return { type, entries: store.stream(key).range() }
    case 'none':
      return { type }
  }
}
