// `npm run size`: the same app, syncing with a relay. The sync code comes
// with a dynamic import, in a chunk of its own.
import { openStore } from '@tidekv/client'

const store = await openStore('app', { sync: { url: 'wss://relay.example.com', room: 'user:42' } })
store.on('status', (status) => console.log(status))
store.set('theme', 'dark', { ttl: 60_000 })
store.incr('visits')
store.watch({ prefix: 'user:' }, ({ key, value }) => console.log(key, value))
console.log(store.get('theme'), store.keys({ prefix: 'user:', limit: 10 }))
await store.whenSynced()
