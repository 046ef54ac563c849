/**
 * With relays sharing a room, a writer's new client id is claimed through the
 * room's shared log before its update applies. When that claim cannot be
 * stored, the update is dropped; for a live update the writer is asked to
 * sync again (a sync step 1), and its answer applies once claims work again.
 */
import { MessageType } from '@tidekv/core'
import { syncMessage } from '@tidekv/core/wire'
import * as syncProtocol from 'y-protocols/sync'
import { expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { memoryRelayBus } from './bus.js'
import { ownersKey } from './client-owners.js'
import { DEFAULT_LIMITS } from './limits.js'
import { memoryRelayStorage } from './memory-storage.js'
import { Metrics } from './metrics.js'
import type { Peer } from './peer.js'
import { Room } from './room.js'
import { DEFAULT_UPDATE_BUDGET } from './update-budget.js'

const wait = { timeout: 5_000, interval: 5 }

it('a live update whose client-id claim could not be stored asks its writer to sync again; a step 2 that fails so does not', async () => {
  const storage = memoryRelayStorage()
  let failClaims = 2
  const append = storage.append.bind(storage)
  storage.append = (key, update) => {
    if (key === ownersKey('r') && failClaims > 0) {
      failClaims--
      return Promise.reject(new Error('claim log unavailable'))
    }
    return append(key, update)
  }
  const errors: unknown[] = []
  const room = new Room('r', {
    storage,
    bus: { bus: memoryRelayBus(), relayId: 'relay-1' },
    metrics: new Metrics({ connections: () => 1, roomsLoaded: () => 1 }),
    limits: DEFAULT_LIMITS,
    budget: DEFAULT_UPDATE_BUDGET,
    onError: (e) => errors.push(e),
  })
  await room.ready
  let stepOnes = 0
  const peer: Peer = {
    mode: 'write',
    subject: 'ada',
    rules: null,
    acks: false,
    send: (m) => {
      if (m[0] === MessageType.SYNC && m[1] === syncProtocol.messageYjsSyncStep1) stepOnes++
    },
    sendAnswer: () => undefined,
    answering: false,
    deliver: (m) => room.receive(peer, m),
    close: () => errors.push('closed'),
  }
  room.join(peer)
  expect(stepOnes).toBe(1) // the join's
  const doc = new Y.Doc()
  doc.getArray('a').push([1])

  // A step 2 whose claim fails: dropped, not asked for again (its answer would be itself).
  room.receive(peer, syncMessage(syncProtocol.messageYjsSyncStep2, Y.encodeStateAsUpdate(doc)))
  await vi.waitFor(() => expect(errors).toHaveLength(1), wait)
  expect(stepOnes).toBe(1)

  // A live update whose claim fails: dropped, and the writer is asked again.
  room.receive(peer, syncMessage(syncProtocol.messageYjsUpdate, Y.encodeStateAsUpdate(doc)))
  await vi.waitFor(() => expect(stepOnes).toBe(2), wait)
  expect(errors).toHaveLength(2)
  expect(room.doc.getArray('a').length).toBe(0)

  // Its answer, once claims are stored again, applies.
  room.receive(peer, syncMessage(syncProtocol.messageYjsSyncStep2, Y.encodeStateAsUpdate(doc)))
  await vi.waitFor(() => expect(room.doc.getArray('a').toArray()).toEqual([1]), wait)
  expect(stepOnes).toBe(2)
  await room.unload()
})
