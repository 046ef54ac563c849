// `npm run size`: what TideKV with sync does, in TinyBase: a mergeable store
// persisted in IndexedDB and synced over a WebSocket.
import { createMergeableStore } from 'tinybase'
import { createIndexedDbPersister } from 'tinybase/persisters/persister-indexed-db'
import { createWsSynchronizer } from 'tinybase/synchronizers/synchronizer-ws-client'

const store = createMergeableStore()
const persister = createIndexedDbPersister(store, 'app')
await persister.startAutoPersisting()
store.addValueListener('theme', (_store, id, value) => console.log(id, value))
store.setValue('theme', 'dark')
const synchronizer = await createWsSynchronizer(store, new WebSocket('wss://relay.example.com'))
await synchronizer.startSync()
console.log(store.getValue('theme'))
