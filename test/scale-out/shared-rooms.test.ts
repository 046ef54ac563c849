/**
 * Relays that share rooms (issue 11): several relays on one storage, joined
 * by a bus. Here in one process, on the in-memory storage and bus twins;
 * test/redis/relays-on-redis.test.ts runs the same on a real redis-server.
 * A room's clients on different relays converge; an announcement the bus
 * loses is caught up from storage (at the next one, or when the bus reports
 * the gap); a relay never compacts past an update it has not applied.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createToken } from '@tidekv/relay'
import { memoryRelayBus } from '../../packages/relay/src/bus.js'
import { memoryRelayStorage } from '../../packages/relay/src/memory-storage.js'
import type { RelayStorage } from '../../packages/relay/src/storage.js'
import { newClient, newRelay, rawSocket, statusIs } from '../helpers/relay.js'
import { within } from '../helpers/waiting.js'
import { awarenessMessage, gcUpdate, presenceSeenBy, syncMessage } from '../helpers/wire.js'

async function relaysSharing(count: number, storage: RelayStorage = memoryRelayStorage()) {
  const bus = memoryRelayBus()
  const relays = []
  for (let i = 0; i < count; i++) relays.push(await newRelay({ storage, bus, limits: { compactAfterUpdates: 5 } }))
  return { bus, relays, storage }
}

/** `storage` with another `append`. */
function withAppend(storage: RelayStorage, append: RelayStorage['append']): RelayStorage {
  return {
    load: (room) => storage.load(room),
    loadSince: (room, afterSeq) => storage.loadSince(room, afterSeq),
    append,
    compact: (room, snapshot, upToSeq) => storage.compact(room, snapshot, upToSeq),
    deleteRoom: (room) => storage.deleteRoom(room),
    rooms: () => storage.rooms(),
    close: () => storage.close(),
  }
}

/** Two relays on one storage and bus; relay 0 sees `failNext(n)` appends of the room `flaky` fail (not its client-id owners'). */
async function relaysWithFlakyStorage() {
  const storage = memoryRelayStorage()
  const bus = memoryRelayBus()
  let failures = 0
  const flaky = withAppend(storage, (room, update) =>
    room === 'flaky' && failures > 0 && failures-- > 0 ? Promise.reject(new Error('storage down')) : storage.append(room, update),
  )
  const errors: unknown[] = []
  const r0 = await newRelay({ storage: flaky, bus, onError: (error) => errors.push(error) })
  const r1 = await newRelay({ storage, bus })
  return { r0, r1, errors, failNext: (n: number) => (failures = n) }
}

