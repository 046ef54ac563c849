import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { indexedDBStorage } from './indexeddb-storage.js'
import { memoryStorage } from './memory-storage.js'
import { describeStorageConformance } from '../testing/storage-conformance.js'

describeStorageConformance('memory', () => memoryStorage())
describeStorageConformance('IndexedDB (fake-indexeddb)', () => indexedDBStorage(new IDBFactory()))
