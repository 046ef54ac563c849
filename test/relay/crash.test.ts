/**
 * Durability of the relay as a process: nothing it acknowledged (a resolved
 * `store.whenSynced()`) is lost when it is killed.
 *
 * The relay runs as a child process (its CLI, on a SQLite data folder).
 * Each round, TideKV clients (separate devices: own fake IndexedDB) write to
 * keys they own in a few rooms — sets, TTLs, increments, deletes — with
 * `whenSynced()` now and then; then the relay is SIGKILLed while writes are
 * still in flight: the moment every client, or the first client, has its last
 * writes acknowledged. In some rounds the relay is first stalled (SIGSTOP)
 * and writes are made while it cannot read them; it is resumed (SIGCONT)
 * only once those writes are stored locally, so an acknowledgement that did
 * not come from the relay shows up as a loss. A relay restarted on the same
 * folder is then checked by brand-new clients (fresh IndexedDB): for every
 * writer, its keys must read as the state after one of its own transactions,
 * no earlier than its last acknowledged one. So every acknowledged write is
 * there, a deleted key stays deleted, and of the unacknowledged writes what
 * survives is a prefix. Those clients are the next round's writers.
 *
 * Seeded: the seed is printed; `TIDEKV_SEED=<n>` replays the same writes (the
 * kill points depend on timing).
 */
import { describe, expect, it, vi } from 'vitest'
import type { Store, Value } from '@tidekv/client'
import { baseSeed, Random, replayHint } from '@tidekv/core/testing'
import { newClient, statusIs, tempDir } from '../helpers/relay.js'
import { type RelayProcess, startRelayProcess } from '../helpers/relay-process.js'
import { show, turn, within } from '../helpers/waiting.js'

const ROOMS = ['notes', 'team/a', 'ü'] as const
const WRITERS_PER_ROOM = 2
const KEYS_PER_ROOM = 8
/** A TTL no test run outlives: keys with it stay, and keep their expiry. */
const LONG_TTL = 10 * 60_000
const ROUNDS = [
  { stall: false, kill: 'all' },
  { stall: true, kill: 'first' },
  { stall: false, kill: 'first' },
  { stall: true, kill: 'all' },
] as const
/** Acknowledged steps per round, before the final phase. */
const STEPS = 40
/** At most this many unacknowledged steps while waiting for the kill. */
const MAX_IN_FLIGHT_STEPS = 400
const DEADLINE_MS = 20_000

interface Writer {
  readonly name: string
  readonly store: Store
  readonly keys: readonly string[]
  /** What its keys hold, by this test's reckoning. */
  readonly model: Map<string, { value: Value; ttl: boolean }>
  /** Its keys as `describeKeys` prints them: at the start, then after each of its transactions. */
  readonly history: string[]
  /** Index in `history` of the last state the relay acknowledged. */
  acked: number
}

/** `key=value` per live key (`~` after a key with a TTL), in key order. */
function describeKeys(store: Store, keys: readonly string[]): string {
  return keys
    .filter((k) => store.has(k))
    .map((k) => `${k}=${show(store.get(k))}${store.ttl(k) >= 0 ? '~' : ''}`)
    .join(' ')
}

function describeModel(w: Writer): string {
  return w.keys
    .filter((k) => w.model.has(k))
    .map((k) => `${k}=${show(w.model.get(k)!.value)}${w.model.get(k)!.ttl ? '~' : ''}`)
    .join(' ')
}

function genValue(rng: Random): Value {
  return rng.pick<() => Value>([
    () => rng.int(-5, 100),
    () => rng.pick(['x', '', 'é😀', 'a longer string value']),
    () => rng.pick([null, true, false, 1.5]),
    () => ({ n: rng.int(0, 9), tags: ['a', 'b'] }),
    () => [rng.int(0, 9), 'two'],
    () => new Uint8Array([rng.int(0, 255), 7]),
  ])()
}

function writersFor(stores: Store[], room: string): Writer[] {
  const keys = Array.from({ length: KEYS_PER_ROOM }, (_, i) => `k${i}`)
  return stores.map((store, w) => {
    const owned = keys.filter((_, i) => i % WRITERS_PER_ROOM === w)
    const model = new Map<string, { value: Value; ttl: boolean }>()
    for (const k of owned) if (store.has(k)) model.set(k, { value: store.get(k)!, ttl: store.ttl(k) >= 0 })
    return { name: `${room}#${w}`, store, keys: owned, model, history: [describeKeys(store, owned)], acked: 0 }
  })
}

