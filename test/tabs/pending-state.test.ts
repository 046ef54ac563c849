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

/**
 * Two joined tabs of `name`, and a device that wrote `first`, then `second`
 * building on it: B hears the second first (Yjs keeps it pending), then A
 * hears the first (A stores it and posts it to B). `reopen` opens the store
 * again once the tabs have closed.
 */
async function heardOutOfOrder(name: string, first: (s: Store) => void, second: (s: Store) => void) {
  const idb = new IDBFactory()
  const a = await tab(name, idb)
  const b = await tab(name, idb)
  await joined(a, b)
  const device = await openStore(`${name}-device`, { persist: false, tabs: false })
  first(device)
  await device.flush()
  const firstUpdate = Y.encodeStateAsUpdate(device.doc)
  const before = Y.encodeStateVector(device.doc)
  second(device)
  await device.flush()
  const secondUpdate = Y.encodeStateAsUpdate(device.doc, before)
  await device.close()
  Y.applyUpdate(b.doc, secondUpdate, 'app')
  Y.applyUpdate(a.doc, firstUpdate, 'app')
  return { a, b, reopen: () => tab(name, idb) }
}

describe('pending state that another tab unblocks', () => {
  it('a delete heard before its item is stored and reaches the other tab once the item comes through that tab', async () => {
    const { a, b, reopen } = await heardOutOfOrder(
      'pending-delete',
      (s) => {
        s.set('k', 1)
        s.set('other', 2)
      },
      (s) => s.delete('k'),
    )
    await vi.waitFor(() => expect(b.get('other')).toBe(2), wait)
    expect(b.get('k')).toBeUndefined()
    await vi.waitFor(() => expect(a.get('k')).toBeUndefined(), wait)
    await Promise.all([a.close(), b.close()])

    const reopened = await reopen()
    expect([reopened.get('k'), reopened.get('other')]).toEqual([undefined, 2])
  })

  it('a write heard before what it builds on is stored, and reaches the other tab, once that comes through the other tab', async () => {
    const { a, b, reopen } = await heardOutOfOrder(
      'pending-write',
      (s) => s.set('k', 1),
      (s) => s.set('k2', 2),
    )
    await vi.waitFor(() => expect(b.get('k2')).toBe(2), wait)
    await vi.waitFor(() => expect(a.get('k2')).toBe(2), wait)
    await Promise.all([a.close(), b.close()])

    const reopened = await reopen()
    expect([reopened.get('k'), reopened.get('k2')]).toEqual([1, 2])
  })
})
