import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { describe, expect, it, vi } from 'vitest'
import { openStore, type Store } from '@tidekv/client'
import { newClient, newRelay, onCleanup } from '../helpers/relay.js'

const wait = { timeout: 10_000, interval: 5 }

/** Two stores of one name on one IndexedDB: two tabs of one origin. BroadcastChannel is global in Node. */
async function tab(name: string, idb: IDBFactory, options: Parameters<typeof openStore>[1] = {}): Promise<Store> {
  const store = await openStore(name, { indexedDB: idb, ...options })
  onCleanup(() => store.close().catch(() => undefined))
  return store
}

describe('tabs', () => {
  it("converge through BroadcastChannel without a relay, and watchers see origin 'tab'", async () => {
    const idb = new IDBFactory()
    const a = await tab('tabs-1', idb)
    const b = await tab('tabs-1', idb)
    await Promise.all([a.loaded, b.loaded])
    const seen: string[] = []
    b.watch('theme', (c) => seen.push(`${String(c.value)}:${c.origin}`))
    a.set('theme', 'dark')
    a.incr('n')
    b.incr('n')
    await vi.waitFor(() => expect([a.get('n'), b.get('n'), b.get('theme')]).toEqual([2, 2, 'dark']), wait)
    expect(seen).toEqual(['dark:tab'])
  })

  it('a tab opened later catches up with what the others hold', async () => {
    const idb = new IDBFactory()
    const memoryOnly = { persist: false } as const
    const a = await tab('tabs-2', idb, memoryOnly)
    a.set('k', 'from a')
    await a.flush()
    const late = await tab('tabs-2', idb, memoryOnly)
    await vi.waitFor(() => expect(late.get('k')).toBe('from a'), wait)
  })

  it('stores of other names do not meet', async () => {
    const idb = new IDBFactory()
    const a = await tab('tabs-3a', idb)
    const b = await tab('tabs-3b', idb)
    a.set('k', 1)
    b.set('other', 1)
    await Promise.all([a.flush(), b.flush()])
    await vi.waitFor(() => expect(b.get('other')).toBe(1), wait)
    expect(b.has('k')).toBe(false)
  })

  it("a read-only tab receives the writer tab's changes and cannot write, so nothing of its own reaches the relay", async () => {
    const relay = await newRelay({ auth: { anonymous: 'write' } })
    const idb = new IDBFactory()
    const writer = await newClient(relay.ws, 'shared-tabs', { idb, tabs: true })
    const reader = await newClient(relay.ws, 'shared-tabs', { idb, tabs: true, sync: { url: relay.ws, readOnly: true } })
    writer.set('k', 1)
    await vi.waitFor(() => expect(reader.get('k')).toBe(1), wait)
    expect(() => reader.set('k', 2)).toThrow(expect.objectContaining({ code: 'READ_ONLY' }))
    expect(() => reader.incr('n')).toThrow(expect.objectContaining({ code: 'READ_ONLY' }))
    expect(() => reader.delete('k')).toThrow(expect.objectContaining({ code: 'READ_ONLY' }))
    await writer.whenSynced()
    const elsewhere = await newClient(relay.ws, 'shared-tabs')
    await vi.waitFor(() => expect(elsewhere.get('k')).toBe(1), wait)
  })
})