/** One transaction of writer `w` (1–3 operations in one tick); records the state it leaves. */
function step(w: Writer, rng: Random, only?: 'delete'): void {
  const ops = only === 'delete' ? 1 : rng.int(1, 3)
  for (let i = 0; i < ops; i++) {
    const live = w.keys.filter((k) => w.model.has(k))
    const op = only ?? rng.weighted({ set: 4, setTtl: 1, incr: 3, delete: 2, expire: 1, persist: 1 })
    const key = op === 'delete' || op === 'expire' || op === 'persist' ? (live.length > 0 ? rng.pick(live) : undefined) : rng.pick(w.keys)
    if (key === undefined) continue
    const now = w.model.get(key)
    switch (op) {
      case 'set': {
        const value = genValue(rng)
        w.store.set(key, value)
        w.model.set(key, { value, ttl: false })
        break
      }
      case 'setTtl': {
        const value = genValue(rng)
        w.store.set(key, value, { ttl: LONG_TTL })
        w.model.set(key, { value, ttl: true })
        break
      }
      case 'incr': {
        if (now !== undefined && !Number.isSafeInteger(now.value)) break
        const by = rng.int(-3, 5)
        w.store.incr(key, by)
        w.model.set(key, { value: ((now?.value as number | undefined) ?? 0) + by, ttl: now?.ttl ?? false }) // reason: the check above left a safe integer or no value
        break
      }
      case 'delete':
        w.store.delete(key)
        w.model.delete(key)
        break
      case 'expire':
        w.store.expire(key, LONG_TTL)
        w.model.set(key, { ...now!, ttl: true })
        break
      case 'persist':
        w.store.persist(key)
        w.model.set(key, { ...now!, ttl: false })
        break
    }
  }
  const state = describeKeys(w.store, w.keys)
  // The writer reads its own writes: if not, the check after the restart would be meaningless.
  expect(state, `${w.name} reads what it wrote`).toBe(describeModel(w))
  w.history.push(state)
}

/** `whenSynced` for what `w` has written so far; marks it acknowledged when it resolves. */
function acknowledge(w: Writer): Promise<void> {
  const upTo = w.history.length - 1
  return w.store.whenSynced().then(() => {
    w.acked = Math.max(w.acked, upTo)
  })
}

/**
 * Brand-new clients on `relay` (two per room) check what each writer of the
 * previous round left; returned as the next writers.
 */
async function checkAndTakeOver(relay: RelayProcess, previous: Writer[], context: string): Promise<Writer[]> {
  const next: Writer[] = []
  for (const room of ROOMS) {
    const fresh = await Promise.all(Array.from({ length: WRITERS_PER_ROOM }, () => newClient(relay.ws, room)))
    await within(Promise.all(fresh.map((s) => statusIs(s, 'synced'))), DEADLINE_MS, `${context}: fresh clients of room ${room} synced`)
    const first = fresh[0]!
    const second = fresh[1]!
    for (const w of previous.filter((x) => x.name.startsWith(`${room}#`))) {
      const found = describeKeys(first, w.keys)
      const at = w.history.lastIndexOf(found)
      expect(
        at >= w.acked,
        `${context}: ${w.name} lost acknowledged writes.\n  found:        ${found}\n  acknowledged: ${w.history[w.acked]} (state ${w.acked} of ${w.history.length - 1})\n  last written: ${w.history[w.history.length - 1]}\n  found is state ${at}`,
      ).toBe(true)
    }
    expect(second.entries(), `${context}: two fresh clients of room ${room} agree`).toEqual(first.entries())
    next.push(...writersFor(fresh, room))
  }
  return next
}

