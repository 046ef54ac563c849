/**
 * State heard out of order from outside the tab channel (the app's own
 * provider on `store.doc`, say) waits in Yjs as pending until what it builds
 * on arrives. When that arrives from another tab, the pending state goes in
 * inside the tab's transaction: this tab must store it and pass it on, since
 * no other tab has it.
 */
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { openStore, type Store } from '@tidekv/client'
import { onCleanup } from '../helpers/relay.js'

const wait = { timeout: 10_000, interval: 5 }

async function tab(name: string, idb: IDBFactory): Promise<Store> {
  const store = await openStore(name, { indexedDB: idb })
  onCleanup(() => store.close().catch(() => undefined))
  await store.loaded
  return store
}

/**
 * A write bounced A → B → A → B: BroadcastChannel keeps each sender's order,
 * so by then every message of the tabs' joining exchange has been handled.
 */
async function joined(a: Store, b: Store): Promise<void> {
  a.set('ping', 1)
  await vi.waitFor(() => expect(b.get('ping')).toBe(1), wait)
  b.set('ping', 2)
  await vi.waitFor(() => expect(a.get('ping')).toBe(2), wait)
  a.set('ping', 3)
  await vi.waitFor(() => expect(b.get('ping')).toBe(3), wait)
}

/** What one device wrote, as two updates: the first, and the second that builds on it. */
async function twoUpdates(name: string, first: (s: Store) => void, second: (s: Store) => void): Promise<[Uint8Array, Uint8Array]> {
  const device = await openStore(name, { persist: false, tabs: false })
  first(device)
  await device.flush()
  const firstUpdate = Y.encodeStateAsUpdate(device.doc)
  const before = Y.encodeStateVector(device.doc)
  second(device)
  await device.flush()
  const secondUpdate = Y.encodeStateAsUpdate(device.doc, before)
  await device.close()
  return [firstUpdate, secondUpdate]
}

describe('pending state that another tab unblocks', () => {
  it('a delete heard before its item is stored and reaches the other tab once the item comes through that tab', async () => {
    const idb = new IDBFactory()
    const a = await tab('pending-delete', idb)
    const b = await tab('pending-delete', idb)
    await joined(a, b)
    const [write, deleteOnly] = await twoUpdates(
      'pending-delete-device',
      (s) => {
        s.set('k', 1)
        s.set('other', 2)
      },
      (s) => s.delete('k'),
    )
    Y.applyUpdate(b.doc, deleteOnly, 'app') // B hears the delete first: Yjs keeps it pending
    Y.applyUpdate(a.doc, write, 'app') // A hears the write, stores it and posts it to B
    await vi.waitFor(() => expect(b.get('other')).toBe(2), wait)
    expect(b.get('k')).toBeUndefined()
    await vi.waitFor(() => expect(a.get('k')).toBeUndefined(), wait)
    await Promise.all([a.close(), b.close()])

    const reopened = await tab('pending-delete', idb)
    expect([reopened.get('k'), reopened.get('other')]).toEqual([undefined, 2])
  })

  it('a write heard before what it builds on is stored, and reaches the other tab, once that comes through the other tab', async () => {
    const idb = new IDBFactory()
    const a = await tab('pending-write', idb)
    const b = await tab('pending-write', idb)
    await joined(a, b)
    const [first, second] = await twoUpdates(
      'pending-write-device',
      (s) => s.set('k', 1),
      (s) => s.set('k2', 2),
    )
    Y.applyUpdate(b.doc, second, 'app') // pending in B: it builds on `first`
    Y.applyUpdate(a.doc, first, 'app')
    await vi.waitFor(() => expect(b.get('k2')).toBe(2), wait)
    await vi.waitFor(() => expect(a.get('k2')).toBe(2), wait)
    await Promise.all([a.close(), b.close()])

    const reopened = await tab('pending-write', idb)
    expect([reopened.get('k'), reopened.get('k2')]).toEqual([1, 2])
  })
})
