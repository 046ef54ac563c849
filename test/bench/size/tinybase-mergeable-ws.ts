// `npm run size`: a TinyBase mergeable store synced over a WebSocket.
import { createMergeableStore } from 'tinybase'
import { createWsSynchronizer } from 'tinybase/synchronizers/synchronizer-ws-client'

const store = createMergeableStore()
store.addValueListener('theme', (_store, id, value) => console.log(id, value))
store.setValue('theme', 'dark')
const synchronizer = await createWsSynchronizer(store, new WebSocket('wss://relay.example.com'))
await synchronizer.startSync()
console.log(store.getValue('theme'))
