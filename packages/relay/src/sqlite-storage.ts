/**
 * RelayStorage on embedded SQLite, through better-sqlite3. One file holds
 * every room, one row per update:
 *
 *   updates(room TEXT, seq INTEGER, data BLOB, PRIMARY KEY (room, seq))
 *
 * A room's seqs run 1, 2, 3, …. A compaction replaces the rows up to
 * `upToSeq` by one snapshot row at `upToSeq`, so reading a room by seq gives
 * the snapshot first and the updates appended after it in order. The schema
 * version is `PRAGMA user_version`.
 *
 * better-sqlite3 is synchronous: each call does its work before it returns an
 * already settled promise. One statement on a Yjs update takes tens of
 * microseconds, less than handing it to a worker thread would cost.
 *
 * One relay process per file: nothing stops a second writer, and two relays
 * each holding their own copy of a room would not sync their clients anyway.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { RelayStorage, StoredRoom } from './storage.js'
import { checkRoom, checkUpToSeq, quoteRoom } from './storage-checks.js'

/** The schema version this relay writes; a file with a higher one is refused. */
export const SQLITE_SCHEMA_VERSION = 1

/** Options of {@link sqliteRelayStorage}. */
export interface SqliteRelayStorageOptions {
  /**
   * The database file (its directory is created if missing), or `':memory:'`
   * for a private database that dies with the storage.
   */
  path: string
}

/**
 * A RelayStorage in the SQLite file at `options.path`, created if missing.
 * Opening never throws: if the file cannot be opened, or was written by a
 * newer relay (its schema version is above {@link SQLITE_SCHEMA_VERSION}),
 * every call but `close()` rejects with the reason.
 *
 * @throws (as rejections) Error, with the SQLite error as `cause`, when SQLite
 * fails; Error after `close()`, for a room name with a lone surrogate, and for
 * a compaction past the room's last seq.
 * @example
 * import { sqliteRelayStorage } from '@tidekv/relay'
 * const storage = sqliteRelayStorage({ path: ':memory:' }) // or a file, e.g. '/var/lib/tidekv/relay.db'
 * const { updates, lastSeq } = await storage.load('notes')
 */
export function sqliteRelayStorage(options: SqliteRelayStorageOptions): RelayStorage {
  return new SqliteRelayStorage(options.path, open(options.path))
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS updates (
    room TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (room, seq)
  ) STRICT
`

interface Opened {
  db: Database.Database
  load: Database.Statement<[string], { seq: number; data: Buffer }>
  loadSince: Database.Statement<[string, number], { seq: number; data: Buffer }>
  append: Database.Statement<[{ room: string; data: Uint8Array }], { seq: number }>
  lastSeq: Database.Statement<[string], { lastSeq: number }>
  rooms: Database.Statement<[], { room: string }>
  deleteRoom: Database.Statement<[string]>
  compact: (room: string, snapshot: Uint8Array, upToSeq: number) => void
}

/** Opens the database at `path`, or returns why it cannot be used. */
function open(path: string): Opened | Error {
  let db: Database.Database | undefined
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    db = new Database(path)
    const opened = prepare(path, db)
    if (opened instanceof Error) db.close()
    return opened
  } catch (cause) {
    db?.close()
    return new Error(`Could not open the SQLite relay storage at ${path}`, { cause })
  }
}

/** Checks the schema version, sets the pragmas, creates the table if new, prepares every statement. */
function prepare(path: string, db: Database.Database): Opened | Error {
  const version = Number(db.pragma('user_version', { simple: true }))
  if (version > SQLITE_SCHEMA_VERSION) {
    return new Error(
      `The SQLite relay storage at ${path} has schema version ${version}, but this relay knows only up to ` +
        `${SQLITE_SCHEMA_VERSION}: it was written by a newer relay. Run that relay, or use another file.`,
    )
  }
  // WAL: an append writes only to the log, and readers (a backup, the
  // sqlite3 shell) do not block it. A file system without WAL support (some
  // network mounts) keeps the rollback journal, which is slower but as safe.
  db.pragma('journal_mode = WAL')
  // In WAL mode NORMAL writes every commit to the log before the commit
  // returns, and syncs only at checkpoints: a killed process loses nothing
  // (the OS has the bytes, see sqlite-crash.test.ts); a power cut or kernel
  // crash may lose the last commits but never corrupts the file. That is the
  // "survives a crash of the process" of RelayStorage.append. FULL would
  // fsync on every commit: about 20x slower per append (~1 ms against ~50 µs
  // on ext4). https://www.sqlite.org/pragma.html#pragma_synchronous
  db.pragma('synchronous = NORMAL')
  // The log is reused, not shrunk, after a checkpoint: without a limit one
  // burst of large snapshots would keep its size on disk for good.
  db.pragma('journal_size_limit = 67108864')
  if (version === 0) {
    db.transaction(() => {
      db.exec(SCHEMA)
      db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`)
    }).immediate()
  }
  const insert = db.prepare<[string, number, Uint8Array]>('INSERT INTO updates (room, seq, data) VALUES (?, ?, ?)')
  const deleteUpTo = db.prepare<[string, number]>('DELETE FROM updates WHERE room = ? AND seq <= ?')
  return {
    db,
    load: db.prepare('SELECT seq, data FROM updates WHERE room = ? ORDER BY seq'),
    loadSince: db.prepare('SELECT seq, data FROM updates WHERE room = ? AND seq > ? ORDER BY seq'),
    // The next seq is read by the statement that writes it, so there is no
    // cache to keep in step with the file, and it costs one index lookup
    // (measured: no slower than keeping the last seqs in a Map). Run it with
    // `.all()`, never `.get()`: `.get()` resets the statement after the
    // RETURNING row, before it steps to its end, so the commit happens in the
    // reset, and SQLite runs its WAL hook (the automatic checkpoint) only when
    // a step finishes: the log was never checkpointed and grew without bound
    // (pinned in sqlite-storage.test.ts).
    append: db.prepare('INSERT INTO updates (room, seq, data) SELECT @room, COALESCE(MAX(seq), 0) + 1, @data ' + 'FROM updates WHERE room = @room RETURNING seq'),
    lastSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS lastSeq FROM updates WHERE room = ?'),
    rooms: db.prepare('SELECT DISTINCT room FROM updates'),
    deleteRoom: db.prepare('DELETE FROM updates WHERE room = ?'),
    compact: db.transaction((room: string, snapshot: Uint8Array, upToSeq: number) => {
      deleteUpTo.run(room, upToSeq)
      insert.run(room, upToSeq, snapshot)
    }),
  }
}

