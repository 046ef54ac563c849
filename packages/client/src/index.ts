// @tidekv/client: the store an app opens. The store API comes from
// @tidekv/core (re-exported here, so apps import this package only); this
// package adds IndexedDB persistence, other tabs and the relay.
export { openStore } from './open-store.js'
export type { Store, StoreOptions, StoreEvents } from './store.js'
export type { SetOptions, ScanOptions, Value, Change, ChangeOrigin, KeyType, WatchTarget } from '@tidekv/core'
export type { Hash, List, Collection, SortedSet, RangeOptions, ScoreRangeOptions, Stream, StreamEntry, StreamRangeOptions } from '@tidekv/core'
export { TideKVError, ErrorCode, TransactionOrigin, type OriginKind, LOG_NAME, FORMAT_VERSION, STRUCTURE_VERSION } from '@tidekv/core'
export type { StorageAdapter, StorageFactory, CompactionResult, CompactOptions, StoredSnapshot, StoredUpdate } from './storage/storage.js'
export type { CompactionPolicy } from './storage/persistence.js'
export { indexedDBStorage, databaseName } from './storage/indexeddb-storage.js'
export { memoryStorage, type MemoryDisk } from './storage/memory-storage.js'
export type { SyncOptions, SyncStatus } from './sync/sync-link.js'
export type { MessageContext, MessageOrigin, Subscriber, SubscribeTarget } from './pubsub.js'
export type { CacheOptions, CachePolicy, CacheStats } from './cache/cache-budget.js'
export { sameResult, isClosedError, watchTargets } from './bindings.js'
