/**
 * The one subscription every read hook is built on: `useSyncExternalStore`
 * over `store.watch`. The snapshot is read again only after a watched key
 * changed (or the hook's arguments did), and a result equal to the last one
 * keeps the last one's reference, so `React.memo` children do not render.
 * Changes within one tick (a batch, a transaction from another tab) reach
 * React once.
 */
import { useCallback, useRef, useSyncExternalStore } from 'react'
import { isClosedError, sameResult, type Store, type WatchTarget, watchTargets } from '@tidekv/client'

interface Cached<T> {
  readonly store: Store
  readonly version: number
  readonly targets: string
  readonly args: unknown
  readonly value: T
}

/**
 * `read(store)`, re-run when a key of `targets` changes, or `targets` do, or
 * `args` does (the hook's other arguments: a string, or for a selector the
 * selector itself, compared with Object.is); `empty` without a store and on
 * the server.
 */
export function useWatched<T>(store: Store | null, targets: readonly WatchTarget[], args: unknown, read: (store: Store) => T, empty: T): T {
  const version = useRef(0)
  const cached = useRef<Cached<T> | null>(null)
  const latestRead = useRef(read)
  latestRead.current = read
  const targetsKey = JSON.stringify(targets)

  const subscribe = useCallback(
    (onChange: () => void) => {
      if (store === null) return () => {}
      const bump = (): void => {
        version.current++
      }
      // reason: targetsKey is JSON.stringify of this hook's WatchTarget[] (a key string or { prefix }), so it parses back to one
      const stop = watchTargets(store, JSON.parse(targetsKey) as WatchTarget[], onChange, bump)
      // A change between the render and this subscription was not seen: read again (an equal result keeps its reference).
      bump()
      return stop
    },
    [store, targetsKey],
  )

  const getSnapshot = (): T => {
    if (store === null) return empty
    const last = cached.current
    // What the last read read: this store, with these targets and arguments (its version aside).
    const sameQuery = last !== null && last.store === store && last.targets === targetsKey && Object.is(last.args, args)
    if (sameQuery && last.version === version.current) return last.value
    let fresh: T
    try {
      fresh = latestRead.current(store)
    } catch (error) {
      // A store closed under its readers: they keep what they last showed of it, nothing of another query.
      if (isClosedError(error)) return sameQuery ? last.value : empty
      throw error
    }
    const value = sameQuery && sameResult(last.value, fresh) ? last.value : fresh
    cached.current = { store, version: version.current, targets: targetsKey, args, value }
    return value
  }

  return useSyncExternalStore(subscribe, getSnapshot, () => empty)
}
