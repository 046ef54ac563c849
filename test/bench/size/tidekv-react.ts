// `npm run size`: what @tidekv/react adds to an app that uses every hook (react and @tidekv/client external).
import { TideKVProvider, useKeys, useSortedSetRange, useStatus, useStore, useStoreContext, useTideKV, useValue } from '@tidekv/react'

console.log(TideKVProvider, useKeys, useSortedSetRange, useStatus, useStore, useStoreContext, useTideKV, useValue)
