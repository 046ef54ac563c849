/**
 * The read hooks: a key, a scan, a sorted set's range, any read (a
 * selector), and the sync status. Each takes the store (or null while it
 * opens: then, and on the server, they return undefined or empty).
 */
import { useCallback, useSyncExternalStore } from 'react'
import type { RangeOptions, ScanOptions, Store, SyncStatus, Value, WatchTarget } from '@tidekv/client'
import { useWatched } from './use-watched.js'

const NO_KEYS: readonly string[] = Object.freeze([])

/**
 * The value of `key`, re-rendering only when that key changes (by this tab,
 * another tab or another device; an expiry too). In a component:
 * `const theme = useValue<string>(store, 'prefs:theme') ?? 'light'`.
 */
export function useValue<T extends Value = Value>(store: Store | null, key: string): T | undefined {
  return useWatched<T | undefined>(store, [key], key, (s) => s.get<T>(key), undefined)
}

/**
 * `store.keys(options)`: the keys (optionally under a prefix, after a key,
 * at most `limit`), in order; re-rendered when a key under the prefix comes
 * or goes. Empty while there is no store.
 */
export function useKeys(store: Store | null, options: ScanOptions = {}): readonly string[] {
  const { prefix = '', after, limit } = options
  return useWatched<readonly string[]>(store, [{ prefix }], JSON.stringify([prefix, after, limit]), (s) => s.keys({ prefix, after, limit }), NO_KEYS)
}

/**
 * `store.sortedSet(key).range(start, stop, options)` (ZRANGE), re-read when
 * the sorted set changes: members, or `[member, score]` pairs with
 * `withScores`. Empty while there is no store or no such key.
 */
export function useSortedSetRange(store: Store | null, key: string, start: number, stop: number, options?: RangeOptions & { withScores?: false }): readonly string[]
export function useSortedSetRange(store: Store | null, key: string, start: number, stop: number, options: RangeOptions & { withScores: true }): readonly [string, number][]
export function useSortedSetRange(store: Store | null, key: string, start: number, stop: number, options: RangeOptions = {}): readonly string[] | readonly [string, number][] {
  const { rev = false, withScores = false } = options
  return useWatched<readonly string[] | readonly [string, number][]>(
    store,
    [key],
    JSON.stringify([key, start, stop, rev, withScores]),
    (s) => s.sortedSet(key).range(start, stop, { rev, withScores }),
    NO_KEYS,
  )
}

/**
 * Any read of the store: `select(store)`, run again when a key or prefix of
 * `watch` changes, or when `select` is another function (an inline selector
 * runs on every render of the component, which `sameResult` keeps cheap for
 * its children; wrap it in `useCallback` to run it only on changes).
 * Undefined while there is no store. In a component:
 * `const user = useTideKV(store, (s) => s.hash('user:1').getAll(), ['user:1'])`.
 */
export function useTideKV<T>(store: Store | null, select: (store: Store) => T, watch: readonly WatchTarget[]): T | undefined {
  return useWatched<T | undefined>(store, watch, select, select, undefined)
}

/** The store's sync status: 'local' without a relay, else 'offline' | 'connecting' | 'syncing' | 'synced'; undefined while there is no store. */
export function useStatus(store: Store | null): SyncStatus | undefined {
  const subscribe = useCallback((onChange: () => void) => (store === null ? () => {} : store.on('status', onChange)), [store])
  return useSyncExternalStore(
    subscribe,
    () => store?.status,
    () => undefined,
  )
}
