import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { memoryRelayStorage } from './memory-storage.js'
import { sqliteRelayStorage } from './sqlite-storage.js'
import type { RelayStorage } from './storage.js'
import { describeRelayStorageConformance } from './storage-conformance.js'

describeRelayStorageConformance('memory', () => memoryRelayStorage())
describeRelayStorageConformance('SQLite in memory', () => sqliteRelayStorage({ path: ':memory:' }))

const dir = mkdtempSync(join(tmpdir(), 'tidekv-relay-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// One file per test; `reopen` finds the file of the storage it is given.
const paths = new WeakMap<RelayStorage, string>()
let files = 0
const openFile = (path: string): RelayStorage => {
  const storage = sqliteRelayStorage({ path })
  paths.set(storage, path)
  return storage
}
describeRelayStorageConformance(
  'SQLite file',
  () => openFile(join(dir, `${++files}.db`)),
  (closed) => {
    const path = paths.get(closed)
    if (path === undefined) throw new Error('reopen was given a storage this test file did not open')
    return openFile(path)
  },
)