// better-sqlite3 returns each blob as a Buffer on its own ArrayBuffer. Hand
// out a plain Uint8Array view of it: the same bytes, without Buffer's
// `slice` that shares memory where Uint8Array's copies.
const bytesOf = (blob: Buffer): Uint8Array => new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength)

class SqliteRelayStorage implements RelayStorage {
  private closed = false

  constructor(
    private readonly path: string,
    private readonly opened: Opened | Error,
  ) {}

  async load(room: string): Promise<StoredRoom> {
    checkRoom(room)
    return this.use(`load room ${quoteRoom(room)}`, (s) => {
      const rows = s.load.all(room)
      return { updates: rows.map((row) => bytesOf(row.data)), lastSeq: rows[rows.length - 1]?.seq ?? 0 }
    })
  }

  async loadSince(room: string, afterSeq: number): Promise<StoredRoom> {
    checkRoom(room)
    return this.use(`load room ${quoteRoom(room)}`, (s) => {
      const rows = s.loadSince.all(room, afterSeq)
      return { updates: rows.map((row) => bytesOf(row.data)), lastSeq: rows[rows.length - 1]?.seq ?? s.lastSeq.get(room)?.lastSeq ?? 0 }
    })
  }

  async append(room: string, update: Uint8Array): Promise<number> {
    checkRoom(room)
    return this.use(`append to room ${quoteRoom(room)}`, (s) => {
      const [row] = s.append.all({ room, data: update })
      if (row === undefined) throw new Error('INSERT … RETURNING returned no row')
      return row.seq
    })
  }

  async compact(room: string, snapshot: Uint8Array, upToSeq: number): Promise<void> {
    checkRoom(room)
    // Checked before the transaction, not in it, so that a bad argument is
    // reported as itself; nothing runs in between (the API is synchronous).
    const lastSeq = this.use(`compact room ${quoteRoom(room)}`, (s) => s.lastSeq.get(room)?.lastSeq ?? 0)
    checkUpToSeq(room, upToSeq, lastSeq)
    this.use(`compact room ${quoteRoom(room)}`, (s) => s.compact(room, snapshot, upToSeq))
  }

  async deleteRoom(room: string): Promise<void> {
    checkRoom(room)
    this.use(`delete room ${quoteRoom(room)}`, (s) => s.deleteRoom.run(room))
  }

  async rooms(): Promise<string[]> {
    return this.use('list the rooms', (s) => s.rooms.all().map((row) => row.room))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.opened instanceof Error) return
    try {
      // Closing the last connection checkpoints the log into the main file
      // and removes it.
      this.opened.db.close()
    } catch (cause) {
      throw new Error(`Could not close the SQLite relay storage at ${this.path}`, { cause })
    }
  }

  /** Runs `work` on the open database, turning SQLite's errors into ours. */
  private use<T>(action: string, work: (opened: Opened) => T): T {
    if (this.closed) throw new Error(`The SQLite relay storage at ${this.path} is closed`)
    if (this.opened instanceof Error) throw this.opened
    try {
      return work(this.opened)
    } catch (cause) {
      throw new Error(`Could not ${action} in the SQLite relay storage at ${this.path}`, { cause })
    }
  }
}
