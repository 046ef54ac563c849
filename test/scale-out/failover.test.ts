/**
 * Client failover (issue 11): `sync.url` lists relays that share rooms; when
 * the connection drops, the store tries the next one. `store.relay` says
 * which it is on, and the 'relay' event says when that changes. Relays here
 * share the in-memory storage and bus.
 */
import { describe, expect, it } from 'vitest'
import { memoryRelayBus } from '../../packages/relay/src/bus.js'
import { memoryRelayStorage } from '../../packages/relay/src/memory-storage.js'
import { newClient, newRelay, statusIs } from '../helpers/relay.js'

describe('a store given several relays', () => {
  it('moves to the next relay when its relay goes away, and loses nothing', async () => {
    const storage = memoryRelayStorage()
    const bus = memoryRelayBus()
    const first = await newRelay({ storage, bus })
    const second = await newRelay({ storage, bus })
    const store = await newClient([first.ws, second.ws], 'failover')
    const seen: (string | null)[] = []
    store.on('relay', (url) => seen.push(url))
    await statusIs(store, 'synced')
    expect(store.relay).toBe(first.ws)
    store.set('before', 1)
    await store.whenSynced()

    await first.close() // its sockets close with 1001
    store.set('after', 2)
    await store.whenSynced()
    expect(store.relay).toBe(second.ws)
    expect(seen).toEqual([first.ws, null, second.ws])

    const reader = await newClient(second.ws, 'failover')
    await expect.poll(() => [reader.get('before'), reader.get('after')]).toEqual([1, 2])
  })

  it('refuses a url list that is empty or holds something that is not a ws:// URL', async () => {
    const relay = await newRelay()
    await expect(newClient([], 'bad')).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    await expect(newClient([relay.ws, 'ftp://x'], 'bad')).rejects.toMatchObject({ code: 'INVALID_VALUE' })
  })
})
