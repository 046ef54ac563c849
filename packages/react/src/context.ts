/** Handing a store down the tree: `<TideKVProvider store={store}>`, then `useStoreContext()`. */
import { createContext, createElement, type ReactNode, useContext } from 'react'
import type { Store } from '@tidekv/client'

const StoreContext = createContext<Store | null>(null)

/** Makes `store` (or null while it opens) what `useStoreContext` returns below it. */
export function TideKVProvider({ store, children }: { store: Store | null; children?: ReactNode }): ReactNode {
  return createElement(StoreContext.Provider, { value: store }, children)
}

/** The store of the nearest `TideKVProvider`; null without one (or while it opens). */
export function useStoreContext(): Store | null {
  return useContext(StoreContext)
}
