/**
 * Forged Yjs client ids (issue 10, items 4 and 5). Yjs trusts the client id
 * in an update, so without the relay's ownership rule (client-owners.ts) a
 * peer with a write token could wipe a victim's unsent offline writes with one
 * GC struct, or write entries that every replica reads as the victim's.
 */
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LOG_NAME, MessageType } from '@tidekv/core'
import { createToken } from '@tidekv/relay'
import { newClient, newRelay, rawSocket, tempDir } from '../helpers/relay.js'
import { awarenessMessage, gcUpdate, syncMessage } from '../helpers/wire.js'

const secret = 'forged-client-ids'

async function setting(dataDir = tempDir()) {
  const relay = await newRelay({ dataDir, auth: { secret, anonymous: 'none' } })
  const token = (sub: string) => createToken({ secret, room: 'shared', mode: 'write', sub })
  return { relay, dataDir, token }
}

describe('client ids belong to the subject that first wrote under them', () => {
  it("a GC struct over a victim's next clocks is dropped: the victim's offline writes all arrive, and survive a restart", async () => {
    const { relay, dataDir, token } = await setting()
    const victim = await newClient(relay.ws, 'shared', { token: await token('victim') })
    victim.set('first', 1)
    await victim.whenSynced()
    const victimId = victim.doc.clientID
    const relayClock = Y.getState(victim.doc.store, victimId)
    victim.disconnect()
    for (const k of ['offline-1', 'offline-2', 'offline-3']) victim.set(k, k)
    await victim.flush()
    const attacker = await rawSocket(`${relay.ws}/shared?token=${await token('mallory')}`)
    attacker.ws.send(syncMessage(2, gcUpdate(victimId, relayClock, 2 ** 31)))
    await expect.poll(() => relay.metrics.rejected['foreign-client']).toBe(1)
    expect(relay.rooms.get('shared')?.writers).toBe(1)
    victim.connect()
    await victim.whenSynced()
    const reader = await newClient(relay.ws, 'shared', { token: await token('reader') })
    await reader.whenSynced()
    await expect.poll(() => reader.keys().sort()).toEqual(['first', 'offline-1', 'offline-2', 'offline-3'])
    await relay.close()
    // After a restart the ownership still holds (it is stored with the room), and the writes are there.
    const again = await newRelay({ dataDir, auth: { secret, anonymous: 'none' } })
    const later = await rawSocket(`${again.ws}/shared?token=${await token('mallory')}`)
    later.ws.send(syncMessage(2, gcUpdate(victimId, relayClock + 3, 2 ** 31)))
    await expect.poll(() => again.metrics.rejected['foreign-client']).toBe(1)
    const fresh = await newClient(again.ws, 'shared', { token: await token('reader') })
    await fresh.whenSynced()
    expect(fresh.keys().sort()).toEqual(['first', 'offline-1', 'offline-2', 'offline-3'])
  })

  it("an entry forged under a victim's client id at its next clock is dropped; the victim's own write at that clock arrives", async () => {
    const { relay, token } = await setting()
    const victim = await newClient(relay.ws, 'shared', { token: await token('victim') })
    victim.set('k', 'victim')
    await victim.whenSynced()
    // The attacker builds on what the relay has of the victim and writes at the victim's next clock.
    const forged = new Y.Doc()
    Y.applyUpdate(forged, Y.encodeStateAsUpdate(victim.doc))
    forged.clientID = victim.doc.clientID // after the apply: Yjs picks a new id when an update holds its own
    const before = Y.encodeStateVector(forged)
    const bystander = await newClient(relay.ws, 'shared', { token: await token('bystander') })
    await bystander.whenSynced()
    const impostor = await newClient(relay.ws, 'other-room-for-bytes', { token: await createToken({ secret, room: '*', mode: 'write', sub: 'scratch' }) })
    impostor.set('k', 'written by the victim? no')
    await impostor.flush()
    const entry = impostor.doc.getArray<Uint8Array>(LOG_NAME).get(0)
    forged.getArray<Uint8Array>(LOG_NAME).push([entry])
    const attacker = await rawSocket(`${relay.ws}/shared?token=${await token('mallory')}`)
    attacker.ws.send(syncMessage(2, Y.encodeStateAsUpdate(forged, before)))
    await expect.poll(() => relay.metrics.rejected['foreign-client']).toBe(1)
    victim.set('k', 'victim, again')
    await victim.whenSynced()
    await expect.poll(() => bystander.get('k')).toBe('victim, again')
  })

  it('one subject may write under its client ids from many connections (tabs forwarding each other)', async () => {
    const { relay, token } = await setting()
    const tab = await newClient(relay.ws, 'shared', { token: await token('ada') })
    tab.set('a', 1)
    await tab.whenSynced()
    // Another connection of the same subject forwards a write the tab made offline.
    tab.disconnect()
    tab.set('b', 2)
    await tab.flush()
    const sibling = await rawSocket(`${relay.ws}/shared?token=${await token('ada')}`)
    sibling.ws.send(syncMessage(2, Y.encodeStateAsUpdate(tab.doc)))
    await expect.poll(() => relay.rooms.get('shared')?.writers).toBe(1)
    const reader = await newClient(relay.ws, 'shared', { token: await token('reader') })
    await expect.poll(() => reader.get('b')).toBe(2)
    expect(relay.metrics.rejected['foreign-client']).toBeUndefined()
  })
})

describe('a client id announced in presence, before its first write', () => {
  it("is its writer's: a GC struct over it from another subject, sent while it is offline, is dropped and its offline writes arrive", async () => {
    const { relay, token } = await setting()
    const victim = await newClient(relay.ws, 'shared', { token: await token('victim') })
    const victimId = victim.doc.clientID
    // Connected, no write yet: its presence (y-websocket announces it on connect) is all the room has of it.
    await expect.poll(() => relay.rooms.get('shared')?.awarenessStates).toBe(1)
    victim.disconnect()
    await expect.poll(() => relay.rooms.get('shared')?.awarenessStates).toBe(0)
    const attacker = await rawSocket(`${relay.ws}/shared?token=${await token('mallory')}`)
    attacker.ws.send(syncMessage(2, gcUpdate(victimId, 0, 2 ** 32)))
    await expect.poll(() => relay.metrics.rejected['foreign-client']).toBe(1)
    victim.set('offline-1', 1)
    victim.set('offline-2', 2)
    victim.connect()
    await victim.whenSynced()
    expect(victim.doc.clientID).toBe(victimId)
    const reader = await newClient(relay.ws, 'shared', { token: await token('reader') })
    await expect.poll(() => reader.keys().sort()).toEqual(['offline-1', 'offline-2'])
  })

  it("cannot be announced by another subject's connection", async () => {
    const { relay, token } = await setting()
    const victim = await newClient(relay.ws, 'shared', { token: await token('victim') })
    victim.set('k', 1)
    await victim.whenSynced()
    const attacker = await rawSocket(`${relay.ws}/shared?token=${await token('mallory')}`)
    victim.disconnect() // its presence goes: the id is free in presence, not in ownership
    await expect.poll(() => relay.rooms.get('shared')?.awarenessStates).toBe(0)
    attacker.ws.send(awarenessMessage([[victim.doc.clientID, 1000, '{"name":"not the victim"}']]))
    attacker.ws.send(new Uint8Array([MessageType.QUERY_AWARENESS]))
    await new Promise<void>((resolve) => attacker.ws.on('message', (data: Buffer) => data[0] === MessageType.AWARENESS && resolve()))
    expect(relay.rooms.get('shared')?.awarenessStates).toBe(0)
  })
})
