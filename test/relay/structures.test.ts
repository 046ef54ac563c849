/**
 * The data structures through the real relay (127.0.0.1, port 0, SQLite in a
 * temporary folder), with TideKV clients as separate devices (own fake
 * IndexedDB, `tabs: false`, so nothing short-circuits through a
 * BroadcastChannel):
 *
 * - a seeded run: three clients with skewed clocks write every type
 *   concurrently (test/helpers/structure-ops.ts) while being disconnected,
 *   reconnected and reopened; meanwhile the relay compacts the room, unloads
 *   it when everyone has left, and restarts on its port and data folder. At
 *   the end every client, and a brand-new one, dumps the same keyspace
 *   through the public API (test/helpers/structure-dump.ts);
 * - a cold start: a client with empty storage reads every type as the
 *   writers do as soon as its status is 'synced';
 * - a reload: every type survives closing and reopening a client (from its
 *   snapshot's keys, then its document), and a relay restarted on the same
 *   data folder serves it all to a new client.
 *
 * Seeded: the base seed is printed; a failure names its sequence's seed and
 * prints its last steps; `TIDEKV_SEED=<n>` runs from sequence seed n (the
 * same operations; message timing still varies).
 */
import { IDBFactory } from 'fake-indexeddb'
import { describe, expect, it, vi } from 'vitest'
import { indexedDBStorage, openStore, type Store } from '@tidekv/client'
import { LoadGate } from '../helpers/load-gate.js'
import { baseSeed, Random, replayHint, sequenceSeed } from '@tidekv/core/testing'
import { newClient, newRelay, onCleanup, statusIs, tempDir } from '../helpers/relay.js'
import { RelayDevices } from '../helpers/relay-devices.js'
import { dump, invariants } from '../helpers/structure-dump.js'
import { randomWrite } from '../helpers/structure-ops.js'
import { turn, within } from '../helpers/waiting.js'

const ROOM = 'structures'
const SEQUENCES = 5
const CLIENTS = 3
const STEPS = 200
/** Clock skew of each client, ms: last writer wins by these clocks, and expiry too. */
const SKEWS = [0, 35, -120] as const
/** Short TTLs run out during the run (at a different moment on each client's clock), the long one never does. */
const TTLS = [40, 250, 600_000] as const
const DEADLINE_MS = 15_000
const TRACE_LINES = 60
const wait = { timeout: DEADLINE_MS, interval: 20 }

/** Every store dumps the same (TTLs as present or not: clocks are real here). */
function expectSame(stores: readonly Store[], what: string): void {
  const dumps = stores.map((s) => dump(s))
  expect(dumps, what).toEqual(dumps.map(() => dumps[0]))
  for (const s of stores) expect(invariants(s), `${what}: consistent reads`).toEqual([])
}

const base = baseSeed()
console.log(`relay/structures.test.ts: base seed ${base} (replay a failing sequence: TIDEKV_SEED=<its seed> npx vitest run test/relay/structures.test.ts)`)

async function runSequence(seed: number): Promise<void> {
  const rng = new Random(seed)
  const trace: string[] = []
  const log = (line: string): void => {
    trace.push(line)
  }
  let step = -1
  try {
    // Rooms compact often and unload soon after their last client leaves, so both happen mid-run.
    const dataDir = tempDir()
    const limits = { compactAfterUpdates: 25, idleRoomMs: 20 }
    let relay = await newRelay({ dataDir, limits })
    const devices = await RelayDevices.open(relay.ws, ROOM, CLIENTS, SKEWS, DEADLINE_MS)
    const clients = devices.all

    for (step = 0; step < STEPS; step++) {
      const c = rng.pick(clients)
      const kind = rng.weighted({ write: 60, burst: 6, disconnect: 5, connect: 7, reopen: 2, whenSynced: 3, pause: 6, allOffline: 0.7, relayRestart: 0.7 })
      switch (kind) {
        case 'write':
          log(`${step}: c${c.id} ${randomWrite(rng, c.store, { ttls: TTLS })}`)
          break
        case 'burst': {
          // Several writes in one tick: one transaction, one message.
          const n = rng.int(2, 5)
          log(`${step}: c${c.id} ${n} writes in one tick:`)
          for (let k = 0; k < n; k++) log(`    ${randomWrite(rng, c.store, { ttls: TTLS })}`)
          break
        }
        case 'relayRestart': {
          // On the same port and data folder: clients reconnect by themselves.
          log(`${step}: the relay restarts`)
          const port = relay.port
          await relay.close()
          relay = await newRelay({ dataDir, limits, port })
          break
        }
        default:
          await devices.step(kind, c, relay, `step ${step}`, (line) => log(`${step}: ${line}`))
      }
      // Most steps yield, so messages flow between writes; the others pile into one tick.
      if (rng.chance(0.75)) await turn()
    }
    step = -1

    log('end: everyone connects and waits for whenSynced')
    const fresh = await devices.syncAll()
    // Short TTLs run out on each client by its own clock: wait until every one agrees.
    await vi.waitFor(() => expectSame([...devices.stores(), fresh], 'every client and a new one dump the same keyspace'), wait)
    log(`converged on: ${dump(fresh).join(' | ')}`)
    expect(devices.errors()).toEqual([])
  } catch (e) {
    const error = e as Error // reason: whatever the run throws is an Error (expect, within, the store)
    const at = step >= 0 ? `step ${step}` : 'the end'
    error.message = `${replayHint(seed)}, at ${at}: ${error.message}\nlast steps:\n  ${trace.slice(-TRACE_LINES).join('\n  ')}`
    throw error
  }
}

