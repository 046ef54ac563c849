/**
 * The one subscription every read composable is built on: a ref holding
 * `read(store)`, read again when a watched key changes (the changes of one
 * tick at once) or when a reactive argument does. A result equal to the last
 * one keeps the last one's reference, so nothing that depends on the ref
 * runs for it. Empty on the server (Vue runs a `watchEffect` once there).
 */
import { getCurrentInstance, getCurrentScope, inject, type MaybeRefOrGetter, onScopeDispose, type Ref, shallowRef, ssrContextKey, toValue, watchEffect } from 'vue'
import { isClosedError, sameResult, type Store, type WatchTarget, watchWhileOpen } from '@tidekv/client'

/** A store, a ref of one, or a getter: what every composable takes. */
export type StoreSource = MaybeRefOrGetter<Store | null | undefined>

export function useWatched<T>(source: StoreSource, targets: () => readonly WatchTarget[], read: (store: Store) => T, empty: T): Readonly<Ref<T>> {
  const result = shallowRef<T>(empty)
  if (isServerRendering()) return result // empty, as in the browser before the store opens
  const stop = watchEffect((onCleanup) => {
    const store = toValue(source) ?? null
    if (store === null) {
      result.value = empty
      return
    }
    // Read inside the effect: the reactive arguments `read` and `targets` use are tracked.
    const update = (): void => {
      let fresh: T
      try {
        fresh = read(store)
      } catch (error) {
        if (isClosedError(error)) return // a store closed under its readers: they keep what they last showed
        throw error
      }
      if (!sameResult(result.value, fresh)) result.value = fresh
    }
    update()
    let live = true
    let pending = false
    const changed = (): void => {
      if (pending) return
      pending = true
      queueMicrotask(() => {
        pending = false
        if (live) update()
      })
    }
    const stops = targets().map((target) => watchWhileOpen(store, target, changed))
    onCleanup(() => {
      live = false
      for (const s of stops) s()
    })
  })
  if (getCurrentScope() !== undefined) onScopeDispose(stop)
  return result
}

/** Whether this runs in a server render (`renderToString`), where the composables stay empty. */
export function isServerRendering(): boolean {
  return typeof window === 'undefined' || (getCurrentInstance() !== null && inject(ssrContextKey, null) !== null)
}
