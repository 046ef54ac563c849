/**
 * The one subscription every read hook is built on: `useSyncExternalStore`
 * over `store.watch`. The snapshot is read again only after a watched key
 * changed (or the hook's arguments did), and a result equal to the last one
 * keeps the last one's reference, so `React.memo` children do not render.
 * Changes within one tick (a batch, a transaction from another tab) reach
 * React once.
 */
import { useCallback, useRef, useSyncExternalStore } from 'react'
import { isClosedError, sameResult, type Store, type WatchTarget, watchWhileOpen } from '@tidekv/client'

interface Cached<T> {
  readonly store: Store
  readonly version: number
  readonly args: string
  readonly value: T
}

/**
 * `read(store)`, re-run when a key of `targets` changes or `args` (the
 * hook's other arguments, as a string) does; `empty` without a store and on
 * the server.
 */
export function useWatched<T>(store: Store | null, targets: readonly WatchTarget[], args: string, read: (store: Store) => T, empty: T): T {
  const version = useRef(0)
  const cached = useRef<Cached<T> | null>(null)
  const latestRead = useRef(read)
  latestRead.current = read
  const targetsKey = JSON.stringify(targets)

  const subscribe = useCallback(
    (onChange: () => void) => {
      if (store === null) return () => {}
      let live = true
      let pending = false
      const changed = (): void => {
        version.current++
        if (pending) return
        pending = true
        queueMicrotask(() => {
          pending = false
          if (live) onChange()
        })
      }
      // reason: targetsKey is JSON.stringify of this hook's WatchTarget[] (a key string or { prefix }), so it parses back to one
      const stops = (JSON.parse(targetsKey) as WatchTarget[]).map((target) => watchWhileOpen(store, target, changed))
      // A change between the render and this subscription was not seen: read again (an equal result keeps its reference).
      version.current++
      return () => {
        live = false
        for (const stop of stops) stop()
      }
    },
    [store, targetsKey],
  )

  const getSnapshot = (): T => {
    if (store === null) return empty
    const last = cached.current
    if (last !== null && last.store === store && last.version === version.current && last.args === args) return last.value
    let fresh: T
    try {
      fresh = latestRead.current(store)
    } catch (error) {
      // A store closed under its readers: they keep what they last showed.
      if (isClosedError(error)) return last?.value ?? empty
      throw error
    }
    const value = last !== null && last.store === store && sameResult(last.value, fresh) ? last.value : fresh
    cached.current = { store, version: version.current, args, value }
    return value
  }

  return useSyncExternalStore(subscribe, getSnapshot, () => empty)
}
