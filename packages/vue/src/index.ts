// @tidekv/vue: Vue 3 composables for TideKV. See ../README.md.
export { useStore, provideStore, useStoreContext } from './use-store.js'
export { useValue, useKeys, useSortedSetRange, useTideKV, useStatus } from './composables.js'
export type { StoreSource } from './use-watched.js'
