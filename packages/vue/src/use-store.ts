/**
 * `useStore`: a store owned by a component — opened on mount, closed on
 * unmount, reopened when its name changes — and `provideStore` /
 * `useStoreContext` to hand one down the tree.
 */
import { inject, type InjectionKey, type MaybeRefOrGetter, onBeforeUnmount, onMounted, provide, type Ref, shallowRef, toValue, watch } from 'vue'
import { openStore, type Store, type StoreOptions } from '@tidekv/client'
import type { StoreSource } from './use-watched.js'

/**
 * Opens the store `name` once the component is mounted (in the browser only:
 * null on the server and while it opens) and closes it when the component
 * unmounts; a new name closes the old store and opens the new one. `options`
 * are read when a store opens. A store that fails to open leaves the ref null
 * and sets `error`.
 */
export function useStore(name: MaybeRefOrGetter<string>, options?: StoreOptions): { store: Readonly<Ref<Store | null>>; error: Readonly<Ref<unknown>> } {
  const store = shallowRef<Store | null>(null)
  const error = shallowRef<unknown>(undefined)
  let opening: Promise<Store | null> | null = null
  let generation = 0
  const close = (): void => {
    generation++
    const closing = opening
    opening = null
    store.value = null
    void closing?.then((s) => s?.close()).catch(() => undefined)
  }
  const open = (): void => {
    close()
    const mine = generation
    error.value = undefined
    opening = openStore(toValue(name), options).then(
      (s) => {
        if (mine === generation) store.value = s
        else void s.close().catch(() => undefined)
        return s
      },
      (e: unknown) => {
        if (mine === generation) error.value = e
        return null
      },
    )
  }
  onMounted(() => {
    open()
    watch(() => toValue(name), open)
  })
  onBeforeUnmount(close)
  return { store, error }
}

const STORE: InjectionKey<StoreSource> = Symbol('tidekv store')

/** Makes `store` (a store, a ref of one, or a getter) what `useStoreContext` returns in the component's descendants. */
export function provideStore(store: StoreSource): void {
  provide(STORE, store)
}

/** The store of the nearest `provideStore`, as a ref (null without one, or while it opens). */
export function useStoreContext(): Readonly<Ref<Store | null>> {
  const source = inject(STORE, null)
  const ref = shallowRef<Store | null>(null)
  watch(
    () => toValue(source) ?? null,
    (s) => (ref.value = s),
    { immediate: true },
  )
  return ref
}
