/**
 * `append` resolves only once its update survives a crash of the process
 * (RelayStorage's promise, kept by WAL + synchronous=NORMAL). A child process
 * appends random updates to a SQLite file and prints each seq, with a hash of
 * the bytes, as soon as its append resolves; we SIGKILL it mid-stream, and
 * the file must hold every printed update, byte for byte. Several rounds on
 * one file, so a child also opens a file left by a killed one (WAL recovery),
 * and enough bytes that checkpoints happen while it is being killed.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { sqliteRelayStorage } from './sqlite-storage.js'

const ROOMS = ['crash', '/a/b', 'ü']
/** Lines read before each round's kill: the kill lands wherever the child has got to by then. */
const KILL_AFTER = [200, 1500, 3000]
/** The most appends a child makes; it then waits to be killed, so every round ends in SIGKILL. */
const MAX_APPENDS = 20_000

// The child: argv is [module URL, database path, max appends]. Updates are up
// to 4 KiB of random bytes; each append puts a few 4 KiB pages in the log, so
// the automatic checkpoint (every 1000 pages) runs every few hundred appends
// and the kills find the log at every stage. On Linux a write to a pipe is
// synchronous, so a printed line has left the child before the next append.
const CHILD = `
import { createHash, randomBytes, randomInt } from 'node:crypto'
const [moduleUrl, path, max] = process.argv.slice(1)
const rooms = ${JSON.stringify(ROOMS)}
const { sqliteRelayStorage } = await import(moduleUrl)
const storage = sqliteRelayStorage({ path })
for (let i = 0; i < Number(max); i++) {
  const room = rooms[i % rooms.length]
  const update = randomBytes(randomInt(0, 4097))
  const seq = await storage.append(room, update)
  process.stdout.write(JSON.stringify([room, seq, createHash('sha256').update(update).digest('hex')]) + '\\n')
}
setInterval(() => {}, 60_000)
`

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const STORAGE_MODULE = new URL('./sqlite-storage.ts', import.meta.url).href

interface Acknowledged {
  room: string
  seq: number
  sha256: string
}

const children = new Set<ChildProcess>()
afterEach(() => {
  // Only if a test failed before its kill: never leave a child appending.
  for (const child of children) child.kill('SIGKILL')
  children.clear()
})

/**
 * Runs the child on `path`, SIGKILLs it once `killAfter` lines are in, and
 * resolves with every line it printed (read to the end of its stdout, which
 * outlives the child).
 */
function appendUntilKilled(path: string, killAfter: number): Promise<Acknowledged[]> {
  // `--import tsx` resolves tsx from the working directory: the repo root.
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', CHILD, STORAGE_MODULE, path, String(MAX_APPENDS)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const lines: string[] = []
  let partial = ''
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    // A line cut short by the kill never ended in '\n': its append is not acknowledged.
    partial = parts.pop() ?? ''
    lines.push(...parts)
    if (lines.length >= killAfter && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    // 'close' comes after stdout has ended, so every printed line is in.
    child.on('close', (code, signal) => {
      children.delete(child)
      if (signal !== 'SIGKILL') {
        reject(new Error(`the child ended (code ${code}, signal ${signal}) before it was killed:\n${stderr}`))
        return
      }
      resolve(
        lines.map((line) => {
          const [room, seq, sha256] = JSON.parse(line) as [string, number, string] // reason: the child script (above) prints each row as this JSON triple
          return { room, seq, sha256 }
        }),
      )
    })
  })
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

describe('SQLite relay storage under kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidekv-relay-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps every update whose append had resolved when the process was killed', { timeout: 60_000 }, async () => {
    const path = join(dir, 'crash.db')
    const acknowledged: Acknowledged[] = []
    for (const killAfter of KILL_AFTER) {
      const round = await appendUntilKilled(path, killAfter)
      expect(round.length).toBeGreaterThanOrEqual(killAfter)
      acknowledged.push(...round)
    }

    const storage = sqliteRelayStorage({ path })
    try {
      for (const room of ROOMS) {
        const { updates, lastSeq } = await storage.load(room)
        // This adapter numbers a room's updates 1, 2, 3, … and nothing here
        // compacts, so the update with seq n is updates[n - 1].
        expect(updates).toHaveLength(lastSeq)
        const mine = acknowledged.filter((a) => a.room === room)
        expect(mine.length).toBeGreaterThan(0)
        for (const { seq, sha256: printed } of mine) {
          const stored = updates[seq - 1]
          expect(stored, `room ${room} seq ${seq}`).toBeDefined()
          expect(sha256(stored ?? new Uint8Array()), `room ${room} seq ${seq}`).toBe(printed)
        }
      }
    } finally {
      await storage.close()
    }
  })
})
