/**
 * The one subscription every read composable is built on: a ref holding
 * `read(store)`, read again when a watched key changes (the changes of one
 * tick at once) or when a reactive argument does. A result equal to the last
 * one keeps the last one's reference, so nothing that depends on the ref
 * runs for it. Empty on the server (Vue runs a `watchEffect` once there),
 * and while hydrating until mounted, as the server rendered it.
 */
import {
  getCurrentInstance,
  getCurrentScope,
  inject,
  type MaybeRefOrGetter,
  onMounted,
  onScopeDispose,
  type Ref,
  shallowRef,
  ssrContextKey,
  toValue,
  type WatchEffect,
  watchEffect,
} from 'vue'
import { isClosedError, sameResult, type Store, type WatchTarget, watchTargets } from '@tidekv/client'

/** A store, a ref of one, or a getter: what every composable takes. */
export type StoreSource = MaybeRefOrGetter<Store | null | undefined>

export function useWatched<T>(source: StoreSource, targets: () => readonly WatchTarget[], read: (store: Store) => T, empty: T): Readonly<Ref<T>> {
  const result = shallowRef<T>(empty)
  if (isServerRendering()) return result // empty, as in the browser before the store opens
  // What the ref holds, kept apart from it: reading `result.value` in the effect would make the effect depend on
  // its own output, and every change would tear the subscription down and build it again.
  let shown: T = empty
  const show = (value: T): void => {
    shown = value
    result.value = value
  }
  // Hydrating server-rendered HTML, it renders what the server did (empty) first, and reads once mounted.
  effectAfterHydration((onCleanup) => {
    const store = toValue(source) ?? null
    if (store === null) {
      show(empty)
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
      if (!sameResult(shown, fresh)) show(fresh)
    }
    update()
    onCleanup(watchTargets(store, targets(), update))
  })
  return result
}

/**
 * Runs `effect` as a `watchEffect` for the life of the component (or scope):
 * from now on, or, when hydrating server-rendered HTML, once mounted, so the
 * component first renders what the server did (empty), without a mismatch.
 */
export function effectAfterHydration(effect: WatchEffect): void {
  const start = (): void => {
    const stop = watchEffect(effect)
    if (getCurrentScope() !== undefined) onScopeDispose(stop)
  }
  if (isHydrating()) onMounted(start)
  else start()
}

/**
 * Whether the component is being hydrated: Vue hands a hydrated component
 * the element the server rendered before its setup runs, while a component
 * mounted afresh has none until it renders.
 */
export function isHydrating(): boolean {
  return (getCurrentInstance()?.vnode.el ?? null) !== null
}

/** Whether this runs in a server render (`renderToString`), where the composables stay empty. */
export function isServerRendering(): boolean {
  return typeof window === 'undefined' || (getCurrentInstance() !== null && inject(ssrContextKey, null) !== null)
}
