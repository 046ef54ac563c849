import { createDocStore, type DocStore, WriteRules } from '@tidekv/core'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { checkWriteRules } from './write-rules-check.js'

const rules = new WriteRules(['user:42:*'])

/** A room holding what `fill` wrote, and a client that has synced with it. */
async function roomAndClient(fill: (store: DocStore) => void = () => undefined) {
  const other = createDocStore()
  fill(other)
  await other.flush()
  const room = new Y.Doc()
  Y.applyUpdate(room, Y.encodeStateAsUpdate(other.doc))
  const client = createDocStore()
  Y.applyUpdate(client.doc, Y.encodeStateAsUpdate(room))
  return { room, client }
}

/** What `client` changes in one commit of `write`, as the update it sends. */
async function updateOf(client: DocStore, write: () => void): Promise<Uint8Array> {
  const updates: Uint8Array[] = []
  const listen = (u: Uint8Array) => updates.push(u)
  client.doc.on('update', listen)
  write()
  await client.flush()
  client.doc.off('update', listen)
  return Y.mergeUpdates(updates)
}

describe('checkWriteRules: what an update from a connection with write rules may do', () => {
  it('allows entries of the keys the rules match, of every kind', async () => {
    const { room, client } = await roomAndClient()
    const update = await updateOf(client, () => {
      client.set('user:42:theme', 'dark', { ttl: 60_000 })
      client.incr('user:42:visits')
      client.hash('user:42:profile').set('name', 'Ada')
      client.sortedSet('user:42:scores').add('a', 1)
    })
    expect(checkWriteRules(room, update, rules)).toBeNull()
  })

  it('refuses an entry of any other key, naming it', async () => {
    const { room, client } = await roomAndClient()
    const update = await updateOf(client, () => {
      client.set('user:42:theme', 'dark')
      client.set('user:43:theme', 'dark')
    })
    expect(checkWriteRules(room, update, rules)).toBe('key "user:43:theme" is outside the write rules')
  })

  it('refuses a member of a data structure under another key', async () => {
    const { room, client } = await roomAndClient()
    const update = await updateOf(client, () => client.hash('team:7').set('name', 'x'))
    expect(checkWriteRules(room, update, rules)).toMatch(/"team:7"/)
  })

  it('refuses content that is not an entry of the log: another root type, text, a nested type', () => {
    const room = new Y.Doc()
    for (const write of [
      (d: Y.Doc) => d.getMap('other').set('user:42:x', 1),
      (d: Y.Doc) => d.getText('tidekv-text').insert(0, 'hi'),
      (d: Y.Doc) => d.getArray('tidekv').insert(0, [new Y.Map()]),
      (d: Y.Doc) => d.getArray('tidekv').insert(0, ['a string']),
    ]) {
      const doc = new Y.Doc()
      write(doc)
      expect(checkWriteRules(room, Y.encodeStateAsUpdate(doc), rules)).not.toBeNull()
    }
  })

  it('refuses a binary item placed in another type by its origin', async () => {
    const room = new Y.Doc()
    room.getArray('elsewhere').insert(0, [new Uint8Array([1])])
    const client = new Y.Doc()
    Y.applyUpdate(client, Y.encodeStateAsUpdate(room))
    const { client: entries } = await roomAndClient()
    entries.set('user:42:x', 1)
    await entries.flush()
    // An allowed entry's bytes, inserted after an item of another root type: Yjs would take that type as its parent.
    const bytes = entries.doc.getArray<Uint8Array>('tidekv').get(0)
    const before = Y.encodeStateVector(client)
    client.getArray('elsewhere').insert(1, [bytes])
    expect(checkWriteRules(room, Y.encodeStateAsUpdate(client, before), rules)).toBe('an item outside the log')
  })

  it('allows deleting entries of allowed keys, and carrying deletes the room already has', async () => {
    const { room, client } = await roomAndClient((s) => {
      s.set('user:42:old', 1)
      s.set('team:7', 1)
    })
    // Someone allowed deletes team:7 in the room; the client learns of it.
    const admin = createDocStore()
    Y.applyUpdate(admin.doc, Y.encodeStateAsUpdate(room))
    const deletion = await updateOf(admin, () => admin.delete('team:7'))
    Y.applyUpdate(room, deletion)
    Y.applyUpdate(client.doc, deletion)
    await updateOf(client, () => client.delete('user:42:old'))
    // Its whole state as a sync step 2 carries both deletes: the room has one, the other is allowed.
    expect(checkWriteRules(room, Y.encodeStateAsUpdate(client.doc, Y.encodeStateVector(room)), rules)).toBeNull()
  })

  it('refuses deleting an entry of a key outside the rules', async () => {
    const { room, client } = await roomAndClient((s) => s.set('team:7', 1))
    const update = await updateOf(client, () => client.delete('team:7'))
    expect(checkWriteRules(room, update, rules)).toBe('key "team:7" is outside the write rules')
  })

  it('refuses a delete of ids the room does not hold (Yjs would apply it to whatever arrives under them)', async () => {
    const room = new Y.Doc()
    const stranger = createDocStore()
    stranger.set('user:42:x', 1)
    await stranger.flush()
    const client = createDocStore()
    Y.applyUpdate(client.doc, Y.encodeStateAsUpdate(stranger.doc))
    const update = await updateOf(client, () => client.delete('user:42:x'))
    expect(checkWriteRules(room, update, rules)).toBe('a delete of ids the room does not hold')
  })

  it('allows an update that inserts and deletes its own entries', async () => {
    const { room, client } = await roomAndClient()
    const update = await updateOf(client, () => {
      client.set('user:42:a', 1)
    })
    const second = await updateOf(client, () => client.set('user:42:a', 2))
    expect(checkWriteRules(room, Y.mergeUpdates([update, second]), rules)).toBeNull()
  })
})