describe('relays sharing rooms through a bus', () => {
  it('clients of one room on different relays converge, every type of write, both ways', async () => {
    const { relays } = await relaysSharing(3)
    const clients = await Promise.all(relays.map((relay) => newClient(relay.ws, 'shared')))
    clients[0]!.set('from', 'relay 0')
    clients[1]!.incr('count', 2)
    clients[2]!.hash('h').set('k', 'v')
    clients[0]!.list('l').pushRight('a', 'b')
    clients[1]!.incr('count', 3)
    await Promise.all(clients.map((c) => c.whenSynced()))
    for (const client of clients) {
      await expect.poll(() => [client.get('from'), client.get('count'), client.hash('h').get('k'), client.list('l').range(0, -1)]).toEqual(['relay 0', 5, 'v', ['a', 'b']])
    }
  })

  it('an announcement the bus lost is read from storage when the next one shows the gap', async () => {
    const { bus, relays } = await relaysSharing(2)
    const [a, b] = await Promise.all(relays.map((relay) => newClient(relay.ws, 'gap')))
    a!.set('first', 1)
    await a!.whenSynced()
    await expect.poll(() => b!.get('first')).toBe(1)
    bus.drop(1)
    a!.set('lost', 2) // stored, but its announcement never reaches relay 1
    await a!.whenSynced()
    a!.set('next', 3)
    await a!.whenSynced()
    await expect.poll(() => [b!.get('lost'), b!.get('next')]).toEqual([2, 3])
  })

  it('when the bus reports a gap (its connection came back), every loaded room catches up', async () => {
    const { bus, relays } = await relaysSharing(2)
    const [a, b] = await Promise.all(relays.map((relay) => newClient(relay.ws, 'reconnect')))
    await Promise.all([a!.whenSynced(), b!.whenSynced()])
    bus.drop(1)
    a!.set('during the outage', true)
    await a!.whenSynced()
    expect(b!.has('during the outage')).toBe(false)
    bus.gap()
    await expect.poll(() => b!.get('during the outage')).toBe(true)
  })

  it('an update its relay could not store reaches the other relays once storage works again, with what depends on it', async () => {
    const { r0, r1, errors, failNext } = await relaysWithFlakyStorage()
    const [a, b] = await Promise.all([newClient(r0.ws, 'flaky'), newClient(r1.ws, 'flaky')])
    a.set('first', 0)
    await a.whenSynced()
    failNext(1)
    a.set('not stored at first', 1) // relay 0 has it in its document, storage does not
    await expect.poll(() => errors.length).toBe(1)
    a.set('after', 2) // the same client's next write: Yjs cannot apply it without the one before
    await a.whenSynced()
    await expect.poll(() => [b.get('not stored at first'), b.get('after')]).toEqual([1, 2])
  })

  it('a write that failed is retried by the relay on its own, acknowledged and announced, with no later write to carry it', async () => {
    const { r0, r1, errors, failNext } = await relaysWithFlakyStorage()
    const [a, b] = await Promise.all([newClient(r0.ws, 'flaky'), newClient(r1.ws, 'flaky')])
    await a.whenSynced()
    failNext(2) // the write and the first retry fail
    a.set('alone', true)
    await expect.poll(() => errors.length, { timeout: 5_000 }).toBe(2)
    await a.whenSynced() // the second retry stores it
    expect(a.status).toBe('synced') // its socket was never closed
    await expect.poll(() => b.get('alone')).toBe(true)
  })

  it("an update reaches other relays' clients as soon as its own relay's, before it is stored; acknowledged once stored", async () => {
    const storage = memoryRelayStorage()
    const bus = memoryRelayBus()
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    const gated = withAppend(storage, (room, update) => (room === 'early' ? held.then(() => storage.append(room, update)) : storage.append(room, update)))
    const r0 = await newRelay({ storage: gated, bus })
    const r1 = await newRelay({ storage, bus })
    const [a, b] = await Promise.all([newClient(r0.ws, 'early'), newClient(r1.ws, 'early')])
    await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')])
    let acknowledged = false
    a.set('k', 'v')
    void a.whenSynced().then(() => (acknowledged = true))
    await expect.poll(() => b.get('k')).toBe('v') // through relay 1, while relay 0's append is held
    expect(acknowledged).toBe(false)
    release()
    await expect.poll(() => acknowledged).toBe(true)
    // Relay 1 counted the STORED as the update's seq: a fresh relay and relay 1 agree, nothing was read twice.
    b.set('from b', 1)
    await expect.poll(() => a.get('from b')).toBe(1)
  })

  it("a client's update another relay got before its own relay stored it is stored by that relay when the client asks it", async () => {
    const storage = memoryRelayStorage()
    const bus = memoryRelayBus()
    let release: () => void = () => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    // Relay 0 never gets to store the room's updates (as if it died mid-append).
    const r0 = await newRelay({
      storage: withAppend(storage, (room, update) => (room === 'orphan' ? held.then(() => storage.append(room, update)) : storage.append(room, update))),
      bus,
    })
    const r1 = await newRelay({ storage, bus })
    try {
      const a = await newClient([r0.ws, r1.ws], 'orphan')
      const b = await newClient(r1.ws, 'orphan')
      await Promise.all([statusIs(a, 'synced'), statusIs(b, 'synced')]) // relay 1 has the room loaded, so it hears the PENDING
      a.set('orphan', 1)
      await expect.poll(() => b.get('orphan')).toBe(1) // relay 1 has it (PENDING), storage does not
      a.disconnect()
      a.connect() // to the next relay of its list, which has the update already: nothing new to store
      await expect.poll(() => a.relay).toBe(r1.ws)
      await within(a.whenSynced(), 10_000, 'whenSynced on relay 1') // relay 1 stores it itself once relay 0's STORED is overdue
      const reader = await newClient((await newRelay({ storage, bus })).ws, 'orphan')
      await reader.whenSynced()
      expect(reader.get('orphan')).toBe(1)
    } finally {
      release()
    }
  })

  it('compactions by either relay lose nothing the other stored, and a fresh relay loads it all', async () => {
    const storage = memoryRelayStorage()
    const { relays } = await relaysSharing(2, storage)
    const [a, b] = await Promise.all(relays.map((relay) => newClient(relay.ws, 'compacting')))
    for (let i = 0; i < 30; i++) {
      ;(i % 2 === 0 ? a! : b!).set(`k${i}`, i)
      if (i % 3 === 0) await Promise.all([a!.whenSynced(), b!.whenSynced()])
    }
    await Promise.all([a!.whenSynced(), b!.whenSynced()])
    const {
      relays: [fresh],
    } = await relaysSharing(1, storage)
    const reader = await newClient(fresh!.ws, 'compacting')
    await reader.whenSynced()
    await expect.poll(() => reader.keys().length).toBe(30)
  })
})