/**
 * Writes every type (and plain values) through two clients, members of one
 * structure from both: `a` first, then `b` once it has `a`'s writes (so its
 * increments build on `a`'s values rather than race them).
 */
async function writeEverything(a: Store, b: Store): Promise<void> {
  a.hash('user:1').setMany({ name: 'Ada', visits: 1, tags: ['x', 'y'] })
  a.list('jobs').pushRight('j1', { id: 2 }, null)
  a.collection('online').add('ada', 'bob')
  a.sortedSet('board').add('ada', 10)
  a.stream('activity').add({ user: 'ada', action: 'joined' })
  a.set('theme', 'dark')
  a.expire('online', 600_000)
  await a.whenSynced()
  await vi.waitFor(() => expect(b.stream('activity').length).toBe(1), wait)
  b.hash('user:1').incr('visits', 4)
  b.hash('user:1').set('avatar', new Uint8Array([1, 2, 3]))
  b.list('jobs').pushLeft('j0')
  b.collection('online').add('cy')
  b.sortedSet('board').incr('ada', 2.5)
  b.sortedSet('board').add('bob', -1)
  b.stream('activity').add({ user: 'bob', n: 1 })
  b.incr('hits', 3)
  await b.whenSynced()
}

const EVERYTHING = ['activity stream', 'board zset', 'hits counter', 'jobs list', 'online set', 'theme string', 'user:1 hash']

describe('data structures through the relay', () => {
  const seeds = Array.from({ length: SEQUENCES }, (_, i) => sequenceSeed(base, i))
  it.each(seeds)('clients writing every type concurrently, disconnecting and reopening, end with the same keyspace as a new client (seed %i)', (seed) => runSequence(seed))

  it("a new client with empty storage reads every type as the writers do once its status is 'synced'", async () => {
    const relay = await newRelay()
    const a = await newClient(relay.ws, ROOM)
    const b = await newClient(relay.ws, ROOM)
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    await writeEverything(a, b)
    await vi.waitFor(() => expectSame([a, b], 'the writers agree'), wait)
    expect(dump(a).map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(EVERYTHING)

    const fresh = await newClient(relay.ws, ROOM)
    await within(statusIs(fresh, 'synced'), DEADLINE_MS, 'fresh client synced')
    expect(dump(fresh)).toEqual(dump(a))
    expect(invariants(fresh)).toEqual([])
    expect(fresh.hash('user:1').getAll()).toEqual({ avatar: new Uint8Array([1, 2, 3]), name: 'Ada', tags: ['x', 'y'], visits: 5 })
    expect(fresh.sortedSet('board').range(0, -1, { withScores: true })).toEqual([
      ['bob', -1],
      ['ada', 12.5],
    ])
  })

  it('every type survives closing and reopening a client, and a relay restarted on its data folder serves it to a new client', async () => {
    const dataDir = tempDir()
    const relay = await newRelay({ dataDir })
    const idb = new IDBFactory()
    const a = await newClient(relay.ws, ROOM, { idb })
    const b = await newClient(relay.ws, ROOM)
    await writeEverything(a, b)
    await vi.waitFor(() => expectSame([a, b], 'the writers agree'), wait)
    const want = dump(a)
    await a.close()

    // From IndexedDB alone (no sync): first from the snapshot's keys (the document load held back), then from the document.
    const gate = new LoadGate()
    const local = await openStore(ROOM, { storage: gate.wrap(indexedDBStorage(idb)), tabs: false })
    onCleanup(() => local.close())
    expect(gate.held, 'opened from the keys of its snapshot').toBe(true)
    expect(dump(local), 'reopened, before the document loaded').toEqual(want)
    gate.release()
    await local.loaded
    expect(dump(local), 'reopened, document loaded').toEqual(want)
    expect(invariants(local)).toEqual([])
    await local.close()

    await b.close()
    await relay.close()
    const again = await newRelay({ dataDir })
    const fresh = await newClient(again.ws, ROOM)
    await within(statusIs(fresh, 'synced'), DEADLINE_MS, 'fresh client synced with the restarted relay')
    expect(dump(fresh), 'a new client of the restarted relay').toEqual(want)

    // The reopened writer syncs with the restarted relay: nothing doubles, nothing is lost.
    const back = await newClient(again.ws, ROOM, { idb })
    await within(statusIs(back, 'synced'), DEADLINE_MS, 'reopened writer synced')
    back.list('jobs').pushRight('after restart')
    await back.whenSynced()
    await vi.waitFor(() => expect(fresh.list('jobs').range(-1, -1)).toEqual(['after restart']), wait)
    expectSame([back, fresh], 'the reopened writer and the new client')
  })
})
