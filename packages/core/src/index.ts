// @tidekv/core: the engine shared by the client and the relay — the store API
// over a Yjs document, the document layout and the relay protocol constants.
// No browser APIs, no storage, no transport.
export { DocStore, createDocStore } from './doc-store.js'
export type { DocStoreOptions, DocStoreEvents, SetOptions, ScanOptions } from './store-options.js'
export type { Value } from './layout/value.js'
export type { Change, ChangeOrigin, KeyType, WatchTarget } from './watchers.js'
export type { Hash } from './structures/hash.js'
export type { List } from './structures/list.js'
export type { Collection } from './structures/collection.js'
export type { SortedSet, RangeOptions, ScoreRangeOptions } from './structures/sorted-set.js'
export type { Stream, StreamEntry, StreamRangeOptions } from './structures/stream.js'
export { TideKVError, ErrorCode, asTideKVError } from './errors.js'
export { TransactionOrigin, type OriginKind } from './origins.js'
export { LOG_NAME, FORMAT_VERSION, STRUCTURE_VERSION } from './layout/entry.js'
export { MessageType, CloseCode, QueryParam, PubSubOp } from './layout/protocol.js'
export { WriteRules, parseWriteRules, type TokenRules, MAX_WRITE_PATTERNS, MAX_PATTERN_LENGTH } from './rules/write-rules.js'
export { globMatch } from './rules/glob.js'
export { pubsubFrame } from './layout/pubsub-frame.js'