describe('client ids across relays', () => {
  it('a client id claimed through one relay is refused to another subject on another relay that loaded the room before the claim', async () => {
    const storage = memoryRelayStorage()
    const bus = memoryRelayBus()
    const secret = 'owners-across-relays'
    const auth = { secret, anonymous: 'none' } as const
    const a = await newRelay({ storage, bus, auth })
    const b = await newRelay({ storage, bus, auth })
    const token = (sub: string) => createToken({ secret, room: 'owned', mode: 'write', sub })
    // The attacker's relay loads the room first: its cache knows no owner of the victim's id.
    const attacker = await rawSocket(`${b.ws}/owned?token=${await token('mallory')}`)
    await expect.poll(() => b.rooms.get('owned')?.loaded).toBe(true)
    const victim = await newClient(a.ws, 'owned', { token: await token('victim') })
    victim.set('mine', 1)
    await victim.whenSynced()
    const victimId = victim.doc.clientID
    const clock = Y.getState(victim.doc.store, victimId)
    await expect.poll(() => b.rooms.get('owned')?.writers).toBe(1)
    attacker.ws.send(syncMessage(2, gcUpdate(victimId, clock, 2 ** 31)))
    await expect.poll(() => b.metrics.rejected['foreign-client']).toBe(1)
    victim.set('after', 2)
    await victim.whenSynced()
    const reader = await newClient(b.ws, 'owned', { token: await token('reader') })
    await expect.poll(() => reader.keys().sort()).toEqual(['after', 'mine'])
  })
})

describe('presence across relays', () => {
  it("a client's presence reaches the room's clients on other relays, and goes when it leaves", async () => {
    const { relays } = await relaysSharing(2)
    const watcher = await rawSocket(`${relays[1]!.ws}/presence`)
    const seen = presenceSeenBy(watcher.ws)
    await expect.poll(() => relays[1]!.rooms.get('presence')?.loaded).toBe(true)
    const ada = await rawSocket(`${relays[0]!.ws}/presence`)
    ada.ws.send(awarenessMessage([[42, 1, '{"name":"Ada"}']]))
    await expect.poll(() => seen.get(42)).toBe('{"name":"Ada"}')
    expect(relays[1]!.rooms.get('presence')?.awarenessStates).toBe(1)
    ada.ws.close()
    await expect.poll(() => seen.get(42)).toBe('null')
    expect(relays[1]!.rooms.get('presence')?.awarenessStates).toBe(0)
  })
})
