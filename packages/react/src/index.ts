// @tidekv/react: React 18 and 19 bindings for TideKV. See ../README.md.
export { useStore } from './use-store.js'
export { useValue, useKeys, useSortedSetRange, useTideKV, useStatus } from './hooks.js'
export { TideKVProvider, useStoreContext } from './context.js'
