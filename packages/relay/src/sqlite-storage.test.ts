/**
 * What the SQLite storage does beyond the shared contract (that is in
 * storage.test.ts; surviving kill -9 is in sqlite-crash.test.ts): the file it
 * writes, and how it reports a file it cannot use.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { SQLITE_SCHEMA_VERSION, sqliteRelayStorage } from './sqlite-storage.js'

const dir = mkdtempSync(join(tmpdir(), 'tidekv-relay-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const bytes = (...n: number[]) => new Uint8Array(n)

describe('SQLite relay storage file', () => {
  it('creates a missing directory and a WAL-mode file at the current schema version', async () => {
    const path = join(dir, 'nested', 'deeper', 'relay.db')
    const storage = sqliteRelayStorage({ path })
    await storage.append('r', bytes(1))
    const peek = new Database(path, { readonly: true })
    try {
      expect(peek.pragma('journal_mode', { simple: true })).toBe('wal')
      expect(peek.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION)
    } finally {
      peek.close()
      await storage.close()
    }
  })

  it('checkpoints as it appends, so the log stays near the 1000 pages of wal_autocheckpoint', async () => {
    // Each append writes a few 4 KiB pages to the log: 3000 of them would
    // leave ~40 MB there if the log were never checkpointed.
    const path = join(dir, 'checkpoints.db')
    const storage = sqliteRelayStorage({ path })
    const update = new Uint8Array(2048).fill(7)
    for (let i = 0; i < 3000; i++) await storage.append(`room-${i % 10}`, update)
    try {
      expect(statSync(`${path}-wal`).size).toBeLessThan(8 * 1024 * 1024)
      expect(statSync(path).size).toBeGreaterThan(3000 * 2048)
    } finally {
      await storage.close()
    }
  })

  it('refuses a file written by a newer relay on first use, and leaves it as it was', async () => {
    const path = join(dir, 'newer.db')
    const newer = new Database(path)
    newer.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`)
    newer.close()
    const storage = sqliteRelayStorage({ path })
    await expect(storage.load('r')).rejects.toThrow(`schema version ${SQLITE_SCHEMA_VERSION + 1}`)
    await expect(storage.append('r', bytes(1))).rejects.toThrow(/newer relay/)
    await expect(storage.rooms()).rejects.toThrow(/newer relay/)
    await storage.close()
    const peek = new Database(path, { readonly: true })
    expect(peek.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION + 1)
    expect(peek.pragma('journal_mode', { simple: true })).toBe('delete')
    peek.close()
  })

  it('reports a file that is not a database on first use, with SQLite’s error as cause', async () => {
    const path = join(dir, 'not-a-database.db')
    writeFileSync(path, 'this is not a SQLite file, but it is long enough to look like a header of one....')
    const storage = sqliteRelayStorage({ path })
    const error: unknown = await storage.load('r').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ message: `Could not open the SQLite relay storage at ${path}`, cause: { code: 'SQLITE_NOTADB' } })
    await storage.close()
  })

  it('wraps a failing statement in an error that says what it was doing, with SQLite’s error as cause', async () => {
    const path = join(dir, 'dropped.db')
    const storage = sqliteRelayStorage({ path })
    await storage.append('/a/b', bytes(1))
    const other = new Database(path)
    other.exec('DROP TABLE updates')
    other.close()
    const error: unknown = await storage.append('/a/b', bytes(2)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    if (!(error instanceof Error)) return // failed just above
    expect(error.message).toBe(`Could not append to room "/a/b" in the SQLite relay storage at ${path}`)
    expect(error.cause).toMatchObject({ code: 'SQLITE_ERROR' })
    expect(error.cause).toBeInstanceOf(Error)
    if (error.cause instanceof Error) expect(error.cause.message).toMatch(/no such table/)
    await storage.close()
  })

  it('gives each :memory: storage a database of its own', async () => {
    const a = sqliteRelayStorage({ path: ':memory:' })
    const b = sqliteRelayStorage({ path: ':memory:' })
    await a.append('r', bytes(1))
    expect(await b.rooms()).toEqual([])
    await Promise.all([a.close(), b.close()])
  })
})
