// @tidekv/core/internal: the engine parts that the client's storage and sync
// build on. Not for apps: it may change in any release.
export * from './index.js'
export { Replica } from './replica.js'
export { afterTransactions, holdsState, inTransaction, startedPending } from './layout/doc-log.js'
export { indexOfSnapshot, keysOfSnapshot } from './keyspace/snapshot-keyspace.js'
export { decodeEntryAddress } from './layout/entry-codec.js'
export { freezeDecoded, readValue, writeValue } from './layout/value.js'
export { checkKey } from './layout/key.js'