describe('relay crash', () => {
  it('nothing acknowledged is lost when the relay is killed', async () => {
    const seed = baseSeed()
    console.log(`relay/crash.test.ts: ${replayHint(seed, 'npx vitest run test/relay/crash.test.ts')}`)
    const rng = new Random(seed)
    const dataDir = tempDir()
    let relay = await startRelayProcess(dataDir)
    let writers: Writer[] = []
    for (const room of ROOMS) {
      writers.push(...writersFor(await Promise.all(Array.from({ length: WRITERS_PER_ROOM }, () => newClient(relay.ws, room))), room))
    }
    for (const [r, round] of ROUNDS.entries()) {
      const context = `${replayHint(seed)}, round ${r} (${round.stall ? 'stalled, ' : ''}killed after ${round.kill} acknowledged)`
      await within(Promise.all(writers.map((w) => statusIs(w.store, 'synced'))), DEADLINE_MS, `${context}: writers synced`)

      // Writes, acknowledged now and then.
      for (let i = 0; i < STEPS; i++) {
        const w = rng.pick(writers)
        step(w, rng)
        if (rng.chance(0.15)) await within(acknowledge(w), DEADLINE_MS, `${context}: whenSynced`)
        else await turn()
      }
      if (round.stall) {
        // Every writer has a key to delete while the relay is stalled.
        for (const w of writers) if (w.model.size === 0) step(w, rng)
        await within(Promise.all(writers.map(acknowledge)), DEADLINE_MS, `${context}: whenSynced before the stall`)
        relay.signal('SIGSTOP')
        for (const [i, w] of writers.entries()) {
          // Half the writers only delete: a delete adds no item, so it moves no clock in a state vector.
          const n = rng.int(1, 3)
          for (let j = 0; j < n; j++) step(w, rng, i % 2 === 0 ? 'delete' : undefined)
          await turn()
        }
      }

      // The last acknowledgements; the relay dies the moment they are in, with more writes on the way.
      let killed = false
      const acks = writers.map(acknowledge)
      const killAt = (round.kill === 'all' ? Promise.all(acks) : Promise.race(acks)).then(() => {
        killed = true
        relay.signal('SIGKILL')
      })
      const resumeAfter = round.stall ? rng.int(0, 5) : -1
      for (let i = 0; i < MAX_IN_FLIGHT_STEPS && !killed; i++) {
        if (i === resumeAfter) {
          // Resumed only once the stalled writes are stored locally: an acknowledgement
          // that resolved by then cannot have come from the relay.
          await Promise.all(writers.map((w) => w.store.flush()))
          await turn()
          if (!killed) relay.signal('SIGCONT')
        }
        step(rng.pick(writers), rng)
        await turn()
      }
      await within(killAt, DEADLINE_MS, `${context}: final acknowledgements`)
      expect((await relay.exited).signal).toBe('SIGKILL')
      await within(Promise.all(writers.map((w) => w.store.close())), DEADLINE_MS, `${context}: writers closed`)

      relay = await startRelayProcess(dataDir)
      writers = await checkAndTakeOver(relay, writers, context)
    }
  })

  it('a delete acknowledged by whenSynced survives a crash', async () => {
    const dataDir = tempDir()
    const relay = await startRelayProcess(dataDir)
    const a = await newClient(relay.ws, 'notes')
    a.set('deleted', 1)
    a.set('kept', 2)
    await a.whenSynced()
    relay.signal('SIGSTOP') // a stalled relay: it reads nothing until SIGCONT
    a.delete('deleted')
    // The relay is killed the moment the delete is acknowledged.
    const killed = a.whenSynced().then(() => relay.kill())
    await a.flush()
    await turn()
    relay.signal('SIGCONT')
    await within(killed, DEADLINE_MS, 'whenSynced after the delete')
    const again = await startRelayProcess(dataDir)
    const fresh = await newClient(again.ws, 'notes')
    await within(statusIs(fresh, 'synced'), DEADLINE_MS, 'fresh client synced')
    expect(fresh.entries()).toEqual([['kept', 2]])
  })

  it.each(['SIGTERM', 'SIGINT'] as const)('a graceful shutdown (%s) stores everything, exits with 0, and a restarted relay serves it', async (signal) => {
    const dataDir = tempDir()
    const relay = await startRelayProcess(dataDir)
    const a = await newClient(relay.ws, 'notes')
    const b = await newClient(relay.ws, 'notes')
    const c = await newClient(relay.ws, 'team/a')
    for (let i = 0; i < 20; i++) a.set(`a${i}`, { i })
    b.incr('n', 5)
    a.incr('n', 2)
    c.set('gone', true)
    await c.whenSynced()
    c.delete('gone')
    c.set('kept', 'yes', { ttl: LONG_TTL })
    await Promise.all([a, b, c].map((s) => s.whenSynced()))
    relay.signal(signal)
    expect(await within(relay.exited, DEADLINE_MS, `relay exit after ${signal}`)).toEqual({ code: 0, signal: null })
    expect(relay.stdout()).toContain(`${signal}, closing`)
    expect(relay.stderr()).not.toContain('tidekv-relay:')
    // The clients were disconnected (1001) and are trying to reconnect.
    await vi.waitFor(() => expect([a, b, c].map((s) => s.status)).not.toContain('synced'), { timeout: DEADLINE_MS, interval: 10 })

    const again = await startRelayProcess(dataDir)
    const notes = await newClient(again.ws, 'notes')
    const team = await newClient(again.ws, 'team/a')
    await within(Promise.all([statusIs(notes, 'synced'), statusIs(team, 'synced')]), DEADLINE_MS, 'fresh clients synced')
    expect(notes.size).toBe(21)
    expect(notes.get('a19')).toEqual({ i: 19 })
    expect(notes.get('n')).toBe(7)
    expect(team.entries()).toEqual([['kept', 'yes']])
    expect(team.ttl('kept')).toBeGreaterThan(0)
  })
})
