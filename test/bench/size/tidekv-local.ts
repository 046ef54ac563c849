// `npm run size`: an app that keeps its data in TideKV and never syncs.
// It must not ship the sync code (sync.ts, y-websocket, y-protocols).
import { openStore } from '@tidekv/client'

const store = await openStore('app')
store.set('theme', 'dark', { ttl: 60_000 })
store.incr('visits')
store.watch({ prefix: 'user:' }, ({ key, value }) => console.log(key, value))
console.log(store.get('theme'), store.keys({ prefix: 'user:', limit: 10 }))
await store.flush()
