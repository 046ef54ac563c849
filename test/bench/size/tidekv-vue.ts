// `npm run size`: what @tidekv/vue adds to an app that uses every composable (vue and @tidekv/client external).
import { provideStore, useKeys, useSortedSetRange, useStatus, useStore, useStoreContext, useTideKV, useValue } from '@tidekv/vue'

console.log(provideStore, useKeys, useSortedSetRange, useStatus, useStore, useStoreContext, useTideKV, useValue)
