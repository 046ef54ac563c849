/**
 * The read composables: a key, a scan, a sorted set's range, any read (a
 * selector), and the sync status, each a read-only ref. Each takes the store
 * as a value, a ref or a getter (null while it opens: then, and on the
 * server, the ref holds undefined or an empty array). Arguments may be refs
 * or getters too: the ref follows them.
 */
import { type MaybeRefOrGetter, type Ref, shallowRef, toValue } from 'vue'
import type { RangeOptions, ScanOptions, Store, SyncStatus, Value, WatchTarget } from '@tidekv/client'
import { effectAfterHydration, isServerRendering, type StoreSource, useWatched } from './use-watched.js'

const NO_KEYS: readonly string[] = Object.freeze([])

/**
 * The value of `key`, changing only when that key changes (by this tab,
 * another tab or another device; an expiry too).
 */
export function useValue<T extends Value = Value>(store: StoreSource, key: MaybeRefOrGetter<string>): Readonly<Ref<T | undefined>> {
  return useWatched<T | undefined>(
    store,
    () => [toValue(key)],
    (s) => s.get<T>(toValue(key)),
    undefined,
  )
}

/** `store.keys(options)`: the keys (optionally under a prefix, after a key, at most `limit`), in order; changes when a key under the prefix comes or goes. */
export function useKeys(store: StoreSource, options: MaybeRefOrGetter<ScanOptions> = {}): Readonly<Ref<readonly string[]>> {
  return useWatched<readonly string[]>(
    store,
    () => [{ prefix: toValue(options).prefix ?? '' }],
    (s) => s.keys(toValue(options)),
    NO_KEYS,
  )
}

/** `store.sortedSet(key).range(start, stop, options)` (ZRANGE): members, or `[member, score]` pairs with `withScores`; changes with the sorted set. */
export function useSortedSetRange(
  store: StoreSource,
  key: MaybeRefOrGetter<string>,
  start: MaybeRefOrGetter<number>,
  stop: MaybeRefOrGetter<number>,
  options: MaybeRefOrGetter<RangeOptions> = {},
): Readonly<Ref<readonly string[] | readonly [string, number][]>> {
  return useWatched<readonly string[] | readonly [string, number][]>(
    store,
    () => [toValue(key)],
    (s) => s.sortedSet(toValue(key)).range(toValue(start), toValue(stop), toValue(options)),
    NO_KEYS,
  )
}

/** Any read of the store: `select(store)`, run again when a key or prefix of `watch` changes. */
export function useTideKV<T>(store: StoreSource, select: (store: Store) => T, watch: MaybeRefOrGetter<readonly WatchTarget[]>): Readonly<Ref<T | undefined>> {
  return useWatched<T | undefined>(store, () => toValue(watch), select, undefined)
}

/** The store's sync status: 'local' without a relay, else 'offline' | 'connecting' | 'syncing' | 'synced'; undefined while there is no store. */
export function useStatus(store: StoreSource): Readonly<Ref<SyncStatus | undefined>> {
  const status = shallowRef<SyncStatus | undefined>(undefined)
  if (isServerRendering()) return status
  effectAfterHydration((onCleanup) => {
    const s = toValue(store) ?? null
    status.value = s?.status
    if (s !== null) onCleanup(s.on('status', (next) => (status.value = next)))
  })
  return status
}
