/**
 * A PERSISTED question is answered with the state vector storage holds. Any
 * connection may ask hundreds of times a second, and encoding a state vector
 * costs O(the room's writers): it is encoded once per change of the document,
 * not once per question.
 */
import { expect, it } from 'vitest'
import * as Y from 'yjs'
import { ClientOwners } from './client-owners.js'
import { memoryRelayStorage } from './memory-storage.js'
import { Metrics } from './metrics.js'
import { RoomWrites } from './room-writes.js'

it('questions asked while the document stays as it is share one encoded state vector; a change encodes a new one', async () => {
  const doc = new Y.Doc()
  const writes = new RoomWrites({
    name: 'r',
    doc,
    storage: memoryRelayStorage(),
    feed: null,
    owners: () => new ClientOwners(),
    metrics: new Metrics({ connections: () => 1, roomsLoaded: () => 1 }),
    compactAfterUpdates: 100,
    onError: (error) => {
      throw error
    },
    acknowledgeAll: () => undefined,
  })
  writes.loaded(0, 0)
  // Many writers: what makes an encoding costly.
  for (let client = 1; client <= 200; client++) {
    const writer = new Y.Doc()
    writer.clientID = client
    writer.getArray('a').push([client])
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(writer))
  }
  const update = Y.encodeStateAsUpdate(doc)
  writes.store(update, () => undefined)
  await writes.done()
  await writes.settled()
  const answered = writes.persisted
  for (let i = 0; i < 100; i++) await writes.settled()
  expect(writes.persisted).toBe(answered) // the same bytes, not 100 encodings of them
  expect(Y.decodeStateVector(answered).size).toBe(200)

  doc.getArray('a').push(['one more'])
  writes.store(Y.encodeStateAsUpdate(doc, answered), () => undefined)
  await writes.settled()
  expect(writes.persisted).not.toBe(answered)
  expect(Y.decodeStateVector(writes.persisted).size).toBe(201)
})
