/**
 * A room busy applying a large update in slices holds its other messages; once
 * the last slice is in, they are handled in the same turn, so their updates go
 * out (and are stored) with the last slice's batch, in the order received.
 */
import { MessageType } from '@tidekv/core'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as syncProtocol from 'y-protocols/sync'
import { expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { DEFAULT_LIMITS } from './limits.js'
import { memoryRelayStorage } from './memory-storage.js'
import { Metrics } from './metrics.js'
import { Room } from './room.js'
import { DEFAULT_UPDATE_BUDGET } from './update-budget.js'

type P = Parameters<Room['join']>[0]

function label(m: Uint8Array): string {
  const d = decoding.createDecoder(m)
  const t = decoding.readVarUint(d)
  if (t === MessageType.SYNC) return `sync${decoding.readVarUint(d)}`
  if (t === MessageType.AWARENESS) return 'awareness'
  return `type${t}`
}

function syncUpdate(update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MessageType.SYNC)
  syncProtocol.writeUpdate(e, update)
  return encoding.toUint8Array(e)
}

it('messages held while a large update is applied in slices join its last slice: one batch, one storage write, in order', async () => {
  const storage = memoryRelayStorage()
  let appends = 0
  const append = storage.append.bind(storage)
  storage.append = (room, update) => {
    appends++
    return append(room, update)
  }
  const errors: unknown[] = []
  const room = new Room('r', {
    storage,
    metrics: new Metrics({ connections: () => 3, roomsLoaded: () => 1 }),
    limits: DEFAULT_LIMITS,
    budget: DEFAULT_UPDATE_BUDGET,
    onError: (e) => errors.push(e),
  })
  await room.ready
  const mk = (name: string) => {
    const got: string[] = []
    const p: P = {
      mode: 'write',
      subject: '',
      rules: null,
      acks: false,
      send: (m) => got.push(label(m)),
      sendAnswer: (ms) => ms.forEach((m) => got.push(label(m))),
      answering: false,
      deliver: (m) => room.receive(p, m),
      close: () => errors.push(`${name} closed`),
    }
    return { p, got }
  }
  const a = mk('a')
  const b = mk('b')
  const c = mk('c')
  for (const x of [a, b, c]) room.join(x.p)

  const docA = new Y.Doc()
  const big: Uint8Array[] = []
  docA.on('update', (u: Uint8Array) => big.push(u))
  docA.getArray<Uint8Array>('tidekv').push(Array.from({ length: 12_000 }, (_, i) => new Uint8Array([i & 255, i >> 8])))
  const docB = new Y.Doc()
  const small: Uint8Array[] = []
  docB.on('update', (u: Uint8Array) => small.push(u))
  docB.getArray<Uint8Array>('tidekv').push([new Uint8Array([1])])
  const aw = new awarenessProtocol.Awareness(docB)
  aw.setLocalState({ name: 'b' })
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MessageType.AWARENESS)
  encoding.writeVarUint8Array(e, awarenessProtocol.encodeAwarenessUpdate(aw, [docB.clientID]))
  const awMsg = encoding.toUint8Array(e)

  c.got.length = 0
  room.receive(a.p, syncUpdate(big[0]!)) // sliced: the room is busy
  room.receive(b.p, awMsg) // held
  room.receive(b.p, syncUpdate(small[0]!)) // held
  await vi.waitFor(() => expect(room.doc.getArray('tidekv').length).toBe(12_001), { timeout: 10_000 })
  await room.flushed()
  expect(errors).toEqual([])
  // Three slices: the first two alone, the last with B's held update (B's awareness, held before it, goes out before it).
  expect(c.got).toEqual(['sync2', 'sync2', 'awareness', 'sync2'])
  expect(appends).toBe(5) // 4 update batches + the owners claim
  await room.unload()
})
