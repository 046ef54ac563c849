/**
 * Issue 11's convergence run on Redis: three relays sharing rooms through a
 * real redis-server (AOF, `appendfsync always`), three TideKV clients with
 * skewed clocks, each starting on a different relay (a rotated `sync.url`
 * list), writing every data type concurrently while being disconnected,
 * reconnected and reopened, and going offline all at once (the rooms unload
 * on every relay). Rooms compact often, on whichever relay holds them. At the
 * end every client, and a brand-new one, dumps the same keyspace. The same
 * run, once, on a three-master Redis Cluster.
 * Seeded like relay/structures.test.ts: the base seed is printed, a failure
 * names its sequence's seed and prints its last steps.
 */
import { describe, expect, it, vi } from 'vitest'
import type { Store } from '@tidekv/client'
import { baseSeed, Random, replayHint, sequenceSeed } from '@tidekv/core/testing'
import { newRelay } from '../helpers/relay.js'
import { RelayDevices } from '../helpers/relay-devices.js'
import type { RelayOptions } from '@tidekv/relay'
import { useRedisBackends } from '../helpers/redis-backends.js'
import { dump, invariants } from '../helpers/structure-dump.js'
import { randomWrite } from '../helpers/structure-ops.js'
import { turn } from '../helpers/waiting.js'

const SEQUENCES = 2
const CLIENTS = 3
const STEPS = 150
const SKEWS = [0, 35, -120] as const
const TTLS = [40, 250, 600_000] as const
const DEADLINE_MS = 15_000
const TRACE_LINES = 60
const wait = { timeout: DEADLINE_MS, interval: 20 }

const backends = useRedisBackends()

function expectSame(stores: readonly Store[], what: string): void {
  const dumps = stores.map((s) => dump(s))
  expect(dumps, what).toEqual(dumps.map(() => dumps[0]))
  for (const s of stores) expect(invariants(s), `${what}: consistent reads`).toEqual([])
}

const base = baseSeed()
console.log(`redis/redis-convergence.test.ts: base seed ${base} (replay: TIDEKV_SEED=<its seed> npx vitest run test/redis/redis-convergence.test.ts)`)

async function runSequence(seed: number, on: () => RelayOptions['redis']): Promise<void> {
  const rng = new Random(seed)
  const room = `converge-${seed}`
  const trace: string[] = []
  const log = (line: string): void => {
    trace.push(line)
  }
  let step = -1
  // What the relays report in the background, shown with a failure (a hang leaves nothing else to go on).
  const relayErrors: string[] = []
  try {
    const limits = { compactAfterUpdates: 25, idleRoomMs: 20 }
    const relays = await Promise.all(
      [0, 1, 2].map((r) =>
        newRelay({ redis: on(), limits, onError: (e, inRoom) => relayErrors.push(`relay ${r}${inRoom === undefined ? '' : ` (${inRoom})`} at step ${step}: ${String(e)}`) }),
      ),
    )
    // Every relay's loaded rooms, as one: "all offline" waits until no relay holds the room.
    const everywhere = {
      get rooms() {
        return new Map(relays.flatMap((relay) => [...relay.rooms]))
      },
    }
    const devices = await RelayDevices.open(
      relays.map((relay) => relay.ws),
      room,
      CLIENTS,
      SKEWS,
      DEADLINE_MS,
    )
    const clients = devices.all
    for (step = 0; step < STEPS; step++) {
      const c = rng.pick(clients)
      const kind = rng.weighted({ write: 60, burst: 6, disconnect: 5, connect: 7, reopen: 2, whenSynced: 3, pause: 6, allOffline: 0.7 })
      switch (kind) {
        case 'write':
          log(`${step}: c${c.id} ${randomWrite(rng, c.store, { ttls: TTLS })}`)
          break
        case 'burst': {
          const n = rng.int(2, 5)
          log(`${step}: c${c.id} ${n} writes in one tick:`)
          for (let k = 0; k < n; k++) log(`    ${randomWrite(rng, c.store, { ttls: TTLS })}`)
          break
        }
        default:
          await devices.step(kind, c, everywhere, `step ${step}`, (line) => log(`${step}: ${line}`))
      }
      if (rng.chance(0.75)) await turn()
    }
    step = -1
    log('end: everyone connects and waits for whenSynced')
    const fresh = await devices.syncAll()
    await vi.waitFor(() => expectSame([...devices.stores(), fresh], 'every client and a new one dump the same keyspace'), wait)
    expect(devices.errors()).toEqual([])
  } catch (e) {
    const error = e as Error // reason: whatever the run throws is an Error (expect, within, the store)
    const at = step >= 0 ? `step ${step}` : 'the end'
    const errors = relayErrors.length === 0 ? '' : `\nrelay errors:\n  ${relayErrors.slice(-TRACE_LINES).join('\n  ')}`
    error.message = `${replayHint(seed)}, at ${at}: ${error.message}\nlast steps:\n  ${trace.slice(-TRACE_LINES).join('\n  ')}${errors}`
    throw error
  }
}

describe('relays on one Redis, seeded', () => {
  for (let i = 0; i < SEQUENCES; i++) {
    const seed = sequenceSeed(base, i)
    it(`clients on three relays writing every type, going offline and coming back, converge (seed ${seed})`, () => runSequence(seed, backends.one), 120_000)
  }
})

describe('relays on a Redis Cluster, seeded', () => {
  // The first sequence again, on a cluster: its replay hint (TIDEKV_SEED=seed) runs this one too.
  const seed = sequenceSeed(base, 0)
  it(`the same on a three-master cluster (seed ${seed})`, () => runSequence(seed, backends.cluster), 120_000)
})
